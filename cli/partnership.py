"""The ``beatplan`` partnership commands: ``problems list|add|update`` and ``displacement``."""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import _day

__all__ = [
    "add_partnership_parsers",
    "cmd_displacement",
    "cmd_problems",
    "known_hotspot_ids",
]


def add_partnership_parsers(sub: Any) -> None:
    """Add the ``problems`` and ``displacement`` commands to the top-level subparsers.

    Parameters
    ----------
    sub
        The subparsers action of the ``beatplan`` parser.
    """
    from cli.areas import add_area_option

    p = sub.add_parser("problems", help="the partnership's problem-solving log (SARA)")
    p.add_argument("action", choices=["list", "add", "update"])
    p.add_argument("--problem", default=None, metavar="ID", help="a problem id (P-...)")
    p.add_argument("--response", default=None, metavar="N", help="a response number")
    p.add_argument("--title", default=None, help="a short title (no personal details)")
    p.add_argument("--hotspots", nargs="+", default=None, metavar="ID", help="hotspot ids")
    p.add_argument("--scanning", default=None, help="a short scanning note")
    p.add_argument("--analysis", default=None, help="a short analysis note")
    p.add_argument("--agency", default=None, help="the agency that owns a response")
    p.add_argument("--action-text", dest="action_text", default=None, metavar="TEXT")
    p.add_argument("--due", default=None, metavar="DATE")
    p.add_argument("--started", default=None, metavar="DATE")
    p.add_argument("--status", default=None, choices=["open", "done", "dropped"])
    p.add_argument("--hotspot", default=None, metavar="ID", help="list: only this hotspot's")
    add_area_option(p)

    p = sub.add_parser(
        "displacement",
        help="weighted displacement quotient around a hotspot, before vs after (flags a rise "
        "nearby while the hotspot falls)",
    )
    p.add_argument("--hotspot", required=True, metavar="ID")
    for name in ("before-from", "before-to", "after-from", "after-to"):
        p.add_argument(f"--{name}", required=True, metavar="DATE")
    p.add_argument("--inner", type=float, default=None, metavar="M", help="ring from (m)")
    p.add_argument("--outer", type=float, default=None, metavar="M", help="ring to (m)")
    p.add_argument("--categories", nargs="*", default=None, help="category slugs")
    add_area_option(p)


def known_hotspot_ids(store: Any, area: Any, *, network: Any, settings: Any) -> set[str]:
    """The hotspot ids a problem may link in an area.

    Its current hotspots (over its default period, the newest 90 days), the hotspots in
    its patrol log, and those its log already links (a hotspot that has faded keeps its id).

    Parameters
    ----------
    store
        The store.
    area
        The area.
    network
        Its street network, or ``None`` (point mode).
    settings
        Its settings.

    Returns
    -------
    set of str
    """
    from geo.areas import default_categories, default_period
    from geo.workspace import compute_hotspots
    from planning.problems import list_problems

    known = {h for p in list_problems(store, area_id=area.area_id) for h in p.hotspot_ids}
    try:
        from planning.tracking_store import patrol_log

        known |= set(patrol_log(store, area_id=area.area_id)["hotspot_id"].astype(str))
    except (KeyError, ValueError):
        pass
    period = default_period(store, area)
    if period is not None:
        start, end = period[0], period[1] + __import__("pandas").Timedelta(days=1)
        cats = default_categories(store, area, settings=settings)
        reports = store.reports(start=start, end=end, categories=cats, area_id=area.area_id)
        if len(reports):
            hot, _, _ = compute_hotspots(reports, network=network, settings=settings)
            known |= set(hot["hotspot_id"].astype(str))
    return known


