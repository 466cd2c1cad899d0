"""Matplotlib set-up shared by the printed charts: the Agg backend, DejaVu Sans, PNG data URIs."""

from __future__ import annotations

import base64
import io
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["chart_style", "png_data_uri", "pyplot"]


def pyplot() -> Any:
    """Matplotlib's ``pyplot`` on the Agg backend, which draws without a display.

    Returns
    -------
    module
        ``matplotlib.pyplot``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart_style(*, font_size: float = 8) -> AbstractContextManager[Any]:
    """The charts' font, DejaVu Sans (shipped with matplotlib), at ``font_size`` points.

    Parameters
    ----------
    font_size
        Default text size in points.

    Returns
    -------
    contextlib.AbstractContextManager
        A ``matplotlib.rc_context``: draw the figure inside it.
    """
    import matplotlib

    return matplotlib.rc_context({"font.family": ["DejaVu Sans"], "font.size": font_size})


def png_data_uri(fig: Any, *, dpi: int) -> str:
    """Render a figure as a PNG ``data:`` URI (white background) and close it.

    Parameters
    ----------
    fig
        A matplotlib figure.
    dpi
        Resolution of the PNG.

    Returns
    -------
    str
        ``data:image/png;base64,...``, for an ``<img src>`` in a self-contained document.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
