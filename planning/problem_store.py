"""The problem-solving log's tables, records and reads (``problems``, ``problem_responses``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.store import Store, metadata
from geo.store_columns import stamp_columns
from planning.problem_text import ACTION_MAX

__all__ = [
    "NOTE_MAX",
    "STATUSES",
    "TITLE_MAX",
    "Problem",
    "Response",
    "check_status",
    "delete_area_problems",
    "get_problem",
    "get_response",
    "list_problems",
    "problem_responses",
    "problem_rows",
    "problems",
]

STATUSES = ("open", "done", "dropped")
TITLE_MAX = 80
NOTE_MAX = 300


def _area_id() -> sa.Column:
    """The area a row belongs to (each problem table is read by area)."""
    return sa.Column("area_id", sa.String(32), nullable=False, index=True)


# A problem (the S and A of SARA) in one area, linked to hotspots by their stable ids.
problems = sa.Table(
    "problems",
    metadata,
    sa.Column("problem_id", sa.String(16), primary_key=True),
    _area_id(),
    sa.Column("title", sa.String(TITLE_MAX), nullable=False),
    sa.Column("hotspot_ids", sa.Text, nullable=False),  # JSON list of stable hotspot ids
    sa.Column("scanning", sa.String(NOTE_MAX), nullable=False, default=""),
    sa.Column("analysis", sa.String(NOTE_MAX), nullable=False, default=""),
    *stamp_columns("created", "updated"),
)

# The R of SARA: what an agency (never a person) agreed to do, by when, and whether it did.
problem_responses = sa.Table(
    "problem_responses",
    metadata,
    sa.Column("response_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("problem_id", sa.String(16), nullable=False, index=True),
    _area_id(),
    sa.Column("agency", sa.String(40), nullable=False),
    sa.Column("action", sa.String(ACTION_MAX), nullable=False),
    sa.Column("due", sa.Date, nullable=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("started", sa.Date, nullable=True),
    *stamp_columns("created", "updated"),
)


@dataclass(frozen=True)
class Response:
    """One agreed response to a problem.

    Attributes
    ----------
    response_id
        Its number (unique in the store).
    problem_id
        The problem it answers.
    agency
        The agency that owns it (``[partnership] agencies`` in the settings), never a person.
    action
        What will be done, at most :data:`ACTION_MAX` characters, free of personal data.
    due
        When it is due, or ``None``.
    status
        ``"open"``, ``"done"`` or ``"dropped"``.
    started
        When it began (the assessment's "after" starts here), or ``None``.
    updated_at, updated_by
        The last change and who made it.
    """

    response_id: int
    problem_id: str
    agency: str
    action: str
    due: date | None = None
    status: str = "open"
    started: date | None = None
    updated_at: datetime | None = None
    updated_by: str = ""

    def to_json(self) -> dict[str, Any]:
        """The response as a JSON-ready dict (dates as ISO text)."""
        return {
            "response_id": self.response_id,
            "agency": self.agency,
            "action": self.action,
            "due": self.due.isoformat() if self.due else None,
            "status": self.status,
            "started": self.started.isoformat() if self.started else None,
        }


@dataclass(frozen=True)
class Problem:
    """A problem of the log: where (hotspots), what was seen (scanning, analysis), the responses.

    Attributes
    ----------
    problem_id
        Its id, e.g. ``"P-3FA81C"``.
    area_id
        The area it belongs to.
    title
        A short title, free of personal data.
    hotspot_ids
        The stable ids of its hotspots (at least one).
    scanning, analysis
        Short notes (at most :data:`NOTE_MAX` characters each), free of personal data.
    created_at, created_by, updated_at, updated_by
        When and by whom it was made and last changed.
    responses
        Its responses, oldest first.
    """

    problem_id: str
    area_id: str
    title: str
    hotspot_ids: tuple[str, ...]
    scanning: str = ""
    analysis: str = ""
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    responses: tuple[Response, ...] = field(default_factory=tuple)

    @property
    def began(self) -> date | None:
        """When the responses began: the earliest start date of a response not dropped."""
        starts = [r.started for r in self.responses if r.started and r.status != "dropped"]
        return min(starts) if starts else None

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict, responses included."""
        return {
            "problem_id": self.problem_id,
            "area_id": self.area_id,
            "title": self.title,
            "hotspot_ids": list(self.hotspot_ids),
            "scanning": self.scanning,
            "analysis": self.analysis,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "began": self.began.isoformat() if self.began else None,
            "responses": [r.to_json() for r in self.responses],
        }


def check_status(status: object) -> str:
    """Return a response status in lower case, or raise with the allowed ones.

    Parameters
    ----------
    status
        The status as given.

    Returns
    -------
    str
        One of :data:`STATUSES`.
    """
    text = str(status or "").strip().lower()
    if text not in STATUSES:
        msg = f"The status must be one of {', '.join(STATUSES)}."
        raise ValueError(msg)
    return text


def _response(row: Any) -> Response:
    return Response(
        response_id=int(row.response_id),
        problem_id=str(row.problem_id),
        agency=str(row.agency),
        action=str(row.action),
        due=row.due,
        status=str(row.status),
        started=row.started,
        updated_at=row.updated_at,
        updated_by=str(row.updated_by),
    )


def get_response(store: Store, response_id: Any, *, area_id: str | None = None) -> Response:
    """One response of the log.

    Parameters
    ----------
    response_id
        Its number.
    store, area_id
        As for :func:`get_problem`.

    Returns
    -------
    Response

    Raises
    ------
    ValueError
        When there is no such response (in that area).
    """
    try:
        rid = int(response_id)
    except (TypeError, ValueError):
        rid = -1
    q = sa.select(problem_responses).where(problem_responses.c.response_id == rid)
    if area_id is not None:
        q = q.where(problem_responses.c.area_id == str(area_id))
    with store.engine.connect() as conn:
        row = conn.execute(q).one_or_none()
    if row is None:
        msg = "No such response in this area's log; see `beatplan problems list`."
        raise ValueError(msg)
    return _response(row)


def _problem(row: Any, responses: list[Response]) -> Problem:
    return Problem(
        problem_id=str(row.problem_id),
        area_id=str(row.area_id),
        title=str(row.title),
        hotspot_ids=tuple(json.loads(row.hotspot_ids or "[]")),
        scanning=str(row.scanning or ""),
        analysis=str(row.analysis or ""),
        created_at=row.created_at,
        created_by=str(row.created_by),
        updated_at=row.updated_at,
        updated_by=str(row.updated_by),
        responses=tuple(responses),
    )


def list_problems(
    store: Store, *, area_id: str, status: str | None = None, hotspot_id: str | None = None
) -> list[Problem]:
    """An area's problems with their responses, oldest first.

    Parameters
    ----------
    store
        The store.
    area_id
        The area.
    status
        Keep only problems with a response of this status (``None``: all).
    hotspot_id
        Keep only problems linked to this hotspot.

    Returns
    -------
    list of Problem
    """
    if status is not None:
        status = check_status(status)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(problems)
            .where(problems.c.area_id == str(area_id))
            .order_by(problems.c.created_at, problems.c.problem_id)
        ).fetchall()
        resp = conn.execute(
            sa.select(problem_responses)
            .where(problem_responses.c.area_id == str(area_id))
            .order_by(problem_responses.c.response_id)
        ).fetchall()
    by_problem: dict[str, list[Response]] = {}
    for r in resp:
        by_problem.setdefault(str(r.problem_id), []).append(_response(r))
    out = [_problem(row, by_problem.get(str(row.problem_id), [])) for row in rows]
    if status is not None:
        out = [p for p in out if any(r.status == status for r in p.responses)]
    if hotspot_id is not None:
        out = [p for p in out if str(hotspot_id) in p.hotspot_ids]
    return out


