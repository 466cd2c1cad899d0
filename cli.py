"""The ``beatplan`` command line: one JSON line on stdout per command, plain-English errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2


class UserError(Exception):
    """A mistake in the command's input; the message is shown as is."""


def _plain(text: object) -> str:
    """One line without control characters: file headers and names must not drive the terminal."""
    from ui.escape import plain_text

    return plain_text(text)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one plain line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"beatplan: {_plain(message)} (see 'beatplan --help')\n")
        raise SystemExit(EXIT_USER)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, default=str, separators=(", ", ": ")) + "\n")
    sys.stdout.flush()


def _store(args: argparse.Namespace) -> Any:
    from geo.store import Store

    if getattr(args, "_store_obj", None) is None:  # one store (one engine) per command
        args._store_obj = Store(args.db)
    return args._store_obj


def _area(args: argparse.Namespace, *, create: bool = False) -> Any:
    """The area of the command (``--area NAME``, else the current or only one; cli_areas)."""
    from cli_areas import area_for

    return area_for(args, _store(args), create=create)


def _area_id(args: argparse.Namespace) -> str | None:
    area = _area(args)
    return area.area_id if area is not None else None


def _settings(args: argparse.Namespace) -> Any:
    """The settings of the command's area (the settings file with the area's overrides)."""
    from cli_areas import area_settings_for

    return area_settings_for(args, _area(args))


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in text.replace(" ", "").split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not (parts[0] < parts[2] and parts[1] < parts[3]):
        msg = (
            "--bbox must be four numbers min_lon,min_lat,max_lon,max_lat, "
            "e.g. -0.45,53.71,-0.23,53.81"
        )
        raise UserError(msg)
    return parts[0], parts[1], parts[2], parts[3]


