"""Output commands: patrol plans, team briefings, the community summary and GPX tracking."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cli import areas, plans
from cli.common import (
    UserError,
    _area_id,
    _categories_or_default,
    _date,
    _network,
    _settings,
    _store,
    _write_output,
)


def cmd_plan(args: argparse.Namespace) -> dict[str, Any]:
    """Plan joint patrols for the teams in a TOML file and write JSON, GeoJSON or GPX."""
    import pandas as pd

    from geo.workspace import compute_hotspots
    from planning.export import plan_to_geojson, plan_to_gpx, plan_to_json
    from planning.routes import load_teams, plan_patrols

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".json", ".geojson", ".gpx"):
        msg = f"Cannot write {out.name}: use a .json, .geojson or .gpx file name."
        raise UserError(msg)
    store, settings = _store(args), _settings(args)
    network = _network(args)
    period = store.period(area_id=_area_id(args))
    if period is None:
        msg = "no reports in the area: import partner files first"
        raise UserError(msg)
    plan_date = (_date(args.date, "--date") or period[1] + pd.Timedelta(days=1)).date()
    start = pd.Timestamp(plan_date) - pd.Timedelta(days=args.days)
    reports = store.reports(
        start=start,
        end=pd.Timestamp(plan_date),
        categories=_categories_or_default(args),
        area_id=_area_id(args),
    )
    if reports.empty:
        msg = f"no reports in the {args.days} days before {plan_date}; widen --days"
        raise UserError(msg)
    hot, mode, _ = compute_hotspots(reports, network=network, settings=settings)
    teams = load_teams(args.teams, date=plan_date)
    plan = plan_patrols(  # without streets (point mode): straight-line legs, labelled approximate
        network if mode == "network" else None,
        hot,
        teams,
        date=plan_date,
        settings=settings,
        time_limit_s=args.time_limit,
    )
    body = plan_to_json(plan)
    plan_id = store.save_plan(plan_date.isoformat(), json.dumps(body), area_id=_area_id(args))
    if suffix == ".json":
        _write_output(out, json.dumps(body, indent=1))
    elif suffix == ".geojson":
        _write_output(out, json.dumps(plan_to_geojson(plan)))
    else:
        _write_output(out, plan_to_gpx(plan))
    store.audit("export", f"patrol plan {suffix[1:]}", n_rows=len(plan.routes))
    return {
        "plan_id": plan_id,
        "date": plan_date.isoformat(),
        "teams": len(plan.routes),
        "stops": sum(len(r.stops) for r in plan.routes),
        "hotspots": len(hot),
        "dropped": len(plan.dropped),
        "risk_covered_share": round(plan.risk_covered_share, 4),
        "travel": plan.travel,
        "out": str(out),
    }


def cmd_brief(args: argparse.Namespace) -> dict[str, Any]:
    """Render team briefings for a saved plan as PDF or HTML."""
    from planning.briefing import briefings_html, html_to_pdf

    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html", ".htm"):
        msg = f"Cannot write {out.name}: use a .pdf or .html file name."
        raise UserError(msg)
    store = _store(args)
    body = plans.plan_json_for(args, store, area_id=_area_id(args))
    network = _network(args)
    html = briefings_html(
        body,
        teams=args.team or None,
        segments=network.segments if network is not None else None,
        reports=store.reports(area_id=_area_id(args)),
        settings=_settings(args),
    )
    _write_output(out, html_to_pdf(html) if out.suffix.lower() == ".pdf" else html)
    store.audit("export", f"briefing {out.suffix[1:]}", n_rows=len(body["teams"]))
    return {"teams": len(args.team or body["teams"]), "out": str(out), "bytes": out.stat().st_size}


def cmd_summary(args: argparse.Namespace) -> dict[str, Any]:
    """Render the public community impact summary for a period as PDF or HTML."""

    from planning.briefing import html_to_pdf
    from planning.impact import release_summary, summary_html

    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html", ".htm"):
        msg = f"Cannot write {out.name}: use a .pdf or .html file name."
        raise UserError(msg)
    store, settings = _store(args), _settings(args)
    start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
    reports = store.reports(area_id=_area_id(args))
    if reports.empty:
        msg = "no reports in the area: import partner files first"
        raise UserError(msg)
    figs = release_summary(  # a month or a quarter, checked against every earlier release
        store,
        reports,
        start=start,
        end=end,
        allow_custom=args.new_period,
        settings=settings,
        categories=_categories_or_default(args),
        area=_area_id(args) or "",
    )
    html = summary_html(figs, settings=settings)
    _write_output(out, html_to_pdf(html) if out.suffix.lower() == ".pdf" else html)
    store.audit("export", f"community summary {out.suffix[1:]}", n_rows=0)
    return {"out": str(out), "bytes": out.stat().st_size, "figures": figs.to_public_dict()}


def cmd_track(args: argparse.Namespace) -> dict[str, Any]:
    """Match GPX tracks to a plan's hotspots: visits, minutes, done / short / missed."""
    from planning.export import plan_from_json
    from planning.tracking import (
        clean_track,
        hotspot_visits,
        match_plan,
        plan_stop_hotspots,
        read_tracks,
    )

    try:
        body = plans.plan_json_for(args, _store(args), area_id=_area_id(args))
        plan = plan_from_json(body)
    except (KeyError, TypeError) as exc:
        msg = "That is not a plan JSON (write one with 'beatplan plan --out F.json')"
        raise UserError(msg) from exc
    fixes = read_tracks([Path(p) for p in args.files], plan=plan)
    warnings = list(fixes.attrs.get("warnings", []))
    clean = clean_track(fixes)
    visits = hotspot_visits(clean, plan_stop_hotspots(plan), buffer_m=args.buffer)
    matched = match_plan(visits, plan)
    return {
        "tracks": int(fixes["track"].nunique()),
        "visits": json.loads(visits.to_json(orient="records", date_format="iso")),
        "plan": json.loads(matched.to_json(orient="records", date_format="iso")),
        "warnings": warnings,
    }


