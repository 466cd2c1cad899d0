"""A synthetic GPX track of a team walking its planned route (demo and tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd

from planning.routes import PatrolPlan, Stop, TeamRoute
from planning.tracking_gpx import LOCAL_TZ, haversine_m

#: Walking pace used by :func:`synthetic_track` (km/h).
WALK_KMH = 4.5

#: Seconds, longitudes and latitudes of a run of fixes.
_Fixes = tuple[np.ndarray, np.ndarray, np.ndarray]


def _walk(
    pts: np.ndarray, t0: float, mps: float, step_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fixes every ``step_s`` along a polyline of (lon, lat) from time ``t0`` (seconds)."""
    if len(pts) < 2:
        return np.empty(0), np.empty(0), np.empty(0), t0
    d = haversine_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1])
    cum = np.r_[0.0, np.cumsum(d)]
    total = cum[-1] / mps
    s = np.arange(0.0, total, step_s)
    lon = np.interp(s * mps, cum, pts[:, 0])
    lat = np.interp(s * mps, cum, pts[:, 1])
    return t0 + s, lon, lat, t0 + total


def _team_route(plan: PatrolPlan, team: str) -> TeamRoute:
    """The team's route, refusing an unknown team or one without legs."""
    route = next((r for r in plan.routes if r.team.name == team), None)
    if route is None:
        names = ", ".join(r.team.name for r in plan.routes)
        msg = f"No team called {team!r} in this plan; use one of: {names}."
        raise ValueError(msg)
    if not route.legs:
        msg = f"Team {team!r} has no route in this plan, so there is nothing to walk."
        raise ValueError(msg)
    return route


def _hold(parts: list[_Fixes], now: float, n: int, point: np.ndarray, step_s: float) -> float:
    """Append ``n`` fixes every ``step_s`` seconds at ``point``; return the time after them."""
    ts = now + step_s * np.arange(n)
    parts.append((ts, np.full(n, point[0]), np.full(n, point[1])))
    return now + n * step_s


def _wait_at_base(
    parts: list[_Fixes],
    route: TeamRoute,
    pts: np.ndarray,
    origin: datetime,
    now: float,
    mps: float,
    step_s: float,
) -> float:
    """Wait at the base and leave just in time for the first stop, not idle at it."""
    walk_s = haversine_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1]).sum() / mps
    due0 = (route.stops[0].arrive - origin).total_seconds()
    n_base = max(0, int((due0 - walk_s - now) // step_s))
    if n_base:
        now = _hold(parts, now, n_base, pts[0], step_s)
    return now


def _stay_at_stop(
    parts: list[_Fixes],
    stop: Stop,
    pts: np.ndarray,
    origin: datetime,
    pause_at: Mapping[str, float],
    now: float,
    step_s: float,
) -> float:
    """Wait at a stop reached early, then stay for its dwell; return the time of leaving."""
    dwell = pause_at.get(stop.hotspot_id, (stop.leave - stop.arrive).total_seconds() / 60.0)
    end = pts[-1] if len(pts) else np.array([stop.lon, stop.lat])
    # Early: wait at the stop for the planned arrival, as a team following the plan would.
    due = (stop.arrive - origin).total_seconds()
    passing = pause_at.get(stop.hotspot_id) == 0  # walks straight past: no waiting
    n_wait = 0 if passing else max(0, int((due - now) // step_s))
    if n_wait:
        now = _hold(parts, now, n_wait, end, step_s)
    n = round(dwell * 60.0 / step_s)
    return _hold(parts, now, n, end, step_s)


def _route_fixes(
    route: TeamRoute,
    origin: datetime,
    pause_at: Mapping[str, float],
    mps: float,
    step_s: float,
) -> _Fixes:
    """Seconds after ``origin``, longitudes and latitudes of the walk along the route."""
    now = 0.0
    parts: list[_Fixes] = []
    for k, leg in enumerate(route.legs):  # a handful of legs
        pts = np.asarray(leg, dtype=float).reshape(-1, 2)
        if k == 0 and route.stops and len(pts) >= 2:
            now = _wait_at_base(parts, route, pts, origin, now, mps, step_s)
        ts, lon, lat, now = _walk(pts, now, mps, step_s)
        parts.append((ts, lon, lat))
        if k < len(route.stops):
            now = _stay_at_stop(parts, route.stops[k], pts, origin, pause_at, now, step_s)
    last = np.asarray(route.legs[-1], dtype=float).reshape(-1, 2)[-1]
    parts.append((np.array([now]), np.array([last[0]]), np.array([last[1]])))
    ts, lon, lat = (np.concatenate(p) for p in zip(*parts, strict=True))
    return ts, lon, lat


def _jitter(
    lon: np.ndarray, lat: np.ndarray, seed: int, jitter_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Add GPS noise of ``jitter_m`` metres (longitudes drawn first, then latitudes)."""
    rng = np.random.default_rng(seed)
    lat_m = 111_320.0
    lon_m = lat_m * np.cos(np.radians(lat))
    lon = lon + rng.normal(0.0, jitter_m, lon.size) / lon_m
    lat = lat + rng.normal(0.0, jitter_m, lat.size) / lat_m
    return lon, lat


def _gpx_text(team: str, t0: pd.Timestamp, ts: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> str:
    """GPX 1.1 text with one track; ``ts`` are seconds after ``t0`` (UTC)."""
    stamps = (t0 + pd.to_timedelta(np.round(ts, 3), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = "".join(
        f'<trkpt lat="{b:.7f}" lon="{a:.7f}"><time>{c}</time></trkpt>'
        for a, b, c in zip(lon, lat, stamps, strict=True)
    )
    name = xml_escape(f"{team} (synthetic)")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="Beatplan synthetic" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>{name}</name><trkseg>{body}</trkseg></trk></gpx>\n"
    )


def synthetic_track(
    plan: PatrolPlan,
    team: str,
    *,
    seed: int = 0,
    pause_at: Mapping[str, float] | None = None,
    speed_kmh: float = WALK_KMH,
    step_s: float = 15.0,
    jitter_m: float = 3.0,
    start: datetime | None = None,
) -> str:
    """Make a realistic GPX track of a team walking its planned route.

    The team leaves the base at the route's departure time, walks each leg at ``speed_kmh``
    waits at a stop reached early until its planned arrival, and stays at each stop for its
    planned dwell (or ``pause_at[hotspot_id]`` minutes; 0 =
    walk straight past), with GPS jitter on every fix. Times are written in UTC (``Z``).

    Parameters
    ----------
    plan
        The plan.
    team
        The team's name.
    seed
        Random seed for the jitter.
    pause_at
        Hotspot id -> minutes to stay instead of the planned dwell.
    speed_kmh
        Walking pace.
    step_s
        Seconds between fixes.
    jitter_m
        Standard deviation of GPS noise in metres.
    start
        Departure time (local); default the route's departure.

    Returns
    -------
    str
        GPX 1.1 text with one track.

    Raises
    ------
    ValueError
        When the team is not in the plan or has no route.
    """
    route = _team_route(plan, team)
    pause_at = dict(pause_at or {})
    mps = speed_kmh / 3.6
    t0 = pd.Timestamp(start or route.depart).tz_localize(LOCAL_TZ).tz_convert(UTC)
    ts, lon, lat = _route_fixes(route, start or route.depart, pause_at, mps, step_s)
    lon, lat = _jitter(lon, lat, seed, jitter_m)
    return _gpx_text(team, t0, ts, lon, lat)


__all__: Sequence[str] = (
    "WALK_KMH",
    "synthetic_track",
)
