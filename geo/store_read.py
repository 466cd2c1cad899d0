"""Reading from the report store: reports (filtered), counts, batches, the audit log and facets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from geo.store_engine import StoreConnection
from geo.store_tables import REPORT_FIELDS, audit, batches, reports

__all__ = ["StoreReader"]

_STRING_FIELDS = ("report_id", "category", "source", "location_hint", "lsoa_code", "batch_id")


class StoreReader(StoreConnection):
    """The reading half of :class:`geo.store.Store`."""

    def reports(
        self,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        categories: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Read stored reports, optionally filtered by period, categories and sources.

        Parameters
        ----------
        start, end
            Keep reports with ``start <= occurred_at < end``.
        categories, sources
            Keep only these.

        Returns
        -------
        pandas.DataFrame
            The report table of DESIGN section 3.
        """
        q = sa.select(*[reports.c[c] for c in REPORT_FIELDS])
        if start is not None:
            q = q.where(reports.c.occurred_at >= pd.Timestamp(start).to_pydatetime())
        if end is not None:
            q = q.where(reports.c.occurred_at < pd.Timestamp(end).to_pydatetime())
        if categories is not None:
            q = q.where(reports.c.category.in_(list(categories)))
        if sources is not None:
            q = q.where(reports.c.source.in_(list(sources)))
        with self.engine.connect() as conn:
            rows = conn.execute(q).fetchall()
        return _report_frame(rows)

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


def _report_frame(rows: list[sa.Row]) -> pd.DataFrame:
    """The report table (DESIGN section 3, its dtypes) of rows read from ``reports``."""
    frame = pd.DataFrame(rows, columns=REPORT_FIELDS)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], format="ISO8601").astype(
        "datetime64[ns]"
    )
    frame["time_known"] = frame["time_known"].astype(bool)
    frame["segment_id"] = frame["segment_id"].astype("Int64")
    for col in _STRING_FIELDS:
        frame[col] = frame[col].astype("string")
    frame["lon"] = frame["lon"].astype("float64")
    frame["lat"] = frame["lat"].astype("float64")
    return frame
