"""Community impact summary: period-on-period counts with small-count and secondary suppression."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from geo.settings import Settings, load_settings
from planning.briefing import html_to_pdf, page_css
from planning.export import plan_from_json
from planning.routes import PatrolPlan

__all__ = [
    "SummaryFigures",
    "chart_values",
    "html_to_pdf",
    "protect_cells",
    "summary_figures",
    "summary_html",
    "suppress_table",
    "totals_figure",
    "trend_figure",
]

TOTAL = "Total"
PERIOD_KEYS = ("last_year", "previous", "this")
#: Text for a cell hidden only to protect another (its value is not small).
WITHHELD = "not shown"
_EPS = 1e-6


# ------------------------------------------------------------------------------------------
# Suppression
# ------------------------------------------------------------------------------------------


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

    def complement(candidates: Iterable[Hashable]) -> Hashable | None:
        pool = [k for k in candidates if k not in hidden and k not in free and values[k] > 0]
        if not pool:
            return None
        return min(pool, key=lambda k: (k in totals, values[k], str(k)))

    while True:
        added = False
        for eq in equations:
            keys = [k for k, _ in eq]
            sensitive = [k for k in keys if k in hidden and k not in free]
            if len(sensitive) == 1 and sum(k in hidden for k in keys) == 1:
                pick = complement(keys)
                if pick is not None:
                    hidden.add(pick)
                    added = True
        if added:
            continue
        bounds: dict[Hashable, tuple[float, float | None]] = {}
        for k in hidden:
            if k in free:
                bounds[k] = (0.0, None)
            elif k in primary:
                bounds[k] = (1.0, float(threshold - 1))
            else:
                bounds[k] = (float(threshold), None)
        for k in sorted(primary, key=str):
            if not members_of.get(k):
                continue
            lo, hi = _feasible_range(k, values, equations, bounds)
            if hi - lo < 1 - _EPS:
                near = [m for i in members_of[k] for m, _ in equations[i]]
                pick = complement(near)
                if pick is None:
                    # Widen the search to every equation touching a hidden cell.
                    pick = complement(
                        m for h in hidden for i in members_of.get(h, []) for m, _ in equations[i]
                    )
                if pick is not None:
                    hidden.add(pick)
                    added = True
                    break
        if not added:
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


# ------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------


def _month_label(p: pd.Period) -> str:
    return f"{p:%b %Y}"


def _period_label(months: Sequence[pd.Period]) -> str:
    if not months:
        return ""
    a, b = months[0], months[-1]
    if a == b:
        return f"{a:%B %Y}"
    if a.year == b.year:
        return f"{a:%B} to {b:%B %Y}"
    return f"{a:%B %Y} to {b:%B %Y}"


@dataclass(frozen=True)
class SummaryFigures:
    """All figures of a community summary, with what must stay hidden.

    ``values`` holds true counts and is for internal use only; anything published must go
    through :meth:`text` or :meth:`published`, which honour ``hidden``.
    """

    months: tuple[pd.Period, ...]
    periods: dict[str, tuple[pd.Period, ...]]
    threshold: int
    categories: tuple[str, ...]
    labels: dict[str, str]
    values: dict[Hashable, int]
    hidden: frozenset[Hashable]
    primary: frozenset[Hashable]
    streets: tuple[str, ...]
    effort: dict[str, Any] | None
    has_inside: bool
    area_name: str = ""
    narrative: tuple[str, ...] = field(default=())

    @property
    def start(self) -> Date:
        """First day of the chosen period."""
        return self.periods["this"][0].start_time.date()

    @property
    def end(self) -> Date:
        """Last day of the chosen period."""
        return self.periods["this"][-1].end_time.date()

    def period_label(self, name: str) -> str:
        """Readable months of period ``name`` (``"this"``, ``"previous"``, ``"last_year"``)."""
        return _period_label(self.periods.get(name, ()))

    def published(self, key: Hashable) -> int | None:
        """The count for ``key``, or ``None`` when it is hidden."""
        if key in self.hidden or key not in self.values:
            return None
        return int(self.values[key])

    def text(self, key: Hashable) -> str:
        """The count as published: a number, ``"fewer than N"`` or ``"not shown"``."""
        if key not in self.values:
            return ""
        if key in self.primary:
            return f"fewer than {self.threshold}"
        if key in self.hidden:
            return WITHHELD
        return f"{int(self.values[key]):,}"

    def change(self, a: Hashable, b: Hashable) -> str:
        """Percentage change from ``a`` to ``b``, only when both are published and ``a`` is a
        base of at least the threshold; ``""`` otherwise."""
        va, vb = self.published(a), self.published(b)
        if va is None or vb is None or va < self.threshold:
            return ""
        pct = round(100 * (vb - va) / va)
        if pct == 0:
            return "no change" if va == vb else "about the same"
        return f"{'up' if pct > 0 else 'down'} {abs(pct)}%"

    def to_public_dict(self) -> dict[str, Any]:
        """Every published figure as text (safe to print or save as JSON).

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {
            "periods": {k: self.period_label(k) for k in self.periods},
            "threshold": self.threshold,
            "categories": {},
        }
        for cat in self.categories:
            out["categories"][self.labels[cat]] = {
                p: self.text(("p", cat, p)) for p in self.periods
            }
        out["all"] = {p: self.text(("pt", p)) for p in self.periods}
        out["narrative"] = list(self.narrative)
        return out


