"""Bulk report I/O for the store: SQLite executemany and PostgreSQL COPY in, chunked reads out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from geo.reports_ids import id_words
from geo.store_tables import REPORT_FIELDS, reports, store_state

__all__ = [
    "BULK_MIN_ROWS",
    "CHUNK_ROWS",
    "bump_data_version",
    "insert_reports",
    "key_order",
    "read_data_version",
    "read_reports",
    "update_segments",
]

CHUNK_ROWS = 100_000  # rows converted to Python values (or fetched) at a time
BULK_MIN_ROWS = 20_000  # into an empty table from this size, secondary indexes are built after
_STRING_FIELDS = ("report_id", "category", "source", "location_hint", "lsoa_code", "batch_id")
_DATA_VERSION = "data_version"
_SORT_THREADS = 2  # helper threads for SQLite's index sorts after a bulk load
_ROWS_PER_STATEMENT = 64  # rows in one SQLite INSERT (its values stay far below 32,766)


def insert_reports(
    conn: sa.Connection, frame: pd.DataFrame, *, fixed: Mapping[str, str | None] | None = None
) -> int:
    """Insert the reports of ``frame`` that are not stored yet, in key order, in one transaction.

    SQLite: a prepared ``INSERT OR IGNORE`` run by ``executemany`` over chunks of plain tuples;
    into an empty table, the secondary indexes are dropped and rebuilt once after the load.
    PostgreSQL: ``COPY`` into a temporary table, then ``INSERT ... ON CONFLICT DO NOTHING``.
    Both insert in ``report_id`` order, so concurrent imports of overlapping files lock keys
    in the same order and wait for each other instead of deadlocking.

    Parameters
    ----------
    conn
        A connection inside the import's transaction.
    frame
        Reports (the report table of DESIGN section 3) with ``batch_id`` set.
    fixed
        One value for every row of a column, e.g. ``{"batch_id": ..., "area_id": ...}``, in
        place of ``frame``'s column (no copy of the frame is made to set them).

    Returns
    -------
    int
        The number of reports inserted (the rest were stored already, or repeated in ``frame``).
    """
    if frame.empty:
        return 0
    order = key_order(frame["report_id"])  # positions: the frame's index is not used
    fixed = dict(fixed or {})
    name = conn.dialect.name
    if name == "sqlite":
        return _insert_sqlite(conn, frame, order, fixed)
    if name == "postgresql":
        return _insert_postgresql(conn, frame, order, fixed)
    return _insert_generic(conn, frame, order, fixed)


def _python_columns(
    part: pd.DataFrame, fixed: Mapping[str, Any], *, sqlite: bool
) -> list[list[Any]]:
    """The report columns of ``part`` as lists of plain Python values, in REPORT_FIELDS order.

    A column named in ``fixed`` takes that one value on every row.
    """
    n = len(part)
    if sqlite:  # SQLAlchemy's SQLite text for DateTime, and 0/1 for Boolean
        occurred: list[Any] = _sqlite_datetimes(part["occurred_at"]).tolist()
        known: list[Any] = part["time_known"].astype(bool).astype(int).tolist()
    else:
        occurred = pd.to_datetime(part["occurred_at"]).dt.to_pydatetime().tolist()
        known = part["time_known"].astype(bool).tolist()
    seg = part["segment_id"].astype("Int64")
    columns = [
        part["report_id"].astype("string").to_numpy(dtype=object).tolist(),
        occurred,
        known,
        _texts(part["category"]),
        _texts(part["source"]),
        part["lon"].to_numpy(dtype="float64").tolist(),
        part["lat"].to_numpy(dtype="float64").tolist(),
        [None] * n if seg.isna().all() else seg.to_numpy(dtype=object, na_value=None).tolist(),
        _texts(part["location_hint"]),
        _texts(part["lsoa_code"]),
        *(
            _texts(part[c]) if c in part and c not in fixed else [None] * n
            for c in ("batch_id", "area_id")
        ),
    ]
    for name, value in fixed.items():
        columns[REPORT_FIELDS.index(name)] = [value] * n
    return columns


def _rows(
    frame: pd.DataFrame, order: np.ndarray, fixed: Mapping[str, Any], *, sqlite: bool
) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of ``frame`` as tuples in ``order``, one chunk at a time (bounded memory)."""
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.take(order[start : start + CHUNK_ROWS])
        yield from zip(*_python_columns(part, fixed, sqlite=sqlite), strict=True)


