"""GPX patrol tracks: reading them into a table of fixes, and cleaning spikes and gaps."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import gpxpy
import gpxpy.gpx
import numpy as np
import pandas as pd

from planning.routes import PatrolPlan

LOCAL_TZ = "Europe/London"
FIX_COLUMNS = ["track", "time", "lon", "lat"]
#: Fastest believable speed between two fixes, by travel mode (km/h).
MAX_SPEED_KMH = {"walk": 30.0, "cycle": 60.0, "drive": 150.0}


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _load_one(item: Any) -> tuple[str, bytes]:
    if isinstance(item, tuple) and len(item) == 2:
        name, data = item
        if isinstance(data, str):
            data = data.encode("utf-8")
        return str(name), bytes(data)
    if hasattr(item, "read") and hasattr(item, "name"):  # an uploaded file
        return str(item.name), item.read()
    path = Path(os.fspath(item))
    if not path.is_file():
        msg = f"GPX file {path} not found; check the path."
        raise FileNotFoundError(msg)
    return path.name, path.read_bytes()


def _parse_gpx(name: str, data: bytes) -> tuple[pd.DataFrame, int]:
    """The timed fixes of one GPX file, and how many timed fixes had an impossible position."""
    text = data.decode("utf-8-sig", errors="replace")
    try:
        gpx = gpxpy.parse(text)
    except Exception:  # gpxpy raises several kinds for broken XML
        msg = (
            f"{name} is not a readable GPX file (the XML is broken or it is another kind of "
            "file); export the track again from the device as GPX."
        )
        raise ValueError(msg) from None
    points = [
        (p.time, p.longitude, p.latitude)
        for trk in gpx.tracks
        for seg in trk.segments
        for p in seg.points
    ]
    if not points:
        extra = " (it holds only a planned route or waypoints)" if gpx.routes else ""
        msg = f"{name} has no recorded track points{extra}; upload the track the device recorded."
        raise ValueError(msg)
    times, lons, lats = zip(*points, strict=True)
    has_time = np.array([t is not None for t in times])
    if not has_time.any():
        msg = (
            f"{name}: This GPX track has no timestamps, so time spent cannot be measured; "
            "export it again with times."
        )
        raise ValueError(msg)
    stamps = pd.to_datetime(
        [t.isoformat() if t is not None else None for t in times], utc=True, format="ISO8601"
    )
    local = stamps.tz_convert(LOCAL_TZ).tz_localize(None)
    lon = np.asarray(lons, dtype="float64")
    lat = np.asarray(lats, dtype="float64")
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if not (valid & has_time).any():
        msg = (
            f"{name} has no track point with a valid position (latitude -90 to 90, longitude "
            "-180 to 180); export the track again from the device."
        )
        raise ValueError(msg)
    frame = pd.DataFrame({"track": name, "time": local, "lon": lon, "lat": lat})
    keep = has_time & valid
    frame = frame[keep].sort_values("time", kind="stable").reset_index(drop=True)
    return frame, int((has_time & ~valid).sum())


def read_tracks(files: Iterable[Any], *, plan: PatrolPlan | None = None) -> pd.DataFrame:
    """Read GPX tracks into one table of fixes.

    Times in the file are taken as UTC (``Z``) or with their stated offset and converted to
    naive Europe/London local time. Fixes without a time are dropped.

    Parameters
    ----------
    files
        ``(name, bytes)`` pairs, uploaded files (``.name``, ``.read()``) or paths.
    plan
        When given, each track's times are checked against the plan's shifts and
        ``frame.attrs["warnings"]`` lists tracks that look an hour out (wrong time zone).

    Returns
    -------
    pandas.DataFrame
        Columns ``track`` (the file name), ``time`` (datetime64, local), ``lon``, ``lat``;
        ``attrs["warnings"]`` is a list of plain-English warnings and
        ``attrs["rejected_fixes"]`` counts the points left out for an impossible position.

    Raises
    ------
    ValueError
        For broken XML, a file with no track points, a track with no timestamps, or a
        track with no point at a valid position.
    """
    frames = []
    warnings: list[str] = []
    rejected = 0
    seen: dict[str, int] = {}
    for item in files:
        name, data = _load_one(item)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        frame, bad = _parse_gpx(name, data)
        frames.append(frame)
        if bad:
            rejected += bad
            warnings.append(
                f"Track {name}: {bad} point(s) with an impossible position (latitude outside "
                "-90 to 90, longitude outside -180 to 180, or not a number) were left out."
            )
    if not frames:
        msg = "No GPX file was given; upload at least one track."
        raise ValueError(msg)
    fixes = pd.concat(frames, ignore_index=True)
    if plan is not None:
        warnings += time_zone_warnings(fixes, plan)
    fixes.attrs["warnings"] = warnings
    fixes.attrs["rejected_fixes"] = rejected
    return fixes


def _shift_windows(plan: PatrolPlan) -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([r.team.shift_start for r in plan.routes], dtype="datetime64[ns]")
    ends = np.array([r.team.shift_end for r in plan.routes], dtype="datetime64[ns]")
    return starts, ends


def _share_in_shifts(times: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> float:
    if times.size == 0 or starts.size == 0:
        return 0.0
    inside = (times[:, None] >= starts[None, :]) & (times[:, None] <= ends[None, :])
    return float(inside.any(axis=1).mean())


def time_zone_warnings(fixes: pd.DataFrame, plan: PatrolPlan) -> list[str]:
    """Warn about tracks whose times fall outside every shift but fit when moved by an hour.

    Times are never changed: a warning asks the user to check the device's time zone.

    Parameters
    ----------
    fixes
        From :func:`read_tracks`.
    plan
        The plan whose team shifts the tracks should fall in.

    Returns
    -------
    list of str
    """
    starts, ends = _shift_windows(plan)
    out: list[str] = []
    hour = np.timedelta64(1, "h")
    for name, group in fixes.groupby("track", sort=False):  # one per file
        times = group["time"].to_numpy(dtype="datetime64[ns]")
        if _share_in_shifts(times, starts, ends) >= 0.5:
            continue
        for sign, word in ((-1, "earlier"), (1, "later")):
            if _share_in_shifts(times + sign * hour, starts, ends) >= 0.8:
                out.append(
                    f"Track {name}: its times fall outside every shift of the plan but fit "
                    f"exactly one hour {word}. The device may be set to the wrong time zone "
                    "(GMT versus BST); times have not been changed, so check the device and "
                    "export the track again."
                )
                break
    return out


# --------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in metres between points given in degrees.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Longitudes and latitudes (scalars or arrays that broadcast).

    Returns
    -------
    numpy.ndarray
        Distances in metres.
    """
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _drop_spikes(fixes: pd.DataFrame, max_mps: float) -> pd.DataFrame:
    """Drop fixes reached and left at impossible speed (repeated for short bursts)."""
    for _ in range(5):
        n = len(fixes)
        if n < 2:
            return fixes
        track = fixes["track"].to_numpy()
        t = fixes["time"].to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
        lon, lat = fixes["lon"].to_numpy(), fixes["lat"].to_numpy()
        d = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
        dt = np.diff(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(dt > 0, d / np.where(dt > 0, dt, 1), np.where(d > 5, np.inf, 0.0))
        fast = (speed > max_mps) | (track[1:] != track[:-1])
        fast_in = np.r_[True, fast]
        fast_out = np.r_[fast, True]
        boundary_in = np.r_[True, track[1:] != track[:-1]]
        boundary_out = np.r_[track[1:] != track[:-1], True]
        # A spike is reached and left too fast; a track's first (last) fix is a spike when
        # the step out of (into) it is too fast but the next (previous) step is not.
        prev_fast_in = np.r_[True, fast_in[:-1]]
        next_fast_out = np.r_[fast_out[1:], True]
        first = boundary_in & ~boundary_out
        last = boundary_out & ~boundary_in
        bad = np.where(
            first,
            fast_out & ~next_fast_out,
            np.where(last, fast_in & ~prev_fast_in, fast_in & fast_out & ~boundary_in),
        )
        if not bad.any():
            return fixes
        fixes = fixes[~bad].reset_index(drop=True)
        if len(fixes) == n:
            return fixes
    return fixes


def clean_track(
    fixes: pd.DataFrame,
    *,
    mode: str = "walk",
    max_speed_kmh: float | None = None,
    max_gap_s: float = 120.0,
    step_s: float = 15.0,
) -> pd.DataFrame:
    """Drop impossible fixes, fill short gaps and split the track at long gaps.

    Parameters
    ----------
    fixes
        From :func:`read_tracks`.
    mode
        ``walk``, ``cycle`` or ``drive``: sets the default ``max_speed_kmh``
        (:data:`MAX_SPEED_KMH`).
    max_speed_kmh
        A fix reached and left faster than this is a GPS spike and is dropped.
    max_gap_s
        Gaps up to this long are filled by linear interpolation every ``step_s`` seconds;
        longer gaps start a new ``segment`` (time there is not counted).
    step_s
        Interpolation step in seconds.

    Returns
    -------
    pandas.DataFrame
        ``track, segment, time, lon, lat, interpolated``, sorted by track and time.
    """
    if max_speed_kmh is None:
        max_speed_kmh = MAX_SPEED_KMH.get(mode, MAX_SPEED_KMH["walk"])
    out_cols = ["track", "segment", "time", "lon", "lat", "interpolated"]
    if fixes.empty:
        return pd.DataFrame(columns=out_cols)
    f = fixes[FIX_COLUMNS].sort_values(["track", "time"], kind="stable")
    f = f.drop_duplicates(["track", "time"]).reset_index(drop=True)
    f = _drop_spikes(f, max_speed_kmh / 3.6)
    track = f["track"].to_numpy()
    t = f["time"].to_numpy(dtype="datetime64[ns]").astype("int64")
    lon, lat = f["lon"].to_numpy(), f["lat"].to_numpy()
    new_track = np.r_[True, track[1:] != track[:-1]]
    dt = np.r_[0, np.diff(t)] / 1e9
    split = new_track | (dt > max_gap_s)
    segment = np.cumsum(split) - 1
    # Short gaps: positions k*step inside each gap.
    fill = ~split & (dt > step_s)
    idx = np.flatnonzero(fill)
    n_new = np.ceil(dt[idx] / step_s).astype(int) - 1
    rep = np.repeat(idx, n_new)
    k = np.arange(n_new.sum()) - np.repeat(np.cumsum(n_new) - n_new, n_new) + 1
    frac = k * step_s / dt[rep]
    add_t = t[rep - 1] + (frac * (t[rep] - t[rep - 1])).astype("int64")
    add_lon = lon[rep - 1] + frac * (lon[rep] - lon[rep - 1])
    add_lat = lat[rep - 1] + frac * (lat[rep] - lat[rep - 1])
    out = pd.DataFrame(
        {
            "track": np.r_[track, track[rep]],
            "segment": np.r_[segment, segment[rep]],
            "time": np.r_[t, add_t].astype("datetime64[ns]"),
            "lon": np.r_[lon, add_lon],
            "lat": np.r_[lat, add_lat],
            "interpolated": np.r_[np.zeros(len(t), bool), np.ones(len(rep), bool)],
        }
    )
    # Segment ids were global; renumber within each track from 0.
    out = out.sort_values(["segment", "time"], kind="stable").reset_index(drop=True)
    first = out.groupby("track", sort=False)["segment"].transform("min")
    out["segment"] = (out["segment"] - first).astype("int64")
    return out[out_cols]


__all__: Sequence[str] = (
    "FIX_COLUMNS",
    "LOCAL_TZ",
    "MAX_SPEED_KMH",
    "clean_track",
    "haversine_m",
    "read_tracks",
    "time_zone_warnings",
)
