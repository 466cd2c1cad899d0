"""The working area: where the current street network lives, and re-snapping stored reports to it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.settings import DATA_DIR, Settings, load_settings
from geo.store import Store
from geo.streets import StreetNetwork

NETWORK_FILE = "network.gpkg"
#: Each area's street network is ``networks/<area_id>.gpkg`` in the data folder.
NETWORKS_DIR = "networks"
#: Street segments shorter than this (metres) are dropped before a network is installed.
MIN_SEGMENT_M = 0.5

PathArg = str | os.PathLike[str] | None


def data_folder(data_dir: PathArg = None) -> Path:
    """Return the data folder: ``data_dir``, else ``$BEATPLAN_DATA``, else the project's ``data/``.

    Parameters
    ----------
    data_dir
        An explicit folder.

    Returns
    -------
    pathlib.Path
    """
    return Path(data_dir or os.environ.get("BEATPLAN_DATA") or DATA_DIR)


def _area_and_dir(area: Any, data_dir: PathArg) -> tuple[Any, PathArg]:
    """Older callers pass the data folder first: a path there is the data folder."""
    if isinstance(area, os.PathLike):
        return None, area if data_dir is None else data_dir
    return area, data_dir


def _area_id(area: Any, store: Store | None) -> str | None:
    """The id of ``area`` (an Area, an id), else the store's current or only area, else None."""
    if area is not None:
        return str(getattr(area, "area_id", area))
    from geo.store_areas import AreaChoiceError, resolve_area_id

    store = store if store is not None else Store()
    try:
        with store.engine.connect() as conn:
            return resolve_area_id(conn, None, required=False)
    except AreaChoiceError:
        return None


def network_path(area: Any = None, *, data_dir: PathArg = None, store: Store | None = None) -> Path:
    """Return the path of an area's street network: ``networks/<area_id>.gpkg`` under the data folder.

    Parameters
    ----------
    area
        The area (an :class:`geo.areas.Area` or its id); by default the current (or only)
        area of ``store``. When the store has no area yet, the folder's own
        ``network.gpkg``. (A path here is taken as ``data_dir``, for older callers.)
    data_dir
        The data folder (default: the project's ``data/``, or ``$BEATPLAN_DATA``).
    store
        The store whose current area is meant (default: the default database).

    Returns
    -------
    pathlib.Path
    """
    area, data_dir = _area_and_dir(area, data_dir)
    base = data_folder(data_dir)
    area_id = _area_id(area, store)
    if area_id is None:
        return base / NETWORK_FILE
    path = base / NETWORKS_DIR / f"{area_id}.gpkg"
    if not path.is_file():
        _adopt_legacy_network(base / NETWORK_FILE, path, area_id, store)
    return path


def _adopt_legacy_network(legacy: Path, path: Path, area_id: str, store: Store | None) -> None:
    """Move a network saved before areas existed to the area it lies in (once)."""
    if not legacy.is_file():
        return
    try:
        import pyogrio

        from geo.areas import get_area

        w, s, e, n = pyogrio.read_info(legacy, layer="segments")["total_bounds"]
        area = get_area(store if store is not None else Store(), area_id)
    except Exception:  # an unreadable legacy file or a vanished area: leave it where it is
        return
    cx, cy = (w + e) / 2, (s + n) / 2
    if bool(area.contains([cx], [cy])[0]):
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(legacy, path)


def current_network(
    area: Any = None, *, data_dir: PathArg = None, store: Store | None = None
) -> StreetNetwork | None:
    """Load an area's street network, or return ``None`` when it has none (point mode).

    Parameters
    ----------
    area
        The area (or its id); by default the current area (see :func:`network_path`).
    data_dir
        The data folder.
    store
        The store whose current area is meant.

    Returns
    -------
    StreetNetwork or None
    """
    path = network_path(area, data_dir=data_dir, store=store)
    return StreetNetwork.load(path) if path.is_file() else None


