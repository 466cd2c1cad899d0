"""Read delimited text partner files (CSV, TSV, semicolon, pipe) in any common encoding."""

from __future__ import annotations

import codecs
import csv
import io
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from geo.errors import ReportFileError
from geo.reports_limits import FileLimits, check_columns, check_rows

_NO_HEADER = "The file has no header row and no data; check it is the right file."
#: Rows of every column read to tell why an unread column is dropped (personal content).
HEAD_ROWS = 50_000
_SEPARATOR_NAMES = {";": "Semicolon", "\t": "Tab", "|": "Pipe"}


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
    """The delimiter of the decoded file ``text``: comma, semicolon, tab or pipe, from its header."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def csv_frame(
    data: bytes,
    *,
    limits: FileLimits | None = None,
    pick: Callable[[list[str]], list[str] | None] | None = None,
) -> tuple[pd.DataFrame, list[str], pd.DataFrame, pd.DataFrame | None]:
    """Read a delimited text file into a table of strings, rejecting ragged rows by line.

    The header's width is checked before the file is parsed, the number of rows after. A
    regular UTF-8 file is parsed from its bytes by Arrow, never held as one Python string,
    and only the columns ``pick`` names are parsed in full: a column that will be dropped
    is read for its first :data:`HEAD_ROWS` rows only, to say why it is dropped.

    Parameters
    ----------
    data
        The file's bytes.
    limits
        The caps (default :class:`geo.reports_limits.FileLimits`).
    pick
        Given the header, the columns to read (``None``: all of them).

    Returns
    -------
    (frame, notes, bad_rows, head)
        The cells as text plus a ``__row`` column of file line numbers, notes on the
        encoding and separator, the ``row``/``reason`` table of malformed rows, and, when
        only some columns were read, the first rows of every column (else ``None``).

    Raises
    ------
    ReportFileError
        When the file has no header, is over a limit or cannot be read as a table at all.
    """
    limits = limits or FileLimits()
    bad = pd.DataFrame({"row": pd.Series(dtype="int64"), "reason": pd.Series(dtype=str)})
    utf8 = _plain_utf8(data)
    if utf8:
        end = data.find(b"\n")
        first = data[: end if end >= 0 else len(data)].decode("utf-8")
        sep = sniff_delimiter(first)
        _check_shape(first, data.count(b"\n"), sep, limits)
        head = data[:1_000_000].decode("utf-8", errors="ignore")
        frame, sample = _picked_frame(data, head, sep, pick)
        if frame is not None:
            check_rows(len(frame), limits)
            return frame, _separator_notes(sep), bad, sample
    text, encoding = decode_text(data)
    notes = [] if encoding in ("utf-8",) else [f"Read as {encoding} text."]
    sep = sniff_delimiter(text)
    notes += _separator_notes(sep)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    _check_shape(first, text.count("\n"), sep, limits)
    frame = None if utf8 else _arrow_frame(None, text[:1_000_000], sep, full_text=text)
    if frame is not None:
        check_rows(len(frame), limits)
        return frame, notes, bad, None
    try:
        frame = _fast_frame(text, sep)
    except pd.errors.EmptyDataError as exc:
        raise ReportFileError(_NO_HEADER) from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning, csv.Error):
        frame, bad = _frame_row_by_row(text, sep)
    check_rows(len(frame) + len(bad), limits)
    return frame, notes, bad, None


def _picked_frame(
    data: bytes, head: str, sep: str, pick: Callable[[list[str]], list[str] | None] | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Read the picked columns in full and the first rows of all (Arrow; ``None`` if not)."""
    header = next(csv.reader(io.StringIO(head), delimiter=sep), [])
    picked = set(pick(header) or header) if pick is not None and header else set(header)
    include = [h for h in header if h in picked]
    if not include or len(include) == len(header):
        return _arrow_frame(data, head, sep), None
    frame = _arrow_frame(data, head, sep, include=include)
    if frame is None:
        return None, None
    if len(frame) <= HEAD_ROWS:
        sample = _arrow_frame(data, head, sep)
    else:
        cut = _line_end(data, HEAD_ROWS + 1)
        sample = _arrow_frame(data[:cut], head, sep)
    if sample is None:  # the first rows alone did not parse (a quoted line break cut)
        sample = _arrow_frame(data, head, sep)
    if sample is None:
        return None, None
    return frame, sample.drop(columns="__row").head(HEAD_ROWS)


def _line_end(data: bytes, lines: int) -> int:
    """The offset just past the ``lines``-th line break of ``data`` (its length if fewer)."""
    pos = 0
    for _ in range(lines):
        pos = data.find(b"\n", pos) + 1
        if pos == 0:
            return len(data)
    return pos


def _plain_utf8(data: bytes) -> bool:
    """Whether :func:`decode_text` would read ``data`` as plain UTF-8 (checked in slices)."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    head = data[:2000]
    if head and head.count(0) > len(head) // 4:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 24
    try:
        for start in range(0, len(data), step):
            decoder.decode(data[start : start + step], final=start + step >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def _separator_notes(sep: str) -> list[str]:
    return [] if sep == "," else [_SEPARATOR_NAMES[sep] + "-separated file."]


def _check_shape(first: str, newlines: int, sep: str, limits: FileLimits) -> None:
    """Refuse a header wider than the column limit, or far more lines than the row limit."""
    if first.count(sep) + 1 > limits.max_columns:
        header = next(csv.reader([first], delimiter=sep), [])
        check_columns(len(header), limits)
    # Quoted cells may span lines, so only a count far past the limit is refused unparsed.
    if newlines > 2 * limits.max_rows + 1:
        check_rows(newlines - 1, limits)


def _arrow_frame(
    data: bytes | None,
    head: str,
    sep: str,
    *,
    full_text: str | None = None,
    include: list[str] | None = None,
) -> pd.DataFrame | None:
    """Read a regular file with Arrow's multi-threaded parser, cells as Arrow-backed text.

    With ``include``, only those columns are converted (the others are only split).

    Returns ``None`` for anything it does not read exactly as :func:`_fast_frame` would
    (ragged or whitespace-only rows, repeated or blank header names, any parse error): the
    caller then takes the pandas path, which keeps every rule of the file's reading.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = next(csv.reader(io.StringIO(head), delimiter=sep), [])
    if not header or len(set(header)) != len(header) or any(not h for h in header):
        return None
    try:
        raw = data if data is not None else (full_text or "").encode("utf-8", errors="strict")
        table = pacsv.read_csv(
            pa.py_buffer(raw),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, newlines_in_values=b'"' in raw, ignore_empty_lines=True
            ),
            convert_options=pacsv.ConvertOptions(
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                # large_string: the text pandas keeps, so converting it copies nothing
                column_types={h: pa.large_string() for h in header},
                include_columns=include,
            ),
        )
    except (pa.ArrowException, ValueError, csv.Error):
        return None
    wanted = header if include is None else [h for h in header if h in set(include)]
    if table.column_names != wanted or any(t != pa.large_string() for t in table.schema.types):
        return None
    frame = table.to_pandas(types_mapper={pa.large_string(): pd.StringDtype("pyarrow")}.get)
    frame["__row"] = np.arange(2, len(frame) + 2)
    return frame


def _fast_frame(text: str, sep: str) -> pd.DataFrame:
    """Read a well-formed file with pandas' C parser (parser warnings raised as errors)."""
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
    return frame


def _frame_row_by_row(text: str, sep: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Slow path for a ragged file: keep well-formed rows, reject the others by line."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ReportFileError(_NO_HEADER) from exc
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
