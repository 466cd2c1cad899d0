"""Read partner files (CSV, XLSX, GeoJSON, data.police.uk) into validated, anonymised reports."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from geo.errors import ReportFileError
from geo.privacy import DroppedColumn, contains_personal, detect_personal_columns, street_hint
from geo.settings import Settings, load_settings, slugify

REPORT_COLUMNS: tuple[str, ...] = (
    "report_id",
    "occurred_at",
    "time_known",
    "category",
    "source",
    "lon",
    "lat",
    "segment_id",
    "location_hint",
    "lsoa_code",
    "batch_id",
)
REJECT_COLUMNS_LEAD: tuple[str, ...] = ("row", "reason")

# Report fields a partner file may map columns to, with the header synonyms we recognise.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "lat": ("lat", "latitude", "y", "lat wgs84", "latitude wgs84", "gps lat", "gps latitude"),
    "lon": (
        "lon",
        "lng",
        "long",
        "longitude",
        "x",
        "lon wgs84",
        "longitude wgs84",
        "gps lon",
        "gps long",
        "gps longitude",
    ),
    "easting": (
        "easting",
        "eastings",
        "os easting",
        "grid easting",
        "bng easting",
        "x bng",
        "os x",
        "osgb easting",
    ),
    "northing": (
        "northing",
        "northings",
        "os northing",
        "grid northing",
        "bng northing",
        "y bng",
        "os y",
        "osgb northing",
    ),
    "datetime": (
        "datetime",
        "date time",
        "occurred",
        "occurred at",
        "occurred on",
        "reported",
        "reported at",
        "reported on",
        "timestamp",
        "date",
        "date reported",
        "incident date",
        "date of incident",
        "found",
        "found at",
        "date found",
        "when",
        "month",
    ),
    "time": ("time", "hour", "time of day", "time reported", "incident time", "time found"),
    "category": (
        "category",
        "type",
        "incident type",
        "crime type",
        "report type",
        "issue",
        "issue type",
        "finding",
        "what",
        "classification",
        "kind",
    ),
    "source": ("source", "partner", "agency", "reported by", "organisation", "organization"),
    "reference": (
        "reference",
        "ref",
        "id",
        "crime id",
        "incident id",
        "incident number",
        "report id",
        "log number",
        "case number",
        "record id",
        "job number",
    ),
    "location": (
        "location",
        "street",
        "street name",
        "road",
        "location description",
        "nearest street",
        "place",
    ),
    "lsoa_code": ("lsoa code", "lsoa", "lsoa11cd", "lsoa21cd"),
}
POLICE_UK_HEADER = ("Crime ID", "Month", "Longitude", "Latitude", "Location", "Crime type")

# Free words partners use for our categories (matched on the slugified value).
CATEGORY_SYNONYMS: dict[str, str] = {
    "needle": "needles",
    "needles": "needles",
    "sharps": "needles",
    "syringe": "needles",
    "syringes": "needles",
    "discarded_needle": "needles",
    "discarded_needles": "needles",
    "needle_find": "needles",
    "condom": "condoms",
    "condoms": "condoms",
    "discarded_condoms": "condoms",
    "used_condoms": "condoms",
    "propositioning": "propositioning",
    "soliciting": "propositioning",
    "kerb_crawling": "propositioning",
    "curb_crawling": "propositioning",
    "sex_in_public": "sex_in_public",
    "public_sex": "sex_in_public",
    "sexual_activity_in_public": "sex_in_public",
    "welfare": "welfare_concern",
    "welfare_concern": "welfare_concern",
    "welfare_check": "welfare_concern",
    "safeguarding": "welfare_concern",
    "anti_social_behaviour": "asb",
    "antisocial_behaviour": "asb",
    "asb": "asb",
    "anti_social_behavior": "asb",
    "drugs": "drugs",
    "drug_use": "drugs",
    "drug_dealing": "drugs",
    "public_order": "public_order",
}

_ISO_RE = (
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_DMY_RE = r"^\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?:[T ,]+\d{1,2}:\d{2}(?::\d{2})?)?$"
_MONTH_RE = r"^\d{4}-\d{1,2}$"
_HAS_TIME_RE = r"\d{1,2}:\d{2}"
_TZ_RE = r"(?:Z|[+-]\d{2}:?\d{2})$"

TIMEZONE = "Europe/London"
GB_LON = (-9.0, 2.5)
GB_LAT = (49.0, 61.5)


@dataclass
class ReadResult:
    """What a reader made of one file: the accepted reports and the rejected rows."""

    reports: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int
    file_name: str
    source: str
    format: str
    mapping: dict[str, str] = field(default_factory=dict)
    dropped_columns: list[DroppedColumn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duplicates_in_file: int = 0

    @property
    def rejected_count(self) -> int:
        """Number of rows rejected with a reason."""
        return len(self.rejected)


# --------------------------------------------------------------------------- loading


def _read_bytes(src: str | os.PathLike[str] | bytes | IO[bytes], *, max_bytes: int) -> bytes:
    if isinstance(src, bytes | bytearray):
        data = bytes(src)
    elif isinstance(src, str | os.PathLike):
        path = Path(src)
        if not path.exists():
            msg = f"File {path} not found; check the path and try again."
            raise ReportFileError(msg)
        if path.is_dir():
            msg = f"{path} is a folder; give the path of a file inside it."
            raise ReportFileError(msg)
        size = path.stat().st_size
        if size > max_bytes:
            msg = (
                f"{path.name} is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit; "
                "split it into smaller files or raise general.max_upload_mb in settings."
            )
            raise ReportFileError(msg)
        data = path.read_bytes()
    else:
        data = src.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    if len(data) > max_bytes:
        msg = (
            f"The file is {len(data) / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit; "
            "split it into smaller files or raise general.max_upload_mb in settings."
        )
        raise ReportFileError(msg)
    if not data.strip():
        msg = "The file is empty: there are no rows to import."
        raise ReportFileError(msg)
    return data


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text file's bytes, detecting UTF-8 (with or without BOM), UTF-16 and cp1252.

    Parameters
    ----------
    data
        The raw bytes.

    Returns
    -------
    (text, encoding)
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    # UTF-16 without a BOM: every other byte of ASCII text is NUL.
    head = data[:2000]
    if head and head.count(0) > len(head) // 4:
        enc = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """Choose the delimiter among comma, semicolon, tab and pipe from the header line.

    Parameters
    ----------
    text
        The decoded file.

    Returns
    -------
    str
    """
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _frame_from_csv(data: bytes) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    text, encoding = decode_text(data)
    notes = [] if encoding in ("utf-8",) else [f"Read as {encoding} text."]
    sep = sniff_delimiter(text)
    if sep != ",":
        notes.append({";": "Semicolon", "\t": "Tab", "|": "Pipe"}[sep] + "-separated file.")
    bad = pd.DataFrame({"row": pd.Series(dtype="int64"), "reason": pd.Series(dtype=str)})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=True,
                on_bad_lines="error",
                engine="c",
                index_col=False,
            )
        frame["__row"] = np.arange(2, len(frame) + 2)
    except pd.errors.EmptyDataError as exc:
        msg = "The file has no header row and no data; check it is the right file."
        raise ReportFileError(msg) from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning, csv.Error):
        frame, bad = _frame_row_by_row(text, sep)
    return frame, notes, bad


def _frame_row_by_row(text: str, sep: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Slow path for a ragged file: keep well-formed rows, reject the others by line."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        header = next(reader)
    except StopIteration as exc:
        msg = "The file has no header row and no data; check it is the right file."
        raise ReportFileError(msg) from exc
    width = len(header)
    good: list[list[str]] = []
    good_rows: list[int] = []
    bad_rows: list[int] = []
    bad_reasons: list[str] = []
    try:
        for record in reader:
            if not record or all(not c.strip() for c in record):
                continue
            line = reader.line_num
            if len(record) > width:
                bad_rows.append(line)
                bad_reasons.append(f"row has {len(record)} cells but the header has {width}")
                continue
            good.append(record + [""] * (width - len(record)))
            good_rows.append(line)
    except csv.Error as exc:
        msg = (
            f"The file could not be read as a table near line {reader.line_num}: {exc}. "
            "Check the quoting, or save it again as CSV."
        )
        raise ReportFileError(msg) from exc
    frame = pd.DataFrame(good, columns=[h.strip() for h in header], dtype=str)
    frame["__row"] = np.asarray(good_rows, dtype="int64")
    bad = pd.DataFrame({"row": np.asarray(bad_rows, dtype="int64"), "reason": bad_reasons})
    return frame, bad


def _frame_from_xlsx(data: bytes) -> tuple[pd.DataFrame, list[str]]:
    try:
        sheets = pd.read_excel(
            io.BytesIO(data),
            sheet_name=None,
            dtype=str,
            engine="openpyxl",
            keep_default_na=False,
            na_filter=False,
        )
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        msg = "The spreadsheet could not be opened; save it again as .xlsx or as CSV and retry."
        raise ReportFileError(msg) from exc
    sheets = {name: df for name, df in sheets.items() if not df.empty}
    if not sheets:
        msg = "The spreadsheet has no rows in any sheet."
        raise ReportFileError(msg)
    name, frame = next(iter(sheets.items()))
    frame = frame.reset_index(drop=True)
    frame["__row"] = np.arange(2, len(frame) + 2)
    notes = [f"Read sheet {name!r}."]
    if len(sheets) > 1:
        notes.append(f"Other sheets ignored: {', '.join(list(sheets)[1:])}.")
    return frame, notes


def _frame_from_geojson(data: bytes) -> tuple[pd.DataFrame, list[str], list[tuple[int, str]]]:
    text, _ = decode_text(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"The GeoJSON file is not valid JSON (line {exc.lineno}); export it again."
        raise ReportFileError(msg) from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
    else:
        msg = "The JSON file is not a GeoJSON FeatureCollection of points."
        raise ReportFileError(msg)
    if not features:
        msg = "The GeoJSON file has no features."
        raise ReportFileError(msg)
    crs_name = str(((doc.get("crs") or {}).get("properties") or {}).get("name", ""))
    rows: list[dict[str, Any]] = []
    for feat in features:
        props = dict(feat.get("properties") or {}) if isinstance(feat, dict) else {}
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        x = y = ""
        gtype = (geom or {}).get("type") if isinstance(geom, dict) else None
        if gtype == "Point":
            coords = geom.get("coordinates") or []
            if len(coords) >= 2:
                x, y = coords[0], coords[1]
        props["__geometry_type"] = gtype or ""
        props["__x"] = "" if x is None else str(x)
        props["__y"] = "" if y is None else str(y)
        rows.append({k: "" if v is None else str(v) for k, v in props.items()})
    frame = pd.DataFrame(rows).fillna("")
    frame["__row"] = np.arange(1, len(frame) + 1)
    notes = []
    if "27700" in crs_name:
        notes.append("GeoJSON in British National Grid (EPSG:27700).")
        frame = frame.rename(columns={"__x": "__easting", "__y": "__northing"})
    return frame, notes, []


def is_police_uk(columns: list[str]) -> bool:
    """Tell a data.police.uk street-level CSV by its header.

    Parameters
    ----------
    columns
        The header cells.

    Returns
    -------
    bool
    """
    cols = {str(c).strip() for c in columns}
    return all(c in cols for c in POLICE_UK_HEADER)


# --------------------------------------------------------------------------- mapping


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", str(text).lower()).strip()


def auto_map_columns(
    columns: list[str], *, override: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map report fields to file columns by header synonyms, with an explicit override.

    Parameters
    ----------
    columns
        The file's header.
    override
        ``{field: column}`` pairs that win over the synonyms (e.g. ``{"category": "Issue"}``).

    Returns
    -------
    dict
        ``{field: column}`` for every field found.
    """
    mapping: dict[str, str] = {}
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(_norm(col), col)
    if override:
        for fld, col in override.items():
            if fld not in FIELD_SYNONYMS:
                msg = (
                    f"Unknown field {fld!r} in the column mapping; use one of "
                    f"{', '.join(FIELD_SYNONYMS)}."
                )
                raise ReportFileError(msg)
            if col not in columns:
                msg = (
                    f"The mapping names column {col!r} for {fld}, but the file has no such "
                    f"column. Columns are: {', '.join(map(str, columns))}."
                )
                raise ReportFileError(msg)
            mapping[fld] = col
    used = set(mapping.values())
    for fld, synonyms in FIELD_SYNONYMS.items():
        if fld in mapping:
            continue
        for syn in synonyms:
            col = by_norm.get(syn)
            if col is not None and col not in used:
                mapping[fld] = col
                used.add(col)
                break
    return mapping


