"""Reading from the report store: reports (filtered), counts, batches, the audit log and facets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

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
    ) -> pd.DataFrame:
        """Read stored reports, filtered in SQL by period, categories and sources.

        Parameters
        ----------
        start, end
            Keep reports with ``start <= occurred_at < end``.
        categories, sources
            Keep only these.
        columns
            Read only these report columns (default: all); a page reads what it draws.

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

    def count_reports(self) -> int:
        """Return the number of stored reports."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(reports)).scalar_one())

    def batches(self) -> pd.DataFrame:
        """Return the import batches, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(batches).order_by(batches.c.imported_at.desc()))
            return pd.DataFrame(rows.fetchall(), columns=[c.name for c in batches.columns])

    def audit_log(self) -> pd.DataFrame:
        """Return the audit log, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit).order_by(audit.c.id))
            return pd.DataFrame(rows.fetchall(), columns=[c.name for c in audit.columns])

    def categories(self) -> list[str]:
        """Return the categories present in the store, sorted."""
        with self.engine.connect() as conn:
            q = sa.select(reports.c.category).distinct().order_by(reports.c.category)
            return list(conn.execute(q).scalars())

    def sources(self) -> list[str]:
        """Return the sources present in the store, sorted."""
        with self.engine.connect() as conn:
            q = sa.select(reports.c.source).distinct().order_by(reports.c.source)
            return list(conn.execute(q).scalars())

    def period(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Return the earliest and latest report time, or ``None`` when the store is empty."""
        with self.engine.connect() as conn:
            lo, hi = conn.execute(
                sa.select(sa.func.min(reports.c.occurred_at), sa.func.max(reports.c.occurred_at))
            ).one()
        if lo is None:
            return None
        return pd.Timestamp(lo), pd.Timestamp(hi)
