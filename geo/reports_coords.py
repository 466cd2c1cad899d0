"""Read report coordinates: latitude/longitude or British National Grid, swaps and ranges."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

GB_LON = (-9.0, 2.5)
GB_LAT = (49.0, 61.5)

Reject = Callable[[pd.Series | np.ndarray, str], None]
_ZERO = "coordinates are (0, 0), a placeholder, not a place"


def to_number(values: pd.Series) -> pd.Series:
    """Read text as float, accepting a decimal comma; blanks and non-numbers are missing.

    Parameters
    ----------
    values
        Cells as text.

    Returns
    -------
    pandas.Series of float64
    """
    s = values.astype("string[pyarrow]").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(s.mask(s == ""), errors="coerce").astype("float64")


def coordinate_columns(
    frame: pd.DataFrame, colmap: dict[str, str]
) -> tuple[bool, pd.Series | None, pd.Series | None]:
    """Decide between latitude/longitude and eastings/northings (also when x/y hold BNG).

    Parameters
    ----------
    frame
        The file's table.
    colmap
        ``{field: column}``; when most ``lon``/``lat`` values are far beyond degrees, those
        fields are renamed ``easting``/``northing`` in place.

    Returns
    -------
    (bng, xs, ys)
        Whether the coordinates are British National Grid, and the ``lon``/``lat`` columns
        read as numbers when they were looked at (else ``None``).
    """
    xs = ys = None
    if "easting" in colmap and "northing" in colmap:
        return True, xs, ys
    if "lon" in colmap and "lat" in colmap:
        xs = to_number(frame[colmap["lon"]])
        ys = to_number(frame[colmap["lat"]])
        big = (xs.abs() > 360) | (ys.abs() > 360)
        if big.sum() > 0.5 * big.size and big.any():
            colmap["easting"], colmap["northing"] = colmap.pop("lon"), colmap.pop("lat")
            return True, xs, ys
    return False, xs, ys


def bng_coordinates(
    frame: pd.DataFrame, fields: Mapping[str, str], reject: Reject, notes: list[str]
) -> tuple[pd.Series, pd.Series]:
    """Read eastings/northings, reject bad ones and convert the rest to longitude/latitude.

    Parameters
    ----------
    frame
        The file's table.
    fields
        ``{field: column}`` with ``easting`` and ``northing``.
    reject
        Called with a row mask and a reason, in order (the first reason of a row wins).
    notes
        Notes for the user; one is added.

    Returns
    -------
    (lon, lat)
        WGS84 degrees, missing where the row is outside the grid.
    """
    east = to_number(frame[fields["easting"]])
    north = to_number(frame[fields["northing"]])
    raw_e = frame[fields["easting"]].astype("string[pyarrow]").str.strip()
    raw_n = frame[fields["northing"]].astype("string[pyarrow]").str.strip()
    reject((raw_e == "") | (raw_n == ""), "coordinates blank")
    reject(east.isna() | north.isna(), "coordinates not numbers")
    reject((east == 0) & (north == 0), _ZERO)
    in_grid = east.between(0, 700_000) & north.between(0, 1_300_000)
    reject(~in_grid, "easting/northing outside the British National Grid")
    lon = pd.Series(np.nan, index=frame.index)
    lat = pd.Series(np.nan, index=frame.index)
    ok = in_grid.fillna(False).astype(bool)
    if ok.any():
        from pyproj import Transformer

        tr = Transformer.from_crs(27700, 4326, always_xy=True)
        x, y = tr.transform(east[ok].to_numpy(), north[ok].to_numpy())
        lon[ok], lat[ok] = x, y
    notes.append(
        "Coordinates read as British National Grid eastings/northings (EPSG:27700) "
        "and converted to latitude/longitude."
    )
    return lon, lat


def lon_lat_coordinates(
    frame: pd.DataFrame,
    fields: Mapping[str, str],
    xs: pd.Series | None,
    ys: pd.Series | None,
    reject: Reject,
    notes: list[str],
) -> tuple[pd.Series, pd.Series]:
    """Read longitude/latitude, reject bad ones and correct swapped columns or rows.

    Parameters are as for :func:`bng_coordinates`, with ``lon`` and ``lat`` in ``fields``
    (a note is added only when values were swapped), and ``xs``, ``ys``: the ``lon``/``lat``
    columns already read as numbers, or ``None`` to read them here.

    Returns
    -------
    (lon, lat)
    """
    raw_x = frame[fields["lon"]].astype("string[pyarrow]").str.strip()
    raw_y = frame[fields["lat"]].astype("string[pyarrow]").str.strip()
    lon = xs if xs is not None else to_number(raw_x)
    lat = ys if ys is not None else to_number(raw_y)
    reject((raw_x == "") | (raw_y == ""), "coordinates blank")
    reject(lon.isna() | lat.isna(), "coordinates not numbers")
    reject((lon == 0) & (lat == 0), _ZERO)
    lon, lat = _unswap(lon, lat, notes)
    reject(~(lon.between(-180, 180) & lat.between(-90, 90)), "coordinates out of range")
    return lon, lat


def _unswap(lon: pd.Series, lat: pd.Series, notes: list[str]) -> tuple[pd.Series, pd.Series]:
    """Swap back whole columns (latitude under the longitude header, as seen in GB data) or rows."""
    valid = lon.notna() & lat.notna() & ~((lon == 0) & (lat == 0))
    looks_swapped = (lat.between(*GB_LON) & lon.between(*GB_LAT)) & valid
    looks_right = (lon.between(*GB_LON) & lat.between(*GB_LAT)) & valid
    if looks_swapped.sum() > looks_right.sum():
        notes.append("Latitude and longitude were swapped in the file's columns; corrected.")
        return lat, lon
    row_swap = valid & (lat.abs() > 90) & (lon.abs() <= 90)
    row_swap |= valid & looks_swapped & (looks_right.sum() > 0)
    if row_swap.any():
        lon, lat = lon.mask(row_swap, lat), lat.mask(row_swap, lon)
        notes.append(f"{int(row_swap.sum())} rows had latitude and longitude swapped; corrected.")
    return lon, lat


def reject_outside_area(
    lon: pd.Series,
    lat: pd.Series,
    bbox: tuple[float, float, float, float] | None,
    reject: Reject,
    *,
    name: str = "",
    boundary: Any = None,
) -> None:
    """Reject the rows outside the area's bounding box (and boundary polygon), if there is one.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees.
    bbox
        ``(west, south, east, north)``, or ``None`` for no area.
    reject
        Called with a row mask and a reason.
    name
        The area's name, for the reason ``"outside <name>"``.
    boundary
        The area's polygon (shapely, WGS84), or ``None`` for the box alone.
    """
    if bbox is None:
        return
    w, s_, e, nth = bbox
    inside = (lon.between(w, e) & lat.between(s_, nth)).fillna(False).astype(bool)
    if boundary is not None and inside.any():
        import shapely

        idx = inside.to_numpy().nonzero()[0]
        keep = shapely.contains_xy(boundary, lon.to_numpy()[idx], lat.to_numpy()[idx])
        inside.iloc[idx[~keep]] = False
    reject(~inside, f"outside {name}" if name else "outside the configured area")
