"""Planned stops compared with delivered minutes: done, short or missed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from planning.routes import PatrolPlan

MATCH_COLUMNS = [
    "team",
    "order",
    "hotspot_id",
    "label",
    "planned_arrive",
    "planned_minutes",
    "delivered_minutes",
    "status",
    "arrival_delta_min",
]
#: Share of the planned dwell that counts as a stop delivered in full.
DONE_SHARE = 0.8


def plan_stops(plan: PatrolPlan) -> pd.DataFrame:
    """The plan's stops as a table.

    Parameters
    ----------
    plan
        The patrol plan, whose routes give the stops.

    Returns
    -------
    pandas.DataFrame
        ``team, order, hotspot_id, label, planned_arrive, planned_leave, planned_minutes,
        shift_start, shift_end``.
    """
    rows = [
        (
            r.team.name,
            s.order,
            s.hotspot_id,
            s.label,
            s.arrive,
            s.leave,
            (s.leave - s.arrive).total_seconds() / 60.0,
            r.team.shift_start,
            r.team.shift_end,
        )
        for r in plan.routes
        for s in r.stops
    ]
    cols = [
        "team",
        "order",
        "hotspot_id",
        "label",
        "planned_arrive",
        "planned_leave",
        "planned_minutes",
        "shift_start",
        "shift_end",
    ]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("planned_arrive", "planned_leave", "shift_start", "shift_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    return out


def match_plan(
    visits: pd.DataFrame,
    plan: PatrolPlan,
    *,
    team_of_track: Mapping[str, str] | None = None,
    slack_minutes: float = 60.0,
) -> pd.DataFrame:
    """Compare delivered minutes with each planned stop.

    A visit counts for a stop of the same hotspot (and team, when known) when it starts within
    the team's shift widened by ``slack_minutes``; with two planned stops at one hotspot, a
    visit goes to the one with the nearest planned arrival.

    Parameters
    ----------
    visits
        From :func:`hotspot_visits`; a ``team`` column (or ``team_of_track``) ties visits to
        teams, otherwise any visit counts for any team.
    plan
        The plan.
    team_of_track
        Track name -> team name.
    slack_minutes
        Visits this long before or after the shift still count.

    Returns
    -------
    pandas.DataFrame
        ``team, order, hotspot_id, label, planned_arrive, planned_minutes, delivered_minutes,
        status, arrival_delta_min``; status is ``done`` (at least 80% of the dwell),
        ``short`` or ``missed``; the arrival delta is minutes after the planned arrival
        (negative = early, NaN when missed).
    """
    stops = plan_stops(plan).reset_index(names="stop")
    v = visits.copy()
    if v.empty:
        v = pd.DataFrame({"track": [], "hotspot_id": [], "start": [], "minutes": []})
    v["start"] = pd.to_datetime(v["start"]).astype("datetime64[ns]")
    v["minutes"] = v["minutes"].astype(float)
    if "team" not in v.columns and team_of_track is not None:
        v["team"] = v["track"].map(dict(team_of_track))
    keys = ["hotspot_id"]
    if "team" in v.columns:
        keys.append("team")
    v = v.reset_index(names="visit")
    m = stops.merge(v[["visit", *keys, "start", "minutes"]], on=keys, how="inner")
    slack = pd.Timedelta(minutes=slack_minutes)
    m = m[(m["start"] >= m["shift_start"] - slack) & (m["start"] <= m["shift_end"] + slack)]
    m = m.assign(dist=(m["start"] - m["planned_arrive"]).abs())
    m = m.sort_values(["visit", "dist"], kind="stable").drop_duplicates("visit")
    got = m.groupby("stop").agg(delivered=("minutes", "sum"), first=("start", "min"))
    out = stops.join(got, on="stop")
    out["delivered_minutes"] = out["delivered"].fillna(0.0).round(1)
    share = out["delivered_minutes"] / out["planned_minutes"].where(out["planned_minutes"] > 0)
    out["status"] = np.select(
        [share.fillna(1.0) >= DONE_SHARE, out["delivered_minutes"] > 0], ["done", "short"], "missed"
    )
    out.loc[out["delivered_minutes"] <= 0, "status"] = "missed"
    out["arrival_delta_min"] = (
        (out["first"] - out["planned_arrive"]).dt.total_seconds() / 60.0
    ).round(1)
    return out[MATCH_COLUMNS].reset_index(drop=True)


__all__: Sequence[str] = (
    "DONE_SHARE",
    "MATCH_COLUMNS",
    "match_plan",
    "plan_stops",
)
