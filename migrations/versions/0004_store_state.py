"""Store counters: the reports' data version that pages key their caches on."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``store_state`` with ``data_version`` = 1 (existing reports count as one change)."""
    bind = op.get_bind()
    offline = op.get_context().as_sql
    existing = set() if offline else set(sa.inspect(bind).get_table_names())
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