def _parse_mapping(values: Sequence[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    mapping: dict[str, str] = {}
    for item in values:
        path = Path(item)
        if path.suffix.lower() in (".json", ".toml") and path.is_file():
            if path.suffix.lower() == ".json":
                data = json.loads(path.read_text(encoding="utf-8"))
            else:
                import tomllib

                data = tomllib.loads(path.read_text(encoding="utf-8"))
            mapping.update({str(k): str(v) for k, v in dict(data).items()})
            continue
        if "=" not in item:
            msg = f"--mapping takes FIELD=COLUMN pairs or a .json/.toml file, not {item!r}"
            raise UserError(msg)
        fld, col = item.split("=", 1)
        mapping[fld.strip()] = col.strip()
    return mapping


def _network(args: argparse.Namespace) -> Any:
    """The street network named by --network, else the area's, else None (point mode)."""
    from cli_areas import area_network

    return area_network(args, _store(args), _area(args))


def _date(text: str | None, what: str) -> Any:
    if text is None:
        return None
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except ValueError as exc:
        msg = f"{what} must be a date such as 2024-01-31, not {text!r}"
        raise UserError(msg) from exc


def _categories(args: argparse.Namespace) -> list[str] | None:
    raw = getattr(args, "categories", None)
    if not raw:
        return None
    return [c.strip() for item in raw for c in item.split(",") if c.strip()]


def _categories_or_default(args: argparse.Namespace) -> list[str] | None:
    """``--categories``, else the area's default (the categories its taxonomy maps)."""
    chosen = _categories(args)
    area = _area(args)
    if chosen or area is None:
        return chosen
    from geo.areas import default_categories

    return default_categories(_store(args), area, settings=_settings(args)) or None


def _study_box(args: argparse.Namespace) -> tuple[float, float, float, float] | None:
    """The evaluation's study box: ``--bbox``, else the area's box (none for a world box)."""
    if args.bbox:
        return _parse_bbox(args.bbox)
    from cli_areas import _clip_box

    area = _area(args)
    return None if _clip_box(area) is None else tuple(area.bbox)


# ------------------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    """Import partner files into the store."""
    from geo.ingest import import_file

    store = _store(args)
    area = _area(args, create=True)
    settings = _settings(args)
    mapping = _parse_mapping(args.mapping)
    network = _network(args)
    unmapped: dict[str, int] = {}
    totals = {
        "files": 0,
        "rows_read": 0,
        "accepted": 0,
        "duplicates": 0,
        "rejected": 0,
        "off_network": 0,
    }
    rejects: list[str] = []
    files: list[dict[str, Any]] = []
    for name in args.files:
        summary = import_file(
            name,
            store=store,
            source=args.source,
            mapping=mapping,
            settings=settings,
            network=network,
            rejects_dir=args.rejects_dir,
            area=area,
        )
        totals["files"] += 1
        for cat, n in summary.unmapped.items():
            unmapped[cat] = unmapped.get(cat, 0) + n
        for key in ("rows_read", "accepted", "duplicates", "rejected", "off_network"):
            totals[key] += getattr(summary, key)
        if summary.rejects_file:
            rejects.append(summary.rejects_file)
        files.append(
            {
                "file": summary.file_name,
                "format": summary.format,
                "rows_read": summary.rows_read,
                "accepted": summary.accepted,
                "duplicates": summary.duplicates,
                "rejected": summary.rejected,
                "other_categories": summary.other_categories,
                "other_sources": summary.other_sources,
                "dropped_hints": summary.dropped_hints,
                "unmapped": summary.unmapped,
                "dropped_columns": [
                    d.column for d in summary.dropped_columns if d.reason != "not a report field"
                ],
            }
        )
    return {
        **totals,
        "area": area.name,
        "unmapped": dict(sorted(unmapped.items())),
        "rejects_file": rejects[0] if len(rejects) == 1 else (rejects or None),
        "details": files,
    }


def cmd_purge(args: argparse.Namespace) -> dict[str, Any]:
    """Delete reports older than the retention period."""
    settings = _settings(args)
    months = (
        args.older_than
        if args.older_than is not None
        else int(settings.general.get("retention_months", 13))
    )
    return _store(args).purge(older_than_months=months, area_id=_area_id(args))


def cmd_network(args: argparse.Namespace) -> dict[str, Any]:
    """Load or download a street network and make it the current one."""
    from cli_areas import _clip_box
    from geo.streets import DEFAULT_CACHE_DIR, StreetNetwork
    from geo.workspace import install_network

    area = _area(args)
    bbox = _parse_bbox(args.bbox) if args.bbox else _clip_box(area)
    if args.action == "load":
        net = StreetNetwork.from_file(
            args.target, bbox=bbox, network_type=args.type, cache_dir=DEFAULT_CACHE_DIR
        )
        what = Path(args.target).name
    else:
        target: Any = args.target
        try:
            parts = [float(p) for p in args.target.split(",")]
            if len(parts) == 4:
                target = _parse_bbox(args.target)
        except ValueError:
            pass
        net = StreetNetwork.download(target, network_type=args.type)
        what = f"download {args.target}"
    return install_network(
        net, _store(args), settings=_settings(args), what=what, area_id=_area_id(args)
    )


def cmd_hotspots(args: argparse.Namespace) -> dict[str, Any]:
    """Compute hotspots for a period and write them as GeoJSON or CSV."""
    from geo.workspace import compute_hotspots, hotspots_to_file

    store = _store(args)
    start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
    if end is not None:
        end = end + __import__("pandas").Timedelta(days=1)
    reports = store.reports(
        start=start, end=end, categories=_categories_or_default(args), area_id=_area_id(args)
    )
    if reports.empty:
        msg = "No reports in the chosen period and categories; import files or widen the filters."
        raise UserError(msg)
    hot, mode, _ = compute_hotspots(reports, network=_network(args), settings=_settings(args))
    out = hotspots_to_file(hot, args.out)
    store.audit("export", f"hotspots {out.suffix[1:]}", n_rows=len(hot))
    top = [
        {"hotspot_id": h, "label": lab}
        for h, lab in zip(hot["hotspot_id"][:5], hot["label"][:5], strict=True)
    ]
    return {
        "hotspots": len(hot),
        "mode": mode,
        "reports": len(reports),
        "out": str(out),
        "top": top,
    }


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Back-test: train on one period or set of files, test on the next."""
    import pandas as pd

    from geo.evaluate import evaluate
    from geo.reports import read_reports

    settings = _settings(args)
    cats = _categories(args)
    area = _study_box(args)
    if args.bbox:  # rows of the files outside the box are left out, as outside an area
        settings = settings.with_area(area, name=settings.area_name)
    if args.train or args.test:
        if not (args.train and args.test):
            msg = "give both --train FILE... and --test FILE..."
            raise UserError(msg)
        train = pd.concat([read_reports(f, settings=settings).reports for f in args.train])
        test = pd.concat([read_reports(f, settings=settings).reports for f in args.test])
        network = _network(args) if args.network else None
    else:
        needed = (args.train_from, args.train_to, args.test_from, args.test_to)
        if not all(needed):
            msg = (
                "give --train-from, --train-to, --test-from and --test-to dates, "
                "or --train FILE... --test FILE..."
            )
            raise UserError(msg)
        store = _store(args)
        day = pd.Timedelta(days=1)
        train = store.reports(
            start=_date(args.train_from, "--train-from"),
            end=_date(args.train_to, "--train-to") + day,
            area_id=_area_id(args),
        )
        test = store.reports(
            start=_date(args.test_from, "--test-from"),
            end=_date(args.test_to, "--test-to") + day,
            area_id=_area_id(args),
        )
        network = _network(args)
    # the training table keeps every category (ours may borrow from the others); the test
    # table and the scores are the chosen categories only
    wanted = train if not cats else train[train["category"].isin(cats)]
    if cats:
        test = test[test["category"].isin(cats)]
    if wanted.empty or test.empty:
        msg = "the training or test period has no reports; check the dates and categories"
        raise UserError(msg)
    segments = None
    if network is not None and wanted["segment_id"].notna().any():
        segments = network.segments
    result = evaluate(train, test, segments=segments, settings=settings, categories=cats, area=area)
    result["mode"] = "network" if segments is not None else "point"
    return result


def cmd_demo(args: argparse.Namespace) -> dict[str, Any]:
    """Build the demo: the real Helsinki street network and synthetic, labelled reports."""
    from geo.demo import build_demo
    from geo.workspace import data_folder

    store = _store(args)
    held = store.count_reports(all_areas=True)
    if args.if_empty and held > 0:
        return {"skipped": True, "reason": "the database already holds reports", "reports": held}
    out = build_demo(store, seed=args.seed, data_dir=data_folder())
    store.audit("demo", f"synthetic demo, seed {args.seed}", n_rows=int(out["reports"]))
    return {"skipped": False, "synthetic": True, **out}


def _write_output(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


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
    body = __import__("cli_plans").plan_json_for(args, store, area_id=_area_id(args))
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
        body = __import__("cli_plans").plan_json_for(args, _store(args), area_id=_area_id(args))
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


COMMANDS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "track": cmd_track,
    "plan": cmd_plan,
    "brief": cmd_brief,
    "summary": cmd_summary,
    "demo": cmd_demo,
    "network": cmd_network,
    "hotspots": cmd_hotspots,
    "evaluate": cmd_evaluate,
    "import": cmd_import,
    "purge": cmd_purge,
    "area": lambda args: __import__("cli_areas").cmd_area(args, _store(args)),
    "imports": lambda args: __import__("cli_areas").cmd_imports(args, _store(args)),
    "problems": lambda args: __import__("cli_partnership").cmd_problems(args, _store(args)),
    "displacement": lambda a: __import__("cli_partnership").cmd_displacement(a, _store(a)),
    "meeting": lambda a: __import__("cli_meeting").cmd_meeting(a, _store(a)),
    "export": lambda a: __import__("cli_meeting").cmd_export(a, _store(a)),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the ``beatplan`` argument parser.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog="beatplan",
        description=(
            "Beatplan: street-level hotspots, joint patrol routes and community summaries. "
            "Each command prints one JSON line."
        ),
    )
    parser.add_argument(
        "--db",
        default=None,
        help="database URL or SQLite path (default: $BEATPLAN_DB or data/beatplan.db)",
    )
    parser.add_argument("--network", default=None, help="street network file to use")
    parser.add_argument(
        "--settings", default=None, help="settings TOML (default: data/settings.toml)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    from cli_areas import add_area_option, add_area_parsers

    add_area_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("import", help="import partner files (CSV, XLSX, GeoJSON, data.police.uk)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--source", default=None, help="partner that supplied the files (police, outreach, ...)"
    )
    p.add_argument(
        "--mapping",
        nargs="*",
        default=None,
        help="column mapping: FIELD=COLUMN pairs or a .json/.toml file",
    )
    add_area_option(p)
    p.add_argument("--rejects-dir", default=None, help="folder for rejected-rows CSVs")

    p = sub.add_parser("purge", help="delete the area's reports older than the retention period")
    p.add_argument("--older-than", type=int, default=None, metavar="MONTHS")
    add_area_option(p)

    p = sub.add_parser("demo", help="build the demo: Helsinki streets, synthetic reports")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--if-empty", action="store_true", help="do nothing when reports exist")

    p = sub.add_parser("network", help="load a street network file or download one by place")
    p.add_argument("action", choices=["load", "download"])
    p.add_argument(
        "target",
        metavar="FILE_OR_PLACE",
        help=".osm.pbf/.osm/.gpkg/.geojson file, or a place name / bbox to download",
    )
    p.add_argument(
        "--bbox", default=None, help="clip to min_lon,min_lat,max_lon,max_lat (default: the area)"
    )
    add_area_option(p)
    p.add_argument(
        "--type",
        default="walk",
        choices=["walk", "drive", "all"],
        help="which streets to keep (default: walkable)",
    )

    p = sub.add_parser("hotspots", help="compute hotspots and write GeoJSON or CSV")
    p.add_argument("--from", dest="date_from", default=None, metavar="DATE")
    p.add_argument("--to", dest="date_to", default=None, metavar="DATE")
    p.add_argument("--categories", nargs="*", default=None, help="category slugs")
    p.add_argument("--out", required=True, help="output .geojson or .csv")
    add_area_option(p)

    p = sub.add_parser(
        "evaluate",
        help="back-test forecasts (ours and baselines, each calibrated on training only): "
        "hit rate, PAI, PEI with 95%% intervals",
    )
    p.add_argument("--train-from", default=None, metavar="DATE")
    p.add_argument("--train-to", default=None, metavar="DATE")
    p.add_argument("--test-from", default=None, metavar="DATE")
    p.add_argument("--test-to", default=None, metavar="DATE")
    p.add_argument("--train", nargs="*", default=None, metavar="FILE")
    p.add_argument("--test", nargs="*", default=None, metavar="FILE")
    p.add_argument("--categories", nargs="*", default=None, help="category slugs")
    p.add_argument(
        "--bbox",
        default=None,
        help="study area min_lon,min_lat,max_lon,max_lat (default: the area)",
    )
    add_area_option(p)

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
    __import__("cli_plans").add_plan_options(p)
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
    __import__("cli_plans").add_plan_options(p)
    p.add_argument("--buffer", type=float, default=25.0, help="metres around a stop (default 25)")
    add_area_option(p)
    add_area_parsers(sub)
    __import__("cli_partnership").add_partnership_parsers(sub)
    __import__("cli_meeting").add_meeting_parsers(sub)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``beatplan`` command line.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a user error, 1 on an internal error.
    """
    from cli_areas import glue_negative_values

    parser = build_parser()
    args = parser.parse_args(glue_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USER
    from geo.errors import BeatplanError
    from geo.streets import NetworkUnavailableError

    try:
        result = COMMANDS[args.command](args)
    except (
        UserError,
        BeatplanError,
        NetworkUnavailableError,
        ValueError,
        FileNotFoundError,
        PermissionError,
        IsADirectoryError,
    ) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.stderr.write(f"beatplan: {_plain(text)}\n")
        if args.debug:
            traceback.print_exc()
        return EXIT_USER
    except KeyboardInterrupt:
        sys.stderr.write("beatplan: interrupted\n")
        return EXIT_INTERNAL
    except Exception as exc:  # a bug: say so in one line, details with --debug
        sys.stderr.write(
            f"beatplan: internal error ({type(exc).__name__}: {_plain(exc)}); "
            "run again with --debug and report it\n"
        )
        if args.debug or os.environ.get("BEATPLAN_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL
    _emit(result)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
