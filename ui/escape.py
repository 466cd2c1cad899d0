"""Escaping of user-supplied text for the map's HTML tooltips, popups and GeoJSON properties."""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def escape_text(value: Any) -> str:
    """Escape text for HTML (``& < > " '``); ``None`` and NaN become an empty string.

    Parameters
    ----------
    value
        Any value; it is turned into ``str`` first.

    Returns
    -------
    str
        Text safe to place in folium popups, tooltips and legends, which render raw HTML.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _json_value(value: Any) -> Any:
    """Turn one property value into JSON: numbers stay numbers, everything else is escaped text."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return None if not math.isfinite(float(value)) else float(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return escape_text(value)


def escape_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Return GeoJSON properties with every text value HTML-escaped.

    Parameters
    ----------
    properties
        Property name -> value. Numbers and booleans are kept (NaN becomes ``None``);
        any other value is converted to text and escaped.

    Returns
    -------
    dict
        Escaped copies; property names are escaped too.
    """
    return {escape_text(k): _json_value(v) for k, v in properties.items()}