def key_order(report_ids: pd.Series) -> np.ndarray:
    """The stable order of ``report_ids`` as text (ties keep their order in the frame).

    Ids written by :mod:`geo.reports_ids` (32 lower-case hex digits) are sorted as two
    unsigned 64-bit numbers, which is the same order and several times faster.

    Parameters
    ----------
    report_ids
        The keys.

    Returns
    -------
    numpy.ndarray of int64
        Positions, first key first.
    """
    words = id_words(report_ids.astype("string[pyarrow]")) if len(report_ids) else None
    if words is not None:
        return np.lexsort((words[:, 1], words[:, 0])).astype(np.int64)
    arr = pa.chunked_array([pa.array(report_ids.astype("string[pyarrow]"), type=pa.string())])
    return pc.sort_indices(arr).to_numpy().astype(np.int64)


def _texts(series: pd.Series) -> list[str | None]:
    """A text column as Python strings (``None`` where missing), each distinct value made once.

    Report text columns hold few distinct values (categories, sources, street names, the
    batch), so the values are dictionary-encoded in Arrow and repeated by reference.
    """
    if series.empty:
        return []
    arr = pa.chunked_array([pa.array(series.astype("string[pyarrow]"), type=pa.string())])
    encoded = pc.dictionary_encode(arr).combine_chunks()
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    if len(distinct) * 4 > len(arr):
        return series.astype("string").to_numpy(dtype=object, na_value=None).tolist()
    lookup = np.empty(len(distinct) + 1, dtype=object)
    lookup[:-1] = distinct
    lookup[-1] = None
    codes = encoded.indices.fill_null(len(distinct)).to_numpy()
    return lookup[codes].tolist()


def _insert_sqlite(
    conn: sa.Connection, frame: pd.DataFrame, order: np.ndarray, fixed: Mapping[str, Any]
) -> int:
    """Insert through the DB-API cursor; returns the number of rows inserted."""
    raw = conn.connection.driver_connection
    if not raw.in_transaction:  # take the write lock now: the emptiness check below holds
        raw.execute("BEGIN IMMEDIATE")
    rebuild: list[str] = []
    empty = raw.execute("SELECT 1 FROM reports LIMIT 1").fetchone() is None
    if empty and len(frame) >= BULK_MIN_ROWS:
        # Bulk load into an empty table: one sort per index afterwards instead of a random
        # B-tree insert per row. The unique key stays (keys arrive sorted, so it only appends).
        indexes = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'reports' AND sql IS NOT NULL"
        ).fetchall()
        for index, sql in indexes:
            raw.execute(f'DROP INDEX "{index.replace(chr(34), chr(34) * 2)}"')
            rebuild.append(sql)
    before = raw.total_changes
    _executemany_rows(raw, frame, order, fixed)
    inserted = raw.total_changes - before
    if rebuild:  # let SQLite sort each index with helper threads
        threads = raw.execute("PRAGMA threads").fetchone()[0]
        raw.execute(f"PRAGMA threads = {max(int(threads), _SORT_THREADS)}")
        for sql in rebuild:
            raw.execute(sql)
        raw.execute(f"PRAGMA threads = {int(threads)}")
    return inserted


def _executemany_rows(
    raw: Any, frame: pd.DataFrame, order: np.ndarray, fixed_columns: Mapping[str, Any]
) -> None:
    """``INSERT OR IGNORE`` the rows of ``frame`` in ``order``, :data:`CHUNK_ROWS` at a time.

    (Preparing the next chunk on a helper thread while SQLite inserts the current one was
    measured: no faster, as binding the parameters holds the GIL too.)
    """
    for start in range(0, len(frame), CHUNK_ROWS):
        rows = order[start : start + CHUNK_ROWS]
        for sql, params in _statements(frame, rows, fixed_columns):
            raw.executemany(sql, params)


