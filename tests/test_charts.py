"""The printed charts' shared matplotlib set-up: Agg backend, DejaVu Sans, PNG data URIs."""

from __future__ import annotations

import base64

import matplotlib

from planning.charts import chart_style, png_data_uri, pyplot


def test_pyplot_draws_without_a_display():
    plt = pyplot()
    assert matplotlib.get_backend().lower() == "agg"
    assert plt is __import__("matplotlib.pyplot").pyplot


def test_chart_style_sets_the_font_only_inside():
    before = matplotlib.rcParams["font.size"]
    with chart_style(font_size=7):
        assert matplotlib.rcParams["font.family"] == ["DejaVu Sans"]
        assert matplotlib.rcParams["font.size"] == 7
    assert matplotlib.rcParams["font.size"] == before


def test_png_data_uri_is_a_png_of_the_figure_and_closes_it():
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.bar([0, 1], [1, 2])
    uri = png_data_uri(fig, dpi=50)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    png = base64.b64decode(uri[len(prefix) :])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width == 100  # 2 inches at 50 dpi
    assert fig.number not in plt.get_fignums()
