"""Street network persistence: GeoPackage save/load and the on-disk cache of built networks."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
from pyproj import CRS

from geo.settings import DATA_DIR

__all__ = ["CACHE_FORMAT_VERSION", "DEFAULT_CACHE_DIR", "read_network", "write_network"]

DEFAULT_CACHE_DIR = DATA_DIR / "cache"
CACHE_FORMAT_VERSION = 1


def write_network(
    path: str | os.PathLike[str],
    segments: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    *,
    metric_crs: CRS,
    dropped_components: int,
    source: str,
) -> Path:
    """Write a network to a GeoPackage (layers ``segments`` and ``nodes``).

    Parameters
    ----------
    path
        The ``.gpkg`` file to (over)write.
    segments, nodes
        The network's tables (WGS84).
    metric_crs, dropped_components, source
        Stored as layer metadata of ``segments``.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    meta = {
        "beatplan_streets": str(CACHE_FORMAT_VERSION),
        "metric_crs": metric_crs.to_wkt(),
        "metric_epsg": str(metric_crs.to_epsg() or ""),
        "dropped_components": str(dropped_components),
        "source": source,
    }
    seg = segments.copy()
    pyogrio.write_dataframe(seg, path, layer="segments", driver="GPKG", layer_metadata=meta)
    nodes = nodes.copy()
    nodes.insert(0, "node_id", np.arange(len(nodes), dtype=np.int64))
    pyogrio.write_dataframe(nodes, path, layer="nodes", driver="GPKG", append=False)
    return path


def read_network(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """Read the tables and options of a network written by :func:`write_network`.

    Parameters
    ----------
    path
        An existing GeoPackage.

    Returns
    -------
    segments, nodes : geopandas.GeoDataFrame
        Sorted by ``segment_id`` / ``node_id``.
    options : dict
        ``metric_crs``, ``dropped_components`` and ``source`` for the StreetNetwork.
    """
    if not _is_saved_network(path):
        msg = f"{path.name} is not a street network saved by Beatplan; load it with from_file()."
        raise ValueError(msg)
    meta = pyogrio.read_info(path, layer="segments").get("layer_metadata") or {}
    seg = pyogrio.read_dataframe(path, layer="segments", use_arrow=True)
    nodes = pyogrio.read_dataframe(path, layer="nodes", use_arrow=True)
    nodes = nodes.sort_values("node_id").reset_index(drop=True)
    seg = seg.sort_values("segment_id").reset_index(drop=True)
    options = {
        "metric_crs": CRS.from_wkt(meta["metric_crs"]) if meta.get("metric_crs") else None,
        "dropped_components": int(meta.get("dropped_components", 0)),
        "source": meta.get("source", ""),
    }
    return seg, nodes, options


def _is_saved_network(path: Path) -> bool:
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
        if not {"segments", "nodes"} <= layers:
            return False
        meta = pyogrio.read_info(path, layer="segments").get("layer_metadata") or {}
    except Exception:
        return False
    return "beatplan_streets" in meta


def _cache_path(
    path: Path,
    bbox: tuple[float, float, float, float] | None,
    network_type: str,
    cache_dir: str | os.PathLike[str],
) -> Path:
    """The cache file of a street file, keyed by its path, mtime, size and the load options."""
    stat = path.stat()
    key = json.dumps(
        [
            str(path.resolve()),
            stat.st_mtime_ns,
            stat.st_size,
            bbox and [float(b) for b in bbox],
            network_type,
            CACHE_FORMAT_VERSION,
        ]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return Path(cache_dir) / f"streets-{digest}.gpkg"


def _write_cache(cache_path: Path, save: Callable[[Path], Any]) -> None:
    """Write through a temporary file with ``save`` and move it into place atomically."""
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_suffix(".tmp.gpkg")
    save(tmp)
    os.replace(tmp, cache_path)
