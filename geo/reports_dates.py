"""Parse partner dates: ISO, British day-first and month-only, never guessing a mix."""

from __future__ import annotations

import pandas as pd

from geo.errors import ReportFileError

_ISO_RE = (
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_DMY_RE = r"^\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?:[T ,]+\d{1,2}:\d{2}(?::\d{2})?)?$"
_MONTH_RE = r"^\d{4}-\d{1,2}$"
_HAS_TIME_RE = r"\d{1,2}:\d{2}"
_TZ_RE = r"(?:Z|[+-]\d{2}:?\d{2})$"
_DMY_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
)

TIMEZONE = "Europe/London"
_SLICE_ROWS = 500_000  # day-first dates rewritten and parsed this many at a time


def parse_dates(
    values: pd.Series, time_values: pd.Series | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse partner dates: ISO, British day-first and month-only, never guessing a mix.

    Parameters
    ----------
    values
        Date or date-time strings.
    time_values
        Optional separate time-of-day strings (``"21:30"``).

    Returns
    -------
    (occurred_at, time_known, reason)
        Naive local (Europe/London) timestamps, whether a time of day was given, and a
        rejection reason per row (missing where the row parsed).

    Raises
    ------
    ReportFileError
        When the column mixes incompatible date formats (e.g. ISO and day/month/year).
    """
    s = values.astype("string[pyarrow]").str.strip()
    s = s.mask(s == "")
    families = _date_families(s)
    _refuse_mixed_families(families.value_counts(), s)
    group = families.replace({"month": "iso"})
    group_counts = group.value_counts()
    main = str(group_counts.index[0]) if len(group_counts) else "none"
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    reason = pd.Series(pd.NA, index=s.index, dtype="string[pyarrow]")

    iso = families.isin(["iso", "month"]).fillna(False).astype(bool)
    if iso.any():
        out[iso] = _parse_iso(s[iso]).astype("datetime64[ns]")
    dmy = (families == "dmy").fillna(False).astype(bool)
    if dmy.any():
        out[dmy] = _parse_day_first(s[dmy])
        _refuse_us_order(dmy, out, main)

    time_known = s.str.contains(_HAS_TIME_RE, regex=True).fillna(False).astype(bool)
    if time_values is not None:
        out, time_known, reason = _apply_time_of_day(out, time_known, reason, time_values)

    blank = s.isna()
    reason = reason.mask(out.isna() & ~blank, "date not readable")
    reason = reason.mask(blank, "no date")
    other = (group.notna() & (group != main)).fillna(False).astype(bool)
    reason = reason.mask(other, "date in a different format from the rest of the file")
    return out, time_known, reason


def _date_families(s: pd.Series) -> pd.Series:
    """Each value's date family: ``"iso"``, ``"dmy"``, ``"month"`` or missing."""
    families = pd.Series(pd.NA, index=s.index, dtype="string[pyarrow]")
    families = families.mask(s.str.match(_ISO_RE).fillna(False).astype(bool), "iso")
    families = families.mask(s.str.match(_DMY_RE).fillna(False).astype(bool), "dmy")
    return families.mask(s.str.match(_MONTH_RE).fillna(False).astype(bool), "month")


def _refuse_mixed_families(fam_counts: pd.Series, s: pd.Series) -> None:
    """Raise when both year-first and day-first dates are common in the column."""
    big = fam_counts[fam_counts >= max(2, 0.02 * s.notna().sum())]
    if ("iso" in big.index or "month" in big.index) and "dmy" in big.index:
        iso_n = int(fam_counts.get("iso", 0) + fam_counts.get("month", 0))
        msg = (
            f"The date column mixes formats: {iso_n} dates are year-month-day and "
            f"{int(fam_counts['dmy'])} are day/month/year. Save the file with one date "
            "format and import it again; Beatplan will not guess which is which."
        )
        raise ReportFileError(msg)


def _parse_iso(vals: pd.Series) -> pd.Series:
    """Parse ISO dates and months; values with an offset are converted to London time."""
    month_only = vals.str.match(_MONTH_RE).fillna(False).astype(bool)
    vals = vals.mask(month_only, vals + "-01")
    has_tz = vals.str.contains(_TZ_RE, regex=True).fillna(False).astype(bool)
    parsed = pd.Series(pd.NaT, index=vals.index, dtype="datetime64[ns]")
    if (~has_tz).any():
        parsed[~has_tz] = pd.to_datetime(vals[~has_tz], format="ISO8601", errors="coerce")
    if has_tz.any():
        aware = pd.to_datetime(vals[has_tz], format="ISO8601", errors="coerce", utc=True)
        parsed[has_tz] = aware.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    return parsed


def _parse_day_first(values: pd.Series) -> pd.Series:
    """Parse ``dd/mm/yyyy`` style dates (any of ``/.-``, optional time), trying each format.

    A slice of :data:`_SLICE_ROWS` rows at a time, so the rewritten text stays small.
    """
    if len(values) <= _SLICE_ROWS:
        return _parse_day_first_slice(values)
    return pd.concat(
        [
            _parse_day_first_slice(values.iloc[i : i + _SLICE_ROWS])
            for i in range(0, len(values), _SLICE_ROWS)
        ]
    )


def _parse_day_first_slice(values: pd.Series) -> pd.Series:
    """:func:`_parse_day_first` of one slice."""
    vals = values.str.replace(r"[.-]", "/", regex=True).str.replace(r"[T,]+", " ", regex=True)
    vals = vals.str.replace(r"[ \t]+", " ", regex=True)
    parsed = pd.Series(pd.NaT, index=vals.index, dtype="datetime64[ns]")
    for fmt in _DMY_FORMATS:
        todo = parsed.isna()
        if not todo.any():
            break
        parsed[todo] = _strptime_day_first(vals[todo], fmt)
    return parsed


def _refuse_us_order(dmy: pd.Series, out: pd.Series, main: str) -> None:
    """Raise when many day-first dates did not parse: the file is likely month/day/year."""
    bad_dmy = dmy & out.isna()
    if main == "dmy" and bad_dmy.sum() > max(2, 0.2 * dmy.sum()):
        msg = (
            "Many dates could not be read as day/month/year (British order); they may be "
            "month/day/year (US order). Save the file with ISO dates (2024-01-31) and retry."
        )
        raise ReportFileError(msg)


def _apply_time_of_day(
    out: pd.Series, time_known: pd.Series, reason: pd.Series, time_values: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Set the time of day from a separate time column; unreadable times get a reason."""
    t = time_values.astype("string[pyarrow]").str.strip()
    t = t.mask(t == "")
    tm = t.str.extract(r"^(\d{1,2})[:.]?(\d{2})?(?::(\d{2}))?$")
    hours = pd.to_numeric(tm[0], errors="coerce")
    mins = pd.to_numeric(tm[1], errors="coerce").fillna(0)
    ok_t = hours.between(0, 23) & mins.between(0, 59)
    has_t = t.notna() & ok_t.fillna(False).astype(bool)
    day = out.dt.normalize()
    out = out.mask(has_t, day + pd.to_timedelta(hours.fillna(0) * 60 + mins, unit="min"))
    time_known = time_known | has_t
    bad_t = t.notna() & ~ok_t.fillna(False).astype(bool)
    reason = reason.mask(bad_t, "time of day not readable (use HH:MM)")
    return out, time_known, reason


def _strptime_day_first(values: pd.Series, fmt: str) -> pd.Series:
    """Parse ``dd/mm/...`` strings with Arrow's strptime, refusing days that roll over.

    Arrow (like C) reads ``31/02/2024`` as 2 March; a date whose day differs from the day
    written is refused (missing), so the row is rejected rather than moved.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype("string[pyarrow]"))
    ts = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    written = pc.cast(pc.list_element(pc.split_pattern(arr, "/"), 0), pa.int64())
    ts = pc.if_else(pc.equal(pc.day(ts), written), ts, pa.scalar(None, ts.type))
    out = ts.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    return pd.Series(out, index=values.index)