def _months_between(start: Any, end: Any) -> list[pd.Period]:
    a = pd.Period(pd.Timestamp(start), freq="M")
    b = pd.Period(pd.Timestamp(end), freq="M")
    if b < a:
        msg = "The period ends before it starts; choose an end date after the start date."
        raise ValueError(msg)
    return list(pd.period_range(a, b, freq="M"))


def _plans(plans: Iterable[PatrolPlan | Mapping[str, Any]] | None) -> list[PatrolPlan]:
    out = []
    for p in plans or ():
        out.append(p if isinstance(p, PatrolPlan) else plan_from_json(dict(p)))
    return out


def _visits_frame(plans: list[PatrolPlan], visits: pd.DataFrame | None) -> pd.DataFrame:
    rows = []
    for plan in plans:
        for route in plan.routes:
            for s in route.stops:
                rows.append(
                    {
                        "date": pd.Timestamp(plan.date),
                        "minutes": (s.leave - s.arrive).total_seconds() / 60.0,
                        "hotspot_id": s.hotspot_id,
                        "lon": s.lon,
                        "lat": s.lat,
                        "team": route.team.name,
                    }
                )
    frame = pd.DataFrame(rows, columns=["date", "minutes", "hotspot_id", "lon", "lat", "team"])
    if visits is not None and len(visits):
        v = visits.copy()
        if "date" not in v:
            msg = "The patrol visits table needs a 'date' column (and 'minutes')."
            raise ValueError(msg)
        v["date"] = pd.to_datetime(v["date"])
        v["minutes"] = pd.to_numeric(v.get("minutes", 0.0), errors="coerce").fillna(0.0)
        frame = pd.concat([frame, v], ignore_index=True) if len(frame) else v
    return frame


def _street_names(reports: pd.DataFrame, segments: pd.DataFrame | None) -> pd.Series:
    hint = reports.get("location_hint")
    names = (
        pd.Series(hint, index=reports.index, dtype="string")
        if hint is not None
        else pd.Series(pd.NA, index=reports.index, dtype="string")
    )
    names = names.str.strip().replace("", pd.NA)
    if segments is not None and "segment_id" in reports and len(segments):
        seg_names = pd.Series(
            segments["name"].astype(str).to_numpy(), index=segments["segment_id"].astype(int)
        )
        seg = pd.to_numeric(reports["segment_id"], errors="coerce")
        from_seg = seg.map(seg_names).astype("string").str.strip().replace("", pd.NA)
        names = names.fillna(from_seg)
    return names


