"""What the Alembic migrations ask of a store before they change it: its tables, columns, indexes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["columns", "indexes", "is_offline", "tables"]


def is_offline() -> bool:
    """Whether Alembic is writing SQL (``alembic upgrade head --sql``) rather than running it."""
    return bool(op.get_context().as_sql)


def tables() -> set[str]:
    """Names of the store's tables; none when writing SQL offline, so every table is written."""
    return set() if is_offline() else set(sa.inspect(op.get_bind()).get_table_names())


def columns(table: str) -> set[str]:
    """Column names of ``table``; none when writing SQL offline."""
    if is_offline():
        return set()
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def indexes(table: str) -> set[str]:
    """Index names of ``table``; none when writing SQL offline."""
    if is_offline():
        return set()
    return {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes(table)}
