"""Read Excel workbooks (.xlsx, .xlsm) of partner reports: the first sheet only, within limits."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from geo.errors import ReportFileError
from geo.reports_limits import FileLimits, check_columns, check_rows, check_xlsx_zip


def xlsx_frame(data: bytes, *, limits: FileLimits | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read the first sheet of a workbook into a table of strings.

    The zip directory is checked first (total uncompressed size, expansion ratio), so a
    workbook bomb is refused before any XML is parsed; only the first sheet is then read,
    at most ``max_rows`` rows of it.

    ``data`` and ``limits`` are as for :func:`geo.reports_csv.csv_frame`.

    Returns
    -------
    (frame, notes)
        All cells as text plus a ``__row`` column of sheet row numbers, and notes naming
        the sheet read and any sheets ignored.

    Raises
    ------
    ReportFileError
        When the workbook is over a limit, cannot be opened or its first sheet has no rows.
    """
    limits = limits or FileLimits()
    check_xlsx_zip(data, limits)
    try:
        with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
            names = list(book.sheet_names)
            frame = pd.read_excel(
                book,
                sheet_name=0,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                nrows=limits.max_rows + 1,
            )
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        msg = "The spreadsheet could not be opened; save it again as .xlsx or as CSV and retry."
        raise ReportFileError(msg) from exc
    check_columns(frame.shape[1], limits)
    check_rows(len(frame), limits)
    if frame.empty:
        msg = (
            "The first sheet of the spreadsheet has no rows; only the first sheet is read, "
            "so move the reports to the first sheet (or save that sheet as CSV)."
        )
        raise ReportFileError(msg)
    frame = frame.reset_index(drop=True)
    frame["__row"] = np.arange(2, len(frame) + 2)
    notes = [f"Read the first sheet, {names[0]!r}."]
    if len(names) > 1:
        notes.append(f"Only the first sheet is read; {len(names) - 1} other sheet(s) not opened.")
    return frame, notes
