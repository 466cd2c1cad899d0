"""The partnership's problem-solving log (SARA): problems at hotspots and the agencies' responses."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.store import Store, current_user
from planning.problem_store import (
    NOTE_MAX,
    STATUSES,
    TITLE_MAX,
    Problem,
    Response,
    check_status,
    delete_area_problems,
    get_problem,
    get_response,
    list_problems,
    problem_responses,
    problem_rows,
    problems,
)
from planning.problem_text import (
    ACTION_MAX,
    DEFAULT_AGENCIES,
    PersonalDataError,
    agencies,
    check_text,
    find_personal_text,
    partnership_settings,
)

__all__ = [
    "ACTION_MAX",
    "DEFAULT_AGENCIES",
    "EDIT_ROLES",
    "NOTE_MAX",
    "STATUSES",
    "TITLE_MAX",
    "PersonalDataError",
    "Problem",
    "Response",
    "add_problem",
    "add_response",
    "agencies",
    "check_text",
    "delete_area_problems",
    "find_personal_text",
    "get_problem",
    "get_response",
    "list_problems",
    "partnership_settings",
    "problem_responses",
    "problem_rows",
    "problems",
    "update_problem",
    "update_response",
]

EDIT_ROLES = ("supervisor", "partner")
HOTSPOTS_MAX = 20


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _check_role(role: str | None) -> None:
    if role is not None and role not in EDIT_ROLES:
        msg = "Only supervisors and partners can change the problem-solving log."
        raise PermissionError(msg)


def _as_date(value: Any, what: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError) as exc:
        msg = f"The {what} date must look like 2024-03-31."
        raise ValueError(msg) from exc


def _check_hotspots(ids: Iterable[str], known: Collection[str] | None) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(str(h).strip() for h in ids if str(h).strip()))
    if not out:
        msg = "Link the problem to at least one hotspot (its id, e.g. from `beatplan hotspots`)."
        raise ValueError(msg)
    if len(out) > HOTSPOTS_MAX:
        msg = f"A problem links at most {HOTSPOTS_MAX} hotspots; split it into smaller problems."
        raise ValueError(msg)
    bad = [h for h in out if not re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", h)]
    if known is not None:
        known_set = {str(k) for k in known}
        bad += [h for h in out if h not in known_set and h not in bad]
    if bad:
        msg = (
            f"{len(bad)} of the hotspot ids given are not hotspots of this area; use ids "
            "from the Hotspots page or `beatplan hotspots`."
        )
        raise ValueError(msg)
    return out


def _check_agency(agency: object, settings_path: Any) -> str:
    slug = str(agency or "").strip().lower()
    allowed = agencies(settings_path)
    if slug not in allowed:
        msg = f"The agency must be one of {', '.join(allowed)} (an agency, never a person)."
        raise ValueError(msg)
    return slug


def _problem_fields(
    given: dict[str, str | None],
    *,
    hotspot_ids: Iterable[str] | None,
    known_hotspots: Collection[str] | None,
) -> dict[str, Any]:
    """The problem's text fields in ``given`` and its hotspots, checked and as stored.

    A field that is ``None`` is left out (an update keeps it).
    """
    kinds = {"title": ("title", TITLE_MAX), "scanning": ("scanning note", NOTE_MAX)}
    kinds["analysis"] = ("analysis note", NOTE_MAX)
    values: dict[str, Any] = {
        name: check_text(text, what=kinds[name][0], max_len=kinds[name][1])
        for name, text in given.items()
        if text is not None
    }
    if hotspot_ids is not None:
        values["hotspot_ids"] = json.dumps(list(_check_hotspots(hotspot_ids, known_hotspots)))
    return values


def _response_fields(given: dict[str, Any], *, settings_path: Any) -> dict[str, Any]:
    """The response fields in ``given`` (agency, action, due, started, status), checked.

    A field that is ``None`` is left out (an update keeps it).
    """
    check = {
        "agency": lambda v: _check_agency(v, settings_path),
        "action": lambda v: check_text(v, what="action", max_len=ACTION_MAX),
        "due": lambda v: _as_date(v, "due"),
        "started": lambda v: _as_date(v, "start"),
        "status": check_status,
    }
    return {name: check[name](value) for name, value in given.items() if value is not None}


def _change(values: dict[str, Any], *, keeps: str, kept: str, nothing: str) -> dict[str, Any]:
    """``values`` as an update: refused when it empties field ``keeps`` or changes nothing."""
    if values.get(keeps) == "":
        raise ValueError(kept)
    if not values:
        raise ValueError(nothing)
    return values


def _who(actor: str | None) -> str:
    """The actor to record: the one given, else the local operator (at most 255 characters)."""
    return (actor or current_user())[:255]


def _audit(conn: sa.Connection, what: str, n_rows: int, actor: str) -> None:
    """Audit a change in the same transaction: action, ids and counts, never the text."""
    from geo.store_write import StoreWriter

    StoreWriter._audit(conn, "problem", what, n_rows, actor)


def add_problem(
    store: Store,
    *,
    area_id: str,
    title: str,
    hotspot_ids: Iterable[str],
    known_hotspots: Collection[str] | None = None,
    scanning: str = "",
    analysis: str = "",
    actor: str | None = None,
    role: str | None = None,
) -> Problem:
    """Add a problem to an area's log.

    Audited: its id and hotspot count, never its text.

    Parameters
    ----------
    store
        The store.
    area_id
        The area it belongs to.
    title
        A short title (at most :data:`TITLE_MAX` characters), checked by :func:`check_text`.
    hotspot_ids
        The stable ids of its hotspots.
    known_hotspots
        The ids that exist in the area (e.g. its current hotspots and those already in its
        log); each of ``hotspot_ids`` must be among them. ``None`` checks only their form.
    scanning, analysis
        Short notes (at most :data:`NOTE_MAX` characters), checked by :func:`check_text`.
    actor
        Who made it (default: the local operator).
    role
        The signed-in role, when there is one: only :data:`EDIT_ROLES` may edit.

    Returns
    -------
    Problem

    Raises
    ------
    PermissionError
        For a role that may not edit.
    PersonalDataError, ValueError
        For text with personal data, unknown hotspots, or text too long.
    """
    _check_role(role)
    if not check_text(title, what="title", max_len=TITLE_MAX):
        msg = "Give the problem a short title, e.g. 'Needles in the alleys off Hessle Road'."
        raise ValueError(msg)
    given = {"title": title, "scanning": scanning, "analysis": analysis}
    row = _problem_fields(given, hotspot_ids=hotspot_ids, known_hotspots=known_hotspots)
    actor, now = _who(actor), _now()
    stamps = {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}
    with store.engine.begin() as conn:
        problem_id = _new_id(conn)
        conn.execute(
            problems.insert().values(problem_id=problem_id, area_id=str(area_id), **row, **stamps)
        )
        n_hotspots = len(json.loads(row["hotspot_ids"]))
        _audit(conn, f"problem {problem_id} added: {n_hotspots} hotspots", 1, actor)
    return get_problem(store, problem_id)


def _new_id(conn: sa.Connection) -> str:
    for _ in range(20):
        candidate = f"P-{uuid.uuid4().hex[:6].upper()}"
        q = sa.select(problems.c.problem_id).where(problems.c.problem_id == candidate)
        if conn.execute(q).scalar_one_or_none() is None:
            return candidate
    msg = "Could not find a free problem id; try again."  # pragma: no cover (16M ids)
    raise RuntimeError(msg)


def update_problem(
    store: Store,
    problem_id: str,
    *,
    title: str | None = None,
    hotspot_ids: Iterable[str] | None = None,
    known_hotspots: Collection[str] | None = None,
    scanning: str | None = None,
    analysis: str | None = None,
    area_id: str | None = None,
    actor: str | None = None,
    role: str | None = None,
) -> Problem:
    """Change a problem's title, hotspots or notes (``None`` keeps a field); audited.

    Parameters are as for :func:`add_problem`, with ``problem_id`` the problem to change (one
    of ``area_id``, when given) and ``actor`` who changed it.

    Returns
    -------
    Problem
        The problem after the change, with its responses.
    """
    _check_role(role)
    current = get_problem(store, problem_id, area_id=area_id)
    given = {"title": title, "scanning": scanning, "analysis": analysis}
    values = _change(
        _problem_fields(given, hotspot_ids=hotspot_ids, known_hotspots=known_hotspots),
        keeps="title",
        kept="A problem keeps a title; type a short one.",
        nothing="Nothing to change: give a new title, hotspots or note.",
    )
    actor = _who(actor)
    values.update(updated_at=_now(), updated_by=actor)
    with store.engine.begin() as conn:
        conn.execute(
            problems.update().where(problems.c.problem_id == current.problem_id).values(**values)
        )
        fields = sorted(k for k in values if k not in ("updated_at", "updated_by"))
        _audit(conn, f"problem {current.problem_id} updated: {', '.join(fields)}", 1, actor)
    return get_problem(store, current.problem_id)


def add_response(
    store: Store,
    problem_id: str,
    *,
    agency: str,
    action: str,
    due: date | str | None = None,
    status: str = "open",
    started: date | str | None = None,
    area_id: str | None = None,
    actor: str | None = None,
    role: str | None = None,
    settings_path: str | os.PathLike[str] | None = None,
) -> Response:
    """Add an agency's response to a problem; audited (ids and agency, never the action text).

    Parameters
    ----------
    store
        The store.
    problem_id
        The problem.
    agency
        One of :func:`agencies`.
    action
        What will be done (at most :data:`ACTION_MAX` characters), checked by
        :func:`check_text`.
    due, started
        Dates (``date`` or ISO text), or ``None``.
    status
        One of :data:`STATUSES`.
    area_id
        When given, the problem must belong to this area.
    actor
        Who added it.
    role
        The signed-in role, when there is one.
    settings_path
        The settings TOML with ``[partnership] agencies`` (default: the usual one).

    Returns
    -------
    Response
    """
    _check_role(role)
    problem = get_problem(store, problem_id, area_id=area_id)
    given = {"agency": agency, "action": action, "due": due, "started": started, "status": status}
    row = {"problem_id": problem.problem_id, "area_id": problem.area_id, "due": None}
    row |= {"started": None} | _response_fields(given, settings_path=settings_path)
    if not row["action"]:
        msg = "Say what the agency will do, e.g. 'Joint patrol with outreach on Hessle Road'."
        raise ValueError(msg)
    slug = row["agency"]
    actor, now = _who(actor), _now()
    with store.engine.begin() as conn:
        result = conn.execute(
            problem_responses.insert().values(
                **row, created_at=now, created_by=actor, updated_at=now, updated_by=actor
            )
        )
        response_id = int(result.inserted_primary_key[0])
        what = f"response {response_id} added to {problem.problem_id}: agency {slug}"
        _audit(conn, what, 1, actor)
    return get_response(store, response_id)


def update_response(
    store: Store,
    response_id: int,
    *,
    status: str | None = None,
    due: date | str | None = None,
    started: date | str | None = None,
    action: str | None = None,
    agency: str | None = None,
    settings_path: str | os.PathLike[str] | None = None,
    area_id: str | None = None,
    actor: str | None = None,
    role: str | None = None,
) -> Response:
    """Change a response (``None`` keeps a field); audited (the fields changed, never text).

    Parameters are as for :func:`add_response`, with ``response_id`` the response to change
    (one of ``area_id``, when given) and ``actor`` who changed it.

    Returns
    -------
    Response
        The response as it now stands.
    """
    _check_role(role)
    current = get_response(store, response_id, area_id=area_id)
    given = {"agency": agency, "action": action, "due": due, "started": started, "status": status}
    values = _change(
        _response_fields(given, settings_path=settings_path),
        keeps="action",
        kept="A response keeps its action; type what the agency will do.",
        nothing="Nothing to change: give a status, due or start date, action or agency.",
    )
    actor = _who(actor)
    fields = sorted(values)
    values.update(updated_at=_now(), updated_by=actor)
    with store.engine.begin() as conn:
        conn.execute(
            problem_responses.update()
            .where(problem_responses.c.response_id == current.response_id)
            .values(**values)
        )
        conn.execute(
            problems.update()
            .where(problems.c.problem_id == current.problem_id)
            .values(updated_at=values["updated_at"], updated_by=actor)
        )
        what = f"response {current.response_id} of {current.problem_id} updated: "
        _audit(conn, what + ", ".join(fields), 1, actor)
    return get_response(store, current.response_id)