def cmd_problems(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    """Run ``beatplan problems list|add|update``.

    A :data:`cli.common.StoreCommand`: ``args`` are the parsed arguments, ``store`` the store.

    Returns
    -------
    dict
        ``list``: ``{"area", "problems"}``; ``add``/``update``: ``{"area", "problem"}``
        with the problem as stored (responses included).
    """
    from cli.areas import area_for
    from planning import problems as log

    area = area_for(args, store)
    if args.action == "list":
        found = log.list_problems(
            store, area_id=area.area_id, status=args.status, hotspot_id=args.hotspot
        )
        return {"area": area.name, "problems": [p.to_json() for p in found]}
    if args.response is not None:
        return _response_command(args, store, area, log)
    if args.action == "add":
        if args.problem is not None:
            return _response_command(args, store, area, log)
        if not args.title or not args.hotspots:
            msg = "problems add needs --title and --hotspots (or --problem ID to add a response)"
            raise ValueError(msg)
        problem = log.add_problem(
            store,
            area_id=area.area_id,
            title=args.title,
            hotspot_ids=args.hotspots,
            known_hotspots=_known(args, store, area),
            scanning=args.scanning or "",
            analysis=args.analysis or "",
        )
        return {"area": area.name, "problem": problem.to_json()}
    if args.problem is None:
        msg = "problems update needs --problem ID or --response N"
        raise ValueError(msg)
    problem = log.update_problem(
        store,
        args.problem,
        title=args.title,
        hotspot_ids=args.hotspots,
        known_hotspots=_known(args, store, area) if args.hotspots else None,
        scanning=args.scanning,
        analysis=args.analysis,
        area_id=area.area_id,
    )
    return {"area": area.name, "problem": problem.to_json()}


def _known(args: argparse.Namespace, store: Any, area: Any) -> set[str]:
    from cli.areas import area_network, area_settings_for

    settings = area_settings_for(args, area)
    network = area_network(args, store, area)
    return known_hotspot_ids(store, area, network=network, settings=settings)


def _response_command(args: argparse.Namespace, store: Any, area: Any, log: Any) -> dict[str, Any]:
    """Add a response to ``--problem`` (add) or change response ``--response`` (update)."""
    given = {"agency": args.agency, "action": args.action_text, "due": args.due}
    given |= {"started": args.started, "area_id": area.area_id, "settings_path": args.settings}
    if args.action == "add":
        if not args.agency or not args.action_text:
            msg = "adding a response needs --problem ID, --agency and --action-text"
            raise ValueError(msg)
        response = log.add_response(store, args.problem, status=args.status or "open", **given)
    else:
        response = log.update_response(store, args.response, status=args.status, **given)
    problem = log.get_problem(store, response.problem_id)
    return {"area": area.name, "response_id": response.response_id, "problem": problem.to_json()}


def cmd_displacement(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    """Run ``beatplan displacement``: the WDQ around one hotspot, before vs after.

    The hotspot is found by its stable id among the area's hotspots of the before period
    (else of the whole span, for a hotspot that only formed later).

    A :data:`cli.common.StoreCommand`: ``args`` are the parsed arguments, ``store`` the store.

    Returns
    -------
    dict
        :meth:`planning.displacement.Displacement.to_json` plus ``area``, ``label``,
        ``before`` and ``after``.
    """
    import pandas as pd

    from cli.areas import area_context
    from geo.areas import default_categories
    from geo.workspace import compute_hotspots
    from planning.displacement import displacement_watch
    from planning.problems import partnership_settings

    area, settings, network = area_context(args, store)
    day = pd.Timedelta(days=1)
    b0, b1 = _day(args.before_from, "--before-from"), _day(args.before_to, "--before-to") + day
    a0, a1 = _day(args.after_from, "--after-from"), _day(args.after_to, "--after-to") + day
    if not (b0 < b1 and a0 < a1 and b1 <= a0):
        msg = "the before period must end before the after period starts, each from <= to"
        raise ValueError(msg)
    part = partnership_settings(args.settings)
    inner = float(args.inner if args.inner is not None else part.get("buffer_inner_m", 100))
    outer = float(args.outer if args.outer is not None else part.get("buffer_outer_m", 400))
    cats = args.categories or default_categories(store, area, settings=settings)
    reports = store.reports(start=b0, end=a1, categories=cats, area_id=area.area_id)
    if reports.empty:
        msg = "no reports in these periods in this area: import files or check the dates"
        raise ValueError(msg)
    hotspot = None
    for start, end in ((b0, b1), (b0, a1)):
        hot, _, _ = compute_hotspots(
            reports, network=network, settings=settings, start=start, end=end
        )
        match = hot[hot["hotspot_id"].astype(str) == str(args.hotspot)]
        if len(match):
            hotspot = match.iloc[0]
            break
    if hotspot is None:
        msg = (
            f"no hotspot {str(args.hotspot)[:40]!r} in {area.name} over these periods; "
            "see `beatplan hotspots`"
        )
        raise ValueError(msg)
    result = displacement_watch(
        reports,
        hotspot,
        before=(b0, b1),
        after=(a0, a1),
        network=network if "segment_ids" in hotspot and len(hotspot["segment_ids"]) else None,
        inner_m=inner,
        outer_m=outer,
    )
    out = {"area": area.name, "label": str(hotspot.get("label", ""))}
    out |= {"before": [str(b0.date()), str((b1 - day).date())]}
    out |= {"after": [str(a0.date()), str((a1 - day).date())]}
    return out | result.to_json()