# --------------------------------------------------------------------------- validation


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
    families = pd.Series(pd.NA, index=s.index, dtype="string[pyarrow]")
    families = families.mask(s.str.match(_ISO_RE).fillna(False).astype(bool), "iso")
    families = families.mask(s.str.match(_DMY_RE).fillna(False).astype(bool), "dmy")
    families = families.mask(s.str.match(_MONTH_RE).fillna(False).astype(bool), "month")
    fam_counts = families.value_counts()
    big = fam_counts[fam_counts >= max(2, 0.02 * s.notna().sum())]
    if ("iso" in big.index or "month" in big.index) and "dmy" in big.index:
        iso_n = int(fam_counts.get("iso", 0) + fam_counts.get("month", 0))
        msg = (
            f"The date column mixes formats: {iso_n} dates are year-month-day and "
            f"{int(fam_counts['dmy'])} are day/month/year. Save the file with one date "
            "format and import it again; Beatplan will not guess which is which."
        )
        raise ReportFileError(msg)
    group = families.replace({"month": "iso"})
    group_counts = group.value_counts()
    main = str(group_counts.index[0]) if len(group_counts) else "none"
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    reason = pd.Series(pd.NA, index=s.index, dtype="string[pyarrow]")

    iso = families.isin(["iso", "month"]).fillna(False).astype(bool)
    if iso.any():
        vals = s[iso]
        month_only = vals.str.match(_MONTH_RE).fillna(False).astype(bool)
        vals = vals.mask(month_only, vals + "-01")
        has_tz = vals.str.contains(_TZ_RE, regex=True).fillna(False).astype(bool)
        parsed = pd.Series(pd.NaT, index=vals.index, dtype="datetime64[ns]")
        if (~has_tz).any():
            parsed[~has_tz] = pd.to_datetime(vals[~has_tz], format="ISO8601", errors="coerce")
        if has_tz.any():
            aware = pd.to_datetime(vals[has_tz], format="ISO8601", errors="coerce", utc=True)
            parsed[has_tz] = aware.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        out[iso] = parsed.astype("datetime64[ns]")
    dmy = (families == "dmy").fillna(False).astype(bool)
    if dmy.any():
        vals = s[dmy].str.replace(r"[.-]", "/", regex=True).str.replace(r"[T,]+", " ", regex=True)
        vals = vals.str.replace(r"[ \t]+", " ", regex=True)
        parsed = pd.Series(pd.NaT, index=vals.index, dtype="datetime64[ns]")
        for fmt in (
            "%d/%m/%Y %H:%M",
            "%d/%m/%Y %H:%M:%S",
            "%d/%m/%Y",
            "%d/%m/%y %H:%M",
            "%d/%m/%y",
        ):
            todo = parsed.isna()
            if not todo.any():
                break
            parsed[todo] = _strptime_day_first(vals[todo], fmt)
        out[dmy] = parsed
        bad_dmy = dmy & out.isna()
        if main == "dmy" and bad_dmy.sum() > max(2, 0.2 * dmy.sum()):
            msg = (
                "Many dates could not be read as day/month/year (British order); they may be "
                "month/day/year (US order). Save the file with ISO dates (2024-01-31) and retry."
            )
            raise ReportFileError(msg)

    time_known = s.str.contains(_HAS_TIME_RE, regex=True).fillna(False).astype(bool)
    if time_values is not None:
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

    blank = s.isna()
    reason = reason.mask(out.isna() & ~blank, "date not readable")
    reason = reason.mask(blank, "no date")
    other = (group.notna() & (group != main)).fillna(False).astype(bool)
    reason = reason.mask(other, "date in a different format from the rest of the file")
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


