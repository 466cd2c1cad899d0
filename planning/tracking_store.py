"""The patrol log store: visit summaries (never track points) in ``patrol_logs``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from datetime import date as Date

import pandas as pd
import sqlalchemy as sa

from geo.hotspot_ids import is_hotspot_id
from geo.store import Store, current_user, metadata
from geo.store_areas import resolve_area_id

patrol_logs = sa.Table(
    "patrol_logs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team", sa.String(255), nullable=False),
    sa.Column("date", sa.String(10), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime, nullable=True),
    sa.Column("hotspot_id", sa.String(32), nullable=False),
    sa.Column("minutes", sa.Float, nullable=False),
    sa.Column("source_file", sa.String(255), nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("recorded_by", sa.String(255), nullable=False),
    sa.Column("area_id", sa.String(32), nullable=True, index=True),  # geo.areas (migration 0005)
)
LOG_COLUMNS = [c.name for c in patrol_logs.columns]


def _ensure_table(store: Store) -> None:
    metadata.create_all(store.engine, tables=[patrol_logs])


def save_visits(
    store: Store,
    visits: pd.DataFrame,
    *,
    team: str,
    source_file: str,
    actor: str | None = None,
    area_id: str | None = None,
) -> int:
    """Store visits (team, date, hotspot, minutes) in ``patrol_logs`` and audit the import.

    They belong to ``area_id`` (default: the store's current, else only, area).

    Only the visit summary is stored, never the track's points.

    Parameters
    ----------
    store
        The store.
    visits
        From :func:`hotspot_visits` (``hotspot_id``, ``start``, ``minutes``) or with a
        ``date`` column instead of ``start``.
    team
        The team that patrolled.
    source_file
        The GPX file name or ``"manual entry"``.
    actor
        Who recorded it.

    Returns
    -------
    int
        Rows stored.
    """
    _ensure_table(store)
    actor = actor or current_user()
    with store.engine.connect() as conn:
        area_id = resolve_area_id(conn, area_id, required=False)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if "start" in visits.columns:
        started = pd.to_datetime(visits["start"])
        dates = started.dt.strftime("%Y-%m-%d")
        started_py = [None if pd.isna(x) else x.to_pydatetime() for x in started]
    else:
        dates = pd.to_datetime(visits["date"]).dt.strftime("%Y-%m-%d")
        started_py = [None] * len(visits)
    rows = [
        {
            "team": str(team)[:255],
            "date": d,
            "started_at": s,
            "hotspot_id": str(h)[:32],
            "minutes": float(m),
            "source_file": str(source_file)[:255],
            "recorded_at": now,
            "recorded_by": actor[:255],
            "area_id": area_id,
        }
        for d, s, h, m in zip(
            dates, started_py, visits["hotspot_id"], visits["minutes"], strict=True
        )
    ]
    with store.engine.begin() as conn:
        if rows:
            conn.execute(patrol_logs.insert(), rows)
    store.audit("import", f"patrol track {source_file}", n_rows=len(rows), actor=actor)
    return len(rows)


def log_patrol(
    store: Store,
    *,
    team: str,
    date: Date | str,
    hotspot_id: str,
    minutes: float,
    actor: str | None = None,
    area_id: str | None = None,
    hotspot_ids: Iterable[str] | None = None,
) -> int:
    """Record a patrol by hand (teams without GPS), in an area (default: the current one).

    Parameters
    ----------
    store
        The store.
    team, date, hotspot_id, minutes
        What was done; the hotspot is a hotspot id (``H-`` and six letters or digits).
    actor
        Who recorded it.
    area_id
        The area.
    hotspot_ids
        The area's hotspots: an id not among them is refused (the Tracking page passes the
        hotspots it offers).

    Returns
    -------
    int
        Rows stored (1).

    Raises
    ------
    ValueError
        For a blank team or hotspot, a hotspot that is not one of the area's, or minutes
        outside 1..720.
    """
    if not str(team).strip() or not str(hotspot_id).strip():
        msg = "Give the team and the hotspot for the patrol."
        raise ValueError(msg)
    if not 0 < float(minutes) <= 720:
        msg = "Minutes must be between 1 and 720."
        raise ValueError(msg)
    hotspot_id = str(hotspot_id).strip()
    known = None if hotspot_ids is None else {str(h) for h in hotspot_ids}
    if not is_hotspot_id(hotspot_id) or (known is not None and hotspot_id not in known):
        msg = (
            "That is not a hotspot of this area: pick one of the area's hotspots "
            "(ids look like H-4KX2Q7, as on the Hotspots page)."
        )
        raise ValueError(msg)
    frame = pd.DataFrame(
        {"date": [pd.Timestamp(date)], "hotspot_id": [hotspot_id], "minutes": [float(minutes)]}
    )
    return save_visits(
        store,
        frame,
        team=str(team).strip(),
        source_file="manual entry",
        actor=actor,
        area_id=area_id,
    )


def patrol_log(store: Store, *, area_id: str | None = None) -> pd.DataFrame:
    """Read an area's stored patrol log.

    Parameters
    ----------
    store
        The store.
    area_id
        The area (default: the current one, else the only one).

    Returns
    -------
    pandas.DataFrame
        ``id, team, date (datetime64), started_at, hotspot_id, minutes, source_file,
        recorded_at, recorded_by, area_id``, oldest first.
    """
    _ensure_table(store)
    with store.engine.connect() as conn:
        area_id = resolve_area_id(conn, area_id, required=False)
        rows = conn.execute(
            sa.select(patrol_logs)
            .where(patrol_logs.c.area_id == area_id if area_id else patrol_logs.c.area_id.is_(None))
            .order_by(patrol_logs.c.id)
        ).fetchall()
    out = pd.DataFrame(rows, columns=LOG_COLUMNS)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    out["started_at"] = pd.to_datetime(out["started_at"]).astype("datetime64[ns]")
    out["minutes"] = out["minutes"].astype(float)
    return out


__all__: Sequence[str] = (
    "LOG_COLUMNS",
    "log_patrol",
    "patrol_log",
    "patrol_logs",
    "save_visits",
)