def _statements(
    frame: pd.DataFrame, rows: np.ndarray, fixed_columns: Mapping[str, Any]
) -> list[tuple[str, list[list[Any]]]]:
    """The multi-row ``INSERT OR IGNORE`` statements and their parameters for ``rows``.

    Columns missing on every row are left to their default (``NULL``) and a column holding
    one value for the whole chunk (the batch, the area) is bound once per statement, so
    SQLite binds fewer values and steps once per :data:`_ROWS_PER_STATEMENT` rows.
    """
    part = frame.take(rows)
    columns = _python_columns(part, fixed_columns, sqlite=True)
    values = dict(zip(REPORT_FIELDS, columns, strict=True))
    fixed = {f: v[0] for f, v in values.items() if f != "report_id" and _one_value(v)}
    varied = [f for f in REPORT_FIELDS if f not in fixed and _any_value(values[f])]
    grid = np.empty((len(part), len(varied)), dtype=object)
    for j, f in enumerate(varied):
        grid[:, j] = values[f]
    out = []
    n_full = len(part) // _ROWS_PER_STATEMENT * _ROWS_PER_STATEMENT
    for lo, hi in ((0, n_full), (n_full, len(part))):
        if hi == lo:
            continue
        per = min(_ROWS_PER_STATEMENT, hi - lo)
        width = per * len(varied)
        params = np.empty(((hi - lo) // per, width + len(fixed)), dtype=object)
        params[:, : len(fixed)] = list(fixed.values())
        params[:, len(fixed) :] = grid[lo:hi].reshape(-1, width)
        out.append((_multi_insert(varied, list(fixed), per), params.tolist()))
    return out


def _one_value(values: list[Any]) -> bool:
    """Whether a column holds the same text on every row (the batch and area of an import)."""
    first = values[0]
    return isinstance(first, str) and values[-1] == first and values.count(first) == len(values)


def _any_value(values: list[Any]) -> bool:
    """Whether any value of a column is given (not ``None``)."""
    return values.count(None) < len(values)


def _multi_insert(varied: list[str], fixed: list[str], per: int) -> str:
    """The ``INSERT OR IGNORE`` of ``per`` rows of ``varied`` values plus one of each ``fixed``."""
    width = len(varied)
    picks = [f"column{j + 1}" for j in range(width)]
    picks += [f"?{k + 1}" for k in range(len(fixed))]  # the fixed values come first
    row = "(" + ", ".join("?" * width) + ")"
    return (
        f"INSERT OR IGNORE INTO reports ({', '.join([*varied, *fixed])}) "
        f"SELECT {', '.join(picks)} FROM (VALUES {', '.join([row] * per)})"
    )


def _insert_postgresql(
    conn: sa.Connection, frame: pd.DataFrame, order: np.ndarray, fixed: Mapping[str, Any]
) -> int:
    """``COPY`` into a temporary table, then insert the new keys; returns the number inserted."""
    raw = conn.connection.driver_connection
    cols = ", ".join(REPORT_FIELDS)
    with raw.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS beatplan_reports_in")
        cur.execute(
            "CREATE TEMPORARY TABLE beatplan_reports_in "
            "(LIKE reports INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with cur.copy(f"COPY beatplan_reports_in ({cols}) FROM STDIN") as copy:
            for row in _rows(frame, order, fixed, sqlite=False):
                copy.write_row(row)
        # ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit,
        # then skips it; the row count is what this statement inserted.
        cur.execute(
            f"INSERT INTO reports ({cols}) SELECT {cols} FROM beatplan_reports_in "
            "ORDER BY report_id ON CONFLICT (report_id) DO NOTHING"
        )
        inserted = int(cur.rowcount)
        cur.execute("DROP TABLE beatplan_reports_in")
    return inserted


def _insert_generic(
    conn: sa.Connection, frame: pd.DataFrame, order: np.ndarray, fixed: Mapping[str, Any]
) -> int:
    """Any other database: skip stored keys, insert the rest with SQLAlchemy Core."""
    existing = set(conn.execute(sa.select(reports.c.report_id)).scalars())
    seen: set[str] = set()
    fresh = []
    for row in _rows(frame, order, fixed, sqlite=False):
        if row[0] not in existing and row[0] not in seen:
            seen.add(row[0])
            fresh.append(dict(zip(REPORT_FIELDS, row, strict=True)))
    if fresh:
        conn.execute(reports.insert(), fresh)
    return len(fresh)


def update_segments(conn: sa.Connection, report_ids: Sequence[str], segment_ids: Any) -> int:
    """Set ``segment_id`` of stored reports in one statement per chunk (after a network load).

    Parameters
    ----------
    conn
        A connection inside a transaction.
    report_ids
        The reports.
    segment_ids
        Their segments: integers, with ``None``, NA or a negative number for off-network.

    Returns
    -------
    int
        The number of reports given.
    """
    if isinstance(segment_ids, np.ndarray) and segment_ids.dtype.kind in "iu":
        seg = pd.array(segment_ids.astype("int64"), dtype="Int64")  # no per-item conversion
    else:
        seg = pd.array(pd.Series(list(segment_ids), dtype="object"), dtype="Int64")
    if len(seg) != len(report_ids):
        msg = f"{len(report_ids)} report ids but {len(seg)} segment ids: give one segment each."
        raise ValueError(msg)
    if not len(seg):
        return 0
    seg[seg.fillna(-1) < 0] = pd.NA
    frame = pd.DataFrame({"rid": pd.array(list(report_ids), dtype="string"), "seg": seg})
    frame = frame.sort_values("rid", kind="stable", ignore_index=True)
    if conn.dialect.name == "postgresql":
        _update_segments_postgresql(conn, frame)
        return len(frame)
    stmt = "UPDATE reports SET segment_id = ? WHERE report_id = ?"
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        for start in range(0, len(frame), CHUNK_ROWS):
            part = frame.iloc[start : start + CHUNK_ROWS]
            segs = part["seg"].to_numpy(dtype=object, na_value=None).tolist()
            raw.executemany(stmt, zip(segs, part["rid"].tolist(), strict=True))
        return len(frame)
    core = (
        reports.update()
        .where(reports.c.report_id == sa.bindparam("rid"))
        .values(segment_id=sa.bindparam("seg"))
    )
    params = [
        {"rid": r, "seg": s}
        for r, s in zip(
            frame["rid"].tolist(), frame["seg"].to_numpy(dtype=object, na_value=None), strict=True
        )
    ]
    conn.execute(core, params)
    return len(frame)


def _update_segments_postgresql(conn: sa.Connection, frame: pd.DataFrame) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS beatplan_segments_in")
        cur.execute(
            "CREATE TEMPORARY TABLE beatplan_segments_in "
            "(report_id varchar(32), segment_id integer) ON COMMIT DROP"
        )
        with cur.copy("COPY beatplan_segments_in (report_id, segment_id) FROM STDIN") as copy:
            segs = frame["seg"].to_numpy(dtype=object, na_value=None).tolist()
            for row in zip(frame["rid"].tolist(), segs, strict=True):
                copy.write_row(row)
        cur.execute(
            "UPDATE reports AS r SET segment_id = s.segment_id FROM beatplan_segments_in AS s "
            "WHERE r.report_id = s.report_id"
        )
        cur.execute("DROP TABLE beatplan_segments_in")


def bump_data_version(conn: sa.Connection) -> None:
    """Count one more change to the stored reports (in the writing transaction).

    Pages key their caches on :func:`read_data_version`; call this last in a transaction
    that changed ``reports`` (concurrent writers then queue on one row without deadlock).

    Parameters
    ----------
    conn
        A connection inside the writing transaction.
    """
    stmt = (
        store_state.update()
        .where(store_state.c.name == _DATA_VERSION)
        .values(value=store_state.c.value + 1)
    )
    if conn.execute(stmt).rowcount == 0:
        conn.execute(store_state.insert().values(name=_DATA_VERSION, value=1))


def read_data_version(conn: sa.Connection) -> int:
    """Return the reports' change counter (0 for a store that has never changed).

    Parameters
    ----------
    conn
        A connection.

    Returns
    -------
    int
    """
    q = sa.select(store_state.c.value).where(store_state.c.name == _DATA_VERSION)
    value = conn.execute(q).scalar_one_or_none()
    return int(value or 0)


def read_reports(
    conn: sa.Connection,
    *,
    columns: Sequence[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    area_id: str | None = None,
    all_areas: bool = False,
) -> pd.DataFrame:
    """Read stored reports in chunks, filtered in SQL, as the report table of DESIGN section 3.

    Parameters
    ----------
    conn
        A connection.
    columns
        The columns to read (default: all of REPORT_FIELDS), in this order.
    start, end
        Keep reports with ``start <= occurred_at < end``.
    categories, sources
        Keep only these.
    area_id, all_areas
        Keep only this area's reports (``None``: those without an area), or every area's.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        When a column is not a report column.
    """
    cols = list(REPORT_FIELDS if columns is None else columns)
    unknown = [c for c in cols if c not in REPORT_FIELDS]
    if unknown or not cols:
        msg = f"Unknown report columns {unknown}; choose from {', '.join(REPORT_FIELDS)}."
        raise ValueError(msg)
    # Raw values (no per-row type processing): dtypes are set per column afterwards.
    q = sa.select(*[sa.type_coerce(reports.c[c], sa.String).label(c) for c in cols])
    if start is not None:
        q = q.where(reports.c.occurred_at >= pd.Timestamp(start).to_pydatetime())
    if end is not None:
        q = q.where(reports.c.occurred_at < pd.Timestamp(end).to_pydatetime())
    if categories is not None:
        q = q.where(reports.c.category.in_(list(categories)))
    if sources is not None:
        q = q.where(reports.c.source.in_(list(sources)))
    if not all_areas:
        q = q.where(reports.c.area_id == area_id if area_id else reports.c.area_id.is_(None))
    parts: dict[str, list[Any]] = {c: [] for c in cols}
    result = conn.execution_options(yield_per=CHUNK_ROWS).execute(q)
    for chunk in result.partitions():
        values = list(zip(*chunk, strict=True))
        for c, col in zip(cols, values, strict=True):
            parts[c].append(_column(c, col))
    return pd.DataFrame({c: _concat(c, parts[c]) for c in cols})


def _column(name: str, values: Sequence[Any]) -> Any:
    """One chunk of one column, in the dtype of the report table."""
    if name == "occurred_at":  # SQLite gives text, PostgreSQL datetime objects
        text = len(values) > 0 and isinstance(values[0], str)
        stamps = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601" if text else None)
        return stamps.to_numpy(dtype="datetime64[ns]")
    if name == "time_known":
        return np.asarray(values).astype(bool)
    if name in ("lon", "lat"):
        return np.asarray(values, dtype="float64")
    if name == "segment_id":
        return pd.array(values, dtype="Int64")
    return pd.array(values, dtype="string")


def _concat(name: str, chunks: list[Any]) -> Any:
    """Join one column's chunks (an empty column of the right dtype when there are none)."""
    if not chunks:
        return pd.Series(_column(name, []))
    if len(chunks) == 1:
        return chunks[0]
    if isinstance(chunks[0], np.ndarray):
        return np.concatenate(chunks)
    return pd.concat([pd.Series(c) for c in chunks], ignore_index=True).array


def _nullable_strings(series: pd.Series) -> list[str | None]:
    return series.astype("string").to_numpy(dtype=object, na_value=None).tolist()


def _sqlite_datetimes(series: pd.Series) -> np.ndarray:
    """Format timestamps as SQLAlchemy's SQLite text (``YYYY-MM-DD HH:MM:SS.000000``).

    Whole seconds (as stored since the first import), years 0-9999, written digit by digit
    with integer arithmetic on the civil date (H. Hinnant's days-to-civil algorithm).
    """
    secs = series.to_numpy(dtype="datetime64[s]").view("int64")
    days, sod = np.divmod(secs, 86_400)
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    if len(year) and (year.min() < 0 or year.max() > 9999):  # outside what digits can write
        text = np.datetime_as_string(series.to_numpy(dtype="datetime64[s]"), unit="s")
        return np.char.add(np.char.replace(text, "T", " "), ".000000").astype(object)
    buf = np.empty((len(secs), 26), dtype=np.uint8)
    buf[:] = np.frombuffer(b"0000-00-00 00:00:00.000000", dtype=np.uint8)
    for col, value, width in (
        (0, year, 4),
        (5, month, 2),
        (8, day, 2),
        (11, sod // 3600, 2),
        (14, sod // 60 % 60, 2),
        (17, sod % 60, 2),
    ):
        for k in range(width):
            buf[:, col + width - 1 - k] += (value // 10**k % 10).astype(np.uint8)
    offsets = np.arange(0, 26 * (len(secs) + 1), 26, dtype=np.int64)
    arr = pa.Array.from_buffers(
        pa.large_string(), len(secs), [None, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes())]
    )
    return arr.to_numpy(zero_copy_only=False)
