"""Published figures: every public summary released and the figures it published (no content)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo import store_ddl

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    """Create ``published_releases`` and ``published_figures`` when missing."""
    existing = store_ddl.tables()
    if "published_releases" not in existing:
        op.create_table(
            "published_releases",
            sa.Column("release_id", sa.String(32), primary_key=True),
            sa.Column("area", sa.String(255), nullable=False),
            sa.Column("first_month", sa.String(7), nullable=False),
            sa.Column("last_month", sa.String(7), nullable=False),
            sa.Column("custom", sa.Boolean, nullable=False),
            sa.Column("fingerprint", sa.String(64), nullable=False),
            sa.Column("published_at", sa.DateTime, nullable=False),
            sa.Column("n_figures", sa.Integer, nullable=False),
        )
        op.create_index("ix_published_releases_area", "published_releases", ["area"])
    if "published_figures" not in existing:
        op.create_table(
            "published_figures",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("release_id", sa.String(32), nullable=False),
            sa.Column("area", sa.String(255), nullable=False),
            sa.Column("kind", sa.String(8), nullable=False),
            sa.Column("category", sa.Text, nullable=False),
            sa.Column("street", sa.Text, nullable=False),
            sa.Column("tag", sa.String(32), nullable=False),
            sa.Column("first_month", sa.String(7), nullable=False),
            sa.Column("last_month", sa.String(7), nullable=False),
            sa.Column("status", sa.String(8), nullable=False),
            sa.Column("value", sa.Integer, nullable=True),
            sa.Column("threshold", sa.Integer, nullable=False),
        )
        op.create_index("ix_published_figures_area", "published_figures", ["area"])
        op.create_index("ix_published_figures_release_id", "published_figures", ["release_id"])


def downgrade() -> None:
    """Drop the published-figures tables (later summaries are then checked against nothing)."""
    op.drop_table("published_figures")
    op.drop_table("published_releases")