def summary_figures(
    reports: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    settings: Settings | None = None,
    plans: Iterable[PatrolPlan | Mapping[str, Any]] | None = None,
    visits: pd.DataFrame | None = None,
    hotspots: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    categories: Sequence[str] | None = None,
    threshold: int | None = None,
    top_streets: int = 8,
    radius_m: float = 100.0,
    area_name: str | None = None,
) -> SummaryFigures:
    """Compute the community summary's figures for whole months, with suppression applied.

    The chosen period is widened to whole months; it is compared with the same number of
    months just before it and, when the data reaches back that far, with the same months a
    year earlier.

    Parameters
    ----------
    reports
        The report table (CONTRACTS); may hold more than the periods needed.
    start, end
        The period (dates; the months containing them are used in full).
    settings
        Labels and the suppression threshold; the project settings by default.
    plans
        Patrol plans (objects or JSON dicts); those dated inside the period count as effort,
        and their stops mark the patrolled hotspots.
    visits
        Delivered patrol visits (the patrol log: ``date``, ``minutes`` and optionally
        ``hotspot_id``, ``lon``, ``lat``). When any fall in the period they replace the
        planned visits as the effort figure ("visits delivered").
    hotspots
        The hotspot table: reports on the ``segment_ids`` of patrolled hotspots count as
        inside them. Without it, reports within ``radius_m`` of a patrolled stop do.
    segments
        Street segments, to name the street of reports without a ``location_hint``.
    categories
        Only these categories; by default every category in the data.
    threshold
        Suppression threshold; ``settings.general.suppression_threshold`` (10) by default.
    top_streets
        How many streets to list (only streets with at least ``threshold`` reports).
    radius_m
        Radius around patrolled stops when hotspot segments are unknown.
    area_name
        Name of the area for the title; ``settings.area_name`` by default.

    Returns
    -------
    SummaryFigures

    Raises
    ------
    ValueError
        When the period is inverted or the threshold is below 1.
    """
    settings = settings if settings is not None else load_settings()
    t = int(
        threshold if threshold is not None else settings.general.get("suppression_threshold", 10)
    )
    if t < 1:
        msg = "The suppression threshold must be at least 1."
        raise ValueError(msg)
    this = _months_between(start, end)
    n = len(this)
    prev = [m - n for m in this]
    ly = [m - 12 for m in this]
    rep = reports.copy()
    rep["occurred_at"] = pd.to_datetime(rep["occurred_at"])
    rep["month"] = rep["occurred_at"].dt.to_period("M")
    rep["category"] = rep["category"].astype(str)
    if categories is not None:
        rep = rep.loc[rep["category"].isin(list(categories))]
    first = rep["month"].min() if len(rep) else None
    periods: dict[str, tuple[pd.Period, ...]] = {}
    if first is not None and first <= ly[0] and n <= 12:
        periods["last_year"] = tuple(ly)
    if first is not None and first <= prev[0]:
        periods["previous"] = tuple(prev)
    periods["this"] = tuple(this)
    shown_months = list(periods.get("previous", ())) + this
    used = set(shown_months) | set(periods.get("last_year", ()))
    rep = rep.loc[rep["month"].isin(used)]

    order = list(settings.categories)
    present = sorted(set(rep["category"]), key=lambda c: (order.index(c) if c in order else 999, c))
    labels = {c: settings.label(c) for c in present}

    counts = rep.groupby(["category", "month"]).size()
    values: dict[Hashable, int] = {}
    equations: list[list[tuple[Hashable, int]]] = []
    totals: list[Hashable] = []

    def cnt(cat: str, month: pd.Period) -> int:
        return int(counts.get((cat, month), 0))

    for m in shown_months:
        for c in present:
            values[("m", c, m)] = cnt(c, m)
        values[("mt", m)] = sum(cnt(c, m) for c in present)
        totals.append(("mt", m))
        equations.append([*[(("m", c, m), 1) for c in present], (("mt", m), -1)])
    for p, months in periods.items():
        for c in present:
            values[("p", c, p)] = sum(cnt(c, m) for m in months)
            totals.append(("p", c, p))
            if p != "last_year":
                equations.append([*[(("m", c, m), 1) for m in months], (("p", c, p), -1)])
        values[("pt", p)] = sum(values[("p", c, p)] for c in present)
        totals.append(("pt", p))
        equations.append([*[(("p", c, p), 1) for c in present], (("pt", p), -1)])
        if p != "last_year":
            equations.append([*[(("mt", m), 1) for m in months], (("pt", p), -1)])

    # Streets: listed only when they have at least the threshold in this period.
    free: list[Hashable] = []
    street_list: list[str] = []
    comp = [p for p in ("previous", "this") if p in periods]
    if len(rep):
        rep["street"] = _street_names(rep, segments)
        named = rep.loc[rep["street"].notna()]
        this_counts = named.loc[named["month"].isin(this)].groupby("street").size()
        this_counts = this_counts[this_counts >= t].sort_values(ascending=False, kind="stable")
        street_list = [str(s) for s in this_counts.index[:top_streets]]
        for p in comp:
            months = set(periods[p])
            in_p = rep.loc[rep["month"].isin(months)]
            for s in street_list:
                values[("s", s, p)] = int((in_p["street"] == s).sum())
            values[("s_rest", p)] = int(len(in_p) - sum(values[("s", s, p)] for s in street_list))
            free.append(("s_rest", p))
            equations.append(
                [*[(("s", s, p), 1) for s in street_list], (("s_rest", p), 1), (("pt", p), -1)]
            )

    # Patrol effort and inside/outside the patrolled hotspots.
    plan_objs = _plans(plans)
    planned = _visits_frame(plan_objs, None)
    delivered = _visits_frame([], visits)
    # Delivered visits (patrol logs from GPX tracks or debriefs) win over planned ones when
    # the period has any; a logged visit takes its hotspot's position from the plans.
    source = "planned"
    vis = planned
    if len(delivered) and delivered["date"].dt.to_period("M").isin(this).any():
        source = "delivered"
        vis = delivered
        if "lon" not in vis or vis["lon"].isna().all():
            where = planned.groupby("hotspot_id")[["lon", "lat"]].first()
            vis = vis.drop(columns=["lon", "lat"], errors="ignore").join(where, on="hotspot_id")
    effort: dict[str, Any] | None = None
    has_inside = False
    if len(vis):
        vis_this = vis.loc[vis["date"].dt.to_period("M").isin(this)]
        effort = {
            "source": source,
            "visits": len(vis_this),
            "minutes": float(vis_this["minutes"].sum()),
            "days": int(vis_this["date"].dt.normalize().nunique()),
            "hotspots": int(vis_this["hotspot_id"].dropna().nunique())
            if "hotspot_id" in vis_this
            else 0,
        }
        inside = _inside_mask(rep, vis_this, hotspots=hotspots, radius_m=radius_m)
        if inside is not None and comp:
            has_inside = True
            for p in comp:
                in_p = rep["month"].isin(set(periods[p])).to_numpy()
                values[("in", p)] = int((inside & in_p).sum())
                values[("out", p)] = int((~inside & in_p).sum())
                equations.append([(("in", p), 1), (("out", p), 1), (("pt", p), -1)])

    hidden, primary = protect_cells(values, equations, threshold=t, totals=totals, free=free)
    figs = SummaryFigures(
        months=tuple(shown_months),
        periods=periods,
        threshold=t,
        categories=tuple(present),
        labels=labels,
        values=values,
        hidden=hidden,
        primary=primary,
        streets=tuple(street_list),
        effort=effort,
        has_inside=has_inside,
        area_name=area_name if area_name is not None else settings.area_name,
    )
    return SummaryFigures(**{**figs.__dict__, "narrative": tuple(narrative(figs))})