class _Reasons:
    """The first rejection reason of each row, kept as small integer codes (fast on big files)."""

    def __init__(self, n: int) -> None:
        self.code = np.zeros(n, dtype=np.int16)
        self.texts: list[str] = [""]

    def add(self, mask: pd.Series | np.ndarray, why: str) -> None:
        """Give ``why`` to the rows in ``mask`` that have no reason yet."""
        if isinstance(mask, pd.Series):
            mask = mask.fillna(False).to_numpy(dtype=bool)
        hit = np.asarray(mask, dtype=bool) & (self.code == 0)
        if hit.any():
            if why not in self.texts:
                self.texts.append(why)
            self.code[hit] = self.texts.index(why)

    def add_series(self, reasons: pd.Series) -> None:
        """Add per-row reasons given as text (missing = no reason)."""
        for why in pd.unique(reasons.dropna()):
            self.add(reasons == why, str(why))

    @property
    def ok(self) -> np.ndarray:
        """Rows with no reason to reject them."""
        return self.code == 0

    def text(self, mask: np.ndarray) -> np.ndarray:
        """The reasons of the rows in ``mask``, as text."""
        return np.asarray(self.texts, dtype=object)[self.code[mask]]


def _to_number(values: pd.Series) -> pd.Series:
    s = values.astype("string[pyarrow]").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(s.mask(s == ""), errors="coerce").astype("float64")