def resnap_reports(
    store: Store,
    network: StreetNetwork,
    *,
    settings: Settings | None = None,
    area_id: str | None = None,
) -> dict[str, int]:
    """Snap an area's stored reports to ``network`` again (after its network is loaded).

    Only that area's reports are read and updated; no other area is touched.

    Parameters
    ----------
    store
        The report store.
    network
        The area's new street network.
    settings
        Settings (snapping distance).
    area_id
        The area (default: the current one, else the only one).

    Returns
    -------
    dict
        ``{"reports", "snapped", "off_network"}``.
    """
    settings = settings or load_settings()
    reports = store.reports(columns=["report_id", "lon", "lat"], area_id=area_id)
    if reports.empty:
        return {"reports": 0, "snapped": 0, "off_network": 0}
    max_d = float(settings.snapping.get("max_distance_m", 50))
    seg, _ = network.snap(
        reports["lon"].to_numpy(), reports["lat"].to_numpy(), max_distance_m=max_d
    )
    seg = np.asarray(seg, dtype=np.int64)
    store.set_segments(list(reports["report_id"]), [int(s) if s >= 0 else None for s in seg])
    snapped = int((seg >= 0).sum())
    return {"reports": len(reports), "snapped": snapped, "off_network": len(reports) - snapped}


def validate_network(
    network: StreetNetwork, *, sample: int = 500, seed: int = 0
) -> tuple[StreetNetwork, list[str]]:
    """Check a street network before it replaces the current one.

    Segments shorter than :data:`MIN_SEGMENT_M` (zero-length or degenerate lines, which
    break snapping) are dropped; then the midpoints of a sample of segments are snapped,
    and each must land on the network, so a network that cannot snap is never installed.

    Parameters
    ----------
    network
        The loaded street network.
    sample
        How many segments' midpoints to snap.
    seed
        Seed for the sample.

    Returns
    -------
    (network, notes)
        The network (a copy without the dropped segments, if any) and plain-English notes.

    Raises
    ------
    ValueError
        When no usable segment is left or the sample does not snap.
    """
    notes: list[str] = []
    seg = network.segments
    metric = seg.geometry.to_crs(network.metric_crs).values
    length = shapely.length(metric)
    bad = ~np.isfinite(length) | (length < MIN_SEGMENT_M) | shapely.is_empty(metric)
    if bad.all():
        msg = (
            f"The street file has no street segment longer than {MIN_SEGMENT_M} m; check it "
            "is a file of street lines. The current street network was kept."
        )
        raise ValueError(msg)
    if bad.any():
        keep = seg.loc[~bad].reset_index(drop=True)
        network = StreetNetwork(
            keep,
            network.nodes,
            metric_crs=network.metric_crs,
            dropped_components=network.dropped_components,
            source=network.source,
        )
        notes.append(
            f"{int(bad.sum())} street segment(s) shorter than {MIN_SEGMENT_M} m were dropped."
        )
    _check_snapping(network, sample=sample, seed=seed)
    return network, notes


def _check_snapping(network: StreetNetwork, *, sample: int, seed: int) -> None:
    """Snap the midpoints of a sample of segments; each must land within a metre."""
    rng = np.random.default_rng(seed)
    n = len(network.segments)
    idx = rng.choice(n, size=min(sample, n), replace=False)
    mid = shapely.line_interpolate_point(
        network.segments.geometry.values[idx], 0.5, normalized=True
    )
    try:
        seg, dist = network.snap(shapely.get_x(mid), shapely.get_y(mid), max_distance_m=5.0)
    except Exception as exc:  # any failure here would break every later import
        msg = (
            "The street network could not be used to place reports on streets "
            f"({type(exc).__name__}); check the street file. The current network was kept."
        )
        raise ValueError(msg) from exc
    if (np.asarray(seg) < 0).any() or not (np.asarray(dist) <= 1.0).all():
        msg = (
            "Points on the new street network do not snap back onto it; check the street "
            "file's coordinate system. The current street network was kept."
        )
        raise ValueError(msg)


