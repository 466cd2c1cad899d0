"""Escaping of user-supplied text, one helper per output context (HTML, attribute, JavaScript, markdown)."""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "escape_properties",
    "escape_text",
    "html_attr",
    "html_text",
    "js_string",
    "md_text",
    "plain_text",
]

# C0 and C1 control characters, DEL and the bidirectional overrides that can disguise text;
# tab, line feed and carriage return are handled per context.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\u0085\u2028\u2029]")
# Characters that HTML does not need escaped but a JavaScript template literal or string
# around the HTML would act on: folium puts tooltip HTML inside a template literal.
_HTML_EXTRA = str.maketrans(
    {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "\u2028": "&#8232;", "\u2029": "&#8233;"}
)
_JS_ESCAPES = {
    "\\": "\\\\",
    '"': "\\u0022",
    "'": "\\u0027",
    "`": "\\u0060",
    "$": "\\u0024",
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JS_UNSAFE = re.compile("[\\\\\"'`$<>&\n\r\t\u2028\u2029\x00-\x1f\x7f-\x9f]")
# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of
# them turns off emphasis, links, images, autolinks, HTML, headings, tables, Streamlit's
# ``:material/...:`` and ``:red[...]`` directives and ``$`` maths in one rule.
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def plain_text(value: Any, *, single_line: bool = True) -> str:
    """Return ``value`` as text without control characters (for a terminal or a log line).

    Parameters
    ----------
    value
        Any value; ``None`` and NaN become an empty string.
    single_line
        Replace every line break (CR, LF, U+2028, U+2029, NEL) with a space.

    Returns
    -------
    str
        The text with C0/C1 controls, DEL (so terminal escape sequences) and bidirectional
        overrides removed.
    """
    if _missing(value):
        return ""
    text = str(value)
    if single_line:
        text = _LINE_BREAKS.sub(" ", text)
    return _CONTROL.sub("", text)


def html_text(value: Any) -> str:
    """Escape text for HTML element content; ``None`` and NaN become an empty string.

    Besides ``& < > " '`` it encodes the backtick, ``$``, backslash and U+2028/9 as
    character references, so the result stays inert even inside a JavaScript template
    literal (as in folium's tooltips).

    Parameters
    ----------
    value
        Any value; it is turned into ``str`` first.

    Returns
    -------
    str
        Text safe to place in folium popups, tooltips, legends and layer names.
    """
    if _missing(value):
        return ""
    text = _CONTROL.sub("", str(value))
    return html.escape(text, quote=True).translate(_HTML_EXTRA)


escape_text = html_text


def html_attr(value: Any) -> str:
    """Escape text for a double- or single-quoted HTML attribute value.

    Line breaks become spaces; the result has no quote, angle bracket, ampersand,
    backtick or ``$`` left. Never use it for ``href``/``src`` URLs from data.

    Parameters
    ----------
    value
        Any value.

    Returns
    -------
    str
    """
    return html_text(plain_text(value))


def js_string(value: Any) -> str:
    """Escape text for the inside of a JavaScript string or template literal.

    The same output is safe between ``'...'``, ``"..."`` and backticks and inside an
    HTML ``<script>`` element: backslash, quotes, backtick, ``$`` (so no ``${...}``),
    ``< > &`` (so no ``</script>`` or ``<!--``), line breaks including U+2028/9, and
    control characters are written as escape sequences. HTML put in a template literal
    this way keeps its markup: escape the text inside it with :func:`html_text` first.

    Parameters
    ----------
    value
        Any value; ``None`` and NaN become an empty string.

    Returns
    -------
    str
        The escaped text, without surrounding quotes.
    """
    if _missing(value):
        return ""

    def _one(match: re.Match[str]) -> str:
        ch = match.group(0)
        return _JS_ESCAPES.get(ch) or f"\\u{ord(ch):04X}"

    return _JS_UNSAFE.sub(_one, str(value))


def md_text(value: Any) -> str:
    """Escape text for Streamlit markdown (``st.markdown``, ``st.caption``, ``st.error``, labels).

    Every ASCII punctuation character is backslash-escaped, so data cannot make a link,
    an image (a request to another host), HTML, a heading, a table, emphasis, an icon,
    a colour directive or maths; line breaks become spaces and control characters go.

    Parameters are as for :func:`js_string`.

    Returns
    -------
    str
        Markdown source that renders as the literal text.
    """
    return _MD_PUNCT.sub(r"\\\1", plain_text(value))


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
    return html_text(value)


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
    return {html_text(k): _json_value(v) for k, v in properties.items()}
