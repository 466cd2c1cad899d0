"""Areas: an ``areas`` table, ``store_meta`` (the current area) and ``area_id`` on every record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from geo import store_ddl

revision = "0005"
down_revision = "0004"

DEMO_NAME = "Helsinki (demo)"
DEFAULT_NAME = "Default area"
DEMO_PREFIX = "SYNTHETIC-DEMO"
_AREA_TABLES = ("batches", "reports", "plans", "patrol_logs")


def upgrade() -> None:
    """Create the area tables, add ``area_id`` (indexed) and adopt the data already stored.

    Demo batches (file names starting ``SYNTHETIC-DEMO``) and their reports go to the
    synthetic area "Helsinki (demo)"; everything else (other batches, reports, plans, patrol
    logs, published figures) to "Default area", whose box is the settings' ``[area] bbox``
    or else the extent of its reports. The adopted real area (else the demo) becomes current.
    """
    offline = store_ddl.is_offline()
    existing = store_ddl.tables()
    _create_tables(existing)
    for table in _AREA_TABLES:
        if offline or table in existing:
            _add_area_column(table)
    if "purged" not in store_ddl.columns("batches"):  # reports of an import purged since
        op.add_column("batches", sa.Column("purged", sa.Integer, nullable=True))
    if not offline:
        _adopt(op.get_bind(), existing)


def _create_tables(existing: set[str]) -> None:
    if "areas" not in existing:
        op.create_table(
            "areas",
            sa.Column("area_id", sa.String(32), primary_key=True),
            sa.Column("name", sa.String(100), nullable=False, unique=True),
            sa.Column("min_lon", sa.Float, nullable=False),
            sa.Column("min_lat", sa.Float, nullable=False),
            sa.Column("max_lon", sa.Float, nullable=False),
            sa.Column("max_lat", sa.Float, nullable=False),
            sa.Column("boundary", sa.Text, nullable=True),
            sa.Column("synthetic", sa.Boolean, nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("created_by", sa.String(255), nullable=False),
            sa.Column("settings", sa.Text, nullable=False),
        )
    if "store_meta" not in existing:
        op.create_table(
            "store_meta",
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )


def _add_area_column(table: str) -> None:
    if "area_id" not in store_ddl.columns(table):
        op.add_column(table, sa.Column("area_id", sa.String(32), nullable=True))
    if f"ix_{table}_area_id" not in store_ddl.indexes(table):
        op.create_index(f"ix_{table}_area_id", table, ["area_id"])


def _adopt(bind: sa.Connection, existing: set[str]) -> None:
    """Give every stored record an area (nothing is left without one)."""
    if bind.execute(sa.text("SELECT COUNT(*) FROM areas")).scalar_one():
        return
    rows = bind.execute(sa.text("SELECT batch_id, file_name FROM batches")).all()
    demo_names = _demo_file_names()
    demo = [b for b, f in rows if str(f).startswith(DEMO_PREFIX) or str(f) in demo_names]
    n_other = _count(bind, "SELECT COUNT(*) FROM plans") + len(rows) - len(demo)
    if "patrol_logs" in existing:
        n_other += _count(bind, "SELECT COUNT(*) FROM patrol_logs")
    demo_id = real_id = None
    if demo:
        ids = sa.bindparam("ids", expanding=True)
        demo_id = _insert_area(bind, DEMO_NAME, _demo_bbox(bind, demo), synthetic=True)
        for table in ("reports", "batches"):
            bind.execute(
                sa.text(f"UPDATE {table} SET area_id = :a WHERE batch_id IN :ids").bindparams(ids),
                {"a": demo_id, "ids": demo},
            )
    n_other += _count(bind, "SELECT COUNT(*) FROM reports WHERE area_id IS NULL")
    if n_other:
        real_id = _insert_area(bind, DEFAULT_NAME, _default_bbox(bind), synthetic=False)
    rest = real_id or demo_id
    if rest is None:
        return
    for table in _AREA_TABLES:
        if table in existing:
            bind.execute(
                sa.text(f"UPDATE {table} SET area_id = :a WHERE area_id IS NULL"), {"a": rest}
            )
    for table in ("published_releases", "published_figures"):
        if table in existing:
            bind.execute(sa.text(f"UPDATE {table} SET area = :a WHERE area = ''"), {"a": rest})
    bind.execute(
        sa.text("INSERT INTO store_meta (name, value) VALUES ('current_area', :a)"), {"a": rest}
    )


def _demo_file_names() -> set[str]:
    """The stored names (``file-<sha256[:16]>.csv``) of the demo CSVs in the data folders.

    Since file names are stored as a hash, a demo import is known by its file's hash.
    """
    import hashlib
    import os
    from pathlib import Path

    from geo.settings import DATA_DIR

    names: set[str] = set()
    for base in {Path(os.environ.get("BEATPLAN_DATA") or DATA_DIR), DATA_DIR}:
        for path in (base / "demo").glob(f"{DEMO_PREFIX}*.csv"):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            names.add(f"file-{digest}.csv")
    return names


def _count(bind: sa.Connection, sql: str, **params: object) -> int:
    return int(bind.execute(sa.text(sql), params).scalar_one() or 0)


def _insert_area(
    bind: sa.Connection, name: str, bbox: tuple[float, float, float, float], *, synthetic: bool
) -> str:
    area_id = uuid.uuid4().hex[:16]
    table = sa.table(
        "areas",
        *(
            sa.column(c)
            for c in (
                "area_id",
                "name",
                "min_lon",
                "min_lat",
                "max_lon",
                "max_lat",
                "boundary",
                "synthetic",
                "created_at",
                "created_by",
                "settings",
            )
        ),
    )
    bind.execute(
        table.insert().values(
            area_id=area_id,
            name=name,
            min_lon=bbox[0],
            min_lat=bbox[1],
            max_lon=bbox[2],
            max_lat=bbox[3],
            boundary=None,
            synthetic=synthetic,
            created_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            created_by="migration 0005",
            settings="{}",
        )
    )
    return area_id


def _extent(bind: sa.Connection, where: str, **params: object) -> tuple[float, ...] | None:
    stmt = sa.text(
        "SELECT MIN(lon), MIN(lat), MAX(lon), MAX(lat) FROM reports "
        f"WHERE lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90 AND {where}"
    )
    if "ids" in params:
        stmt = stmt.bindparams(sa.bindparam("ids", expanding=True))
    row = bind.execute(stmt, params).one()
    if row[0] is None:
        return None
    pad = 0.005  # about 500 m, so reports on the edge stay inside
    return (row[0] - pad, row[1] - pad, row[2] + pad, row[3] + pad)


def _demo_bbox(bind: sa.Connection, demo: list[str]) -> tuple[float, float, float, float]:
    where = "batch_id IN :ids"
    ext = _extent(bind, where, ids=demo)
    return ext or (24.90, 60.14, 25.00, 60.20)  # type: ignore[return-value]


def _default_bbox(bind: sa.Connection) -> tuple[float, float, float, float]:
    try:
        from geo.settings import load_settings

        bbox = load_settings().area_bbox
    except Exception:  # a broken settings file must not stop the upgrade: use the data
        bbox = None
    if bbox is not None:
        return bbox
    ext = _extent(bind, "area_id IS NULL")
    return ext or (-180.0, -90.0, 180.0, 90.0)  # type: ignore[return-value]


def downgrade() -> None:
    """Drop ``area_id`` and the area tables (records of several areas then mix again)."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("purged")
    for table in _AREA_TABLES:
        if table in existing:
            op.drop_index(f"ix_{table}_area_id", table_name=table)
            with op.batch_alter_table(table) as batch:
                batch.drop_column("area_id")
    op.drop_table("store_meta")
    op.drop_table("areas")
