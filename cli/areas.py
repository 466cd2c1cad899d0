"""The ``beatplan`` area commands (area, imports) and the ``--area NAME`` rule every command uses."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = [
    "AREA_HELP",
    "add_area_option",
    "add_area_parsers",
    "area_for",
    "area_network",
    "area_settings_for",
    "cmd_area",
    "cmd_imports",
    "glue_negative_values",
]

AREA_HELP = (
    "the area to work on, by name (default: the current area, or the only one; "
    "see 'beatplan area list')"
)
_WORLD = (-180.0, -90.0, 180.0, 90.0)


class AreaArgumentError(ValueError):
    """A bad ``--area`` or area command argument; the message is one plain line."""


def glue_negative_values(argv: list[str]) -> list[str]:
    """Join ``--bbox`` (and ``--area``) to a value that starts with a minus sign.

    ``--bbox -0.43,53.71,-0.24,53.82`` would otherwise read as an unknown option (west of
    Greenwich every box starts with a minus); it becomes ``--bbox=-0.43,...``.

    Parameters
    ----------
    argv
        The command-line arguments.

    Returns
    -------
    list of str
    """
    out: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if (
            arg in ("--bbox", "--area")
            and len(nxt) > 1
            and nxt[0] == "-"
            and nxt[1] in "0123456789."
        ):
            out.append(f"{arg}={nxt}")
            skip = True
        else:
            out.append(arg)
    return out


def add_area_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Add ``--area NAME`` to a parser (given before or after the command, both work).

    Parameters
    ----------
    parser
        The top-level parser (``top=True``) or a command's parser.
    top
        On the top-level parser the default is ``None``; on a command's parser the
        option is left unset unless given, so it never hides a top-level ``--area``.
    """
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--area", default=default, metavar="NAME", help=AREA_HELP)


def area_for(args: argparse.Namespace, store: Any, *, create: bool = False) -> Any:
    """The area a command works on: ``--area NAME``, else the current one, else the only one.

    Parameters
    ----------
    args
        The parsed arguments (``args.area``).
    store
        The store.
    create
        For writes (an import): on a store with no area yet, create "Default area".

    Returns
    -------
    geo.areas.Area or None
        ``None`` only when the store has no area and ``create`` is false.

    Raises
    ------
    ValueError
        "--area: no area is called ..." or "several areas: choose one with --area NAME
        (beatplan area list)".
    """
    from geo.areas import ensure_import_area, find_area, list_areas, resolve_area

    name = getattr(args, "area", None)
    cached = getattr(args, "_area_obj", None)
    if cached is not None:
        return cached
    if name is not None and find_area(store, name) is None:
        shown = " ".join(str(name).split())[:80]
        msg = f"--area: no area is called {shown!r}; see 'beatplan area list'"
        raise AreaArgumentError(msg)
    if create:
        area = ensure_import_area(store, name, settings=_base_settings(args))
    elif name is None and not list_areas(store):
        return None
    else:
        area = resolve_area(store, name)
    args._area_obj = area
    return area


def _base_settings(args: argparse.Namespace) -> Any:
    from geo.settings import load_settings

    return load_settings(getattr(args, "settings", None))


def area_settings_for(args: argparse.Namespace, area: Any) -> Any:
    """The settings of ``area`` (``--settings`` or ``data/settings.toml``, then its overrides).

    Parameters
    ----------
    args
        The parsed arguments.
    area
        The area, or ``None`` (the file's settings as they are).

    Returns
    -------
    geo.settings.Settings
    """
    from geo.areas import area_settings

    base = _base_settings(args)
    return base if area is None else area_settings(area, base)


def area_network(args: argparse.Namespace, store: Any, area: Any) -> Any:
    """The street network named by ``--network``, else the area's own, else ``None``.

    Parameters
    ----------
    args
        The parsed arguments.
    store
        The store.
    area
        The area (``None``: the store has no area yet).

    Returns
    -------
    geo.streets.StreetNetwork or None
    """
    from geo.streets import StreetNetwork
    from geo.workspace import current_network

    if getattr(args, "network", None):
        return StreetNetwork.from_file(args.network)
    return current_network(area.area_id if area is not None else None, store=store)


def area_context(args: argparse.Namespace, store: Any) -> tuple[Any, Any, Any]:
    """The command's area with its settings and street network (``None`` without one).

    Raises
    ------
    ValueError
        When the store has no area yet.
    """
    area = area_for(args, store)
    if area is None:
        msg = "no area yet: create one with 'beatplan area create' and import files"
        raise ValueError(msg)
    return area, area_settings_for(args, area), area_network(args, store, area)


