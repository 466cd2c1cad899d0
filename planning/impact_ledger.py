"""The published-figures ledger: every public summary released and the figures it showed (no report content)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.store import Store, lock_for_migration, metadata
from planning.impact_disclosure import PublishedCell

__all__ = [
    "custom_periods",
    "published_cells",
    "published_figures",
    "published_releases",
    "record_release",
    "release_count",
]


# A published figure's key: what it counts, and the period (first and last month, YYYY-MM).
_FIGURE = {"kind": sa.String(8), "category": sa.Text, "street": sa.Text, "tag": sa.String(32)}
_PERIOD = {"first_month": sa.String(7), "last_month": sa.String(7)}
_KEY_COLS = (*_FIGURE, *_PERIOD)
# What a release records besides its id, area and period.
_RELEASE = {
    "custom": sa.Boolean,
    "fingerprint": sa.String(64),
    "published_at": sa.DateTime,
    "n_figures": sa.Integer,
}


def _required(types: dict[str, Any]) -> list[sa.Column]:
    """A required column of each name and type in ``types``."""
    return [sa.Column(name, kind, nullable=False) for name, kind in types.items()]


published_releases = sa.Table(
    "published_releases",
    metadata,
    sa.Column("release_id", sa.String(32), primary_key=True),
    sa.Column("area", sa.String(255), nullable=False, index=True),
    *_required(_PERIOD),
    *_required(_RELEASE),
)

published_figures = sa.Table(
    "published_figures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("release_id", sa.String(32), nullable=False, index=True),
    sa.Column("area", sa.String(255), nullable=False, index=True),
    *_required(_FIGURE),
    *_required(_PERIOD),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("value", sa.Integer, nullable=True),
    sa.Column("threshold", sa.Integer, nullable=False),
)


def published_cells(store: Store, *, area: str = "") -> list[PublishedCell]:
    """Every figure published so far for ``area`` (each distinct figure and status once).

    Parameters
    ----------
    store
        The store.
    area
        The area's name ("" when the store does not keep areas apart).

    Returns
    -------
    list of PublishedCell
    """
    cols = [published_figures.c[n] for n in (*_KEY_COLS, "status", "value", "threshold")]
    query = sa.select(*cols).where(published_figures.c.area == area).distinct()
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        PublishedCell(
            key=tuple(str(x) for x in r[:6]),  # type: ignore[arg-type]
            status=str(r[6]),
            value=None if r[7] is None else int(r[7]),
            threshold=int(r[8]),
        )
        for r in rows
    ]


def custom_periods(store: Store, *, area: str = "") -> list[tuple[str, str]]:
    """The periods a supervisor has published that are not a calendar month or quarter.

    Parameters
    ----------
    store, area
        As for :func:`published_cells`.

    Returns
    -------
    list of (str, str)
        ``(first_month, last_month)`` as ``"YYYY-MM"``.
    """
    t = published_releases
    query = (
        sa.select(t.c.first_month, t.c.last_month)
        .where(t.c.area == area, t.c.custom.is_(True))
        .distinct()
    )
    with store.engine.connect() as conn:
        return [(str(a), str(b)) for a, b in conn.execute(query).all()]


def _fingerprint(cells: Sequence[PublishedCell]) -> str:
    body = sorted([*c.key, c.status, c.value, c.threshold] for c in cells)
    return hashlib.sha256(json.dumps(body, default=str).encode()).hexdigest()


def record_release(
    store: Store,
    cells: Sequence[PublishedCell],
    *,
    first: pd.Period,
    last: pd.Period,
    custom: bool = False,
    area: str = "",
    expect_releases: int | None = None,
) -> tuple[str, bool] | None:
    """Record a released summary's figures (each key, status and shown value; nothing else).

    A release identical to one recorded before for the same area adds nothing.

    Parameters
    ----------
    store
        The store.
    cells
        The figures of the release.
    first, last
        The months the release covers.
    custom
        Whether the period is one a supervisor chose (not a calendar month or quarter).
    area
        The area's name, as for :func:`published_cells`.
    expect_releases
        How many releases the area had when the figures were checked: when another release
        was recorded since, nothing is written and ``None`` is returned (check again).

    Returns
    -------
    (str, bool) or None
        The release id and whether it is new.
    """
    fp = _fingerprint(cells)
    t = published_releases
    with store.engine.connect() as conn:
        lock_for_migration(conn)  # one writer at a time: the check and the record agree
        found = conn.execute(
            sa.select(t.c.release_id).where(t.c.area == area, t.c.fingerprint == fp)
        ).scalar()
        if found is not None:
            conn.rollback()
            return str(found), False
        if expect_releases is not None and _count(conn, area) != expect_releases:
            conn.rollback()
            return None
        rid = uuid.uuid4().hex
        conn.execute(
            t.insert().values(
                release_id=rid,
                area=area,
                first_month=str(first),
                last_month=str(last),
                custom=bool(custom),
                fingerprint=fp,
                published_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                n_figures=len(cells),
            )
        )
        rows = [
            {
                **dict(zip(_KEY_COLS, c.key, strict=True)),
                "release_id": rid,
                "area": area,
                "status": c.status,
                "value": c.value,
                "threshold": c.threshold,
            }
            for c in cells
        ]
        if rows:
            conn.execute(published_figures.insert(), rows)
        conn.commit()
    return rid, True


def _count(conn: sa.Connection, area: str) -> int:
    t = published_releases
    query = sa.select(sa.func.count()).select_from(t).where(t.c.area == area)
    return int(conn.execute(query).scalar_one())


def release_count(store: Store, *, area: str = "") -> int:
    """How many summaries have been released for ``area``.

    Parameters are as for :func:`published_cells`.

    Returns
    -------
    int
        The number of releases recorded.
    """
    with store.engine.connect() as conn:
        return _count(conn, area)
