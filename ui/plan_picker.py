"""Pick one of the area's saved patrol plans (Briefings and Tracking share the choice)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.areas import Area
from planning.plan_store import saved_plans
from ui.escape import md_text
from ui.state import get_store

#: The plan picked last in this session (Patrols sets it to the plan it just saved).
PICKED_KEY = "plan_id"
#: An unsaved plan of this session (a plan JSON put in the session by hand, e.g. a test).
SESSION_PLAN = "session"


def plan_label(row: Any) -> str:
    """A saved plan in words: its date, then when it was made ('Thu 2024-02-01 · made ...')."""
    day = pd.Timestamp(row.plan_date)
    made = pd.Timestamp(row.created_at)
    return f"{day:%a %Y-%m-%d} · made {made:%d/%m/%Y %H:%M}"


def pick_saved_plan(area: Area | None, *, user: Any, key: str) -> tuple[str, dict[str, Any]] | None:
    """Draw a picker of the area's saved plans; return ``(plan_id, plan JSON)`` or ``None``.

    A team member sees only the plans with a route for their own team, read-only.

    Parameters
    ----------
    area
        The session's area: plans of other areas are never offered (``None``: no area yet,
        only an unsaved plan of this session).
    user
        The signed-in user (:class:`ui.auth.User`).
    key
        The widget key.

    Returns
    -------
    tuple or None
    """
    team = None
    if user.role == "team":
        if not user.team:
            st.info("Your account is not linked to a patrol team yet; ask a supervisor.")
            return None
        team = user.team
    saved = (
        saved_plans(get_store(), area_id=area.area_id, team=team)
        if area is not None
        else pd.DataFrame(columns=["plan_id", "plan_date", "created_at", "body"])
    )
    ids = list(saved["plan_id"])
    labels = {r.plan_id: plan_label(r) for r in saved.itertuples(index=False)}
    bodies = dict(zip(ids, saved["body"], strict=True))
    unsaved = st.session_state.get("plan_json")
    if team is None and isinstance(unsaved, dict) and st.session_state.get(PICKED_KEY) not in ids:
        ids.insert(0, SESSION_PLAN)
        labels[SESSION_PLAN] = f"Plan on the Patrols page ({unsaved.get('date', '?')}, not saved)"
        bodies[SESSION_PLAN] = unsaved
    if not ids:
        who = "for your team " if team else ""
        st.info(
            md_text(
                f"No patrol plan yet {who}in {area.name if area else 'this area'}: a supervisor "
                "plans patrols on the "
                "Patrols page, and every plan made there is saved for its area."
            )
        )
        return None
    picked = st.session_state.get(PICKED_KEY)
    choice = st.selectbox(
        "Saved patrol plan",
        ids,
        index=ids.index(picked) if picked in ids else 0,
        format_func=lambda k: labels.get(k, k),
        key=key,
        help="The area's saved plans, newest date first, then the time each was made.",
    )
    st.session_state[PICKED_KEY] = choice
    if team:
        st.caption(md_text(f"Read-only: {team}'s route in a plan a supervisor saved."))
    return str(choice), bodies[choice]
