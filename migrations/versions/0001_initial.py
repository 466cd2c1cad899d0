"""Initial schema: batches, reports, audit (append-only), plans."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo import store_ddl

revision = "0001"
down_revision = None

GUARD_MESSAGE = "the audit log is append-only"

SQLITE_GUARD = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
    f"BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
    f"BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END",
)

POSTGRES_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{GUARD_MESSAGE}'; END $$",
    "DROP TRIGGER IF EXISTS audit_no_change ON audit",
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "DROP TRIGGER IF EXISTS audit_no_truncate ON audit",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
)


def upgrade() -> None:
    """Create the tables that are missing (stores made before Alembic already have them)."""
    bind = op.get_bind()
    existing = store_ddl.tables()  # `alembic upgrade head --sql` writes every table
    if "batches" not in existing:
        op.create_table(
            "batches",
            sa.Column("batch_id", sa.String(32), primary_key=True),
            sa.Column("file_name", sa.String(255), nullable=False),
            sa.Column("source", sa.String(64), nullable=False),
            sa.Column("format", sa.String(32), nullable=False),
            sa.Column("imported_at", sa.DateTime, nullable=False),
            sa.Column("imported_by", sa.String(255), nullable=False),
            sa.Column("rows_read", sa.Integer, nullable=False),
            sa.Column("accepted", sa.Integer, nullable=False),
            sa.Column("duplicates", sa.Integer, nullable=False),
            sa.Column("rejected", sa.Integer, nullable=False),
            sa.Column("off_network", sa.Integer, nullable=False),
        )
    if "reports" not in existing:
        op.create_table(
            "reports",
            sa.Column("report_id", sa.String(32), primary_key=True),
            sa.Column("occurred_at", sa.DateTime, nullable=False),
            sa.Column("time_known", sa.Boolean, nullable=False),
            sa.Column("category", sa.String(64), nullable=False),
            sa.Column("source", sa.String(64), nullable=False),
            sa.Column("lon", sa.Float, nullable=False),
            sa.Column("lat", sa.Float, nullable=False),
            sa.Column("segment_id", sa.Integer, nullable=True),
            sa.Column("location_hint", sa.String(255), nullable=True),
            sa.Column("lsoa_code", sa.String(16), nullable=True),
            sa.Column("batch_id", sa.String(32), nullable=False),
        )
        op.create_index("ix_reports_occurred_at", "reports", ["occurred_at"])
        op.create_index("ix_reports_batch_id", "reports", ["batch_id"])
    if "audit" not in existing:
        op.create_table(
            "audit",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at", sa.DateTime, nullable=False),
            sa.Column("actor", sa.String(255), nullable=False),
            sa.Column("action", sa.String(32), nullable=False),
            sa.Column("what", sa.String(500), nullable=False),
            sa.Column("n_rows", sa.Integer, nullable=False),
        )
    if "plans" not in existing:
        op.create_table(
            "plans",
            sa.Column("plan_id", sa.String(32), primary_key=True),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("plan_date", sa.String(10), nullable=False),
            sa.Column("body", sa.Text, nullable=False),
        )
    guard = {"sqlite": SQLITE_GUARD, "postgresql": POSTGRES_GUARD}.get(bind.dialect.name, ())
    for stmt in guard:
        op.execute(stmt)


def downgrade() -> None:
    """Drop the working tables (this deletes their data: back it up first).

    The audit table and its append-only triggers are never dropped, by this or any
    downgrade: the record of who did what outlives the data it describes.
    """
    for table in ("plans", "reports", "batches"):
        op.drop_table(table)