def _inside_mask(
    rep: pd.DataFrame, vis: pd.DataFrame, *, hotspots: pd.DataFrame | None, radius_m: float
) -> np.ndarray | None:
    if not len(vis):
        return None
    ids = set(vis["hotspot_id"].dropna().astype(str)) if "hotspot_id" in vis else set()
    if hotspots is not None and len(hotspots) and "segment_ids" in hotspots and ids:
        segs: set[int] = set()
        for hid, lst in zip(
            hotspots["hotspot_id"].astype(str), hotspots["segment_ids"], strict=True
        ):
            if hid in ids and lst is not None and not (isinstance(lst, float) and math.isnan(lst)):
                segs.update(int(x) for x in lst)
        if segs:
            seg = pd.to_numeric(rep["segment_id"], errors="coerce")
            return seg.isin(segs).to_numpy()
    if {"lon", "lat"} <= set(vis.columns):
        pts = vis[["lon", "lat"]].dropna().drop_duplicates().to_numpy(dtype=float)
        if len(pts) == 0:
            return None
        lon = rep["lon"].to_numpy(dtype=float)
        lat = rep["lat"].to_numpy(dtype=float)
        kx = 111_320.0 * math.cos(math.radians(float(np.mean(pts[:, 1]))))
        inside = np.zeros(len(rep), dtype=bool)
        for plon, plat in pts:
            inside |= np.hypot((lon - plon) * kx, (lat - plat) * 110_574.0) <= radius_m
        return inside
    return None


