"""Disclosure control across releases: publishable periods and the linear-programming check over every figure published."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "Key",
    "Protection",
    "PublishedCell",
    "check_period",
    "is_standard_period",
    "period_text",
    "protect_release",
    "relations",
    "scope_categories",
    "scope_of",
]

#: A figure in canonical form: ``(kind, category, street, tag, first_month, last_month)``.
#: ``kind`` is ``"c"`` (the reports of one category: ``category`` is its slug, ``street`` ""),
#: ``"t"`` (a total over the categories in scope: ``category`` is ``"*"`` for every category
#: or the JSON list of the chosen ones; ``street`` a street name, or "" for the whole area), or
#: ``"in"`` / ``"out"`` (reports inside / outside the hotspots patrolled in the months named by
#: ``tag``, over the categories in scope). Months are ``"YYYY-MM"``. The same figure has the
#: same key in every summary that shows it.
Key = tuple[str, str, str, str, str, str]

SHOWN, FEWER, WITHHELD = "shown", "fewer", "withheld"  # how a figure was published
_INF = math.inf


@dataclass(frozen=True)
class PublishedCell:
    """One figure of a released summary: its key, how it was shown and (when shown) its value."""

    key: Key
    status: str
    value: int | None
    threshold: int


@dataclass(frozen=True)
class Protection:
    """What a release must hide, and what the check found about the earlier releases."""

    hidden: frozenset[Key]
    primary: frozenset[Key]
    stale: int = 0
    exposed: tuple[Key, ...] = ()


# ------------------------------------------------------------------------------------------
# Periods
# ------------------------------------------------------------------------------------------


def _month(x: object) -> pd.Period:
    return pd.Period(pd.Timestamp(x), freq="M") if not isinstance(x, pd.Period) else x


def period_text(first: pd.Period, last: pd.Period) -> str:
    """Readable months, e.g. ``"January to May 2025"``.

    Parameters
    ----------
    first, last
        The first and last month.

    Returns
    -------
    str
    """
    if first == last:
        return f"{first:%B %Y}"
    if first.year == last.year:
        return f"{first:%B} to {last:%B %Y}"
    return f"{first:%B %Y} to {last:%B %Y}"


def is_standard_period(first: pd.Period, last: pd.Period) -> bool:
    """Whether ``first..last`` is one calendar month or one calendar quarter.

    Parameters
    ----------
    first, last
        Monthly periods.

    Returns
    -------
    bool
    """
    n = (last - first).n + 1
    return n == 1 or (n == 3 and first.month in (1, 4, 7, 10))


def check_period(
    start: object,
    end: object,
    *,
    custom_periods: Iterable[tuple[str, str]] = (),
    allow_custom: bool = False,
) -> tuple[pd.Period, pd.Period]:
    """The months of a public summary, or a plain refusal.

    A public summary covers one calendar month, one calendar quarter, or a period a supervisor
    has published before (``custom_periods``). A supervisor (``allow_custom``) may publish a
    new period once, when it overlaps no other such period. Dates inside a month are widened
    to the whole month.

    Parameters
    ----------
    start, end
        Dates (or months) of the first and last month.
    custom_periods
        ``(first, last)`` months (``"YYYY-MM"``) of periods published before by a supervisor.
    allow_custom
        Whether the caller may publish a new period of another length.

    Returns
    -------
    (pandas.Period, pandas.Period)
        The first and last month.

    Raises
    ------
    ValueError
        When the period is inverted, or is not a month, a quarter or a published period.
    """
    first, last = _month(start), _month(end)
    if last < first:
        msg = "The period ends before it starts; choose an end month after the start month."
        raise ValueError(msg)
    if is_standard_period(first, last):
        return first, last
    custom = [(pd.Period(a, freq="M"), pd.Period(b, freq="M")) for a, b in custom_periods]
    if (first, last) in custom:
        return first, last
    asked = period_text(first, last)
    if not allow_custom:
        msg = (
            f"A public summary covers one calendar month or one quarter (January to March, "
            f"April to June, ...), not {asked}: choose a month or a quarter, or ask a "
            "supervisor to publish this period."
        )
        raise ValueError(msg)
    for a, b in custom:
        if a <= last and first <= b:
            msg = (
                f"{asked} overlaps {period_text(a, b)}, which was published before; choose a "
                "month, a quarter or a period that does not overlap it."
            )
            raise ValueError(msg)
    return first, last


# ------------------------------------------------------------------------------------------
# Relations between canonical figures
# ------------------------------------------------------------------------------------------

Row = list[tuple[Key, int]]


def _months(key: Key) -> list[str]:
    return [str(m) for m in pd.period_range(key[4], key[5], freq="M")]


def scope_categories(scope: str, cats: Iterable[str]) -> list[str]:
    """The categories of ``cats`` that a total's scope covers.

    Parameters
    ----------
    scope
        ``"*"`` (every category) or the JSON list of the chosen categories.
    cats
        Category slugs.

    Returns
    -------
    list of str
    """
    if scope == "*":
        return sorted(cats)
    allowed = set(json.loads(scope))
    return sorted(c for c in cats if c in allowed)


def scope_of(categories: Iterable[str] | None) -> str:
    """The scope string of totals over ``categories`` (``None``: every category)."""
    return "*" if categories is None else json.dumps(sorted({str(c) for c in categories}))


def relations(keys: Iterable[Key]) -> tuple[list[Row], list[Row]]:
    """Linear relations every set of counts obeys, between ``keys`` and the months they span.

    Equalities (each ``sum(coef * x) == 0``): a period is the sum of its months; a total is the
    sum of its categories; inside plus outside the patrolled hotspots is the total.
    Inequalities (``sum(coef * x) <= 0``): the listed streets of a period hold no more reports
    than the period's total (a report lies on one street at most).

    Parameters
    ----------
    keys
        Canonical keys (:data:`Key`).

    Returns
    -------
    (list, list)
        Equalities and inequalities, each a list of ``(key, coefficient)``. Month keys that are
        not in ``keys`` appear as extra unknowns.
    """
    base = set(keys)
    eqs: list[Row] = []
    ineqs: list[Row] = []
    allk = set(base)
    for k in base:
        if k[4] != k[5]:
            parts = [(k[0], k[1], k[2], k[3], m, m) for m in _months(k)]
            eqs.append([(k, -1), *[(p, 1) for p in parts]])
            allk.update(parts)
    groups: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for k in allk:
        groups[(k[4], k[5])].append(k)
    for (a, b), members in groups.items():
        cats = {k[1] for k in members if k[0] == "c"}
        streets: dict[str, list[Key]] = defaultdict(list)
        for k in members:
            total = ("t", k[1], "", "", a, b)
            if k[0] == "t" and k[2] == "":
                parts_c = scope_categories(k[1], cats)
                if parts_c:
                    eqs.append([(k, -1), *[(("c", c, "", "", a, b), 1) for c in parts_c]])
            elif k[0] == "t":
                streets[k[1]].append(k)
            elif k[0] == "in" and ("out", *k[1:]) in allk:
                eqs.append([(k, 1), (("out", *k[1:]), 1), (total, -1)])
        for scope, listed in streets.items():
            ineqs.append([*[(s, 1) for s in sorted(listed)], (("t", scope, "", "", a, b), -1)])
    return eqs, ineqs


# ------------------------------------------------------------------------------------------
# The intruder's linear programme
# ------------------------------------------------------------------------------------------


class _Intruder:
    """What a viewer knows: fixed figures, bounds on hidden ones, and the relations."""

    def __init__(self, eqs: list[Row], ineqs: list[Row], bounds: dict[Key, tuple[float, float]]):
        self.eqs, self.ineqs, self.bounds = eqs, ineqs, bounds
        self.rows_of: dict[Key, list[int]] = defaultdict(list)
        for i, row in enumerate(eqs + ineqs):
            for k, _ in row:
                if not self.fixed(k):
                    self.rows_of[k].append(i)

    def _component(self, key: Key) -> tuple[list[Key], list[Row], list[Row]]:
        """The unknowns and relations linked to ``key`` through unknowns (the rest cannot
        narrow it: they hold whatever its value, since today's counts satisfy them)."""
        rows = self.eqs + self.ineqs
        seen_k, seen_r, frontier = {key}, set(), [key]
        while frontier:
            nxt = []
            for k in frontier:
                for i in self.rows_of.get(k, ()):
                    if i in seen_r:
                        continue
                    seen_r.add(i)
                    nxt += [m for m, _ in rows[i] if m not in seen_k and not self.fixed(m)]
                    seen_k.update(nxt)
            frontier = nxt
        n_eq = len(self.eqs)
        eq_rows = [rows[i] for i in sorted(seen_r) if i < n_eq]
        in_rows = [rows[i] for i in sorted(seen_r) if i >= n_eq]
        return sorted(seen_k), eq_rows, in_rows

    def fixed(self, k: Key) -> bool:
        lo, hi = self.bounds.get(k, (0.0, _INF))
        return lo == hi

    def _matrix(self, rows: list[Row], pos: dict[Key, int]) -> tuple[np.ndarray, np.ndarray]:
        a = np.zeros((len(rows), len(pos)))
        b = np.zeros(len(rows))
        for i, row in enumerate(rows):
            for k, coef in row:
                if k in pos:
                    a[i, pos[k]] += coef
                else:
                    b[i] -= coef * self.bounds[k][0]
        return a, b

    def feasible_range(self, key: Key) -> tuple[float, float]:
        """Smallest and largest value of ``key`` consistent with everything known."""
        from scipy.optimize import linprog

        if self.fixed(key):
            v = self.bounds[key][0]
            return v, v
        unknown, eq_rows, in_rows = self._component(key)
        pos = {k: i for i, k in enumerate(unknown)}
        a_eq, b_eq = self._matrix(eq_rows, pos) if eq_rows else (None, None)
        a_ub, b_ub = self._matrix(in_rows, pos) if in_rows else (None, None)
        bnds = [
            (self.bounds.get(k, (0.0, _INF))[0], _none(self.bounds.get(k, (0.0, _INF))[1]))
            for k in unknown
        ]
        c = np.zeros(len(unknown))
        c[pos[key]] = 1.0
        kw = {"A_eq": a_eq, "b_eq": b_eq, "A_ub": a_ub, "b_ub": b_ub, "bounds": bnds}
        lo = linprog(c, method="highs", **kw)
        hi = linprog(-c, method="highs", **kw)
        if lo.status == 2 or hi.status == 2:
            return -_INF, -_INF  # infeasible: the caller treats the knowledge as inconsistent
        return float(lo.fun), (_INF if hi.status == 3 else float(-hi.fun))


def _none(x: float) -> float | None:
    return None if math.isinf(x) else x


def _pinned(lo: float, hi: float) -> bool:
    """Whether at most one whole number lies in ``[lo, hi]`` (the intruder knows counts are whole)."""
    return math.floor(hi + 1e-6) - math.ceil(lo - 1e-6) < 1


def _status_bounds(status: str, value: int | None, t: int) -> tuple[float, float]:
    if status == SHOWN and value is not None:
        return float(value), float(value)
    if status == FEWER:
        return 1.0, float(t - 1)
    return float(t), _INF


def _consistent(cell: PublishedCell, truth: int | None) -> bool:
    if truth is None:
        return True
    lo, hi = _status_bounds(cell.status, cell.value, cell.threshold)
    return lo <= truth <= hi


def _closure(months: set[str], prior: Sequence[PublishedCell]) -> list[PublishedCell]:
    """Earlier figures linked to ``months`` through relations (overlapping months, transitively)."""
    spans = sorted({(c.key[4], c.key[5]) for c in prior})
    covered = set(months)
    lo, hi = min(covered), max(covered)
    keep: set[tuple[str, str]] = set()
    changed = True
    while changed:
        changed = False
        for a, b in spans:
            if (a, b) in keep or b < lo or a > hi:
                continue
            if any(a <= m <= b for m in covered) or (a <= lo and hi <= b):
                keep.add((a, b))
                covered.update(_months(("c", "", "", "", a, b)))
                lo, hi = min(covered), max(covered)
                changed = True
    return [c for c in prior if (c.key[4], c.key[5]) in keep]


def _is_total(k: Key) -> bool:
    return k[4] != k[5] or k[0] != "c"


@dataclass
class _Release:
    """The state of :func:`protect_release`: the new figures and what is hidden so far."""

    values: Mapping[Key, int]
    threshold: int
    known: dict[Key, tuple[float, float]]
    hidden: set[Key]
    primary: set[Key]

    def bounds(self) -> dict[Key, tuple[float, float]]:
        b = dict(self.known)
        for k, v in self.values.items():
            if k in self.hidden:
                own = (
                    (1.0, float(self.threshold - 1))
                    if k in self.primary
                    else (float(self.threshold), _INF)
                )
                lo, hi = b.get(k, (0.0, _INF))
                b[k] = (max(lo, own[0]), min(hi, own[1]))
            else:
                b[k] = (float(v), float(v))
        return b

    def candidates(self, keys: Iterable[Key]) -> list[Key]:
        return sorted(
            (
                k
                for k in keys
                if k in self.values
                and k not in self.hidden
                and self.values[k] > 0
                and self.known.get(k, (0, _INF))[0] != self.known.get(k, (0, _INF))[1]
            ),
            key=lambda k: (_is_total(k), self.values[k], k),
        )


def _neighbours(key: Key, rows: list[Row], far: bool) -> list[Key]:
    near = [k for row in rows if any(k2 == key for k2, _ in row) for k, _ in row]
    if not far:
        return near
    seen, frontier = set(near), list(near)
    while frontier:
        nxt = [k for row in rows if any(k2 in frontier for k2, _ in row) for k, _ in row]
        frontier = [k for k in nxt if k not in seen]
        seen.update(frontier)
    return sorted(seen)


def protect_release(
    values: Mapping[Key, int],
    *,
    threshold: int,
    prior: Sequence[PublishedCell] = (),
    truth: Callable[[Key], int | None] | None = None,
) -> Protection:
    """Choose what a new summary hides so no small count follows from it and every earlier one.

    Primary suppression hides every new count in ``1..threshold-1``. Secondary suppression then
    hides the smallest other new figures (inner cells before totals) until an intruder who
    knows every figure published so far, that a "fewer than N" cell lies in ``1..N-1``, that a
    "not shown" one is at least ``N`` and the relations between figures (:func:`relations`)
    cannot narrow any small count to one whole number (two linear programmes per small count).

    Parameters
    ----------
    values
        Every figure the new summary could show, by canonical key, with its true count.
    threshold
        The smallest count that may be shown.
    prior
        Every figure published before (:mod:`planning.impact_ledger`).
    truth
        The current true count of a key (``None`` when unknown): earlier figures that no longer
        match the data (reports imported late or purged) are left out of the check and counted
        as ``stale``.

    Returns
    -------
    Protection
    """
    truth = truth or (lambda _k: None)
    fresh = [c for c in prior if _consistent(c, values.get(c.key, truth(c.key)))]
    stale = len(prior) - len(fresh)
    months = {m for k in values for m in _months(k)}
    linked = _closure(months, fresh) if months and fresh else []
    known: dict[Key, tuple[float, float]] = {}
    for c in linked:
        lo, hi = _status_bounds(c.status, c.value, c.threshold)
        old = known.get(c.key, (0.0, _INF))
        known[c.key] = (max(old[0], lo), min(old[1], hi))
    primary = {k for k, v in values.items() if 0 < int(v) < threshold}
    rel = _Release(values, threshold, known, set(primary), primary)
    eqs, ineqs = relations(set(values) | set(known))
    sensitive = {k for k in primary if known.get(k, (0, 1))[0] != known.get(k, (0, 1))[1]}
    sensitive |= {k for k, (lo, hi) in known.items() if lo >= 1 and hi < threshold and lo != hi}
    exposed = _secure(rel, eqs, ineqs, sensitive)
    return Protection(frozenset(rel.hidden), frozenset(primary), stale, tuple(sorted(exposed)))


def _secure(rel: _Release, eqs: list[Row], ineqs: list[Row], sensitive: set[Key]) -> list[Key]:
    """Hide complements until no sensitive key is pinned; return those that stay pinned."""
    pending = set(sensitive)
    exposed: list[Key] = []
    rows = eqs + ineqs
    while pending:
        intruder = _Intruder(eqs, ineqs, rel.bounds())
        changed = False
        for key in sorted(pending):
            lo, hi = intruder.feasible_range(key)
            if lo == -_INF == hi:
                # Earlier figures contradict today's data in a way the stale check missed:
                # hide every new figure linked to this one rather than guess.
                rel.hidden.update(rel.candidates(_neighbours(key, rows, far=True)))
                pending.discard(key)
                exposed.append(key)
                changed = True
                break
            if not _pinned(lo, hi):
                pending.discard(key)  # hiding more only widens the range: safe for good
                continue
            pick = rel.candidates(_neighbours(key, rows, far=False)) or rel.candidates(
                _neighbours(key, rows, far=True)
            )
            if not pick:
                pending.discard(key)
                exposed.append(key)
                continue
            rel.hidden.add(pick[0])
            changed = True
            break
        if not changed:
            break
    return exposed
