"""The store's side of areas: the current area, and the resolve rule every area-scoped call uses."""

from __future__ import annotations

import importlib
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from geo.store_audit import current_user
from geo.store_tables import areas, store_meta

__all__ = [
    "CURRENT_AREA_KEY",
    "DEFAULT_AREA_NAME",
    "AreaChoiceError",
    "create_default_area",
    "read_current_area_id",
    "resolve_area_id",
    "write_current_area_id",
]

CURRENT_AREA_KEY = "current_area"
DEFAULT_AREA_NAME = "Default area"
_WORLD = (-180.0, -90.0, 180.0, 90.0)


class AreaChoiceError(ValueError):
    """No area, or several and none chosen: the message says what to do."""


def read_current_area_id(conn: sa.Connection) -> str | None:
    """Return the id of the current area (stored in ``store_meta``), or ``None``.

    A current area that no longer exists counts as none.

    Parameters
    ----------
    conn
        A connection to the store's database.

    Returns
    -------
    str or None
        The area's id.
    """
    q = (
        sa.select(areas.c.area_id)
        .select_from(store_meta.join(areas, areas.c.area_id == store_meta.c.value))
        .where(store_meta.c.name == CURRENT_AREA_KEY)
    )
    found = conn.execute(q).scalar_one_or_none()
    return None if found is None else str(found)


def write_current_area_id(conn: sa.Connection, area_id: str | None) -> None:
    """Make ``area_id`` the current area (``None`` clears it), inside the caller's transaction.

    Parameters
    ----------
    conn
        A connection inside a transaction.
    area_id
        The area, or ``None``.
    """
    if area_id is None:
        conn.execute(store_meta.delete().where(store_meta.c.name == CURRENT_AREA_KEY))
        return
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):  # an upsert: two writers at once never collide
        insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
        stmt = insert(store_meta).values(name=CURRENT_AREA_KEY, value=str(area_id))
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[store_meta.c.name], set_={"value": stmt.excluded.value}
            )
        )
        return
    conn.execute(store_meta.delete().where(store_meta.c.name == CURRENT_AREA_KEY))
    conn.execute(store_meta.insert().values(name=CURRENT_AREA_KEY, value=str(area_id)))


def resolve_area_id(
    conn: sa.Connection,
    area_id: str | None,
    *,
    required: bool = True,
    create_default: bool = False,
) -> str | None:
    """Return the area a store call works on: the one given, else the current, else the only one.

    Parameters
    ----------
    conn
        A connection.
    area_id
        The area asked for (its id), or ``None``.
    required
        When the store has no area at all: raise (``True``) or return ``None`` (reads of an
        empty store then find nothing).
    create_default
        When the store has no area at all, create "Default area" (the settings' ``[area]``
        box, else the whole world) and return it: a first write needs no set-up.

    Returns
    -------
    str or None

    Raises
    ------
    AreaChoiceError
        When ``area_id`` is unknown, when the store holds several areas and none is current,
        or (``required``) when it holds none.
    """
    if area_id is not None:
        q = sa.select(areas.c.area_id).where(areas.c.area_id == str(area_id))
        if conn.execute(q).scalar_one_or_none() is None:
            msg = f"No area has id {str(area_id)[:40]!r}; see `beatplan area list`."
            raise AreaChoiceError(msg)
        return str(area_id)
    current = read_current_area_id(conn)
    if current is not None:
        return current
    ids = list(conn.execute(sa.select(areas.c.area_id).limit(2)).scalars())
    if len(ids) == 1:
        return str(ids[0])
    if ids:
        msg = "several areas: choose one with --area NAME (beatplan area list)"
        raise AreaChoiceError(msg)
    if create_default:
        return create_default_area(conn)
    if required:
        msg = "no area yet: create one with `beatplan area create NAME --bbox W,S,E,N`"
        raise AreaChoiceError(msg)
    return None


def create_default_area(conn: sa.Connection, *, actor: str | None = None) -> str:
    """Create the current area "Default area" inside the caller's transaction.

    Not audited on its own: the write that needed it (an import) is.

    Its box is the settings' ``[area] bbox``, else the whole world (nothing is rejected).

    Parameters
    ----------
    conn
        A connection inside a transaction.
    actor
        Who caused it (default: the local operator).

    Returns
    -------
    str
        The new area's id.
    """
    from geo.settings import load_settings

    try:
        w, s, e, n = load_settings().area_bbox or _WORLD
    except (OSError, ValueError):  # a broken settings file: no box rather than no import
        w, s, e, n = _WORLD
    area_id = uuid.uuid4().hex[:16]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    actor = (actor or current_user())[:255]
    values = {
        "area_id": area_id,
        "name": DEFAULT_AREA_NAME,
        "min_lon": w,
        "min_lat": s,
        "max_lon": e,
        "max_lat": n,
        "boundary": None,
        "synthetic": False,
        "created_at": now,
        "created_by": actor,
        "settings": json.dumps({}),
    }
    # Two first imports at the same moment (two processes) both find no area: the second
    # one's insert does nothing and both go on with the one "Default area".
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
        conn.execute(insert(areas).values(**values).on_conflict_do_nothing())
    else:
        conn.execute(areas.insert().values(**values))
    q = sa.select(areas.c.area_id).where(areas.c.name == DEFAULT_AREA_NAME)
    area_id = str(conn.execute(q).scalar_one())
    write_current_area_id(conn, area_id)
    return area_id