# ------------------------------------------------------------------------------------------
# Narrative
# ------------------------------------------------------------------------------------------


def _moved(a: int, b: int) -> str:
    if b > a:
        return "rose"
    if b < a:
        return "fell"
    return "stayed"


def _sentence(subject: str, a: int, b: int, change: str) -> str:
    verb = _moved(a, b)
    if verb == "stayed":
        return f"{subject} stayed at {b:,}."
    extra = f" ({change})" if change and change not in ("no change", "about the same") else ""
    return f"{subject} {verb} from {a:,} to {b:,}{extra}."


def narrative(figs: SummaryFigures) -> list[str]:
    """Write the plain-English summary from published figures only.

    A sentence is written only when every count it quotes is published, so no hidden count
    (and nothing that would give one away) appears in the text.

    Parameters
    ----------
    figs
        The figures.

    Returns
    -------
    list of str
    """
    out: list[str] = []
    this_l = figs.period_label("this")
    has_prev = "previous" in figs.periods
    tot = figs.published(("pt", "this"))
    if has_prev:
        prev_l = figs.period_label("previous")
        a, b = figs.published(("pt", "previous")), tot
        if a is not None and b is not None:
            ch = figs.change(("pt", "previous"), ("pt", "this"))
            out.append(
                _sentence("Reports of all kinds", a, b, ch).rstrip(".")
                + f", comparing {this_l} with {prev_l}."
            )
        ranked = sorted(
            figs.categories,
            key=lambda c: -(figs.published(("p", c, "this")) or 0),
        )
        n_said = 0
        for c in ranked:
            a = figs.published(("p", c, "previous"))
            b = figs.published(("p", c, "this"))
            if a is None or b is None or (a == 0 and b == 0):
                continue
            label = figs.labels[c]
            subject = (
                f"Reports of {label[0].lower() + label[1:]}"
                if not label.isupper()
                else f"Reports of {label}"
            )
            out.append(
                _sentence(subject, a, b, figs.change(("p", c, "previous"), ("p", c, "this")))
            )
            n_said += 1
            if n_said >= 4:
                break
    elif tot is not None:
        out.append(f"There were {tot:,} reports in {this_l}.")
    if "last_year" in figs.periods:
        a, b = figs.published(("pt", "last_year")), tot
        if a is not None and b is not None:
            ch = figs.change(("pt", "last_year"), ("pt", "this"))
            out.append(_sentence("Against the same months a year earlier, reports", a, b, ch))
    if figs.effort and figs.effort.get("visits"):
        e = figs.effort
        hours = e["minutes"] / 60.0
        hours_txt = f"{hours:.0f} hours" if hours >= 2 else f"{e['minutes']:.0f} minutes"
        out.append(
            f"Patrol teams made {e['visits']:,} {e.get('source', 'planned')} hotspot visits on "
            f"{e['days']:,} "
            f"day{'s' if e['days'] != 1 else ''}, about {hours_txt} on scene in all."
        )
    if figs.has_inside:
        a, b = figs.published(("in", "previous")), figs.published(("in", "this"))
        c, d = figs.published(("out", "previous")), figs.published(("out", "this"))
        parts = []
        if a is not None and b is not None:
            parts.append(
                _sentence(
                    "Inside the patrolled hotspots, reports",
                    a,
                    b,
                    figs.change(("in", "previous"), ("in", "this")),
                ).rstrip(".")
            )
        if c is not None and d is not None:
            parts.append(
                _sentence(
                    "in the rest of the area they",
                    c,
                    d,
                    figs.change(("out", "previous"), ("out", "this")),
                ).rstrip(".")
            )
        if parts:
            out.append(
                "; ".join(parts)
                + ". A change after patrols does not by itself show the patrols caused it."
            )
    if figs.primary:
        out.append(
            f"Where a number is small it is shown as \u201cfewer than {figs.threshold}\u201d so that no person or "
            "doorstep can be identified."
        )
    return out


# ------------------------------------------------------------------------------------------
# Charts
# ------------------------------------------------------------------------------------------


