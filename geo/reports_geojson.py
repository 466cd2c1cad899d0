"""Read GeoJSON point features (WGS84 or British National Grid) of partner reports."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import ReportFileError
from geo.reports_csv import decode_text
from geo.reports_limits import FileLimits, check_json_depth, check_rows


def geojson_frame(
    data: bytes, *, limits: FileLimits | None = None
) -> tuple[pd.DataFrame, list[str], list[tuple[int, str]]]:
    """Read a GeoJSON Feature or FeatureCollection into a table of strings.

    The nesting depth is checked before the JSON is parsed (no recursion blow-up), the
    number of features after.

    ``data`` and ``limits`` are as for :func:`geo.reports_csv.csv_frame`.

    Returns
    -------
    (frame, notes, bad_rows)
        One row per feature: its properties as text, ``__geometry_type``, the point's
        ``__x``/``__y`` (``__easting``/``__northing`` when the file declares EPSG:27700)
        and a ``__row`` feature number; notes; and an always empty list of bad rows.

    Raises
    ------
    ReportFileError
        When the file is not valid JSON, nested too deeply, not GeoJSON features, has no
        features or more than the row limit.
    """
    limits = limits or FileLimits()
    text, _ = decode_text(data)
    check_json_depth(text.encode("utf-8", errors="surrogatepass"))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"The GeoJSON file is not valid JSON (line {exc.lineno}); export it again."
        raise ReportFileError(msg) from exc
    features = _features(doc)
    check_rows(len(features), limits)
    crs_name = str(((doc.get("crs") or {}).get("properties") or {}).get("name", ""))
    rows = [_feature_row(feat) for feat in features]
    frame = pd.DataFrame(rows).fillna("")
    frame["__row"] = np.arange(1, len(frame) + 1)
    notes = []
    if "27700" in crs_name:
        notes.append("GeoJSON in British National Grid (EPSG:27700).")
        frame = frame.rename(columns={"__x": "__easting", "__y": "__northing"})
    return frame, notes, []


def _features(doc: Any) -> list[Any]:
    """The features of a GeoJSON document, refusing anything else or an empty collection."""
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
    else:
        msg = "The JSON file is not a GeoJSON FeatureCollection of points."
        raise ReportFileError(msg)
    if not features:
        msg = "The GeoJSON file has no features."
        raise ReportFileError(msg)
    return features


def _feature_row(feat: Any) -> dict[str, str]:
    """One feature as a row of text: its properties plus geometry type and point coordinates."""
    props = dict(feat.get("properties") or {}) if isinstance(feat, dict) else {}
    geom = feat.get("geometry") if isinstance(feat, dict) else None
    x = y = ""
    gtype = (geom or {}).get("type") if isinstance(geom, dict) else None
    if gtype == "Point":
        coords = geom.get("coordinates") or []
        if len(coords) >= 2:
            x, y = coords[0], coords[1]
    props["__geometry_type"] = gtype or ""
    props["__x"] = "" if x is None else str(x)
    props["__y"] = "" if y is None else str(y)
    return {k: "" if v is None else str(v) for k, v in props.items()}