def category_slugs(values: pd.Series, settings: Settings) -> pd.Series:
    """Map partner category text to taxonomy slugs (police.uk crime types included).

    Parameters
    ----------
    values
        Category text as written in the file.
    settings
        Settings holding the taxonomy and the police.uk mapping.

    Returns
    -------
    pandas.Series of str (missing for blank values)
    """
    s = values.astype("string[pyarrow]").str.strip()
    uniq = pd.unique(s.dropna())
    labels = {slugify(c.label): slug for slug, c in settings.categories.items()}
    police = {slugify(k): v for k, v in settings.police_crime_types.items()}
    lookup: dict[str, Any] = {}
    for raw in uniq:
        if raw == "":
            lookup[raw] = pd.NA
            continue
        slug = slugify(raw)
        lookup[raw] = (
            police.get(slug)
            or (slug if slug in settings.categories else None)
            or labels.get(slug)
            or CATEGORY_SYNONYMS.get(slug)
            or slug
        )
    return s.map(lookup).astype("string[pyarrow]")


_HASH_KEYS = ("beatplan-report1", "beatplan-report2")


def _row_hashes(parts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each row (pandas' SipHash, fixed keys)."""
    parts = parts.copy()
    for col in parts.columns:
        if not pd.api.types.is_numeric_dtype(parts[col]):
            parts[col] = parts[col].astype("string[pyarrow]").fillna("").astype(str)
    return tuple(  # type: ignore[return-value]
        pd.util.hash_pandas_object(parts, index=False, hash_key=k).to_numpy() for k in _HASH_KEYS
    )


def _micro_degrees(values: pd.Series) -> np.ndarray:
    """Coordinates as whole micro-degrees (missing and absurd values clipped), for hashing."""
    arr = np.clip(np.nan_to_num(values.to_numpy(dtype="float64"), nan=0.0), -1e4, 1e4)
    return np.round(arr * 1e6).astype("int64")


def _hex128(h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    """Render two uint64 arrays as one 32-character hex string per row, vectorised."""
    both = np.empty((len(h1), 2), dtype=">u8")
    both[:, 0] = h1
    both[:, 1] = h2
    return np.frombuffer(both.tobytes().hex().encode("ascii"), dtype="S32").astype("U32")


# --------------------------------------------------------------------------- the reader


def read_reports(
    src: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    file_name: str | None = None,
    source: str | None = None,
    mapping: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> ReadResult:
    """Read one partner file into reports and rejected rows.

    Every data row ends in exactly one of: ``reports`` (accepted, possibly later merged as
    a duplicate of a stored report) or ``rejected`` (with a plain-English reason).

    Parameters
    ----------
    src
        A path, the file's bytes or a binary file object.
    file_name
        The name to record and to tell the format by (defaults to the path's name).
    source
        The partner that supplied the file (``police``, ``outreach``...), used where the
        file has no source column; police.uk files default to ``police``.
    mapping
        Explicit ``{field: column}`` overrides of the automatic column mapping; fields are
        ``lat, lon, easting, northing, datetime, time, category, source, reference,
        location, lsoa_code``.
    settings
        Settings (taxonomy, area, size limit); by default :func:`geo.settings.load_settings`.

    Returns
    -------
    ReadResult

    Raises
    ------
    ReportFileError
        For a problem with the whole file (empty, unreadable, no usable columns, mixed date
        formats, over the size limit), with a message saying what to do.
    """
    settings = settings or load_settings()
    if file_name is None:
        file_name = Path(src).name if isinstance(src, str | os.PathLike) else "upload"
    max_bytes = int(float(settings.general.get("max_upload_mb", 200)) * 1024 * 1024)
    data = _read_bytes(src, max_bytes=max_bytes)
    ext = Path(file_name).suffix.lower()
    if ext in (".xlsx", ".xlsm") or data[:4] == b"PK\x03\x04":
        frame, notes = _frame_from_xlsx(data)
        bad = None
        fmt = "xlsx"
    elif ext in (".geojson", ".json") or data.lstrip()[:1] == b"{":
        frame, notes, _ = _frame_from_geojson(data)
        bad = None
        fmt = "geojson"
    elif ext in (".xls",):
        msg = "Old .xls workbooks are not supported; save the sheet as .xlsx or CSV and retry."
        raise ReportFileError(msg)
    else:
        frame, notes, bad = _frame_from_csv(data)
        fmt = "csv"
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if frame.empty and (bad is None or bad.empty):
        msg = "The file has a header but no data rows."
        raise ReportFileError(msg)
    if fmt == "csv" and is_police_uk(list(frame.columns)):
        fmt = "police.uk"
    return _validate(
        frame,
        fmt=fmt,
        file_name=file_name,
        source=source,
        mapping=mapping,
        settings=settings,
        notes=notes,
        bad_rows=bad,
    )


def _validate(
    frame: pd.DataFrame,
    *,
    fmt: str,
    file_name: str,
    source: str | None,
    mapping: Mapping[str, str] | None,
    settings: Settings,
    notes: list[str],
    bad_rows: pd.DataFrame | None = None,
) -> ReadResult:
    frame = frame.reset_index(drop=True)
    row_numbers = frame.pop("__row").to_numpy()
    bad_rows = bad_rows if bad_rows is not None else pd.DataFrame(columns=["row", "reason"])
    rows_read = len(frame) + len(bad_rows)
    columns = list(frame.columns)
    if fmt == "police.uk":
        base = {
            "lon": "Longitude",
            "lat": "Latitude",
            "datetime": "Month",
            "category": "Crime type",
            "reference": "Crime ID",
            "location": "Location",
            "lsoa_code": "LSOA code",
        }
        colmap = {**base, **(dict(mapping) if mapping else {})}
        source = source or "police"
        notes.append("Recognised a data.police.uk street-level file: month only, no time of day.")
    elif fmt == "geojson":
        colmap = auto_map_columns([c for c in columns if not c.startswith("__")], override=mapping)
        for fld, col in (
            ("lon", "__x"),
            ("lat", "__y"),
            ("easting", "__easting"),
            ("northing", "__northing"),
        ):
            if col in frame.columns:
                colmap[fld] = col
    else:
        colmap = auto_map_columns(columns, override=mapping)

    # Decide the coordinate columns: lat/lon, or eastings/northings (also when x/y hold BNG).
    coords_bng = False
    xs = ys = None
    if "easting" in colmap and "northing" in colmap:
        coords_bng = True
    elif "lon" in colmap and "lat" in colmap:
        xs = _to_number(frame[colmap["lon"]])
        ys = _to_number(frame[colmap["lat"]])
        big = (xs.abs() > 360) | (ys.abs() > 360)
        if big.sum() > 0.5 * big.size and big.any():
            colmap["easting"], colmap["northing"] = colmap.pop("lon"), colmap.pop("lat")
            coords_bng = True
    missing = [f for f in ("datetime", "category") if f not in colmap]
    if not coords_bng and not ("lon" in colmap and "lat" in colmap):
        missing.insert(0, "coordinates (latitude/longitude or easting/northing)")
    if missing:
        msg = (
            f"No usable column for {', '.join(missing)}. The file's columns are: "
            f"{', '.join(c for c in columns if not c.startswith('__'))}. Rename them, or give a "
            "mapping such as category=Issue."
        )
        raise ReportFileError(msg)

    # Anonymise: drop personal columns before anything else looks at the rows.
    kept_fields = {k: v for k, v in colmap.items()}
    dropped = detect_personal_columns(frame, keep=tuple(kept_fields.values()))
    dropped_names = {d.column for d in dropped}
    clash = [f for f, c in kept_fields.items() if c in dropped_names and f != "location"]
    if clash:
        names = ", ".join(f"{kept_fields[f]!r} ({f})" for f in clash)
        msg = (
            f"Column {names} looks like personal data, so it cannot be used as a report "
            "field. Map another column or remove the personal data from the file."
        )
        raise ReportFileError(msg)
    if "location" in kept_fields and kept_fields["location"] in dropped_names:
        kept_fields.pop("location")
    dropped += [
        DroppedColumn(column=c, reason="not a report field")
        for c in columns
        if c not in set(kept_fields.values()) | dropped_names and not c.startswith("__")
    ]

    n = rows_read
    reasons = _Reasons(len(frame))
    reject = reasons.add

    if fmt == "geojson" and "__geometry_type" in frame.columns:
        gt = frame["__geometry_type"]
        reject(gt == "", "feature has no geometry")
        reject((gt != "") & (gt != "Point"), "feature is not a point")

    # Dates.
    occurred, time_known, date_reason = parse_dates(
        frame[kept_fields["datetime"]],
        frame[kept_fields["time"]] if "time" in kept_fields else None,
    )
    if fmt == "police.uk":
        time_known = pd.Series(False, index=frame.index)
    reasons.add_series(date_reason)

    # Coordinates.
    if coords_bng:
        east = _to_number(frame[kept_fields["easting"]])
        north = _to_number(frame[kept_fields["northing"]])
        raw_e = frame[kept_fields["easting"]].astype("string[pyarrow]").str.strip()
        raw_n = frame[kept_fields["northing"]].astype("string[pyarrow]").str.strip()
        reject((raw_e == "") | (raw_n == ""), "coordinates blank")
        reject(east.isna() | north.isna(), "coordinates not numbers")
        reject((east == 0) & (north == 0), "coordinates are (0, 0), a placeholder, not a place")
        in_grid = east.between(0, 700_000) & north.between(0, 1_300_000)
        reject(~in_grid, "easting/northing outside the British National Grid")
        lon = pd.Series(np.nan, index=frame.index)
        lat = pd.Series(np.nan, index=frame.index)
        ok = in_grid.fillna(False).astype(bool)
        if ok.any():
            from pyproj import Transformer

            tr = Transformer.from_crs(27700, 4326, always_xy=True)
            x, y = tr.transform(east[ok].to_numpy(), north[ok].to_numpy())
            lon[ok], lat[ok] = x, y
        notes.append(
            "Coordinates read as British National Grid eastings/northings (EPSG:27700) "
            "and converted to latitude/longitude."
        )
    else:
        raw_x = frame[kept_fields["lon"]].astype("string[pyarrow]").str.strip()
        raw_y = frame[kept_fields["lat"]].astype("string[pyarrow]").str.strip()
        lon = xs if xs is not None else _to_number(raw_x)
        lat = ys if ys is not None else _to_number(raw_y)
        reject((raw_x == "") | (raw_y == ""), "coordinates blank")
        reject(lon.isna() | lat.isna(), "coordinates not numbers")
        reject((lon == 0) & (lat == 0), "coordinates are (0, 0), a placeholder, not a place")
        # Whole columns swapped (latitude under the longitude header), as seen in GB data.
        valid = lon.notna() & lat.notna() & ~((lon == 0) & (lat == 0))
        looks_swapped = (lat.between(*GB_LON) & lon.between(*GB_LAT)) & valid
        looks_right = (lon.between(*GB_LON) & lat.between(*GB_LAT)) & valid
        if looks_swapped.sum() > looks_right.sum():
            lon, lat = lat, lon
            notes.append("Latitude and longitude were swapped in the file's columns; corrected.")
        else:
            row_swap = valid & (lat.abs() > 90) & (lon.abs() <= 90)
            row_swap |= valid & looks_swapped & (looks_right.sum() > 0)
            if row_swap.any():
                lon, lat = lon.mask(row_swap, lat), lat.mask(row_swap, lon)
                notes.append(
                    f"{int(row_swap.sum())} rows had latitude and longitude swapped; corrected."
                )
        reject(~(lon.between(-180, 180) & lat.between(-90, 90)), "coordinates out of range")
    if settings.area_bbox is not None:
        w, s_, e, nth = settings.area_bbox
        inside = lon.between(w, e) & lat.between(s_, nth)
        reject(~inside.fillna(False).astype(bool), "outside the configured area")

    # Category.
    cats = category_slugs(frame[kept_fields["category"]], settings)
    reject(cats.isna(), "no category")
    bad_cat = contains_personal(frame[kept_fields["category"]])
    reject(bad_cat, "category text contains personal data")

    # Source.
    if "source" in kept_fields:
        src_vals = frame[kept_fields["source"]].astype("string[pyarrow]").str.strip()
        src_vals = src_vals.mask(src_vals == "", source or "unknown")
        src_slug = src_vals.map({v: slugify(v) for v in pd.unique(src_vals.dropna())})
        if fmt == "police.uk":
            src_slug = pd.Series(source, index=frame.index)
        bad_src = contains_personal(src_vals)
        src_slug = src_slug.mask(bad_src, source or "unknown")
    else:
        src_slug = pd.Series(slugify(source) if source else "unknown", index=frame.index)
    src_slug = src_slug.astype("string[pyarrow]")

    # Location hint and LSOA.
    hint = (
        street_hint(frame[kept_fields["location"]])
        if "location" in kept_fields
        else pd.Series(pd.NA, index=frame.index, dtype="string[pyarrow]")
    )
    lsoa = (
        frame[kept_fields["lsoa_code"]].astype("string[pyarrow]").str.strip().str.upper()
        if "lsoa_code" in kept_fields
        else pd.Series(pd.NA, index=frame.index, dtype="string[pyarrow]")
    )
    if "lsoa_code" in kept_fields:
        lsoa = lsoa.where(lsoa.str.fullmatch(r"[EW]0\d{7}").fillna(False).astype(bool))

    accepted = pd.Series(reasons.ok, index=frame.index)
    # Report identity: (source, reference) when the file gives a reference, else the row's
    # content plus its ordinal among identical rows of this file and source.
    content = pd.DataFrame(
        {
            "kind": "c",
            "t": occurred.to_numpy(dtype="datetime64[ns]").view("int64"),
            "category": cats,
            "source": src_slug,
            "lon": _micro_degrees(lon),
            "lat": _micro_degrees(lat),
            "hint": hint,
            "lsoa": lsoa,
            # police.uk reuses a Crime ID for rows at different places, so there the ID is
            # part of the content rather than the identity.
            "ref": (
                frame[kept_fields["reference"]].astype("string[pyarrow]").str.strip()
                if fmt == "police.uk" and "reference" in kept_fields
                else ""
            ),
        }
    )
    content.loc[~accepted, ["lon", "lat"]] = 0
    k1, k2 = _row_hashes(content)
    ordinal = pd.Series(0, index=frame.index, dtype="int64")
    keys = pd.DataFrame({"k1": k1, "k2": k2})[accepted]
    ordinal[accepted] = keys.groupby(["k1", "k2"], sort=False).cumcount()
    rid = pd.Series(
        _hex128(*_row_hashes(pd.DataFrame({"k1": k1, "k2": k2, "n": ordinal}))), index=frame.index
    )
    dup_in_file = pd.Series(False, index=frame.index)
    if "reference" in kept_fields and fmt != "police.uk":
        ref = frame[kept_fields["reference"]].astype("string[pyarrow]").str.strip()
        has_ref = (ref.notna() & (ref != "")).to_numpy()
        if has_ref.any():
            by_ref = _hex128(
                *_row_hashes(pd.DataFrame({"kind": "r", "source": src_slug, "ref": ref}))
            )
            rid = rid.where(~has_ref, pd.Series(by_ref, index=frame.index))
        dup_in_file = accepted & rid.duplicated(keep="first")
    rid = rid.astype("string[pyarrow]")

    keep = accepted & ~dup_in_file
    reports = pd.DataFrame(
        {
            "report_id": rid[keep],
            "occurred_at": occurred[keep].astype("datetime64[ns]"),
            "time_known": time_known[keep].astype(bool),
            "category": cats[keep].astype("string[pyarrow]"),
            "source": src_slug[keep],
            "lon": lon[keep].astype("float64"),
            "lat": lat[keep].astype("float64"),
            "segment_id": pd.array([pd.NA] * int(keep.sum()), dtype="Int64"),
            "location_hint": hint[keep].astype("string[pyarrow]"),
            "lsoa_code": lsoa[keep].astype("string[pyarrow]"),
            "batch_id": pd.Series("", index=frame.index, dtype="string[pyarrow]")[keep],
        }
    ).reset_index(drop=True)

    rej_mask = ~accepted
    shown = [c for c in dict.fromkeys(kept_fields.values()) if not c.startswith("__")]
    rejected = frame.loc[rej_mask, shown].copy()
    # Never echo personal data back in the rejects file.
    for col in shown:
        rejected[col] = (
            rejected[col]
            .astype("string[pyarrow]")
            .mask(contains_personal(rejected[col]), "[removed: personal data]")
        )
    if fmt == "geojson":
        for fld in ("lon", "lat", "easting", "northing"):
            col = kept_fields.get(fld)
            if col and col.startswith("__"):
                rejected[fld] = frame.loc[rej_mask, col]
    rejected.insert(0, "reason", reasons.text(rej_mask.to_numpy()))
    rejected.insert(0, "row", row_numbers[rej_mask.to_numpy()])
    if len(bad_rows):
        rejected = pd.concat([rejected, bad_rows], ignore_index=True).sort_values("row")
    rejected = rejected.reset_index(drop=True)

    shown_map = {f: c for f, c in kept_fields.items() if not c.startswith("__")}
    if fmt == "geojson":
        shown_map.update(
            {"lon": "geometry", "lat": "geometry"}
            if not coords_bng
            else {"easting": "geometry", "northing": "geometry"}
        )
    return ReadResult(
        reports=reports,
        rejected=rejected,
        rows_read=n,
        file_name=file_name,
        source=source or "unknown",
        format=fmt,
        mapping=shown_map,
        dropped_columns=dropped,
        notes=notes,
        duplicates_in_file=int(dup_in_file.sum()),
    )


def empty_reports() -> pd.DataFrame:
    """Return an empty report table with the right columns and dtypes.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame(
        {
            "report_id": pd.Series(dtype="string[pyarrow]"),
            "occurred_at": pd.Series(dtype="datetime64[ns]"),
            "time_known": pd.Series(dtype=bool),
            "category": pd.Series(dtype="string[pyarrow]"),
            "source": pd.Series(dtype="string[pyarrow]"),
            "lon": pd.Series(dtype="float64"),
            "lat": pd.Series(dtype="float64"),
            "segment_id": pd.Series(dtype="Int64"),
            "location_hint": pd.Series(dtype="string[pyarrow]"),
            "lsoa_code": pd.Series(dtype="string[pyarrow]"),
            "batch_id": pd.Series(dtype="string[pyarrow]"),
        }
    )
