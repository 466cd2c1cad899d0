"""The ``beatplan meeting`` (partner-meeting pack) and ``beatplan export research`` commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli.areas import area_context
from cli.common import _day

__all__ = ["add_meeting_parsers", "cmd_export", "cmd_meeting"]


def add_meeting_parsers(sub: Any) -> None:
    """Add the ``meeting`` and ``export`` commands to the top-level subparsers.

    Parameters
    ----------
    sub
        The subparsers action of the ``beatplan`` parser.
    """
    from cli.areas import add_area_option

    p = sub.add_parser(
        "meeting", help="the bi-monthly partner-meeting pack (OFFICIAL-SENSITIVE) as PDF or HTML"
    )
    p.add_argument("--since", required=True, metavar="DATE", help="the last meeting's date")
    p.add_argument("--to", dest="until", default=None, metavar="DATE", help="default: newest data")
    p.add_argument("--out", required=True, help="output .pdf or .html")
    add_area_option(p)

    p = sub.add_parser("export", help="exports for partners: 'research' (anonymised counts)")
    p.add_argument("kind", choices=["research"])
    p.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    p.add_argument("--to", dest="date_to", required=True, metavar="DATE")
    p.add_argument("--categories", nargs="*", default=None, help="category slugs")
    p.add_argument("--out", required=True, help="output .zip")
    add_area_option(p)


def cmd_meeting(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    """Run ``beatplan meeting``: write the partner-meeting pack.

    A :data:`cli.common.StoreCommand`: ``args`` are the parsed arguments, ``store`` the store.

    Returns
    -------
    dict
        ``{"area", "since", "until", "out", "bytes", "pages", "hotspots", "problems",
        "flags"}`` (``pages`` for a PDF only).
    """
    from planning.meeting import meeting_facts, meeting_html
    from planning.meeting_render import pdf_with_pages

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        msg = f"Cannot write {out.name}: use a .pdf or .html file name."
        raise ValueError(msg)
    area, settings, network = area_context(args, store)
    facts = meeting_facts(
        store,
        area,
        since=_day(args.since, "--since"),
        until=_day(args.until, "--to"),
        network=network,
        settings=settings,
    )
    html = meeting_html(facts)
    pages = None
    if suffix == ".pdf":
        data, pages = pdf_with_pages(html)
    else:
        data = html.encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    store.audit(
        "export", f"meeting pack {suffix[1:]} since {facts.since}", n_rows=len(facts.hotspots)
    )
    result = {"area": area.name, "since": str(facts.since), "until": str(facts.until)}
    result |= {"out": str(out), "bytes": len(data)}
    if pages is not None:
        result["pages"] = pages
    return result | {
        "hotspots": len(facts.hotspots),
        "problems": len(facts.problems),
        "flags": sum(1 for h in facts.hotspots if h.displacement and h.displacement.flag),
    }


def cmd_export(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    """Run ``beatplan export research``: the anonymised research export (zip).

    A :data:`cli.common.StoreCommand`: ``args`` are the parsed arguments, ``store`` the store.

    Returns
    -------
    dict
        :func:`planning.research_export.write_research_export`'s summary and ``area``.
    """
    from planning.research_export import write_research_export

    area, settings, network = area_context(args, store)
    cats = [c.strip() for item in args.categories or [] for c in item.split(",") if c.strip()]
    result = write_research_export(
        store,
        area,
        start=_day(args.date_from, "--from"),
        end=_day(args.date_to, "--to"),
        out=args.out,
        network=network,
        settings=settings,
        categories=cats or None,
    )
    return {"area": area.name} | result
