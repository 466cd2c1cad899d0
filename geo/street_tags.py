"""OpenStreetMap tag rules for street networks: which ways are walkable/drivable, clean text values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["NETWORK_TYPES"]

NETWORK_TYPES = ("walk", "drive", "all")

# OSM highway values that are never part of the street network (not built, not a way, areas).
_NEVER_HIGHWAY = frozenset(
    {
        "",
        "abandoned",
        "bus_stop",
        "construction",
        "disused",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "services",
    }
)
# Not walkable: motorways, bus-only ways. Trunk roads are walkable unless tagged without a pavement.
_WALK_EXCLUDED_HIGHWAY = frozenset(
    {"motorway", "motorway_link", "motor", "bus_guideway", "busway", "escape"}
)
_TRUNK = frozenset({"trunk", "trunk_link"})
_NO_SIDEWALK = frozenset({"no", "none"})
_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive", "official"})
_DRIVE_HIGHWAY = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
    }
)
_CLOSED_ACCESS = frozenset({"no", "private"})
_TAG_KEYS = (
    "highway",
    "name",
    "access",
    "foot",
    "service",
    "area",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "motorcar",
    "motor_vehicle",
    "vehicle",
)


def _check_network_type(network_type: str) -> str:
    value = str(network_type).strip().lower()
    if value not in NETWORK_TYPES:
        msg = f"Unknown network type {network_type!r}; use one of {', '.join(NETWORK_TYPES)}."
        raise ValueError(msg)
    return value


def _tag(df: pd.DataFrame, key: str) -> pd.Series:
    """A tag as a clean lower-case string Series ('' when missing), from a column or JSON tags."""
    if key in df.columns:
        col = df[key]
    elif "tags" in df.columns:
        pattern = '"' + re.escape(key) + r'"\s*:\s*"([^"]*)"'
        col = df["tags"].astype("string").str.extract(pattern, expand=False)
    else:
        return pd.Series("", index=df.index, dtype=object)
    col = col.map(lambda v: v[0] if isinstance(v, list) and v else v)
    return col.astype("string").fillna("").str.strip().str.lower().astype(object)


def _any_value_in(values: pd.Series, allowed: frozenset[str]) -> np.ndarray:
    """True where a (possibly ``a;b`` multi-valued) tag holds one of ``allowed``."""
    exact = values.isin(allowed).to_numpy()
    multi = values.str.contains(";", regex=False).to_numpy()
    if multi.any():
        parts = values[multi].str.split(";")
        exact[multi] = parts.map(lambda ps: any(p.strip() in allowed for p in ps)).to_numpy()
    return exact


def _access_closed(df: pd.DataFrame, keys: Iterable[str]) -> np.ndarray:
    """OSM access hierarchy: the most specific tag present decides; closed if no/private."""
    decided = np.zeros(len(df), dtype=bool)
    closed = np.zeros(len(df), dtype=bool)
    for key in (*keys, "access"):
        values = _tag(df, key)
        present = (values != "").to_numpy() & ~decided
        closed |= present & _any_value_in(values, _CLOSED_ACCESS)
        decided |= present
    return closed


def _network_mask(df: pd.DataFrame, network_type: str) -> np.ndarray:
    """Which OSM ways (rows with OSM tags) belong to a ``walk``, ``drive`` or ``all`` network."""
    highway = _tag(df, "highway")
    keep = ~highway.isin(_NEVER_HIGHWAY).to_numpy()
    keep &= ~_any_value_in(_tag(df, "area"), frozenset({"yes"}))
    if network_type == "walk":
        keep &= ~highway.isin(_WALK_EXCLUDED_HIGHWAY).to_numpy()
        no_pavement = np.zeros(len(df), dtype=bool)
        for key in ("sidewalk", "sidewalk:both"):
            no_pavement |= _tag(df, key).isin(_NO_SIDEWALK).to_numpy()
        foot_ok = _tag(df, "foot").isin(_FOOT_ALLOWED).to_numpy()
        keep &= ~(highway.isin(_TRUNK).to_numpy() & no_pavement & ~foot_ok)
        keep &= ~_access_closed(df, ("foot",))
        keep &= ~_any_value_in(_tag(df, "service"), frozenset({"private"}))
    elif network_type == "drive":
        keep &= highway.isin(_DRIVE_HIGHWAY).to_numpy()
        keep &= ~_access_closed(df, ("motorcar", "motor_vehicle", "vehicle"))
    return keep


def _clean_text(values: Any, index: pd.Index | None = None) -> pd.Series:
    """Names/highway values as str ('' for missing); lists become sorted, ' / '-joined text."""

    def one(v: Any) -> str:
        if isinstance(v, (list, tuple, set, np.ndarray)):
            parts = sorted({str(p).strip() for p in v if p is not None and str(p).strip()})
            return " / ".join(parts)
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return ""
        return str(v).strip()

    series = pd.Series(values, index=index)
    return series.map(one).astype(object)
