"""Data commands: import partner files, purge by age, load a street network, build the demo."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli import areas
from cli.common import _area, _area_id, _network, _parse_bbox, _parse_mapping, _settings, _store


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
    from cli.areas import _clip_box
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


def add_data_parsers(sub: Any) -> None:
    """Add the import, purge, demo and network sub-commands."""
    add_area_option = areas.add_area_option

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
