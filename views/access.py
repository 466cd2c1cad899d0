"""Access page: supervisors give people a role (by e-mail address) or take it away; changes are audited."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.roles import ROLE_DESCRIPTIONS, ROLES, list_roles, remove_role, set_role
from ui.auth import auth_settings, require
from ui.escape import md_text
from ui.state import get_store

user = require("access")
st.title("Access")
st.write(
    "Who may use Beatplan, by the e-mail address they sign in with. Each role sees only "
    "what it needs; every change is written to the audit log."
)
if user.local:
    st.info(
        "Single-user local mode: no sign-in is configured, so these roles take effect only "
        "once an [auth] section is added to .streamlit/secrets.toml (see the README)."
    )
st.dataframe(
    pd.DataFrame({"Role": list(ROLE_DESCRIPTIONS), "Sees": list(ROLE_DESCRIPTIONS.values())}),
    hide_index=True,
    width="stretch",
)

store = get_store()
config = auth_settings()
issuers = config.issuers if config else {}
with st.form("set_role", clear_on_submit=True):
    c1, c2, c3 = st.columns([3, 2, 2])
    email = c1.text_input("E-mail address", placeholder="name@force.police.uk")
    role = c2.selectbox("Role", ROLES)
    team = c3.text_input("Team (team role only)", placeholder="Foot patrol")
    a1, a2 = st.columns([3, 4])
    account = a1.text_input(
        "Account id (optional)",
        disabled=not issuers,
        help="Needed when the identity provider does not confirm e-mail addresses (e.g. "
        "Microsoft Entra ID): the person sees their account id on the No access page. "
        "Otherwise the role is bound to their account the first time they sign in.",
    )
    provider = (
        a2.selectbox("Identity provider", list(issuers), format_func=lambda p: p or "default")
        if len(issuers) > 1
        else next(iter(issuers), None)
    )
    if st.form_submit_button("Give this role", type="primary"):
        bind = {"issuer": issuers[provider], "subject": account} if account.strip() else {}
        try:
            done = set_role(store, email, role, actor=user.email, team=team or None, **bind)
            st.success(md_text(f"{done.email} is now {done.role}."))
        except ValueError as exc:
            st.error(md_text(str(exc)))

people = list_roles(store)
st.subheader("People with a role")
if people.empty:
    st.caption("Nobody yet.")
    st.stop()
people["linked"] = people["subject"].notna().map({True: "yes", False: "at first sign-in"})
st.dataframe(
    people[["email", "role", "team", "linked", "updated_at", "updated_by"]].rename(
        columns={
            "linked": "Account",
            "email": "E-mail",
            "role": "Role",
            "team": "Team",
            "updated_at": "Changed (UTC)",
            "updated_by": "Changed by",
        }
    ),
    hide_index=True,
    width="stretch",
)
with st.form("remove_role"):
    gone = st.selectbox("Take the role away from", list(people["email"]))
    if st.form_submit_button("Remove role"):
        if gone == user.email:
            st.error("You cannot remove your own role; ask another supervisor.")
        else:
            remove_role(store, gone, actor=user.email)
            st.success(md_text(f"{gone} no longer has a role."))
            st.rerun()
