"""Persistence of import batches, reports, plans and the append-only audit log (SQLAlchemy).

The store is split by concern: the tables in :mod:`geo.store_tables`, opening the engine and
migrating on open in :mod:`geo.store_engine`, writing in :mod:`geo.store_write` and reading in
:mod:`geo.store_read`. This module assembles :class:`Store` and keeps every public name
importable from ``geo.store`` (``migrations/env.py`` and the rest of the app import from here).
"""

from __future__ import annotations

from geo.store_engine import (
    DEFAULT_DB_PATH,
    MIGRATIONS_DIR,
    alembic_config,
    default_db_url,
    lock_for_migration,
    migration_heads,
    normalise_url,
    safe_url,
)
from geo.store_read import StoreReader
from geo.store_tables import AUDIT_ACTIONS, REPORT_FIELDS, audit, batches, metadata, plans, reports
from geo.store_write import StoreWriter, current_user

__all__ = [
    "AUDIT_ACTIONS",
    "DEFAULT_DB_PATH",
    "MIGRATIONS_DIR",
    "REPORT_FIELDS",
    "Store",
    "alembic_config",
    "audit",
    "batches",
    "current_user",
    "default_db_url",
    "lock_for_migration",
    "metadata",
    "migration_heads",
    "normalise_url",
    "plans",
    "reports",
    "safe_url",
]


class Store(StoreWriter, StoreReader):
    """The report store: an SQLite file by default, PostgreSQL (or any SQLAlchemy URL) on request.

    Opening it (:class:`geo.store_engine.StoreConnection`) runs the migrations when needed;
    writes (:class:`geo.store_write.StoreWriter`) are audited; reads
    (:class:`geo.store_read.StoreReader`) return the report table of DESIGN section 3.

    Parameters
    ----------
    url
        An SQLAlchemy URL; by default :func:`default_db_url`. A bare path is taken as SQLite.
    """
