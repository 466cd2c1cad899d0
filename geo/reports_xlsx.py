"""Read Excel workbooks (.xlsx, .xlsm) of partner reports: the first sheet with rows."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from geo.errors import ReportFileError


def xlsx_frame(data: bytes) -> tuple[pd.DataFrame, list[str]]:
    """Read the first non-empty sheet of a workbook into a table of strings.

    Parameters
    ----------
    data
        The workbook's bytes.

    Returns
    -------
    (frame, notes)
        All cells as text plus a ``__row`` column of sheet row numbers, and notes naming
        the sheet read and any sheets ignored.

    Raises
    ------
    ReportFileError
        When the workbook cannot be opened or has no rows in any sheet.
    """
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
