"""Community impact figures: periods, report counts, streets and patrol effort."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any

import numpy as np
import pandas as pd

from geo.settings import Settings
from planning.export import plan_from_json
from planning.impact_disclosure import Key, PublishedCell, scope_categories, scope_of
from planning.impact_streets import report_streets
from planning.routes import PatrolPlan

__all__ = [
    "NO_DATA",
    "PERIOD_KEYS",
    "WITHHELD",
    "CountedFigures",
    "SummaryFigures",
    "count_figures",
    "month_label",
]

PERIOD_KEYS = ("last_year", "previous", "this")
#: Text for a cell hidden only to protect another (its value is not small).
WITHHELD = "not shown"
#: Text for a month (or a whole period) with no imported data for the area: not a zero.
NO_DATA = "no data"


# ------------------------------------------------------------------------------------------
# Periods and the figures object
# ------------------------------------------------------------------------------------------


def month_label(p: pd.Period) -> str:
    """A month as printed in tables and charts, e.g. ``"Jan 2025"``.

    Parameters
    ----------
    p
        The month.

    Returns
    -------
    str
    """
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
    through :meth:`text` or :meth:`published`, which honour ``hidden``. ``cells`` are the
    figures as shown, by canonical key, for the published-figures ledger; ``stale`` counts
    earlier published figures the data no longer matches and ``exposed`` small counts that
    earlier releases had already given away (both left out of the check).
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
    cells: tuple[PublishedCell, ...] = field(default=())
    stale: int = 0
    exposed: int = 0
    no_data: tuple[pd.Period, ...] = field(default=())

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

    def lacks_data(self, key: Hashable) -> bool:
        """Whether a figure's month, or every month of its period, has no imported data."""
        if not self.no_data or not isinstance(key, tuple) or not key or key in self.values:
            return False
        last = key[-1]
        if isinstance(last, pd.Period):
            return last in self.no_data
        months = self.periods.get(str(last), ())
        return bool(months) and all(m in self.no_data for m in months)

    def published(self, key: Hashable) -> int | None:
        """The count for ``key``, or ``None`` when it is hidden."""
        if key in self.hidden or key not in self.values:
            return None
        return int(self.values[key])

    def text(self, key: Hashable) -> str:
        """The count as published: a number, ``"fewer than N"``, ``"not shown"`` or ``"no data"``."""
        if key not in self.values:
            return NO_DATA if self.lacks_data(key) else ""
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


# ------------------------------------------------------------------------------------------
# Counting
# ------------------------------------------------------------------------------------------

Equation = list[tuple[Hashable, int]]


@dataclass
class CountedFigures:
    """Every figure of a summary that could be published, before suppression.

    ``values`` are true counts; ``equations`` the linear relations between them (each a list of
    ``(key, coefficient)`` summing to zero), ``totals`` the keys that are totals and ``free``
    the keys never published (for :func:`planning.impact_suppression.protect_cells`).
    """

    months: tuple[pd.Period, ...] = ()
    periods: dict[str, tuple[pd.Period, ...]] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    values: dict[Hashable, int] = field(default_factory=dict)
    equations: list[Equation] = field(default_factory=list)
    totals: list[Hashable] = field(default_factory=list)
    free: list[Hashable] = field(default_factory=list)
    streets: tuple[str, ...] = ()
    effort: dict[str, Any] | None = None
    has_inside: bool = False
    scope: str = "*"
    truth: pd.Series | None = None
    no_data: tuple[pd.Period, ...] = ()
    _cube: tuple[Any, ...] | None = field(default=None, init=False, repr=False)

    def canonical(self) -> dict[Hashable, Key]:
        """The canonical key (:data:`planning.impact_disclosure.Key`) of every figure shown.

        ``("s_rest", p)`` (never shown) has none. A period of one month and that month's
        cell share a key: they are the same figure.

        Returns
        -------
        dict
        """
        span = {p: (str(ms[0]), str(ms[-1])) for p, ms in self.periods.items()}
        this = span.get("this", ("", ""))
        tag = f"{this[0]}..{this[1]}"
        out: dict[Hashable, Key] = {}
        for k in self.values:
            kind = k[0]  # type: ignore[index]
            if kind == "m":
                out[k] = ("c", k[1], "", "", str(k[2]), str(k[2]))  # type: ignore[index]
            elif kind == "mt":
                out[k] = ("t", self.scope, "", "", str(k[1]), str(k[1]))  # type: ignore[index]
            elif kind == "p":
                out[k] = ("c", k[1], "", "", *span[k[2]])  # type: ignore[index]
            elif kind == "pt":
                out[k] = ("t", self.scope, "", "", *span[k[1]])  # type: ignore[index]
            elif kind == "s":
                out[k] = ("t", self.scope, str(k[1]), "", *span[k[2]])  # type: ignore[index]
            elif kind in ("in", "out"):
                out[k] = (kind, self.scope, "", tag, *span[k[1]])  # type: ignore[index]
        return out

    def true_count(self, key: Key) -> int | None:
        """Today's count of a canonical ``"c"`` or ``"t"`` figure; ``None`` when unknown.

        Parameters
        ----------
        key
            A canonical key.

        Returns
        -------
        int or None
        """
        if self.truth is None or key[0] not in ("c", "t"):
            return None
        if self._cube is None:
            idx = self.truth.index
            cube = np.zeros([len(level) for level in idx.levels], dtype=np.int64)
            np.add.at(cube, tuple(np.asarray(c) for c in idx.codes), self.truth.to_numpy())
            levels = [list(map(str, level)) for level in idx.levels]
            self._cube = (cube, *levels)
        cube, cats, streets, months = self._cube
        m0 = int(np.searchsorted(months, key[4], side="left"))
        m1 = int(np.searchsorted(months, key[5], side="right"))
        pos = {c: i for i, c in enumerate(cats)}
        chosen = [key[1]] if key[0] == "c" else scope_categories(key[1], cats)
        rows = cube[[pos[c] for c in chosen if c in pos]]
        if key[0] == "t" and key[2]:
            if key[2] not in streets:
                return 0
            rows = rows[:, [streets.index(key[2])]]
        return int(rows[:, :, m0:m1].sum())


