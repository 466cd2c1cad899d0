"""Limits for partner files, checked before parsing: rows, columns, workbook size, JSON depth."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import numpy as np

from geo.errors import ReportFileError
from geo.settings import Settings

__all__ = [
    "MAX_JSON_DEPTH",
    "FileLimits",
    "check_columns",
    "check_json_depth",
    "check_rows",
    "check_xlsx_zip",
]

#: Deepest nesting of arrays and objects a GeoJSON file may have (a point feature needs 3).
MAX_JSON_DEPTH = 64
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)


@dataclass(frozen=True)
class FileLimits:
    """The caps one partner file must keep within (``[general]`` in settings)."""

    max_rows: int = 2_000_000
    max_columns: int = 500
    max_xlsx_uncompressed_mb: float = 400.0
    max_xlsx_ratio: float = 200.0

    @classmethod
    def from_settings(cls, settings: Settings | None) -> FileLimits:
        """Read the limits from ``[general]`` (defaults where a key is missing).

        Parameters
        ----------
        settings
            Settings, or ``None`` for the defaults.

        Returns
        -------
        FileLimits
        """
        general = settings.general if settings is not None else {}
        base = cls()
        return cls(
            max_rows=int(general.get("max_rows", base.max_rows)),
            max_columns=int(general.get("max_columns", base.max_columns)),
            max_xlsx_uncompressed_mb=float(
                general.get("max_xlsx_uncompressed_mb", base.max_xlsx_uncompressed_mb)
            ),
            max_xlsx_ratio=float(general.get("max_xlsx_ratio", base.max_xlsx_ratio)),
        )


def check_columns(n_columns: int, limits: FileLimits) -> None:
    """Refuse a table wider than the column limit.

    Parameters
    ----------
    n_columns
        Columns in the header.
    limits
        The caps.

    Raises
    ------
    ReportFileError
    """
    if n_columns > limits.max_columns:
        msg = (
            f"The file has {n_columns:,} columns, over the limit of {limits.max_columns:,}; keep "
            "only the columns the import needs (date, time, category, location, coordinates) "
            "or raise general.max_columns in settings."
        )
        raise ReportFileError(msg)


def check_rows(n_rows: int, limits: FileLimits) -> None:
    """Refuse a table longer than the row limit.

    Parameters
    ----------
    n_rows
        Data rows (or features).
    limits
        The caps.

    Raises
    ------
    ReportFileError
    """
    if n_rows > limits.max_rows:
        msg = (
            f"The file has more than {limits.max_rows:,} rows; split it into smaller files "
            "(by month, say) or raise general.max_rows in settings."
        )
        raise ReportFileError(msg)


def check_xlsx_zip(data: bytes, limits: FileLimits) -> None:
    """Inspect a workbook's zip directory before any XML is parsed.

    Refuses a file that is not a zip, whose parts would expand beyond the uncompressed limit
    in total, or any part of which expands more than the ratio limit (a "zip bomb").

    Parameters
    ----------
    data
        The workbook's bytes.
    limits
        The caps.

    Raises
    ------
    ReportFileError
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        msg = "The spreadsheet could not be opened; save it again as .xlsx or as CSV and retry."
        raise ReportFileError(msg) from exc
    sizes = np.array([i.file_size for i in infos], dtype=np.float64)
    packed = np.array([max(i.compress_size, 1) for i in infos], dtype=np.float64)
    cap = limits.max_xlsx_uncompressed_mb * 1024 * 1024
    if sizes.sum() > cap:
        msg = (
            f"The spreadsheet expands to {sizes.sum() / 1e6:,.0f} MB when opened, over the "
            f"{limits.max_xlsx_uncompressed_mb:,.0f} MB limit; save the sheet as CSV, or split "
            "it into smaller workbooks."
        )
        raise ReportFileError(msg)
    big = sizes > 1024 * 1024
    if (sizes[big] / packed[big] > limits.max_xlsx_ratio).any():
        msg = (
            "The spreadsheet is packed far tighter than any real sheet (a part expands more "
            f"than {limits.max_xlsx_ratio:.0f} times); it was not opened. Save the sheet "
            "again as .xlsx or CSV from the program that made it."
        )
        raise ReportFileError(msg)


def check_json_depth(data: bytes, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` before it is parsed (no recursion).

    Escaped characters and strings are removed first, so brackets inside property text do
    not count; the depth is then a cumulative sum over the remaining brackets.

    Parameters
    ----------
    data
        The JSON text as bytes (UTF-8, or any ASCII-compatible encoding).
    limit
        The deepest nesting allowed.

    Raises
    ------
    ReportFileError
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return
    text = re.sub(rb"\\.", b"", data)
    text = re.sub(rb'"[^"]*"', b"", text)
    brackets = np.frombuffer(text.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if brackets.size == 0:
        return
    step = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    if int(np.cumsum(step).max()) > limit:
        msg = (
            f"The GeoJSON file is nested more than {limit} levels deep, which no map of "
            "points needs; export it again as a FeatureCollection of points."
        )
        raise ReportFileError(msg)