def _parse_box(text: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in str(text).replace(" ", "").split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4:
        msg = "--bbox must be four numbers min_lon,min_lat,max_lon,max_lat, e.g. -0.43,53.71,-0.24,53.82"
        raise AreaArgumentError(msg)
    return parts[0], parts[1], parts[2], parts[3]


def _area_json(area: Any, store: Any, current_id: str | None) -> dict[str, Any]:
    return {
        **area.to_json(),
        "current": area.area_id == current_id,
        "reports": store.count_reports(area_id=area.area_id),
    }


def _cmd_area_create(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    from geo.areas import create_area

    if (args.bbox is None) == (args.boundary is None):
        msg = "give the area either --bbox W,S,E,N or --boundary FILE"
        raise AreaArgumentError(msg)
    bbox = _parse_box(args.bbox) if args.bbox is not None else None
    if args.boundary is not None and not Path(args.boundary).is_file():
        msg = f"boundary file not found: {args.boundary}"
        raise FileNotFoundError(msg)
    area = create_area(store, args.name, bbox=bbox, boundary=args.boundary)
    out: dict[str, Any] = {**_area_json(area, store, area.area_id), "network": None}
    if args.area_network:
        out["network"] = _load_area_network(args, store, area, args.area_network)
    return out


def _load_area_network(args: argparse.Namespace, store: Any, area: Any, path: str) -> Any:
    from geo.streets import DEFAULT_CACHE_DIR, StreetNetwork
    from geo.workspace import install_network

    net = StreetNetwork.from_file(
        path, bbox=_clip_box(area), network_type=args.type, cache_dir=DEFAULT_CACHE_DIR
    )
    settings = area_settings_for(args, area)
    return install_network(
        net, store, settings=settings, what=Path(path).name, area_id=area.area_id
    )


def _clip_box(area: Any) -> tuple[float, float, float, float] | None:
    """The area's box padded by about 1 km (streets just outside still route), or None."""
    if area is None or tuple(area.bbox) == _WORLD:
        return None
    w, s, e, n = area.bbox
    pad = 0.01
    return (max(-180, w - pad), max(-90, s - pad), min(180, e + pad), min(90, n + pad))


def cmd_area(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    """``beatplan area create | list | delete | use``: one JSON line each.

    A :data:`cli.common.StoreCommand`: ``args`` are the parsed arguments, ``store`` the store.

    Returns
    -------
    dict
        ``list``: ``{"areas", "current"}``; ``create``/``use``: the area; ``delete``: what
        was removed, with ``deleted``.
    """
    from geo.areas import current_area, delete_area, get_area, list_areas, set_current_area

    if args.area_action == "create":
        return _cmd_area_create(args, store)
    if args.area_action == "delete":
        return {"deleted": True, **delete_area(store, get_area(store, args.name))}
    if args.area_action == "use":
        area = set_current_area(store, args.name)
        return _area_json(area, store, area.area_id)
    current = current_area(store)
    current_id = current.area_id if current is not None else None
    return {
        "areas": [_area_json(a, store, current_id) for a in list_areas(store)],
        "current": current.name if current is not None else None,
    }


def cmd_imports(args: argparse.Namespace, store: Any) -> dict[str, Any]:
    """``beatplan imports list | delete BATCH`` for the area: one JSON line each.

    A :data:`cli.common.StoreCommand`: ``args`` are the parsed arguments, ``store`` the store.

    Returns
    -------
    dict
        ``list``: ``{"area", "imports"}``; ``delete``: what the import removed.
    """
    from geo.ingest import delete_import

    area = area_for(args, store)
    if args.imports_action == "delete":
        area_id = area.area_id if getattr(args, "area", None) else None
        return delete_import(store, args.batch, area_id=area_id)
    if area is None:
        return {"area": None, "imports": []}
    table = store.batches(area_id=area.area_id)
    cols = ["batch_id", "file_name", "source", "format", "imported_at", "rows_read"]
    cols += ["accepted", "duplicates", "rejected", "off_network", "purged"]
    rows = table[cols].rename(columns={"file_name": "file"})
    rows["purged"] = rows["purged"].fillna(0).astype(int)
    rows["imported_at"] = rows["imported_at"].astype(str)
    return {"area": area.name, "imports": rows.to_dict(orient="records")}


def add_area_parsers(sub: Any) -> None:
    """Add the ``area`` and ``imports`` commands to the ``beatplan`` subparsers.

    Parameters
    ----------
    sub
        The object ``add_subparsers`` returned.
    """
    p = sub.add_parser("area", help="areas to work in: create, list, delete, use")
    acts = p.add_subparsers(dest="area_action", metavar="ACTION", required=True)
    c = acts.add_parser("create", help="create an area from a box or a boundary file")
    c.add_argument("name", metavar="NAME")
    c.add_argument(
        "--bbox", default=None, metavar="W,S,E,N", help="min_lon,min_lat,max_lon,max_lat"
    )
    c.add_argument("--boundary", default=None, metavar="FILE", help="GeoJSON or GeoPackage polygon")
    c.add_argument(
        "--network", dest="area_network", default=None, metavar="FILE", help="its street network"
    )
    c.add_argument("--type", default="walk", choices=["walk", "drive", "all"])
    acts.add_parser("list", help="list the areas")
    d = acts.add_parser("delete", help="delete an area with its reports, network and plans")
    d.add_argument("name", metavar="NAME")
    u = acts.add_parser("use", help="make an area the current one")
    u.add_argument("name", metavar="NAME")

    p = sub.add_parser("imports", help="the area's imports: list, or delete one")
    acts = p.add_subparsers(dest="imports_action", metavar="ACTION", required=True)
    add_area_option(acts.add_parser("list", help="list the area's imports"))
    d = acts.add_parser("delete", help="delete one import and everything it added")
    d.add_argument("batch", metavar="BATCH")
    add_area_option(d)
