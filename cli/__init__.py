"""The ``beatplan`` command line: one JSON line on stdout per command, plain-English errors."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from cli import analysis, areas, data, meeting, outputs, partnership
from cli.analysis import cmd_evaluate, cmd_hotspots
from cli.common import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USER,
    UserError,
    _emit,
    _Parser,
    _plain,
    _store,
)
from cli.data import cmd_demo, cmd_import, cmd_network, cmd_purge
from cli.outputs import cmd_brief, cmd_plan, cmd_summary, cmd_track

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
    "area": lambda args: areas.cmd_area(args, _store(args)),
    "imports": lambda args: areas.cmd_imports(args, _store(args)),
    "problems": lambda args: partnership.cmd_problems(args, _store(args)),
    "displacement": lambda a: partnership.cmd_displacement(a, _store(a)),
    "meeting": lambda a: meeting.cmd_meeting(a, _store(a)),
    "export": lambda a: meeting.cmd_export(a, _store(a)),
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
    add_area_option, add_area_parsers = areas.add_area_option, areas.add_area_parsers

    add_area_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    data.add_data_parsers(sub)
    analysis.add_analysis_parsers(sub)
    outputs.add_output_parsers(sub)
    add_area_parsers(sub)
    partnership.add_partnership_parsers(sub)
    meeting.add_meeting_parsers(sub)

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

    parser = build_parser()
    args = parser.parse_args(
        areas.glue_negative_values(list(sys.argv[1:] if argv is None else argv))
    )
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
