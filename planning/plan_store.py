"""Saved patrol plans of an area: list them (by date and time made) and read one back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from geo.store import Store, plans

if TYPE_CHECKING:
    from planning.routes import PatrolPlan

__all__ = ["list_plans", "load_plan", "load_saved_plan", "newest_plan_id", "saved_plans"]

COLUMNS = ["plan_id", "plan_date", "created_at", "created_by", "teams", "body"]
#: Columns of :func:`list_plans`.
LIST_COLUMNS = ["plan_id", "plan_date", "created_at", "created_by", "teams", "stops", "travel"]


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


def _stop_count(body: dict[str, Any]) -> int:
    """The number of stops over every team of a plan JSON."""
    teams = body.get("teams")
    teams = teams if isinstance(teams, list) else []
    return sum(
        len(t["stops"]) for t in teams if isinstance(t, dict) and isinstance(t.get("stops"), list)
    )


def list_plans(store: Store, *, area_id: str, plan_date: str | None = None) -> pd.DataFrame:
    """Return an area's saved plans in brief, newest first (by plan date, then time made).

    Parameters
    ----------
    store, area_id, plan_date
        As for :func:`saved_plans` (which also picks a team's plans).

    Returns
    -------
    pandas.DataFrame
        ``plan_id, plan_date, created_at, created_by, teams, stops, travel``: ``teams`` and
        ``stops`` counted, ``travel`` ``"network"`` or ``"straight-line"``.
    """
    saved = saved_plans(store, area_id=area_id, plan_date=plan_date)
    bodies = list(saved["body"])
    out = saved[["plan_id", "plan_date", "created_at", "created_by"]].copy()
    out["teams"] = pd.array([len(names) for names in saved["teams"]], dtype="int64")
    out["stops"] = pd.array([_stop_count(b) for b in bodies], dtype="int64")
    out["travel"] = [str(b.get("travel", "network")) for b in bodies]
    return out.reset_index(drop=True)[LIST_COLUMNS]


def newest_plan_id(store: Store, *, area_id: str, plan_date: str) -> str:
    """Return the id of the newest saved plan of an area for a date.

    Parameters
    ----------
    store
        The store holding the saved plans.
    area_id
        The area whose plans are searched.
    plan_date
        The plan date, ``YYYY-MM-DD``.

    Returns
    -------
    str
        The plan id.

    Raises
    ------
    ValueError
        When the area has no saved plan for that date.
    """
    saved = list_plans(store, area_id=area_id, plan_date=plan_date)
    if saved.empty:
        msg = (
            f"No patrol plan is saved for {plan_date} in this area; "
            "make one with 'beatplan plan --date' or pick another date."
        )
        raise ValueError(msg)
    return str(saved["plan_id"].iloc[0])


def load_plan(store: Store, plan_id: str, *, area_id: str) -> PatrolPlan:
    """Return one saved plan of an area as a :class:`planning.routes.PatrolPlan`.

    Parameters are as for :func:`load_saved_plan`.

    Returns
    -------
    PatrolPlan
        The plan rebuilt from its saved JSON.

    Raises
    ------
    ValueError
        When the area has no such plan, or it cannot be read as a plan.
    """
    from planning.export import plan_from_json

    body = load_saved_plan(store, plan_id, area_id=area_id)
    try:
        return plan_from_json(body)
    except (TypeError, AttributeError) as exc:
        msg = "That saved patrol plan cannot be read; plan patrols again for its date."
        raise ValueError(msg) from exc
