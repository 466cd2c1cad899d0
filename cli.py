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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one plain line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"beatplan: {message} (see 'beatplan --help')\n")
        raise SystemExit(EXIT_USER)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, default=str, separators=(", ", ": ")) + "\n")
    sys.stdout.flush()


def _store(args: argparse.Namespace) -> Any:
    from geo.store import Store

    return Store(args.db)


def _settings(args: argparse.Namespace) -> Any:
    from geo.settings import load_settings

    settings = load_settings(args.settings)
    if getattr(args, "area", None):
        settings = settings.with_area(_parse_bbox(args.area))
    return settings


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in text.replace(" ", "").split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not (parts[0] < parts[2] and parts[1] < parts[3]):
        msg = (
            "--area must be four numbers min_lon,min_lat,max_lon,max_lat, "
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
    """The street network named by --network, or the cached current one, or None."""
    path = getattr(args, "network", None)
    try:
        from geo.streets import StreetNetwork
    except ImportError:
        return None
    if path:
        return StreetNetwork.from_file(path)
    from geo.settings import DATA_DIR

    current = DATA_DIR / "network.gpkg"
    if current.is_file():
        return StreetNetwork.load(current)
    return None


# ------------------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    """Import partner files into the store."""
    from geo.ingest import import_file

    store = _store(args)
    settings = _settings(args)
    mapping = _parse_mapping(args.mapping)
    network = _network(args)
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
        )
        totals["files"] += 1
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
                "dropped_columns": [
                    d.column for d in summary.dropped_columns if d.reason != "not a report field"
                ],
            }
        )
    return {
        **totals,
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
    return _store(args).purge(older_than_months=months)


COMMANDS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "import": cmd_import,
    "purge": cmd_purge,
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
    p.add_argument(
        "--area", default=None, help="reject rows outside min_lon,min_lat,max_lon,max_lat"
    )
    p.add_argument("--rejects-dir", default=None, help="folder for rejected-rows CSVs")

    p = sub.add_parser("purge", help="delete reports older than the retention period")
    p.add_argument("--older-than", type=int, default=None, metavar="MONTHS")

    for extra in _EXTRA_PARSERS:
        extra(sub)
    return parser


_EXTRA_PARSERS: list[Callable[[Any], None]] = []


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
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USER
    from geo.errors import BeatplanError

    try:
        result = COMMANDS[args.command](args)
    except (
        UserError,
        BeatplanError,
        ValueError,
        FileNotFoundError,
        PermissionError,
        IsADirectoryError,
    ) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.stderr.write(f"beatplan: {text}\n")
        if args.debug:
            traceback.print_exc()
        return EXIT_USER
    except KeyboardInterrupt:
        sys.stderr.write("beatplan: interrupted\n")
        return EXIT_INTERNAL
    except Exception as exc:  # a bug: say so in one line, details with --debug
        sys.stderr.write(
            f"beatplan: internal error ({type(exc).__name__}: {exc}); "
            "run again with --debug and report it\n"
        )
        if args.debug or os.environ.get("BEATPLAN_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL
    _emit(result)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