def add_output_parsers(sub: Any) -> None:
    """Add the plan, brief, summary and track sub-commands."""
    add_area_option = areas.add_area_option

    p = sub.add_parser("plan", help="plan joint patrol routes for the teams in a TOML file")
    p.add_argument("--teams", required=True, metavar="F.toml")
    p.add_argument(
        "--date", default=None, help="plan date (default: the day after the last report)"
    )
    p.add_argument("--days", type=int, default=90, help="hotspots from this many days before")
    p.add_argument("--categories", nargs="*", default=None, help="category slugs")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS")
    p.add_argument("--out", required=True, help="output .json, .geojson or .gpx")
    add_area_option(p)

    p = sub.add_parser("brief", help="render team briefings for a plan as PDF or HTML")
    plans.add_plan_options(p)
    p.add_argument("--team", nargs="*", default=None, help="only these teams")
    p.add_argument("--out", required=True, help="output .pdf or .html")
    add_area_option(p)

    p = sub.add_parser("summary", help="render the community impact summary as PDF or HTML")
    p.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    p.add_argument("--to", dest="date_to", required=True, metavar="DATE")
    p.add_argument("--categories", nargs="*", default=None, help="category slugs")
    p.add_argument("--out", required=True, help="output .pdf or .html")
    p.add_argument(
        "--new-period",
        action="store_true",
        help="publish a period that is not a calendar month or quarter (once; no overlaps)",
    )
    add_area_option(p)

    p = sub.add_parser("track", help="dosage per hotspot from GPX tracks against a plan")
    p.add_argument("files", nargs="+", metavar="GPX")
    plans.add_plan_options(p)
    p.add_argument("--buffer", type=float, default=25.0, help="metres around a stop (default 25)")
    add_area_option(p)