def chart_values(figs: SummaryFigures) -> pd.DataFrame:
    """The month-by-month values the trend chart plots: published counts, NaN where hidden.

    Parameters
    ----------
    figs
        The figures.

    Returns
    -------
    pandas.DataFrame
        Categories (labels) x months (labels), float with NaN for hidden cells.
    """
    data = {
        _month_label(m): [
            float(figs.published(("m", c, m)))
            if figs.published(("m", c, m)) is not None
            else np.nan
            for c in figs.categories
        ]
        for m in figs.months
    }
    return pd.DataFrame(data, index=[figs.labels[c] for c in figs.categories])


_HIDDEN_STYLE = {"facecolor": "white", "edgecolor": "#8a8a8a", "hatch": "////", "linewidth": 0.6}
_THIS_COLOUR = "#1f5fa8"
_PREV_COLOUR = "#9db7d5"
_LY_COLOUR = "#d5d5d5"


def trend_figure(figs: SummaryFigures) -> Any:
    """Small-multiple bar charts of monthly reports by category (hidden cells hatched).

    Hidden cells are drawn as hatched bars of the threshold's height, whatever their value, so
    the chart tells no more than "fewer than N".

    Parameters
    ----------
    figs
        The figures.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    data = chart_values(figs)
    cats = list(data.index)
    ncols = 2 if len(cats) > 1 else 1
    nrows = max(1, math.ceil(len(cats) / ncols))
    this = set(_month_label(m) for m in figs.periods["this"])
    rc = {"font.family": ["Liberation Sans", "DejaVu Sans"], "font.size": 8}
    with matplotlib.rc_context(rc):
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(7.2, 1.55 * nrows + 0.5), squeeze=False, sharex=True
        )
        xs = np.arange(len(data.columns))
        for k, ax in enumerate(axes.flat):
            if k >= len(cats):
                ax.set_visible(False)
                continue
            row = data.iloc[k]
            for x, (month, v) in zip(xs, row.items(), strict=True):
                colour = _THIS_COLOUR if month in this else _PREV_COLOUR
                if np.isnan(v):
                    ax.bar(x, figs.threshold, width=0.75, **_HIDDEN_STYLE)
                else:
                    ax.bar(x, v, width=0.75, color=colour)
            ax.set_title(cats[k], loc="left", fontsize=8.5, weight="bold")
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(axis="both", labelsize=7)
            ymax = max(
                float(np.nanmax(row.to_numpy())) if row.notna().any() else 0.0, figs.threshold
            )
            ax.set_ylim(0, ymax * 1.15)
            ax.yaxis.get_major_locator().set_params(integer=True, nbins=3)
            ax.set_xticks(xs, list(data.columns), rotation=0)
            ax.grid(axis="y", color="#e5e5e5", lw=0.6)
            ax.set_axisbelow(True)
        handles = [
            Patch(color=_PREV_COLOUR, label=figs.period_label("previous") or "earlier"),
            Patch(color=_THIS_COLOUR, label=figs.period_label("this")),
            Patch(**_HIDDEN_STYLE, label=f"hidden (fewer than {figs.threshold}, or {WITHHELD})"),
        ]
        if "previous" not in figs.periods:
            handles = handles[1:]
        fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=7.5)
        fig.tight_layout(rect=(0, 0.07 if nrows > 1 else 0.12, 1, 1))
    return fig


def totals_figure(figs: SummaryFigures) -> Any:
    """Horizontal bars of each category's total in each period (hidden cells hatched).

    Parameters
    ----------
    figs
        The figures.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    order = [p for p in PERIOD_KEYS if p in figs.periods]
    colours = {"last_year": _LY_COLOUR, "previous": _PREV_COLOUR, "this": _THIS_COLOUR}
    cats = list(figs.categories)
    rc = {"font.family": ["Liberation Sans", "DejaVu Sans"], "font.size": 8}
    with matplotlib.rc_context(rc):
        fig, ax = plt.subplots(figsize=(7.2, 0.14 * max(len(cats), 1) * len(order) + 0.9))
        h = 0.8 / len(order)
        for j, p in enumerate(order):
            for i, c in enumerate(cats):
                y = i + (j - (len(order) - 1) / 2) * h
                v = figs.published(("p", c, p))
                if v is None:
                    ax.barh(y, figs.threshold, height=h * 0.95, **_HIDDEN_STYLE)
                else:
                    ax.barh(y, v, height=h * 0.95, color=colours[p])
        ax.set_yticks(range(len(cats)), [figs.labels[c] for c in cats])
        ax.invert_yaxis()
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel("reports")
        handles = [Patch(color=colours[p], label=figs.period_label(p)) for p in order]
        handles.append(Patch(**_HIDDEN_STYLE, label="hidden"))
        ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=7.5)
        fig.tight_layout()
    return fig


