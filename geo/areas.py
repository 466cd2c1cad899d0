"""Areas: where one team works (name, boundary, network, settings); create, list, resolve, delete."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from geo.area_settings import SETTING_KEYS, apply_area_settings, validate_setting
from geo.settings import Settings, load_settings
from geo.store import Store
from geo.store_areas import (
    AreaChoiceError,
    read_current_area_id,
    resolve_area_id,
    write_current_area_id,
)
from geo.store_audit import current_user
from geo.store_tables import areas

__all__ = [
    "DEFAULT_AREA_NAME",
    "DEMO_AREA_NAME",
    "SETTING_KEYS",
    "Area",
    "AreaChoiceError",
    "area_settings",
    "create_area",
    "current_area",
    "default_categories",
    "default_period",
    "delete_area",
    "ensure_import_area",
    "find_area",
    "get_area",
    "list_areas",
    "read_boundary",
    "resolve_area",
    "set_area_setting",
    "set_current_area",
    "unmapped_categories",
    "validate_area_name",
]

DEMO_AREA_NAME = "Helsinki (demo)"
DEFAULT_AREA_NAME = "Default area"
NAME_MAX = 80
_WORLD = (-180.0, -90.0, 180.0, 90.0)


@dataclass(frozen=True)
class Area:
    """One area of the store (a row of ``areas``).

    Attributes
    ----------
    area_id
        Its id (16 hex characters); every batch, report, plan and patrol log carries it.
    name
        Its name, unique in the store (case-insensitively).
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS84.
    boundary
        The boundary polygon (shapely, WGS84), or ``None`` when the box is the boundary.
    synthetic
        Whether its data are synthetic (the demo).
    created_at
        When it was created (UTC, naive).
    settings
        Its settings overrides (:data:`geo.area_settings.SETTING_KEYS`); the rest come from
        ``data/settings.toml``.
    """

    area_id: str
    name: str
    bbox: tuple[float, float, float, float]
    boundary: Any = None
    synthetic: bool = False
    created_at: datetime | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def contains(self, lon: Any, lat: Any) -> np.ndarray:
        """Whether each point lies inside the area (its box, and its polygon if it has one).

        Parameters
        ----------
        lon, lat
            Coordinates in degrees (arrays of equal length).

        Returns
        -------
        numpy.ndarray of bool
        """
        x, y = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
        w, s, e, n = self.bbox
        inside = (x >= w) & (x <= e) & (y >= s) & (y <= n)
        if self.boundary is not None and inside.any():
            import shapely

            idx = inside.nonzero()[0]
            inside[idx] = shapely.contains_xy(self.boundary, x[idx], y[idx])
        return inside

    def boundary_geojson(self) -> str | None:
        """The boundary polygon as GeoJSON geometry text, or ``None``."""
        if self.boundary is None:
            return None
        import shapely

        return shapely.to_geojson(self.boundary)

    def to_json(self) -> dict[str, Any]:
        """The area as a JSON-ready dict (the boundary as a flag, not its coordinates)."""
        return {
            "area_id": self.area_id,
            "name": self.name,
            "bbox": list(self.bbox),
            "boundary": self.boundary is not None,
            "synthetic": self.synthetic,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "settings": sorted(self.settings),
        }


def validate_area_name(name: object) -> str:
    """Return an area name tidied (spaces collapsed), or raise with a plain message.

    Parameters
    ----------
    name
        The proposed name, as typed.

    Returns
    -------
    str
        The name as it is stored.

    Raises
    ------
    ValueError
        When it is empty, longer than :data:`NAME_MAX` characters or holds control
        characters.
    """
    text = " ".join(str(name if name is not None else "").split())
    refusals = (
        (not text, "Give the area a name, e.g. 'Kingston upon Hull'."),
        (len(text) > NAME_MAX, f"An area name has at most {NAME_MAX} characters; shorten it."),
        (not text.isprintable(), "An area name cannot hold control characters; type it again."),
    )
    for refused, msg in refusals:
        if refused:
            raise ValueError(msg)
    return text


def _check_bbox(bbox: Any) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError):
        w = s = e = n = float("nan")
    ok = all(np.isfinite([w, s, e, n])) and -180 <= w < e <= 180 and -90 <= s < n <= 90
    if not ok:
        msg = (
            "The area's box must be four numbers min_lon,min_lat,max_lon,max_lat in degrees "
            "(west < east, south < north), e.g. -0.43,53.71,-0.24,53.82."
        )
        raise ValueError(msg)
    return (w, s, e, n)


def read_boundary(src: str | os.PathLike[str] | bytes) -> Any:
    """Read an area boundary from a GeoJSON or GeoPackage file, as one WGS84 polygon.

    Parameters
    ----------
    src
        A path, or the file's bytes (GeoJSON or GeoPackage).

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        The union of the file's polygons, reprojected to WGS84 and made valid.

    Raises
    ------
    ValueError
        When the file cannot be read, has no polygon, or has no coordinate system and
        coordinates that are not degrees.
    """
    import geopandas as gpd
    import shapely

    try:
        frame = gpd.read_file(src if not isinstance(src, bytes) else _bytes_source(src))
    except Exception as exc:  # any reader failure is the file's fault: say so plainly
        msg = "Cannot read the boundary file: use a GeoJSON or GeoPackage of the area's polygon."
        raise ValueError(msg) from exc
    geoms = frame.geometry[frame.geometry.notna() & ~frame.geometry.is_empty]
    geoms = geoms[geoms.geom_type.isin(["Polygon", "MultiPolygon"])]
    if geoms.empty:
        msg = "The boundary file has no polygon; draw the area as a polygon and save it again."
        raise ValueError(msg)
    if frame.crs is not None:
        geoms = geoms.to_crs(4326)
    shape = shapely.make_valid(shapely.union_all(geoms.values))
    w, s, e, n = shape.bounds
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        msg = (
            "The boundary's coordinates are not longitude/latitude and the file names no "
            "coordinate system; save it with one (e.g. EPSG:27700 or EPSG:4326)."
        )
        raise ValueError(msg)
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        shape = shapely.union_all(
            [g for g in getattr(shape, "geoms", [shape]) if g.geom_type.endswith("Polygon")]
        )
    return shape


def _bytes_source(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def _row_to_area(row: Any) -> Area:
    boundary = None
    if row.boundary:
        import shapely

        boundary = shapely.from_geojson(row.boundary)
    try:
        overrides = json.loads(row.settings or "{}")
    except json.JSONDecodeError:
        overrides = {}
    return Area(
        area_id=str(row.area_id),
        name=str(row.name),
        bbox=(float(row.min_lon), float(row.min_lat), float(row.max_lon), float(row.max_lat)),
        boundary=boundary,
        synthetic=bool(row.synthetic),
        created_at=row.created_at,
        settings=overrides if isinstance(overrides, dict) else {},
    )


def list_areas(store: Store) -> list[Area]:
    """Return every area of the store, by name.

    Parameters
    ----------
    store
        The store.

    Returns
    -------
    list of Area
        Every area, sorted by name.
    """
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(areas).order_by(areas.c.name)).all()
    return [_row_to_area(r) for r in rows]


def find_area(store: Store, name_or_id: str) -> Area | None:
    """Return the area with this id or name (case-insensitive), or ``None``.

    Parameters
    ----------
    store
        The store.
    name_or_id
        An area id or name.

    Returns
    -------
    Area or None
    """
    key = " ".join(str(name_or_id).split()).casefold()
    for area in list_areas(store):
        if area.area_id == str(name_or_id) or area.name.casefold() == key:
            return area
    return None


def get_area(store: Store, name_or_id: str) -> Area:
    """Return the area with this id or name (parameters as for :func:`find_area`).

    Raises :class:`AreaChoiceError`, naming the way out, when there is no such area.
    """
    area = find_area(store, name_or_id)
    if area is None:
        shown = " ".join(str(name_or_id).split())[:NAME_MAX]
        msg = f"No area is called {shown!r}; see `beatplan area list`."
        raise AreaChoiceError(msg)
    return area


def current_area(store: Store) -> Area | None:
    """Return the current area (stored in the database), or ``None`` when none is set.

    Parameters
    ----------
    store
        The store, which keeps the current area's id.

    Returns
    -------
    Area or None
        ``None`` when no area is chosen or the chosen one is gone.
    """
    with store.engine.connect() as conn:
        area_id = read_current_area_id(conn)
    return None if area_id is None else get_area(store, area_id)


def set_current_area(store: Store, name_or_id: str | None) -> Area | None:
    """Make an area the current one (``None`` clears the choice).

    Parameters
    ----------
    store
        The store.
    name_or_id
        The area's id or name, or ``None``.

    Returns
    -------
    Area or None
        The area now current.
    """
    area = None if name_or_id is None else get_area(store, name_or_id)
    with store.engine.begin() as conn:
        write_current_area_id(conn, None if area is None else area.area_id)
    return area


def resolve_area(store: Store, name: str | None = None) -> Area:
    """The area a command works on: ``name`` if given, else the current one, else the only one.

    Parameters
    ----------
    store
        The store.
    name
        The ``--area`` given, if any.

    Returns
    -------
    Area

    Raises
    ------
    AreaChoiceError
        "several areas: choose one with --area NAME (beatplan area list)" when the store holds
        several and none is current; a plain message when it holds none or ``name`` is unknown.
    """
    if name is not None:
        return get_area(store, name)
    with store.engine.connect() as conn:
        area_id = resolve_area_id(conn, None)
    return get_area(store, str(area_id))


def ensure_import_area(
    store: Store, name: str | None = None, *, settings: Settings | None = None
) -> Area:
    """The area an import goes into; on a store with no area yet, "Default area" is made.

    The default area takes the settings' ``[area]`` box (or the whole world, which rejects
    nothing), so a first import with no area set up keeps working.

    Parameters
    ----------
    store, name
        As for :func:`resolve_area`.
    settings
        Settings (the default box).

    Returns
    -------
    Area
        The area named, else the current or only one, else the new "Default area".
    """
    if name is None and not list_areas(store):
        settings = settings or load_settings()
        return create_area(store, DEFAULT_AREA_NAME, bbox=settings.area_bbox or _WORLD)
    return resolve_area(store, name)


def create_area(
    store: Store,
    name: str,
    *,
    bbox: Any = None,
    boundary: Any = None,
    synthetic: bool = False,
    settings: dict[str, Any] | None = None,
    actor: str | None = None,
    make_current: bool = True,
) -> Area:
    """Create an area from a bounding box or a boundary (file or polygon), audited.

    Parameters
    ----------
    store
        The store.
    name
        Its name (unique, case-insensitively; see :func:`validate_area_name`).
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)``; with a boundary, the boundary's bounds
        are used instead.
    boundary
        A GeoJSON/GeoPackage path or bytes (:func:`read_boundary`), or a shapely polygon
        in WGS84.
    synthetic
        Whether its data will be synthetic (the demo).
    settings
        Settings overrides (each checked by :func:`geo.area_settings.validate_setting`).
    actor
        Who created it (default: the local operator).
    make_current
        Make it the current area.

    Returns
    -------
    Area

    Raises
    ------
    ValueError
        On a bad name, a name taken, a bad box or boundary, neither or both given.
    """
    name = validate_area_name(name)
    if (bbox is None) == (boundary is None):
        msg = "Give the area either a box (--bbox W,S,E,N) or a boundary file (--boundary FILE)."
        raise ValueError(msg)
    if find_area(store, name) is not None:
        msg = f"An area called {name!r} exists already; choose another name."
        raise ValueError(msg)
    shape = None
    if boundary is not None:
        shape = boundary if hasattr(boundary, "geom_type") else read_boundary(boundary)
        bbox = shape.bounds
    bbox = _check_bbox(bbox)
    overrides = {k: validate_setting(k, v) for k, v in (settings or {}).items()}
    area = Area(
        area_id=uuid.uuid4().hex[:16],
        name=name,
        bbox=bbox,
        boundary=shape,
        synthetic=bool(synthetic),
        created_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        settings=overrides,
    )
    actor = actor or current_user()
    with store.engine.begin() as conn:
        conn.execute(areas.insert().values(**_area_row(area, actor)))
        if make_current:
            write_current_area_id(conn, area.area_id)
    store.audit("area", f"created area {area.area_id}", n_rows=0, actor=actor)
    return area


def _area_row(area: Area, actor: str) -> dict[str, Any]:
    w, s, e, n = area.bbox
    return {
        "area_id": area.area_id,
        "name": area.name,
        "min_lon": w,
        "min_lat": s,
        "max_lon": e,
        "max_lat": n,
        "boundary": area.boundary_geojson(),
        "synthetic": area.synthetic,
        "created_at": area.created_at,
        "created_by": actor[:255],
        "settings": json.dumps(area.settings, sort_keys=True),
    }


def area_settings(area: Area, base: Settings | None = None) -> Settings:
    """The settings an area works with: the defaults, its overrides, its box and boundary.

    Parameters
    ----------
    area
        The area whose settings these are.
    base
        The default settings (default: ``data/settings.toml``).

    Returns
    -------
    Settings
    """
    base = base or load_settings()
    return apply_area_settings(base, area.settings).with_area(
        area.bbox, name=area.name, boundary=area.boundary
    )


def set_area_setting(
    store: Store, area: Area | str, key: str, value: Any, *, actor: str | None = None
) -> Area:
    """Set (or, with ``None``, remove) one settings override of an area; validated and audited.

    Parameters
    ----------
    store
        The store.
    area
        The area to change, or its id or name.
    key
        One of :data:`geo.area_settings.SETTING_KEYS`.
    value
        The new value (see :func:`geo.area_settings.validate_setting`), or ``None`` to go
        back to ``data/settings.toml``.
    actor
        Who changed it.

    Returns
    -------
    Area
        The area with its new settings.
    """
    area = area if isinstance(area, Area) else get_area(store, area)
    overrides = dict(area.settings)
    if value is None:
        validate_setting(key, None, allow_none=True)
        overrides.pop(key, None)
    else:
        overrides[key] = validate_setting(key, value)
    with store.engine.begin() as conn:
        conn.execute(
            areas.update()
            .where(areas.c.area_id == area.area_id)
            .values(settings=json.dumps(overrides, sort_keys=True))
        )
    store.audit("area", f"setting {key} of area {area.area_id}", n_rows=1, actor=actor)
    return get_area(store, area.area_id)


# The data side of areas (defaults, deletion) lives in geo.area_data; importable from here.
from geo.area_data import (  # noqa: E402
    default_categories,
    default_period,
    delete_area,
    unmapped_categories,
)
