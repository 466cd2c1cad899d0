"""Glossary: no page shows a technical term outside a tooltip or help text (AppTest over every page)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PAGE_NAMES, PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")
PAGES = PAGE_NAMES
FORBIDDEN = re.compile(
    r"gi\*|gi\\\*|\bfdr\b|false discovery|point mode|dosage|off_network|harm weight",
    re.IGNORECASE,
)
TEXT_KINDS = (
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "info",
    "warning",
    "error",
    "success",
    "exception",
    "code",
    "latex",
)
WIDGET_KINDS = (
    "button",
    "checkbox",
    "toggle",
    "text_input",
    "number_input",
    "date_input",
    "selectbox",
    "multiselect",
    "radio",
    "slider",
    "select_slider",
    "text_area",
    "time_input",
    "download_button",
    "tabs",
    "expander",
    "metric",
)


def _frame_text(frame: pd.DataFrame) -> list[str]:
    cells = [str(c) for c in frame.columns]
    for col in frame.columns:
        if frame[col].dtype == object:
            cells += [str(v) for v in frame[col].head(200)]
    return cells


def visible_text(at: AppTest) -> list[str]:
    """Every text a person sees on the page, leaving out tooltips and help texts."""
    out: list[str] = []
    for kind in TEXT_KINDS:
        out += [str(getattr(e, "value", "")) for e in at.get(kind)]
    for kind in WIDGET_KINDS:
        for e in at.get(kind):
            out.append(str(getattr(e, "label", "")))
            out += [str(o) for o in getattr(e, "options", []) or []]
            if kind == "metric":
                out.append(str(e.value))
    for kind in ("dataframe", "table"):
        for e in at.get(kind):
            out += _frame_text(e.value)
    for e in at.get("html"):
        out.append(re.sub(r'title="[^"]*"', "", e.proto.body))
    return out


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_a_technical_term(demo_store, page):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    text = visible_text(at)
    assert len(" ".join(text)) > 20, "the page showed nothing to check"
    found = sorted({m.group(0) for t in text for m in FORBIDDEN.finditer(t)})
    hits = [t for t in text if FORBIDDEN.search(t)]
    assert not found, f"{page}: {found} in {hits[:5]}"


def test_visible_text_leaves_out_help():
    at = AppTest.from_string(
        "import streamlit as st\n"
        "st.caption('Significant hotspot', help='Getis-Ord Gi* with FDR')\n"
        "st.number_input('Minutes', help='dosage')\n"
    )
    at.run()
    text = " ".join(visible_text(at))
    assert "Significant hotspot" in text and "Minutes" in text
    assert not FORBIDDEN.search(text)