def _png_uri(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=170, facecolor="white")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------

_SUMMARY_CSS = """
.lead { font-size: 11.5pt; }
.glance { border: 1pt solid #888; border-left: 4pt solid #1f5fa8; background: #f7f8fa;
          padding: 2mm 4mm; margin: 3mm 0 4mm 0; break-inside: avoid; }
.glance ul { margin: 1mm 0; padding-left: 5mm; }
.glance li { margin: 1mm 0; font-size: 10.5pt; }
td.hid { color: #555; font-style: italic; }
tr.all td { font-weight: bold; border-top: 1pt solid #777; }
.notes { font-size: 8.5pt; color: #333; }
.notes li { margin: 0.8mm 0; }
"""

_SUMMARY_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>{{ css }}</style></head><body>
<h1>{{ title }}</h1>
<div class="sub">{{ area }}{{ this_label }}{% if prev_label %}, compared with {{ prev_label }}{% endif %}</div>
{% if note %}<p class="muted">{{ note }}</p>{% endif %}
<div class="glance"><h3>At a glance</h3><ul>{% for s in narrative %}<li>{{ s }}</li>{% endfor %}</ul></div>

<h2>Reports by category</h2>
<table>
<thead><tr><th>Category</th>{% for p in period_heads %}<th class="num">{{ p }}</th>{% endfor %}{% if has_prev %}<th class="num">Change</th>{% endif %}</tr></thead>
<tbody>
{% for r in total_rows %}<tr class="{{ r.cls }}"><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}{% if has_prev %}<td class="num">{{ r.change }}</td>{% endif %}</tr>
{% endfor %}
</tbody></table>
<figure><img src="{{ totals_chart }}" alt="Reports by category and period"></figure>

<h2>Month by month</h2>
<figure><img src="{{ trend_chart }}" alt="Monthly reports by category"></figure>
<table>
<thead><tr><th>Category</th>{% for m in month_heads %}<th class="num">{{ m }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in month_rows %}<tr class="{{ r.cls }}"><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>

<h2>Streets with the most reports</h2>
{% if street_rows %}
<table>
<thead><tr><th>Street</th>{% for p in street_heads %}<th class="num">{{ p }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in street_rows %}<tr><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>
<p class="small muted">Only streets with at least {{ threshold }} reports in {{ this_label }} are listed. Streets are named from the reports; no address or exact place is given.</p>
{% else %}
<p class="muted">No street had {{ threshold }} or more reports in {{ this_label }}.</p>
{% endif %}

<h2>Patrols</h2>
{% if effort %}
<table class="facts"><tr><td class="k">{{ effort.label }}</td><td>{{ effort.visits }}</td></tr>
<tr><td class="k">Time on scene</td><td>{{ effort.time }}</td></tr>
<tr><td class="k">Patrol days</td><td>{{ effort.days }}</td></tr>
{% if effort.hotspots %}<tr><td class="k">Hotspots visited</td><td>{{ effort.hotspots }}</td></tr>{% endif %}</table>
{% else %}
<p class="muted">No patrol plans were recorded for this period.</p>
{% endif %}
{% if inside_rows %}
<h3>Patrolled hotspots and the rest of the area</h3>
<table>
<thead><tr><th></th>{% for p in inside_heads %}<th class="num">{{ p }}</th>{% endfor %}<th class="num">Change</th></tr></thead>
<tbody>
{% for r in inside_rows %}<tr class="{{ r.cls }}"><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}<td class="num">{{ r.change }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}

<h2>About these figures</h2>
<ul class="notes">
<li>The figures count reports made by partners (police, council, outreach and others). They show what was reported, not everything that happened: more reports can mean more reporting.</li>
<li>Counts from 1 to {{ threshold - 1 }} are shown as &ldquo;fewer than {{ threshold }}&rdquo;. A few other figures are &ldquo;{{ withheld }}&rdquo; so that a small number cannot be worked out from the totals. Percentages are given only where the earlier figure is at least {{ threshold }}.</li>
<li>Figures are by month only. No exact place, address or person appears in this summary.</li>
<li>Produced {{ produced }} with Beatplan.</li>
</ul>
</body></html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def _cell(figs: SummaryFigures, key: Hashable) -> dict[str, Any]:
    return {"text": figs.text(key), "hid": key in figs.hidden}


