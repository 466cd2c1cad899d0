"""Time profiles of reports: weekday x hour counts, active hours and hour windows."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["active_hours", "format_hour_windows", "hour_windows", "time_profile"]


def _profile_codes(reports: pd.DataFrame) -> np.ndarray:
    """weekday * 24 + hour per report, -1 where the time is not known."""
    when = pd.to_datetime(reports["occurred_at"])
    code = (when.dt.day_of_week * 24 + when.dt.hour).to_numpy(dtype=float)
    timed = np.isfinite(code)
    if "time_known" in reports.columns:
        timed &= reports["time_known"].fillna(False).to_numpy(dtype=bool)
    return np.where(timed, np.nan_to_num(code), -1).astype(np.int64)


def time_profile(reports: pd.DataFrame) -> np.ndarray:
    """Return the 7 x 24 weekday (Mon=0) x hour counts of the reports with a known time.

    Parameters
    ----------
    reports
        Report table with ``occurred_at`` and ``time_known``.

    Returns
    -------
    numpy.ndarray
        int64 array of shape (7, 24).
    """
    code = _profile_codes(reports)
    return np.bincount(code[code >= 0], minlength=168).reshape(7, 24).astype(np.int64)


def active_hours(profile: np.ndarray | list, *, share: float = 0.8) -> list[int]:
    """Return the fewest hours of the day holding at least ``share`` of the timed reports.

    Hours are taken busiest first (ties: earlier hour first) until their total reaches
    ``share`` of the profile's total.

    Parameters
    ----------
    profile
        A 7 x 24 weekday x hour profile (or a 24-long hour vector).
    share
        The share of timed reports to cover, in (0, 1].

    Returns
    -------
    list[int]
        Sorted hours 0..23; empty when the profile holds no reports.
    """
    if not 0 < share <= 1:
        msg = "share must be in (0, 1], e.g. 0.8 for 80% of timed reports."
        raise ValueError(msg)
    arr = np.asarray(profile, dtype=float)
    hours = arr.reshape(-1, 24).sum(axis=0) if arr.size % 24 == 0 else None
    if hours is None:
        msg = "profile must be 7 x 24 (weekday x hour) or 24 hour counts."
        raise ValueError(msg)
    total = hours.sum()
    if total <= 0:
        return []
    order = np.lexsort((np.arange(24), -hours))
    cum = np.cumsum(hours[order])
    k = int(np.searchsorted(cum, share * total - 1e-9 * total)) + 1
    return sorted(int(h) for h in order[:k])


def hour_windows(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Group active hours into windows ``(start, end)``, wrapping past midnight.

    ``[22, 23, 0, 1, 7]`` becomes ``[(7, 8), (22, 2)]``: 07:00-08:00 and 22:00-02:00.

    Parameters
    ----------
    hours
        Hours of the day, 0 to 23.

    Returns
    -------
    list of (start_hour, end_hour)
        ``end_hour`` is exclusive and taken modulo 24.
    """
    hs = sorted({int(h) % 24 for h in hours})
    if not hs:
        return []
    if len(hs) == 24:
        return [(0, 0)]
    runs: list[list[int]] = [[hs[0], hs[0] + 1]]
    for h in hs[1:]:  # at most 24 hours
        if h == runs[-1][1]:
            runs[-1][1] = h + 1
        else:
            runs.append([h, h + 1])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 24:
        runs[0][0] = runs[-1][0]
        runs.pop()
    return sorted((a, b % 24) for a, b in runs)


def format_hour_windows(hours: Iterable[int]) -> str:
    """Render active hours as text, e.g. ``"07:00–08:00, 22:00–02:00"``.

    Parameters
    ----------
    hours
        Hours of the day.

    Returns
    -------
    str
        ``"no timed reports"`` when there are none.
    """
    windows = hour_windows(hours)
    if not windows:
        return "no timed reports"
    if windows == [(0, 0)]:
        return "all day"
    return ", ".join(f"{a:02d}:00–{b:02d}:00" for a, b in windows)