def _choose_periods(
    this: list[pd.Period], covered: set[pd.Period]
) -> dict[str, tuple[pd.Period, ...]]:
    """The chosen months, and the months before them and a year earlier when data allows.

    A comparison is made only when every month of both periods has imported data.
    """
    n = len(this)
    prev = [m - n for m in this]
    ly = [m - 12 for m in this]
    full = all(m in covered for m in this)
    periods: dict[str, tuple[pd.Period, ...]] = {}
    if full and n <= 12 and all(m in covered for m in ly):
        periods["last_year"] = tuple(ly)
    if full and all(m in covered for m in prev):
        periods["previous"] = tuple(prev)
    periods["this"] = tuple(this)
    return periods


def _add_category_cells(
    out: CountedFigures, rep: pd.DataFrame, present: list[str], shown_months: list[pd.Period]
) -> None:
    """Counts by category and month, by category and period, and their totals.

    A month with no imported data has no cell (it reads "no data"); it is left out of the
    sums, where its count is zero, and a period with no data at all has no cells.
    """
    counts = rep.groupby(["category", "month"]).size()
    values, equations, totals = out.values, out.equations, out.totals

    def cnt(cat: str, month: pd.Period) -> int:
        return int(counts.get((cat, month), 0))

    for m in (m for m in shown_months if m not in out.no_data):
        for c in present:
            values[("m", c, m)] = cnt(c, m)
        values[("mt", m)] = sum(cnt(c, m) for c in present)
        totals.append(("mt", m))
        equations.append([*[(("m", c, m), 1) for c in present], (("mt", m), -1)])
    for p, all_months in out.periods.items():
        months = [m for m in all_months if m not in out.no_data]
        if not months:
            continue
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


def _add_street_cells(
    out: CountedFigures,
    rep: pd.DataFrame,
    segments: pd.DataFrame | None,
    *,
    this: list[pd.Period],
    comp: list[str],
    threshold: int,
    top_streets: int,
) -> list[str]:
    """Streets: listed only when they have at least the threshold in this period.

    Adds a ``street`` column to ``rep`` when it has rows; returns the listed streets.
    """
    street_list: list[str] = []
    if not len(rep):
        return street_list
    values = out.values
    rep["street"] = report_streets(rep, segments)
    named = rep.loc[rep["street"].notna()]
    this_counts = named.loc[named["month"].isin(this)].groupby("street").size()
    this_counts = this_counts[this_counts >= threshold].sort_values(ascending=False, kind="stable")
    street_list = [str(s) for s in this_counts.index[:top_streets]]
    for p in comp:
        months = set(out.periods[p])
        in_p = rep.loc[rep["month"].isin(months)]
        for s in street_list:
            values[("s", s, p)] = int((in_p["street"] == s).sum())
        values[("s_rest", p)] = int(len(in_p) - sum(values[("s", s, p)] for s in street_list))
        out.free.append(("s_rest", p))
        out.equations.append(
            [*[(("s", s, p), 1) for s in street_list], (("s_rest", p), 1), (("pt", p), -1)]
        )
    return street_list


