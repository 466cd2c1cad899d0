"""Saved patrol plans of an area: list them (by date and time made) and read one back."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.store import Store, plans

__all__ = ["load_saved_plan", "saved_plans"]

COLUMNS = ["plan_id", "plan_date", "created_at", "created_by", "teams", "body"]


def _body(text: Any) -> dict[str, Any] | None:
    """A stored plan's JSON as a dict, or ``None`` when it cannot be read."""
    try:
        body = json.loads(text) if isinstance(text, str | bytes) else text
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _team_names(body: dict[str, Any]) -> list[str]:
    """The plan's team names (``teams[].name`` of :func:`planning.export.plan_to_json`)."""
    teams = body.get("teams")
    teams = teams if isinstance(teams, list) else []
    return [str(t["name"]) for t in teams if isinstance(t, dict) and t.get("name") is not None]


def saved_plans(
    store: Store, *, area_id: str, plan_date: str | None = None, team: str | None = None
) -> pd.DataFrame:
    """Return an area's saved patrol plans, newest first (by plan date, then time made).

    Parameters
    ----------
    store
        The store.
    area_id
        The area; plans of other areas are never returned.
    plan_date
        Only plans for this date (``YYYY-MM-DD``).
    team
        Only plans with a route for this team (a team member's own plans).

    Returns
    -------
    pandas.DataFrame
        ``plan_id, plan_date, created_at, created_by, teams, body``: ``teams`` the team
        names, ``body`` the plan as a dict (plans whose JSON cannot be read are left out).
    """
    q = (
        sa.select(plans.c.plan_id, plans.c.plan_date, plans.c.created_at, plans.c.created_by)
        .add_columns(plans.c.body)
        .where(plans.c.area_id == str(area_id))
        .order_by(plans.c.plan_date.desc(), plans.c.created_at.desc(), plans.c.plan_id)
    )
    if plan_date is not None:
        q = q.where(plans.c.plan_date == str(plan_date))
    with store.engine.connect() as conn:
        rows = conn.execute(q).fetchall()
    out = []
    for plan_id, day, made, by, text in rows:
        body = _body(text)
        if body is None:
            continue
        names = _team_names(body)
        if team is not None and team not in names:
            continue
        out.append((plan_id, day, pd.Timestamp(made), by, names, body))
    return pd.DataFrame(out, columns=COLUMNS)


def load_saved_plan(store: Store, plan_id: str, *, area_id: str) -> dict[str, Any]:
    """Return one saved plan of an area as a dict (the plan JSON of ``beatplan plan``).

    Parameters
    ----------
    store
        The store.
    plan_id
        The plan.
    area_id
        Its area: a plan of another area is not found.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        When the area has no such plan, or its JSON cannot be read.
    """
    q = sa.select(plans.c.body).where(
        plans.c.plan_id == str(plan_id), plans.c.area_id == str(area_id)
    )
    with store.engine.connect() as conn:
        text = conn.execute(q).scalar_one_or_none()
    body = None if text is None else _body(text)
    if body is None:
        msg = "That patrol plan is not saved for this area; pick another or plan patrols again."
        raise ValueError(msg)
    return body
