"""Table definitions of the report store: the shared SQLAlchemy ``metadata`` and its core tables."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "AUDIT_ACTIONS",
    "REPORT_FIELDS",
    "areas",
    "audit",
    "batches",
    "metadata",
    "plans",
    "reports",
    "store_meta",
    "store_state",
]

metadata = sa.MetaData()

batches = sa.Table(
    "batches",
    metadata,
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
    sa.Column("off_network", sa.Integer, nullable=False, default=0),
    sa.Column("area_id", sa.String(32), nullable=True, index=True),
    # reports of this import deleted by purges since (the import list stays true)
    sa.Column("purged", sa.Integer, nullable=True, default=0),
)

reports = sa.Table(
    "reports",
    metadata,
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
    sa.Column("batch_id", sa.String(32), nullable=False, index=True),
    sa.Column("area_id", sa.String(32), nullable=True),
    # reads are by area (and period); migration 0007
    sa.Index("ix_reports_area_occurred", "area_id", "occurred_at"),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("what", sa.String(500), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False, default=0),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("plan_id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("plan_date", sa.String(10), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("area_id", sa.String(32), nullable=True, index=True),
)

# Where one team works (geo.areas): a name, a bounding box and an optional boundary polygon
# (GeoJSON text, WGS84), a synthetic flag (the demo) and the area's settings overrides as
# JSON text. Every batch, report, plan and patrol log carries its area_id (migration 0005).
areas = sa.Table(
    "areas",
    metadata,
    sa.Column("area_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("min_lon", sa.Float, nullable=False),
    sa.Column("min_lat", sa.Float, nullable=False),
    sa.Column("max_lon", sa.Float, nullable=False),
    sa.Column("max_lat", sa.Float, nullable=False),
    sa.Column("boundary", sa.Text, nullable=True),
    sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("settings", sa.Text, nullable=False, default="{}"),
)

# Small named text values of the store, e.g. "current_area" (migration 0005).
store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Counters of the store, e.g. "data_version": bumped by every write that changes reports,
# so pages can key their caches on one primary-key read (migration 0004).
store_state = sa.Table(
    "store_state",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

REPORT_FIELDS = [c.name for c in reports.columns]
AUDIT_ACTIONS = (
    "import",
    "export",
    "purge",
    "delete",
    "view",
    "plan",
    "network",
    "demo",
    "role",
    "area",
    "problem",
)
