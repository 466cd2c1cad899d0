"""The app's area forms: typed boxes and bases, drawn rectangles, street files, area set-up."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import shapely

from geo.areas import Area, create_area
from geo.store import Store

__all__ = [
    "add_area_boundary",
    "bases_text",
    "drawn_bbox",
    "load_street_file",
    "parse_bases",
    "parse_bbox",
    "parse_point",
    "set_up_area",
]

BOX_EXAMPLE = "-0.43,53.71,-0.24,53.82"
STREET_TYPES = ("pbf", "osm", "gpkg", "geojson", "json")
#: How an area's boundary is drawn: a dark dashed line, not filled.
BOUNDARY_STYLE = {"color": "#222222", "weight": 2, "fill": False, "dashArray": "10 6"}


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Read a typed box ``min_lon,min_lat,max_lon,max_lat``, or raise with a plain message.

    Parameters
    ----------
    text
        Four numbers separated by commas (spaces allowed).

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        When it is not four numbers, or west >= east or south >= north.
    """
    parts = [p.strip() for p in str(text or "").replace(";", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    ok = len(values) == 4 and all(math.isfinite(v) for v in values)
    if ok:
        w, s, e, n = values
        ok = -180 <= w < e <= 180 and -90 <= s < n <= 90
    if not ok:
        msg = (
            "Type the box as four numbers min_lon,min_lat,max_lon,max_lat in degrees "
            f"(west < east, south < north), e.g. {BOX_EXAMPLE}."
        )
        raise ValueError(msg)
    return (values[0], values[1], values[2], values[3])


def parse_point(lon: Any, lat: Any, *, what: str = "The base") -> list[float]:
    """Check a typed longitude and latitude; return ``[lon, lat]``.

    Raises
    ------
    ValueError
        When either is not a number in range.
    """
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        x = y = math.nan
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        msg = f"{what} needs a longitude (-180 to 180) and a latitude (-90 to 90), e.g. -0.3367, 53.7446."
        raise ValueError(msg)
    return [x, y]


def parse_bases(text: str) -> dict[str, list[float]]:
    """Read bases typed one a line as ``Name: lon, lat``.

    Parameters
    ----------
    text
        For example ``"Hull city centre: -0.3367, 53.7446"``; blank lines are skipped.

    Returns
    -------
    dict
        ``{name: [lon, lat]}``.

    Raises
    ------
    ValueError
        Naming the line that is not ``Name: lon, lat``, or a name used twice.
    """
    out: dict[str, list[float]] = {}
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, coords = line.rpartition(":")
        parts = [p.strip() for p in coords.split(",")]
        if not sep or not name.strip() or len(parts) != 2:
            msg = f"Base line {number}: write it as 'Name: longitude, latitude', e.g. 'Station: -0.3367, 53.7446'."
            raise ValueError(msg)
        key = " ".join(name.split())
        if key.casefold() in {k.casefold() for k in out}:
            msg = f"Base line {number}: another base has that name; give each base its own."
            raise ValueError(msg)
        out[key] = parse_point(parts[0], parts[1], what=f"Base line {number}")
    return out


def bases_text(bases: Mapping[str, Sequence[float]]) -> str:
    """Bases as the text :func:`parse_bases` reads (one ``Name: lon, lat`` a line)."""
    return "\n".join(f"{k}: {float(v[0]):.6g}, {float(v[1]):.6g}" for k, v in bases.items())


def drawn_bbox(result: Mapping[str, Any] | None) -> tuple[float, float, float, float] | None:
    """The box of the last shape drawn on a streamlit-folium map (``Draw`` plugin), or ``None``.

    Parameters
    ----------
    result
        What ``st_folium`` returned (``last_active_drawing`` or ``all_drawings``).

    Returns
    -------
    tuple of float or None
    """
    if not isinstance(result, Mapping):
        return None
    feature = result.get("last_active_drawing")
    if not feature and result.get("all_drawings"):
        feature = result["all_drawings"][-1]
    geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
    if not isinstance(geometry, Mapping):
        return None
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    if shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    w, s, e, n = (round(float(v), 6) for v in shape.bounds)
    return (w, s, e, n) if w < e and s < n else None


def add_area_boundary(m: folium.Map, area: Area, *, name: str = "Area boundary") -> None:
    """Draw an area's boundary (its polygon, else its box) as a dark dashed line, no popup."""
    geom = area.boundary if area.boundary is not None else shapely.box(*area.bbox)
    folium.GeoJson(
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(geom)},
        name=name,
        interactive=False,
        style_function=lambda _f: BOUNDARY_STYLE,
    ).add_to(m)


def load_street_file(
    file_name: str, data: bytes, *, bbox: Sequence[float] | None, walk: bool = True
) -> Any:
    """Build a street network from an uploaded file, clipped to a box.

    Parameters
    ----------
    file_name
        The uploaded name (only its extension is used: .osm.pbf, .osm, .gpkg, .geojson).
    data
        The file's bytes.
    bbox
        Clip to ``(min_lon, min_lat, max_lon, max_lat)`` (the area's box).
    walk
        Walkable streets (default) or drivable ones.

    Returns
    -------
    geo.streets.StreetNetwork
    """
    from geo.streets import StreetNetwork

    name = str(file_name).lower()
    suffix = ".osm.pbf" if name.endswith(".osm.pbf") else Path(name).suffix
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        return StreetNetwork.from_file(
            path, bbox=tuple(bbox) if bbox else None, network_type="walk" if walk else "drive"
        )


def set_up_area(
    store: Store,
    name: str,
    *,
    bbox: Sequence[float] | None = None,
    boundary: Any = None,
    bases: Mapping[str, Sequence[float]] | None = None,
    street_file: tuple[str, bytes] | None = None,
    actor: str | None = None,
) -> tuple[Area, dict[str, Any] | None]:
    """Create an area from the first-run form: box or boundary, bases, optional street file.

    Everything is checked first (name, box or boundary, bases inside it, the street file
    read and clipped to the area); only then is the area created (audited, made current)
    and its street network installed for this area only. A failed set-up leaves nothing.

    Parameters
    ----------
    store
        The store.
    name
        The area's name.
    bbox, boundary
        Its box, or a boundary (GeoJSON/GeoPackage bytes or a shapely polygon).
    bases
        ``{name: [lon, lat]}``; each must lie inside the area.
    street_file
        ``(file name, bytes)`` of a street file, or ``None``.
    actor
        Who set it up.

    Returns
    -------
    (Area, dict or None)
        The area and the street network's summary (``None`` without a file).

    Raises
    ------
    ValueError
        With a plain message: bad name, box, boundary, bases or street file.
    """
    from geo.areas import find_area, read_boundary, validate_area_name
    from geo.workspace import install_network

    name = validate_area_name(name)
    if find_area(store, name) is not None:
        msg = f"An area called {name!r} exists already; choose another name."
        raise ValueError(msg)
    if boundary is not None and not hasattr(boundary, "geom_type"):
        boundary = read_boundary(boundary)
    box = boundary.bounds if boundary is not None else parse_bbox(",".join(map(str, bbox or ())))
    probe = Area(area_id="", name=name, bbox=tuple(box), boundary=boundary)
    for base, (x, y) in (bases or {}).items():
        if not probe.contains([x], [y])[0]:
            msg = f"Base {base!r} lies outside {name}; check its longitude and latitude."
            raise ValueError(msg)
    net = None
    if street_file is not None:
        try:
            net = load_street_file(street_file[0], street_file[1], bbox=box)
        except ValueError:
            raise
        except Exception as exc:  # any reader failure is the file's: say so plainly
            msg = (
                "The street file could not be read; use an OpenStreetMap extract (.osm.pbf, "
                ".osm) or a GeoPackage/GeoJSON of street lines."
            )
            raise ValueError(msg) from exc
    area = create_area(
        store,
        name,
        bbox=None if boundary is not None else box,
        boundary=boundary,
        settings={"bases": dict(bases)} if bases else None,
        actor=actor,
    )
    summary = None
    if net is not None:
        summary = install_network(
            net, store, what=street_file[0], actor=actor, area_id=area.area_id
        )
    return area, summary