def install_network(
    network: StreetNetwork,
    store: Store,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    what: str = "street network",
    actor: str | None = None,
    area_id: str | None = None,
) -> dict[str, Any]:
    """Make ``network`` an area's network.

    Saves it, re-snaps that area's reports and audits the change.

    Parameters
    ----------
    network
        The loaded street network.
    store
        The report store.
    data_dir
        The data folder.
    settings
        Settings (snapping distance).
    what
        Description for the audit log (e.g. the file name).
    actor
        Who loaded it (default: the local operator).
    area_id
        The area (default: the store's current or only area; with no area yet, the data
        folder's own ``network.gpkg``).

    Returns
    -------
    dict
        ``{"segments", "nodes", "length_km", "reports", "snapped", "off_network", "notes",
        "area_id"}``.

    Raises
    ------
    ValueError
        When the network fails :func:`validate_network`; the current network is untouched.
    """
    network, notes = validate_network(network)
    area_id = _area_id(area_id, store)
    path = network_path(area_id, data_dir=data_dir, store=store)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the current file, then swap: a failed save never leaves half a network.
    tmp = path.with_name(f".{path.stem}.new{path.suffix}")
    network.save(tmp)
    os.replace(tmp, path)
    snapped = resnap_reports(store, network, settings=settings, area_id=area_id)
    what = _audited_name(what) + (f" for area {area_id}" if area_id else "")
    store.audit("network", what, n_rows=len(network.segments), actor=actor)
    return {**network.summary(), **snapped, "notes": notes, "area_id": area_id}


def _audited_name(what: str) -> str:
    """A street file's name as audited: a hash plus its type (a name may hold personal data)."""
    import hashlib

    text = str(what)
    suffix = Path(text).suffix.lower()
    if text.startswith("download ") or not suffix or not suffix[1:].isalnum() or len(suffix) > 8:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"file-{digest}{suffix}"


def hotspots_to_file(hotspots: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a hotspot table as GeoJSON or CSV (by extension), lists and dicts as JSON text.

    CSV cells are neutralised against spreadsheet formulas.

    Parameters
    ----------
    hotspots
        The hotspot table (docs/CONTRACTS.md).
    path
        ``.geojson``/``.json`` or ``.csv``.

    Returns
    -------
    pathlib.Path
    """
    from geo.privacy import safe_csv

    out = Path(path)
    frame = hotspots.copy()
    for col in ("counts", "active_hours", "profile", "segment_ids"):
        if col in frame.columns:
            frame[col] = frame[col].map(lambda v: json.dumps(_plain(v)))
    suffix = out.suffix.lower()
    if suffix in (".geojson", ".json"):
        gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=hotspots.crs or 4326)
        out.write_text(gdf.to_json(drop_id=True), encoding="utf-8")
    elif suffix == ".csv":
        flat = pd.DataFrame(frame.drop(columns="geometry"))
        centroid = hotspots.geometry.to_crs(4326).representative_point()
        flat["lon"] = centroid.x.round(5)
        flat["lat"] = centroid.y.round(5)
        out.write_bytes(safe_csv(flat, encoding="utf-8"))
    else:
        msg = f"Cannot write {out.name}: use a .geojson or .csv file name."
        raise ValueError(msg)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def compute_hotspots(
    reports: pd.DataFrame,
    *,
    network: StreetNetwork | None,
    settings: Settings | None = None,
    start: Any = None,
    end: Any = None,
    categories: list[str] | None = None,
    sources: list[str] | None = None,
    return_segments: bool = False,
) -> tuple[gpd.GeoDataFrame, str, gpd.GeoDataFrame | None]:
    """Hotspots on the street network when there is one, else point mode (DBSCAN).

    Parameters
    ----------
    reports
        Stored reports (with ``segment_id`` when snapped).
    network
        The current street network, or ``None`` for point mode.
    settings
        Settings (method parameters).
    start, end
        Period, ``start <= occurred_at < end``.
    categories, sources
        Filters.
    return_segments
        Also return the per-segment table (risk, z) for drawing, in network mode.

    Returns
    -------
    (hotspots, mode, segments)
        ``mode`` is ``"network"`` or ``"point"``; ``segments`` is ``None`` in point mode.
    """
    from geo.hotspots import find_hotspots, find_point_hotspots

    settings = settings or load_settings()
    filters = {"start": start, "end": end, "categories": categories, "sources": sources}
    snapped = reports["segment_id"].notna().any() if "segment_id" in reports else False
    if network is not None and snapped:
        if return_segments:
            hot, table = find_hotspots(
                network, reports, settings=settings, return_segments=True, **filters
            )
            return hot, "network", table
        return (
            find_hotspots(network, reports, settings=settings, **filters),
            "network",
            None,
        )
    hot = find_point_hotspots(reports, settings=settings, **filters)
    return hot, "point", None
