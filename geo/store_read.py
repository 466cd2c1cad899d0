"""Reading from the report store: reports (filtered), counts, batches, the audit log and facets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from geo.store_areas import resolve_area_id
from geo.store_bulk import read_data_version, read_reports
from geo.store_engine import StoreConnection
from geo.store_tables import audit, batches, reports

__all__ = ["StoreReader"]


class StoreReader(StoreConnection):
    """The reading half of :class:`geo.store.Store`."""

    def reports(
        self,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        categories: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        columns: Sequence[str] | None = None,
        area_id: str | None = None,
    ) -> pd.DataFrame:
        """Read one area's stored reports, filtered in SQL by period, categories and sources.

        Parameters
        ----------
        start, end
            Keep reports with ``start <= occurred_at < end``.
        categories, sources
            Keep only these.
        columns
            Read only these report columns (default: all); a page reads what it draws.
        area_id
            The area (default: the current one, else the only one; see
            :func:`geo.store_areas.resolve_area_id`).

        Returns
        -------
        pandas.DataFrame
            The report table of DESIGN section 3 (its dtypes), read in chunks
            (:func:`geo.store_bulk.read_reports`).
        """
        with self.engine.connect() as conn:
            return read_reports(
                conn,
                columns=columns,
                start=start,
                end=end,
                categories=categories,
                sources=sources,
                area_id=resolve_area_id(conn, area_id, required=False),
            )

    def data_version(self) -> int:
        """Return a counter that changes whenever stored reports change (a cache key).

        Imports that add reports, purges, deleted imports and new street segments
        each raise it by one; it is one primary-key read.

        Returns
        -------
        int
        """
        with self.engine.connect() as conn:
            return read_data_version(conn)

    def count_reports(self, *, area_id: str | None = None, all_areas: bool = False) -> int:
        """Return the number of reports stored for an area (default: the current one).

        Parameters
        ----------
        area_id
            The area (default: the current one, else the only one).
        all_areas
            Count every area's reports instead.

        Returns
        -------
        int
        """
        with self.engine.connect() as conn:
            q = sa.select(sa.func.count()).select_from(reports)
            if not all_areas:
                q = q.where(_in_area(conn, reports, area_id))
            return int(conn.execute(q).scalar_one())

    def batches(self, *, area_id: str | None = None, all_areas: bool = False) -> pd.DataFrame:
        """Return an area's import batches (default: the current area's), newest first.

        Parameters
        ----------
        area_id
            The area (default: the current one, else the only one).
        all_areas
            Every area's batches instead.

        Returns
        -------
        pandas.DataFrame
            One row per import: ``batch_id, file_name, source, format, imported_at,
            imported_by, rows_read, accepted, duplicates, rejected, off_network, area_id``.
        """
        with self.engine.connect() as conn:
            q = sa.select(batches).order_by(batches.c.imported_at.desc(), batches.c.batch_id)
            if not all_areas:
                q = q.where(_in_area(conn, batches, area_id))
            rows = conn.execute(q)
            return pd.DataFrame(rows.fetchall(), columns=[c.name for c in batches.columns])

    def audit_log(self) -> pd.DataFrame:
        """Return the audit log, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit).order_by(audit.c.id))
            return pd.DataFrame(rows.fetchall(), columns=[c.name for c in audit.columns])

    def categories(self, *, area_id: str | None = None) -> list[str]:
        """Return the categories present in an area's reports (default: the current area), sorted."""
        with self.engine.connect() as conn:
            q = sa.select(reports.c.category).distinct().order_by(reports.c.category)
            return list(conn.execute(q.where(_in_area(conn, reports, area_id))).scalars())

    def sources(self, *, area_id: str | None = None) -> list[str]:
        """Return the sources present in an area's reports (default: the current area), sorted."""
        with self.engine.connect() as conn:
            q = sa.select(reports.c.source).distinct().order_by(reports.c.source)
            return list(conn.execute(q.where(_in_area(conn, reports, area_id))).scalars())

    def period(self, *, area_id: str | None = None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Return an area's earliest and latest report time, or ``None`` when it has none.

        Parameters
        ----------
        area_id
            The area (default: the current one, else the only one).

        Returns
        -------
        (pandas.Timestamp, pandas.Timestamp) or None
        """
        with self.engine.connect() as conn:
            lo, hi = conn.execute(
                sa.select(
                    sa.func.min(reports.c.occurred_at), sa.func.max(reports.c.occurred_at)
                ).where(_in_area(conn, reports, area_id))
            ).one()
        if lo is None:
            return None
        return pd.Timestamp(lo), pd.Timestamp(hi)


def _in_area(conn: sa.Connection, table: sa.Table, area_id: str | None) -> sa.ColumnElement[bool]:
    """The WHERE clause keeping ``table``'s rows of an area (resolved; none: rows without one)."""
    resolved = resolve_area_id(conn, area_id, required=False)
    return table.c.area_id == resolved if resolved else table.c.area_id.is_(None)
