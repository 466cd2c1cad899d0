"""Coordinate reference systems for street networks: metric CRS choice, transforms, geodesic lengths."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

__all__ = ["BRITISH_NATIONAL_GRID", "WGS84", "metric_crs_for"]

WGS84 = CRS.from_epsg(4326)
BRITISH_NATIONAL_GRID = CRS.from_epsg(27700)

_GEOD = Geod(ellps="WGS84")

# A coarse outline of the island of Ireland, so that points there do not get the British grid.
_IRELAND = shapely.Polygon(
    [
        (-11.0, 51.2),
        (-6.2, 51.9),
        (-5.9, 53.5),
        (-5.35, 54.2),
        (-5.35, 54.75),
        (-5.95, 55.25),
        (-7.4, 55.5),
        (-11.0, 55.5),
    ]
)


def metric_crs_for(lon: float, lat: float) -> CRS:
    """Choose a metric CRS for analysis around a WGS84 point.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees, typically the centre of the area.

    Returns
    -------
    pyproj.CRS
        EPSG:27700 (British National Grid) in Great Britain and nearby waters (not on the
        island of Ireland), otherwise the WGS84 UTM zone that holds the point
        (EPSG:326xx in the northern hemisphere, 327xx in the southern).
    """
    lon = float(lon)
    lat = float(lat)
    if not (np.isfinite(lon) and np.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"Cannot choose a map projection for lon={lon}, lat={lat}: give WGS84 degrees."
        raise ValueError(msg)
    in_gb_box = -9.0 <= lon <= 2.0 and 49.75 <= lat <= 61.0
    if in_gb_box and not shapely.contains_xy(_IRELAND, lon, lat):
        return BRITISH_NATIONAL_GRID
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _transformer(src: CRS, dst: CRS) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _transform_geoms(geoms: np.ndarray, src: CRS, dst: CRS) -> np.ndarray:
    if src == dst:
        return geoms
    tr = _transformer(src, dst)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _geodesic_lengths(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal lengths in metres of WGS84 line strings (vectorised over all vertices)."""
    n = len(geoms)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return np.zeros(n)
    same = idx[:-1] == idx[1:]
    _, _, dist = _GEOD.inv(
        coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    )
    return np.bincount(idx[:-1][same], weights=np.asarray(dist, dtype=float), minlength=n)