def get_problem(store: Store, problem_id: str, *, area_id: str | None = None) -> Problem:
    """One problem with its responses, read from ``store``.

    Parameters
    ----------
    problem_id
        Its id (case-insensitive).
    area_id
        When given, it must belong to this area.

    Returns
    -------
    Problem

    Raises
    ------
    ValueError
        When there is no such problem (in that area).
    """
    pid = str(problem_id or "").strip().upper()
    q = sa.select(problems).where(problems.c.problem_id == pid)
    if area_id is not None:
        q = q.where(problems.c.area_id == str(area_id))
    with store.engine.connect() as conn:
        row = conn.execute(q).one_or_none()
        resp = conn.execute(
            sa.select(problem_responses)
            .where(problem_responses.c.problem_id == pid)
            .order_by(problem_responses.c.response_id)
        ).fetchall()
    if row is None:
        msg = "No such problem in this area's log; see `beatplan problems list`."
        raise ValueError(msg)
    return _problem(row, [_response(r) for r in resp])


def problem_rows(items: Iterable[Problem]) -> pd.DataFrame:
    """One row per response (a problem without responses gives one row), for tables and packs.

    Parameters
    ----------
    items
        Problems (from :func:`list_problems`).

    Returns
    -------
    pandas.DataFrame
        ``problem_id, title, hotspot_ids (comma-joined), began, response_id, agency, action,
        due, status, started``.
    """
    rows = []
    for p in items:
        base = {
            "problem_id": p.problem_id,
            "title": p.title,
            "hotspot_ids": ", ".join(p.hotspot_ids),
            "began": p.began,
        }
        if not p.responses:
            rows.append({**base, "response_id": None, "agency": "", "action": ""})
        for r in p.responses:
            rows.append({**base, **{k: v for k, v in r.__dict__.items() if k != "problem_id"}})
    cols = ["problem_id", "title", "hotspot_ids", "began", "response_id", "agency", "action"]
    cols += ["due", "status", "started"]
    return pd.DataFrame(rows).reindex(columns=cols)


def delete_area_problems(conn: sa.Connection, area_id: str) -> int:
    """Delete an area's problems and responses inside the caller's transaction (area deletion).

    Parameters
    ----------
    conn
        A connection inside a transaction.
    area_id
        The area.

    Returns
    -------
    int
        Problems deleted.
    """
    tables = set(sa.inspect(conn).get_table_names())
    if "problems" not in tables:
        return 0
    conn.execute(problem_responses.delete().where(problem_responses.c.area_id == str(area_id)))
    return int(conn.execute(problems.delete().where(problems.c.area_id == str(area_id))).rowcount)
