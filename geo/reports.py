"""Read partner files (CSV, XLSX, GeoJSON, data.police.uk) into validated, anonymised reports.

The readers, column mapping, dates, coordinates, identities and the validation pipeline
live in the ``geo.reports_*`` modules; their public names are re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

import pandas as pd

from geo.errors import ReportFileError
from geo.reports_coords import GB_LAT as GB_LAT
from geo.reports_coords import GB_LON as GB_LON
from geo.reports_csv import csv_frame
from geo.reports_csv import decode_text as decode_text
from geo.reports_csv import sniff_delimiter as sniff_delimiter
from geo.reports_dates import TIMEZONE as TIMEZONE
from geo.reports_dates import parse_dates as parse_dates
from geo.reports_geojson import geojson_frame
from geo.reports_limits import FileLimits
from geo.reports_mapping import CATEGORY_SYNONYMS as CATEGORY_SYNONYMS
from geo.reports_mapping import FIELD_SYNONYMS as FIELD_SYNONYMS
from geo.reports_mapping import auto_map_columns as auto_map_columns
from geo.reports_mapping import category_slugs as category_slugs
from geo.reports_mapping import report_columns
from geo.reports_police_uk import POLICE_UK_HEADER as POLICE_UK_HEADER
from geo.reports_police_uk import is_police_uk
from geo.reports_validate import ReadResult as ReadResult
from geo.reports_validate import validate
from geo.reports_vocab import stored_file_name
from geo.reports_xlsx import xlsx_frame
from geo.settings import Settings, load_settings

__all__ = [
    "CATEGORY_SYNONYMS",
    "FIELD_SYNONYMS",
    "GB_LAT",
    "GB_LON",
    "POLICE_UK_HEADER",
    "REJECT_COLUMNS_LEAD",
    "REPORT_COLUMNS",
    "TIMEZONE",
    "ReadResult",
    "auto_map_columns",
    "category_slugs",
    "decode_text",
    "empty_reports",
    "is_police_uk",
    "parse_dates",
    "read_reports",
    "sniff_delimiter",
]

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


_MB = 1024 * 1024  # general.max_upload_mb counts MB of 1024 x 1024 bytes, as Streamlit does


def _read_bytes(src: str | os.PathLike[str] | bytes | IO[bytes], *, max_bytes: int) -> bytes:
    """The file's bytes, refusing a missing path, a folder, an empty file or one over the limit."""
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
                f"{path.name} is {size / _MB:.0f} MB, over the {max_bytes / _MB:.0f} MB limit; "
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
            f"The file is {len(data) / _MB:.0f} MB, over the {max_bytes / _MB:.0f} MB limit; "
            "split it into smaller files or raise general.max_upload_mb in settings."
        )
        raise ReportFileError(msg)
    if not data or data.isspace():  # (no stripped copy of a large file)
        msg = "The file is empty: there are no rows to import."
        raise ReportFileError(msg)
    return data


def _load_frame(
    data: bytes, file_name: str, settings: Settings, mapping: Mapping[str, str] | None
) -> tuple[pd.DataFrame, list[str], pd.DataFrame | None, str, pd.DataFrame | None]:
    """Read the file with the reader its name or first bytes call for, within the limits.

    Returns the table (``__row`` numbered), notes, rows already rejected, the format and,
    for a CSV file of which only the report columns were read, the first rows of all.
    """
    limits = FileLimits.from_settings(settings)
    ext = Path(file_name).suffix.lower()
    if ext in (".xlsx", ".xlsm") or data[:4] == b"PK\x03\x04":
        frame, notes = xlsx_frame(data, limits=limits)
        bad = head = None
        fmt = "xlsx"
    elif ext in (".geojson", ".json") or data.lstrip()[:1] == b"{":
        frame, notes, _ = geojson_frame(data, limits=limits)
        bad = head = None
        fmt = "geojson"
    elif ext in (".xls",):
        msg = "Old .xls workbooks are not supported; save the sheet as .xlsx or CSV and retry."
        raise ReportFileError(msg)
    else:
        frame, notes, bad, head = csv_frame(
            data, limits=limits, pick=lambda header: _report_columns_of(header, mapping)
        )
        fmt = "csv"
    frame.columns = _clean_names(frame.columns)
    if head is not None:
        head.columns = _clean_names(head.columns)
    if frame.empty and (bad is None or bad.empty):
        msg = "The file has a header but no data rows."
        raise ReportFileError(msg)
    if fmt == "csv" and is_police_uk(list(frame.columns if head is None else head.columns)):
        fmt = "police.uk"
    return frame, notes, bad, fmt, head


def _clean_names(columns: Iterable[object]) -> list[str]:
    """Header names without surrounding blanks or a byte-order mark."""
    return [str(c).strip().lstrip("\ufeff") for c in columns]


def _report_columns_of(header: list[str], mapping: Mapping[str, str] | None) -> list[str] | None:
    """The columns of a CSV header that become report fields (``None``: read them all).

    Every other column is dropped unread (its first rows still say why); when the mapping
    cannot be made here, everything is read and validation says what is wrong.
    """
    names = _clean_names(header)
    fmt = "police.uk" if is_police_uk(names) else "csv"
    try:
        used = set(report_columns(names, fmt, mapping).values())
    except ReportFileError:
        return None
    if mapping:
        used |= set(mapping.values())
    return [raw for raw, name in zip(header, names, strict=True) if name in used]


def read_reports(
    src: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    file_name: str | None = None,
    source: str | None = None,
    mapping: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    street_names: Iterable[str] | None = None,
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
        Settings (taxonomy, sources, area, size limits); by default
        :func:`geo.settings.load_settings`.
    street_names
        The loaded street network's names; location hints that match none are dropped
        (without a network only police.uk's "On or near" places are kept).

    Returns
    -------
    ReadResult
        Its ``stored_name`` (a hash of the file plus its type) is the name to store.

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
    stored_name = stored_file_name(data, file_name)
    frame, notes, bad, fmt, head = _load_frame(data, file_name, settings, mapping)
    del data  # the table holds what is needed; free the raw file before validating
    result = validate(
        frame,
        fmt=fmt,
        file_name=file_name,
        source=source,
        mapping=mapping,
        settings=settings,
        notes=notes,
        bad_rows=bad,
        street_names=street_names,
        head=head,
    )
    result.stored_name = stored_name
    return result


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
