"""Write patrol plans as JSON, GeoJSON and GPX, and read them back from JSON."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from typing import Any

import gpxpy
import gpxpy.gpx

from planning.routes import Dropped, PatrolPlan, Stop, Team, TeamRoute
from planning.travel_straight import APPROXIMATE_NOTE, TRAVEL_STRAIGHT

#: Version of the plan JSON layout.
FORMAT_VERSION = 1


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _pt(value: Any) -> tuple[float, float]:
    lon, lat = value
    return (float(lon), float(lat))


def plan_to_json(plan: PatrolPlan) -> dict[str, Any]:
    """Turn a plan into a JSON-ready dict.

    Layout: ``{"travel", "date", "generated_at", "dwell_minutes", "risk_covered_share",
    "teams": [{"name", "date", "skills", "members", "mode", "shift": {"start", "end"}, "base",
    "end_base", "max_stops", "break_minutes", "break_start", "depart", "back", "stops":
    [{"order", "hotspot_id", "label", "arrive", "leave", "lon", "lat", "skill", "risk",
    "node", "visit"}], "path": [[lon, lat], ...], "legs": [[[lon, lat], ...], ...],
    "distance_m", "duration_min"}], "dropped": [{"hotspot_id", "label", "reason"}],
    "settings", "warnings", "format"}``. A team's ``date`` is the date of its shift (the plan
    date, or the next day for a team whose shift starts on ``day = 1``). Times are ISO 8601
    local times without zone. ``travel`` is ``"network"`` (street routes, legs along the
    streets) or ``"straight-line"`` (no street network: straight legs, distance times the
    detour factor), which adds ``"travel_note"``, the approximate label.

    Parameters
    ----------
    plan
        The plan to write out.

    Returns
    -------
    dict
    """
    teams = []
    for route in plan.routes:
        t = route.team
        teams.append(
            {
                "name": t.name,
                "date": route.shift_date.isoformat(),
                "skills": list(t.skills),
                "members": list(t.members),
                "mode": t.mode,
                "shift": {"start": _iso(t.shift_start), "end": _iso(t.shift_end)},
                "base": list(t.base),
                "end_base": None if t.end_base is None else list(t.end_base),
                "max_stops": t.max_stops,
                "break_minutes": t.break_minutes,
                "break_start": _iso(route.break_start),
                "depart": _iso(route.depart),
                "back": _iso(route.back),
                "stops": [
                    {
                        "order": s.order,
                        "hotspot_id": s.hotspot_id,
                        "label": s.label,
                        "arrive": _iso(s.arrive),
                        "leave": _iso(s.leave),
                        "lon": s.lon,
                        "lat": s.lat,
                        "skill": s.skill,
                        "risk": s.risk,
                        "node": s.node,
                        "visit": s.visit,
                    }
                    for s in route.stops
                ],
                "path": [list(p) for p in route.path],
                "legs": [[list(p) for p in leg] for leg in route.legs],
                "distance_m": route.distance_m,
                "duration_min": route.duration_min,
            }
        )
    out: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "travel": plan.travel,
        "date": plan.date.isoformat(),
        "generated_at": _iso(plan.generated_at),
        "dwell_minutes": plan.dwell_minutes,
        "risk_covered_share": plan.risk_covered_share,
        "teams": teams,
        "dropped": [
            {"hotspot_id": d.hotspot_id, "label": d.label, "reason": d.reason} for d in plan.dropped
        ],
        "settings": dict(plan.settings),
        "warnings": list(plan.warnings),
    }
    if plan.travel == TRAVEL_STRAIGHT:
        out["travel_note"] = APPROXIMATE_NOTE
    return out


def _team_from_json(t: dict[str, Any]) -> Team:
    """The team of one ``teams`` entry of the plan JSON."""
    return Team(
        name=str(t["name"]),
        skills=tuple(t["skills"]),
        base=_pt(t["base"]),
        shift_start=datetime.fromisoformat(t["shift"]["start"]),
        shift_end=datetime.fromisoformat(t["shift"]["end"]),
        mode=str(t.get("mode", "walk")),
        end_base=None if t.get("end_base") is None else _pt(t["end_base"]),
        max_stops=t.get("max_stops"),
        break_minutes=int(t.get("break_minutes", 0)),
        members=tuple(t.get("members", ())),
    )


def _stop_from_json(s: dict[str, Any]) -> Stop:
    """One ``stops`` entry of the plan JSON."""
    return Stop(
        order=int(s["order"]),
        hotspot_id=str(s["hotspot_id"]),
        label=str(s["label"]),
        arrive=datetime.fromisoformat(s["arrive"]),
        leave=datetime.fromisoformat(s["leave"]),
        lon=float(s["lon"]),
        lat=float(s["lat"]),
        skill=str(s["skill"]),
        risk=float(s.get("risk", 0.0)),
        node=int(s.get("node", -1)),
        visit=int(s.get("visit", 1)),
    )


def _route_from_json(t: dict[str, Any]) -> TeamRoute:
    """One ``teams`` entry of the plan JSON as a team route (older files carry only a path)."""
    team = _team_from_json(t)
    stops = tuple(_stop_from_json(s) for s in t["stops"])
    if "legs" in t:
        legs = tuple(tuple(_pt(p) for p in leg) for leg in t["legs"])
    else:
        legs = (tuple(_pt(p) for p in t.get("path", [])),) if t.get("path") else ()
    depart = _dt(t.get("depart")) or (stops[0].arrive if stops else team.shift_start)
    back = _dt(t.get("back")) or (stops[-1].leave if stops else team.shift_start)
    return TeamRoute(
        team=team,
        stops=stops,
        legs=legs,
        distance_m=float(t.get("distance_m", 0.0)),
        depart=depart,
        back=back,
        break_start=_dt(t.get("break_start")),
    )


def plan_from_json(data: dict[str, Any]) -> PatrolPlan:
    """Rebuild a plan from :func:`plan_to_json` output.

    Parameters
    ----------
    data
        The parsed JSON.

    Returns
    -------
    PatrolPlan

    Raises
    ------
    ValueError
        When a required key is missing.
    """
    try:
        routes = [_route_from_json(t) for t in data["teams"]]
        return PatrolPlan(
            date=Date.fromisoformat(data["date"]),
            routes=tuple(routes),
            dropped=tuple(
                Dropped(str(d["hotspot_id"]), str(d["label"]), str(d["reason"]))
                for d in data.get("dropped", [])
            ),
            risk_covered_share=float(data["risk_covered_share"]),
            dwell_minutes=int(data["dwell_minutes"]),
            generated_at=datetime.fromisoformat(data["generated_at"]),
            settings={"travel": str(data.get("travel", "network")), **data.get("settings", {})},
            warnings=tuple(data.get("warnings", ())),
        )
    except KeyError as exc:
        msg = f"The plan JSON lacks {exc.args[0]!r}; export the plan again with plan_to_json."
        raise ValueError(msg) from None


def plan_to_geojson(plan: PatrolPlan) -> dict[str, Any]:
    """Turn a plan into a GeoJSON FeatureCollection (WGS84).

    One LineString feature per team route (``kind = "route"``) and one Point per stop
    (``kind = "stop"``), each with the team name and, for stops, order, hotspot, times and
    skill.

    Parameters
    ----------
    plan
        The plan.

    Returns
    -------
    dict
    """
    features: list[dict[str, Any]] = []
    for route in plan.routes:
        t = route.team
        path = route.path
        if len(path) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [list(p) for p in path]},
                    "properties": {
                        "kind": "route",
                        "team": t.name,
                        "mode": t.mode,
                        "members": ", ".join(t.members),
                        "skills": ", ".join(t.skills),
                        "shift_start": _iso(t.shift_start),
                        "shift_end": _iso(t.shift_end),
                        "stops": len(route.stops),
                        "distance_m": round(route.distance_m, 1),
                        "duration_min": round(route.duration_min, 1),
                    },
                }
            )
        for s in route.stops:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                    "properties": {
                        "kind": "stop",
                        "team": t.name,
                        "order": s.order,
                        "hotspot_id": s.hotspot_id,
                        "label": s.label,
                        "arrive": _iso(s.arrive),
                        "leave": _iso(s.leave),
                        "skill": s.skill,
                        "visit": s.visit,
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "travel": plan.travel,
            "date": plan.date.isoformat(),
            "risk_covered_share": plan.risk_covered_share,
            "dwell_minutes": plan.dwell_minutes,
        },
    }


def plan_to_gpx(plan: PatrolPlan, *, team: str | None = None) -> str:
    """Write a plan (or one team's part of it) as GPX 1.1 text with gpxpy.

    Each team becomes a route (``<rte>``) following its street path, named after the team,
    and each stop a waypoint named ``"1. label"`` with its arrival time.

    Parameters
    ----------
    plan
        The plan.
    team
        Only this team's route; all teams when omitted.

    Returns
    -------
    str
        The GPX document.

    Raises
    ------
    ValueError
        When ``team`` names no team of the plan.
    """
    routes = plan.routes
    if team is not None:
        routes = tuple(r for r in routes if r.team.name == team)
        if not routes:
            names = ", ".join(r.team.name for r in plan.routes)
            msg = f"No team called {team!r} in this plan; use one of: {names}."
            raise ValueError(msg)
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "Beatplan"
    gpx.name = f"Patrol plan {plan.date.isoformat()}" + (f" - {team}" if team else "")
    for route in routes:
        rte = gpxpy.gpx.GPXRoute(name=route.team.name)
        rte.description = (
            f"{len(route.stops)} stops, {route.distance_m / 1000:.1f} km, "
            f"{route.team.shift_start:%H:%M}-{route.team.shift_end:%H:%M}"
        )
        for lon, lat in route.path:
            rte.points.append(gpxpy.gpx.GPXRoutePoint(latitude=lat, longitude=lon))
        gpx.routes.append(rte)
        for s in route.stops:
            wpt = gpxpy.gpx.GPXWaypoint(
                latitude=s.lat,
                longitude=s.lon,
                name=f"{s.order}. {s.label}",
                time=s.arrive,
                description=(
                    f"{route.team.name}: {s.arrive:%H:%M}-{s.leave:%H:%M}, {s.hotspot_id}, "
                    f"{s.skill}"
                ),
            )
            gpx.waypoints.append(wpt)
    return gpx.to_xml(version="1.1")
