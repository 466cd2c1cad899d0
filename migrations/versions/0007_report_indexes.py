"""Report indexes for the queries the app runs: (area_id, occurred_at) and batch_id only."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

# Every read of reports is by area, most within a period, and min/max(occurred_at) per area;
# imports are deleted by batch. One composite index serves the first three (the separate
# occurred_at and area_id indexes cost a sort each on every bulk load and served none better).
_OLD = (("ix_reports_occurred_at", ["occurred_at"]), ("ix_reports_area_id", ["area_id"]))
_NEW = ("ix_reports_area_occurred", ["area_id", "occurred_at"])


def _indexes(bind: sa.Connection) -> set[str]:
    if op.get_context().as_sql:
        return {name for name, _ in _OLD}
    return {ix["name"] for ix in sa.inspect(bind).get_indexes("reports")}


def upgrade() -> None:
    """Replace the occurred_at and area_id indexes of ``reports`` by one on both (no data moves)."""
    have = _indexes(op.get_bind())
    for name, _cols in _OLD:
        if name in have:
            op.drop_index(name, table_name="reports")
    if _NEW[0] not in have:
        op.create_index(_NEW[0], "reports", _NEW[1])


def downgrade() -> None:
    """Bring back the separate indexes of 0001 and 0005."""
    op.drop_index(_NEW[0], table_name="reports")
    for name, cols in _OLD:
        op.create_index(name, "reports", cols)
