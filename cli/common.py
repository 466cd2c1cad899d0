"""Shared pieces of the command line: errors, output, the store, area, settings and argument parsing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2

#: A command that works on the store: ``handler(args, store)`` runs one ``beatplan`` command
#: with ``args`` (the parsed arguments) on ``store`` (the command's one
#: :class:`geo.store.Store`) and returns the JSON line it prints, as a dict.
StoreCommand = Callable[[argparse.Namespace, Any], dict[str, Any]]


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
    """The area of the command (``--area NAME``, else the current or only one; cli.areas)."""
    from cli.areas import area_for

    return area_for(args, _store(args), create=create)


def _area_id(args: argparse.Namespace) -> str | None:
    area = _area(args)
    return area.area_id if area is not None else None


def _settings(args: argparse.Namespace) -> Any:
    """The settings of the command's area (the settings file with the area's overrides)."""
    from cli.areas import area_settings_for

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
    from cli.areas import area_network

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
    from cli.areas import _clip_box

    area = _area(args)
    return None if _clip_box(area) is None else tuple(area.bbox)


def _write_output(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def _day(text: str | None, what: str) -> Any:
    """A calendar day (midnight) from ``text``; ``None`` stays ``None``; a bad date is a user error."""
    day = _date(text, what)
    return None if day is None else day.normalize()
