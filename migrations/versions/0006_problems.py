"""The partnership's problem-solving log: ``problems`` and ``problem_responses`` (issue 18)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo import store_ddl

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    """Create the log's two tables (a problem at hotspots of an area; agencies' responses)."""
    existing = store_ddl.tables()
    if "problems" not in existing:
        op.create_table(
            "problems",
            sa.Column("problem_id", sa.String(16), primary_key=True),
            sa.Column("area_id", sa.String(32), nullable=False),
            sa.Column("title", sa.String(80), nullable=False),
            sa.Column("hotspot_ids", sa.Text, nullable=False),
            sa.Column("scanning", sa.String(300), nullable=False),
            sa.Column("analysis", sa.String(300), nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
            sa.Column("updated_by", sa.String(255), nullable=False),
        )
        op.create_index("ix_problems_area_id", "problems", ["area_id"])
    if "problem_responses" not in existing:
        op.create_table(
            "problem_responses",
            sa.Column("response_id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("problem_id", sa.String(16), nullable=False),
            sa.Column("area_id", sa.String(32), nullable=False),
            sa.Column("agency", sa.String(40), nullable=False),
            sa.Column("action", sa.String(200), nullable=False),
            sa.Column("due", sa.Date, nullable=True),
            sa.Column("status", sa.String(10), nullable=False),
            sa.Column("started", sa.Date, nullable=True),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
            sa.Column("updated_by", sa.String(255), nullable=False),
        )
        op.create_index("ix_problem_responses_problem_id", "problem_responses", ["problem_id"])
        op.create_index("ix_problem_responses_area_id", "problem_responses", ["area_id"])


def downgrade() -> None:
    """Drop the log's tables (its problems and responses are lost)."""
    op.drop_table("problem_responses")
    op.drop_table("problems")
