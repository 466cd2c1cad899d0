"""Disclosure control for published counts: small-count and secondary suppression."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TOTAL", "protect_cells", "suppress_table"]

TOTAL = "Total"
_EPS = 1e-6


def _feasible_range(
    key: Hashable,
    values: Mapping[Hashable, int],
    equations: Sequence[Sequence[tuple[Hashable, int]]],
    bounds: Mapping[Hashable, tuple[float, float | None]],
) -> tuple[float, float]:
    """Smallest and largest value of hidden cell ``key`` consistent with all published figures."""
    from scipy.optimize import linprog

    hidden = list(bounds)
    pos = {k: i for i, k in enumerate(hidden)}
    rows, rhs = [], []
    for eq in equations:
        if not any(k in pos for k, _ in eq):
            continue
        row = np.zeros(len(hidden))
        b = 0.0
        for k, coef in eq:
            if k in pos:
                row[pos[k]] += coef
            else:
                b -= coef * values[k]
        rows.append(row)
        rhs.append(b)
    c = np.zeros(len(hidden))
    c[pos[key]] = 1.0
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    bnds = [bounds[k] for k in hidden]
    lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bnds, method="highs")
    hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bnds, method="highs")
    if lo.status != 0 or hi.status not in (0, 3):
        # Infeasible cannot happen with true values; be safe and call it pinned.
        return (float(values[key]), float(values[key]))
    return (float(lo.fun), math.inf if hi.status == 3 else float(-hi.fun))


@dataclass(frozen=True)
class _Cells:
    """The state of :func:`protect_cells`: ``hidden`` grows as complements are chosen."""

    values: Mapping[Hashable, int]
    equations: Sequence[Sequence[tuple[Hashable, int]]]
    hidden: set[Hashable]
    primary: set[Hashable]
    free: set[Hashable]
    totals: set[Hashable]
    members_of: dict[Hashable, list[int]]

    def complement(self, candidates: Iterable[Hashable]) -> Hashable | None:
        """The smallest non-zero published candidate, inner cells before totals."""
        pool = [
            k
            for k in candidates
            if k not in self.hidden and k not in self.free and self.values[k] > 0
        ]
        if not pool:
            return None
        return min(pool, key=lambda k: (k in self.totals, self.values[k], str(k)))


def _spread_hidden_cells(cells: _Cells) -> bool:
    """Rule 1: hide a complement in every equation holding exactly one hidden sensitive cell.

    Returns whether a cell was hidden.
    """
    added = False
    for eq in cells.equations:
        keys = [k for k, _ in eq]
        sensitive = [k for k in keys if k in cells.hidden and k not in cells.free]
        if len(sensitive) == 1 and sum(k in cells.hidden for k in keys) == 1:
            pick = cells.complement(keys)
            if pick is not None:
                cells.hidden.add(pick)
                added = True
    return added


def _intruder_bounds(cells: _Cells, threshold: int) -> dict[Hashable, tuple[float, float | None]]:
    """What an intruder knows of each hidden cell: its range of possible values."""
    bounds: dict[Hashable, tuple[float, float | None]] = {}
    for k in cells.hidden:
        if k in cells.free:
            bounds[k] = (0.0, None)
        elif k in cells.primary:
            bounds[k] = (1.0, float(threshold - 1))
        else:
            bounds[k] = (float(threshold), None)
    return bounds


def _unpin_one_small_count(cells: _Cells, threshold: int) -> bool:
    """Rule 2: hide one more complement when the published figures pin a small count.

    Returns whether a cell was hidden.
    """
    bounds = _intruder_bounds(cells, threshold)
    equations, members_of = cells.equations, cells.members_of
    for k in sorted(cells.primary, key=str):
        if not members_of.get(k):
            continue
        lo, hi = _feasible_range(k, cells.values, equations, bounds)
        if hi - lo < 1 - _EPS:
            near = [m for i in members_of[k] for m, _ in equations[i]]
            pick = cells.complement(near)
            if pick is None:
                # Widen the search to every equation touching a hidden cell.
                pick = cells.complement(
                    m for h in cells.hidden for i in members_of.get(h, []) for m, _ in equations[i]
                )
            if pick is not None:
                cells.hidden.add(pick)
                return True
    return False


def protect_cells(
    values: Mapping[Hashable, int],
    equations: Sequence[Sequence[tuple[Hashable, int]]],
    *,
    threshold: int = 10,
    totals: Iterable[Hashable] = (),
    free: Iterable[Hashable] = (),
) -> tuple[frozenset[Hashable], frozenset[Hashable]]:
    """Choose which published figures to hide: primary and secondary suppression.

    Primary: every count with ``0 < count < threshold``. Secondary: cells hidden so that no
    primary cell can be worked out from the rest. Two rules run until nothing changes:

    1. every equation (e.g. "the months add up to the total") holding a hidden cell holds at
       least two hidden cells;
    2. an intruder who knows every published figure, that a small count lies in
       ``1..threshold-1`` and that a withheld one is at least ``threshold`` cannot pin any
       small count to one value (checked with linear programming).

    Complements are the smallest non-zero published members of the equation concerned, inner
    cells before totals (so complements are never zero and always at least ``threshold``).

    Parameters
    ----------
    values
        Every figure that could be published, by key.
    equations
        Linear relations between figures, each a list of ``(key, coefficient)`` summing to
        zero, e.g. ``[(a, 1), (b, 1), (total, -1)]``.
    threshold
        The smallest count that may be published.
    totals
        Keys that are totals (chosen as complements only after inner cells).
    free
        Keys never published and not sensitive (e.g. "all other streets"): unknowns in
        ``0..`` for the intruder.

    Returns
    -------
    (frozenset, frozenset)
        The hidden keys (primary and secondary, plus ``free``) and the primary keys.
    """
    if threshold < 1:
        msg = "The suppression threshold must be at least 1."
        raise ValueError(msg)
    totals = set(totals)
    free = set(free)
    primary = {k for k, v in values.items() if k not in free and 0 < int(v) < threshold}
    hidden = primary | free
    members_of: dict[Hashable, list[int]] = {}
    for i, eq in enumerate(equations):
        for k, _ in eq:
            members_of.setdefault(k, []).append(i)
    cells = _Cells(values, equations, hidden, primary, free, totals, members_of)
    while True:
        if _spread_hidden_cells(cells):
            continue
        if not _unpin_one_small_count(cells, threshold):
            return frozenset(hidden), frozenset(primary)


def suppress_table(
    counts: pd.DataFrame, *, threshold: int = 10, margins: bool = True
) -> pd.DataFrame:
    """Mark the cells of a count table to hide, with secondary suppression against its totals.

    Parameters
    ----------
    counts
        Non-negative integer counts (rows x columns), e.g. categories x months.
    threshold
        The smallest count that may be published.
    margins
        Whether row and column totals (and the grand total) will be published.

    Returns
    -------
    pandas.DataFrame of bool
        True where hidden. With ``margins`` it has an extra ``"Total"`` row and column: a
        total marked True must not be published either. Every row and column (totals
        included) then holds no hidden cell or at least two, and no small count can be
        worked out from the published figures.

    Raises
    ------
    ValueError
        When a count is negative or not whole.
    """
    arr = counts.to_numpy(dtype=float)
    if (arr < 0).any() or not np.allclose(arr, np.round(arr)):
        msg = "Counts must be whole numbers, zero or more."
        raise ValueError(msg)
    arr = arr.astype(np.int64)
    n_r, n_c = arr.shape
    values: dict[Hashable, int] = {(i, j): int(arr[i, j]) for i in range(n_r) for j in range(n_c)}
    equations: list[list[tuple[Hashable, int]]] = []
    totals: list[Hashable] = []
    if margins:
        for i in range(n_r):
            values[(i, n_c)] = int(arr[i].sum())
            equations.append([*[((i, j), 1) for j in range(n_c)], ((i, n_c), -1)])
        for j in range(n_c):
            values[(n_r, j)] = int(arr[:, j].sum())
            equations.append([*[((i, j), 1) for i in range(n_r)], ((n_r, j), -1)])
        values[(n_r, n_c)] = int(arr.sum())
        equations.append([*[((i, n_c), 1) for i in range(n_r)], ((n_r, n_c), -1)])
        equations.append([*[((n_r, j), 1) for j in range(n_c)], ((n_r, n_c), -1)])
        totals = [k for k in values if n_r in k or n_c in k]
    hidden, _ = protect_cells(values, equations, threshold=threshold, totals=totals)
    index = list(counts.index) + ([TOTAL] if margins else [])
    columns = list(counts.columns) + ([TOTAL] if margins else [])
    mask = np.zeros((len(index), len(columns)), dtype=bool)
    for i, j in hidden:
        mask[i, j] = True
    return pd.DataFrame(mask, index=index, columns=columns)
