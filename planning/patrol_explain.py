"""Why each team has the stops it has, in one plain sentence per team."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from planning.map_export import SKILL_WORDS

__all__ = ["shift_hours", "team_reasons", "top_for_revisits"]


def shift_hours(start: Any, end: Any) -> set[int]:
    """The clock hours (0-23) a shift touches, wrapping past midnight.

    Parameters
    ----------
    start, end
        The shift's start and end (datetimes).

    Returns
    -------
    set of int
    """
    hours: set[int] = set()
    t = start.replace(minute=0, second=0, microsecond=0)
    while t < end and len(hours) < 24:
        hours.add(t.hour)
        t += timedelta(hours=1)
    return hours


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def team_reasons(plan: Any, hotspots: pd.DataFrame) -> list[str]:
    """One sentence per team: its stops, time at hotspots and why the other hotspots are not its.

    Parameters
    ----------
    plan
        A :class:`planning.routes.PatrolPlan`.
    hotspots
        The hotspot table the plan was made from (``hotspot_id``, ``skill``, ``active_hours``).

    Returns
    -------
    list of str
        Aligned with ``plan.routes``.
    """
    by_team = {r.team.name: {s.hotspot_id for s in r.stops} for r in plan.routes}
    out = []
    for route in plan.routes:
        team = route.team
        mine = by_team[team.name]
        hours = shift_hours(team.shift_start, team.shift_end)
        shift_min = (team.shift_end - team.shift_start).total_seconds() / 60
        at_stops = sum((s.leave - s.arrive).total_seconds() / 60 for s in route.stops)
        other = skill = outside = unfit = 0
        for hid, need, active in zip(
            hotspots["hotspot_id"], hotspots["skill"], hotspots["active_hours"], strict=True
        ):
            if hid in mine:
                continue
            if any(hid in stops for name, stops in by_team.items() if name != team.name):
                other += 1
            elif not team.can_take(str(need)):
                skill += 1
            elif len(active) and not hours & {int(h) for h in active}:
                outside += 1
            else:
                unfit += 1
        parts = [
            _count(len(route.stops), "stop", "stops")
            + f", {round(at_stops)} min at hotspots in a {shift_min / 60:g}-hour shift"
        ]
        why = []
        if other:
            why.append(f"{other} {'is' if other == 1 else 'are'} visited by another team")
        if skill:
            needs = sorted(
                {
                    SKILL_WORDS.get(str(s), str(s))
                    for s in hotspots["skill"]
                    if not team.can_take(str(s))
                }
            )
            why.append(f"{skill} {'needs' if skill == 1 else 'need'} {' or '.join(needs)}")
        if outside:
            why.append(f"{outside} {'is' if outside == 1 else 'are'} active outside this shift")
        if unfit:
            why.append(
                f"{unfit} did not fit in the time or {'was' if unfit == 1 else 'were'} not worth the detour"
            )
        if why:
            parts.append("of the other hotspots, " + "; ".join(why))
        out.append(": ".join(parts) + ".")
    return out


def top_for_revisits(hotspots: pd.DataFrame, *, n: int) -> list[str]:
    """The ids of the ``n`` highest-risk hotspots, for a second visit on long shifts.

    Parameters
    ----------
    hotspots
        The hotspot table, ranked by risk.
    n
        How many.

    Returns
    -------
    list of str
    """
    if n <= 0 or not len(hotspots):
        return []
    return [str(h) for h in hotspots.nlargest(n, "risk")["hotspot_id"]]
