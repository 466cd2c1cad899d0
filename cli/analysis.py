"""Analysis commands: hotspots to GeoJSON/CSV and honest back-tests of the forecast."""

from __future__ import annotations

import argparse
from typing import Any

from cli import areas
from cli.common import (
    UserError,
    _area_id,
    _categories,
    _categories_or_default,
    _date,
    _network,
    _settings,
    _store,
    _study_box,
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


_EVALUATE_HELP = (
    "back-test forecasts (ours and baselines, each calibrated on training only): "
    "hit rate, PAI, PEI with 95%% intervals"
)


def add_analysis_parsers(sub: Any) -> None:
    """Add the hotspots and evaluate sub-commands."""
    add_area_option = areas.add_area_option

    p = sub.add_parser("hotspots", help="compute hotspots and write GeoJSON or CSV")
    p.add_argument("--from", dest="date_from", default=None, metavar="DATE")
    p.add_argument("--to", dest="date_to", default=None, metavar="DATE")
    p.add_argument("--categories", nargs="*", default=None, help="category slugs")
    p.add_argument("--out", required=True, help="output .geojson or .csv")
    add_area_option(p)

    p = sub.add_parser("evaluate", help=_EVALUATE_HELP)
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