def _patrol_visits(
    plans: Iterable[PatrolPlan | Mapping[str, Any]] | None,
    visits: pd.DataFrame | None,
    this: list[pd.Period],
) -> tuple[pd.DataFrame, str]:
    """The visits that count as effort, and whether they were ``"planned"`` or ``"delivered"``."""
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
    return vis, source


def _add_effort_cells(
    out: CountedFigures,
    rep: pd.DataFrame,
    vis: pd.DataFrame,
    source: str,
    *,
    this: list[pd.Period],
    comp: list[str],
    hotspots: pd.DataFrame | None,
    radius_m: float,
) -> None:
    """Patrol effort in this period, and reports inside and outside the patrolled hotspots."""
    if not len(vis):
        return
    vis_this = vis.loc[vis["date"].dt.to_period("M").isin(this)]
    out.effort = {
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
        out.has_inside = True
        for p in comp:
            in_p = rep["month"].isin(set(out.periods[p])).to_numpy()
            out.values[("in", p)] = int((inside & in_p).sum())
            out.values[("out", p)] = int((~inside & in_p).sum())
            out.equations.append([(("in", p), 1), (("out", p), 1), (("pt", p), -1)])


def count_figures(
    reports: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    settings: Settings,
    threshold: int,
    plans: Iterable[PatrolPlan | Mapping[str, Any]] | None = None,
    visits: pd.DataFrame | None = None,
    hotspots: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    categories: Sequence[str] | None = None,
    top_streets: int = 8,
    radius_m: float = 100.0,
) -> CountedFigures:
    """Count every figure of a community summary for whole months, before suppression.

    Parameters
    ----------
    reports, start, end, settings
        As in :func:`planning.impact.summary_figures` (``settings`` is required here).
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
    top_streets
        How many streets to list (only streets with at least ``threshold`` reports).
    radius_m
        Radius around patrolled stops when hotspot segments are unknown.
    threshold
        The suppression threshold (streets are listed only with at least this many reports).

    Returns
    -------
    CountedFigures

    Raises
    ------
    ValueError
        When the period is inverted.
    """
    this = _months_between(start, end)
    rep = reports.copy()
    rep["occurred_at"] = pd.to_datetime(rep["occurred_at"])
    rep["month"] = rep["occurred_at"].dt.to_period("M")
    rep["category"] = rep["category"].astype(str)
    truth = _truth_counts(rep, segments)
    covered = set(rep["month"].dropna())  # a month of any import of the area, any category
    if categories is not None:
        rep = rep.loc[rep["category"].isin(list(categories))]
    periods = _choose_periods(this, covered)
    shown_months = list(periods.get("previous", ())) + this
    used = set(shown_months) | set(periods.get("last_year", ()))
    rep = rep.loc[rep["month"].isin(used)]

    order = list(settings.categories)
    present = sorted(set(rep["category"]), key=lambda c: (order.index(c) if c in order else 999, c))
    out = CountedFigures(
        months=tuple(shown_months),
        periods=periods,
        categories=tuple(present),
        labels={c: settings.label(c) for c in present},
        scope=scope_of(categories),
        truth=truth,
        no_data=tuple(m for m in shown_months if m not in covered),
    )
    _add_category_cells(out, rep, present, shown_months)
    comp = [p for p in ("previous", "this") if p in periods and set(periods[p]) & covered]
    street_list = _add_street_cells(
        out, rep, segments, this=this, comp=comp, threshold=threshold, top_streets=top_streets
    )
    out.streets = tuple(street_list)
    vis, source = _patrol_visits(plans, visits, this)
    _add_effort_cells(
        out, rep, vis, source, this=this, comp=comp, hotspots=hotspots, radius_m=radius_m
    )
    return out


def _truth_counts(rep: pd.DataFrame, segments: pd.DataFrame | None) -> pd.Series:
    """Report counts by category, street ("" when unnamed) and month (``"YYYY-MM"``)."""
    street = report_streets(rep, segments).fillna("").astype(str)
    keys = pd.DataFrame(
        {
            "category": rep["category"].to_numpy(),
            "street": street.to_numpy(),
            "month": rep["month"].astype(str).to_numpy(),
        }
    )
    return keys.groupby(["category", "street", "month"], sort=True).size()


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
