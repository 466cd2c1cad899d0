"""The ``beatplan`` options that pick a plan: a plan file, a saved plan's id or a plan date."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["add_plan_options", "plan_json_for"]

NOT_A_PLAN = "{name} is not a plan JSON file (write one with 'beatplan plan --out F.json')"


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--plan FILE | --plan-id ID | --date D`` (exactly one) to a sub-command.

    Parameters
    ----------
    parser
        The sub-command's parser.
    """
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--plan", default=None, metavar="F.json", help="a plan JSON file")
    group.add_argument(
        "--plan-id", default=None, metavar="ID", help="a plan saved in the area (beatplan plan)"
    )
    group.add_argument(
        "--date",
        dest="plan_date",
        default=None,
        metavar="DATE",
        help="the newest plan saved in the area for this date",
    )


def _read_file(path: str) -> dict[str, Any]:
    """A plan JSON file as a dict; a plain error when it is not one."""
    msg = NOT_A_PLAN.format(name=Path(path).name)
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(msg) from exc
    if not isinstance(body, dict) or not isinstance(body.get("teams"), list):
        raise ValueError(msg)
    return body


def plan_json_for(args: argparse.Namespace, store: Any, *, area_id: str | None) -> dict[str, Any]:
    """Return the plan JSON a command names (a file, a saved plan id, or a date's newest plan).

    Parameters
    ----------
    args
        The parsed arguments (``plan``, ``plan_id``, ``plan_date``).
    store
        The store.
    area_id
        The command's area; saved plans of other areas are never read.

    Returns
    -------
    dict
        The plan as :func:`planning.export.plan_to_json` wrote it.

    Raises
    ------
    ValueError
        When the file is not a plan, or the area has no such saved plan.
    """
    if getattr(args, "plan", None):
        return _read_file(args.plan)
    if area_id is None:
        msg = "No area yet: create one with 'beatplan area create' and plan patrols in it."
        raise ValueError(msg)
    from planning.plan_store import load_saved_plan, newest_plan_id

    plan_id = args.plan_id
    if plan_id is None:
        import pandas as pd

        try:
            day = pd.Timestamp(str(args.plan_date)).date().isoformat()
        except ValueError as exc:
            msg = "--date must be a date such as 2024-02-01."
            raise ValueError(msg) from exc
        plan_id = newest_plan_id(store, area_id=area_id, plan_date=day)
    return load_saved_plan(store, str(plan_id), area_id=area_id)
