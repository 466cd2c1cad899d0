"""Store counters: the reports' data version that pages key their caches on."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo import store_ddl

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    """Create ``store_state`` with ``data_version`` = 1 (existing reports count as one change)."""
    existing = store_ddl.tables()
    if "store_state" not in existing:
        table = op.create_table(
            "store_state",
            sa.Column("name", sa.String(32), primary_key=True),
            sa.Column("value", sa.BigInteger, nullable=False),
        )
        op.bulk_insert(table, [{"name": "data_version", "value": 1}])


def downgrade() -> None:
    """Drop ``store_state`` (pages then key their caches on nothing newer than a restart)."""
    op.drop_table("store_state")