def summary_html(
    figs: SummaryFigures,
    *,
    settings: Settings | None = None,
    title: str = "Community impact summary",
    note: str = "",
    produced: Date | None = None,
) -> str:
    """Render the community summary as a self-contained HTML document (A4 when printed).

    Only published figures appear: suppressed counts read "fewer than N" or "not shown", and
    charts draw hidden cells as hatched bars of the threshold's height.

    Parameters
    ----------
    figs
        From :func:`summary_figures`.
    settings
        Unused except for future labels; accepted for symmetry with the briefing.
    title
        The heading.
    note
        An extra line under the heading (e.g. that the data is synthetic).
    produced
        The date printed as the production date (today by default).

    Returns
    -------
    str
    """
    del settings
    order = [p for p in PERIOD_KEYS if p in figs.periods]
    has_prev = "previous" in figs.periods
    total_rows = []
    for c in figs.categories:
        total_rows.append(
            {
                "label": figs.labels[c],
                "cls": "",
                "cells": [_cell(figs, ("p", c, p)) for p in order],
                "change": figs.change(("p", c, "previous"), ("p", c, "this")) if has_prev else "",
            }
        )
    total_rows.append(
        {
            "label": "All reports",
            "cls": "all",
            "cells": [_cell(figs, ("pt", p)) for p in order],
            "change": figs.change(("pt", "previous"), ("pt", "this")) if has_prev else "",
        }
    )
    month_rows = [
        {
            "label": figs.labels[c],
            "cls": "",
            "cells": [_cell(figs, ("m", c, m)) for m in figs.months],
        }
        for c in figs.categories
    ]
    month_rows.append(
        {
            "label": "All reports",
            "cls": "all",
            "cells": [_cell(figs, ("mt", m)) for m in figs.months],
        }
    )
    comp = [p for p in ("previous", "this") if p in figs.periods]
    street_rows = [
        {"label": s, "cells": [_cell(figs, ("s", s, p)) for p in comp]} for s in figs.streets
    ]
    inside_rows = []
    if figs.has_inside:
        for key, label in (("in", "Patrolled hotspots"), ("out", "Rest of the area")):
            inside_rows.append(
                {
                    "label": label,
                    "cls": "",
                    "cells": [_cell(figs, (key, p)) for p in comp],
                    "change": figs.change((key, "previous"), (key, "this")) if has_prev else "",
                }
            )
    effort = None
    if figs.effort:
        e = figs.effort
        hours = e["minutes"] / 60.0
        effort = {
            "label": "Visits delivered" if e.get("source") == "delivered" else "Planned visits",
            "visits": f"{e['visits']:,}",
            "time": f"about {hours:.0f} hours" if hours >= 2 else f"{e['minutes']:.0f} minutes",
            "days": f"{e['days']:,}",
            "hotspots": f"{e['hotspots']:,}" if e.get("hotspots") else "",
        }
    heads = {p: figs.period_label(p) for p in order}
    produced = produced or Date.today()
    doc_title = f"{title}: {figs.period_label('this')}"
    css = page_css(doc_title, marking="") + _SUMMARY_CSS
    area = f"{figs.area_name} \u00b7 " if figs.area_name else ""
    return _ENV.from_string(_SUMMARY_TEMPLATE).render(
        title=title,
        css=Markup(css),
        area=area,
        this_label=figs.period_label("this"),
        prev_label=figs.period_label("previous"),
        note=note,
        narrative=list(figs.narrative),
        period_heads=[heads[p] for p in order],
        has_prev=has_prev,
        total_rows=total_rows,
        totals_chart=_png_uri(totals_figure(figs)),
        trend_chart=_png_uri(trend_figure(figs)),
        month_heads=[_month_label(m) for m in figs.months],
        month_rows=month_rows,
        street_heads=[heads[p] for p in comp],
        street_rows=street_rows,
        threshold=figs.threshold,
        effort=effort,
        inside_heads=[heads[p] for p in comp],
        inside_rows=inside_rows,
        withheld=WITHHELD,
        produced=f"{produced.day} {produced:%B %Y}",
    )
