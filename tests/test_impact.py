"""Tests for planning.impact: the community summary and its small-count suppression."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from geo.reports_vocab import POLICE_UK_PLACES
from planning.briefing import html_to_pdf
from planning.export import plan_to_json
from planning.impact import (
    TOTAL,
    chart_values,
    summary_figures,
    summary_html,
    suppress_table,
    totals_figure,
    trend_figure,
)
from tests.test_briefing import EVIL, make_plan, named_network, pdf_text, report_frame, squash

T = 10


# ------------------------------------------------------------------ suppress_table


def _determined(values: np.ndarray, mask: np.ndarray) -> list[tuple[int, int]]:
    """Hidden inner/total cells whose value follows from the published ones by linear algebra."""
    n_r, n_c = values.shape[0] - 1, values.shape[1] - 1
    hidden = [(i, j) for i in range(n_r + 1) for j in range(n_c + 1) if mask[i, j]]
    if not hidden:
        return []
    pos = {k: n for n, k in enumerate(hidden)}
    eqs = []
    for i in range(n_r + 1):
        eqs.append([(i, j) for j in range(n_c)] + [(i, n_c)])
    for j in range(n_c + 1):
        eqs.append([(i, j) for i in range(n_r)] + [(n_r, j)])
    rows = []
    for eq in eqs:
        row = np.zeros(len(hidden))
        for k in eq[:-1]:
            if k in pos:
                row[pos[k]] += 1
        if eq[-1] in pos:
            row[pos[eq[-1]]] -= 1
        rows.append(row)
    a = np.array(rows)
    # x_k is determined iff the unit vector e_k lies in the row space of a.
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]
    return [
        k for k, n in pos.items() if null.shape[0] == 0 or np.allclose(null[:, n], 0, atol=1e-9)
    ]


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 5).flatmap(
        lambda r: st.integers(1, 5).flatmap(
            lambda c: st.lists(
                st.lists(st.one_of(st.integers(0, 12), st.integers(0, 60)), min_size=c, max_size=c),
                min_size=r,
                max_size=r,
            )
        )
    )
)
def test_suppress_table_hides_small_counts_and_protects_them_from_totals(rows):
    counts = pd.DataFrame(rows)
    mask = suppress_table(counts, threshold=T)
    full = counts.copy()
    full[TOTAL] = full.sum(axis=1)
    full.loc[TOTAL] = full.sum(axis=0)
    values = full.to_numpy()
    m = mask.to_numpy()
    assert m.shape == values.shape
    # No published figure (cells or totals) below the threshold, except zeros.
    assert not (((values > 0) & (values < T)) & ~m).any()
    # Every row and column (with its total) has no hidden cell or at least two.
    for i in range(m.shape[0]):
        assert m[i].sum() != 1, (i, m)
    for j in range(m.shape[1]):
        assert m[:, j].sum() != 1, (j, m)
    # And no hidden small count follows from the published figures.
    small = (values > 0) & (values < T)
    det = _determined(values, m)
    assert not [k for k in det if small[k]], (counts, m)


def test_suppress_table_simple_row():
    counts = pd.DataFrame([[3, 40, 50], [20, 30, 25]], columns=["a", "b", "c"])
    mask = suppress_table(counts, threshold=T)
    assert mask.loc[0, "a"]
    assert mask.loc[0].sum() >= 2 and mask["a"].sum() >= 2
    assert not mask.loc[1, "c"] or mask.loc[1].sum() >= 2


def test_suppress_table_rejects_negative():
    with pytest.raises(ValueError, match="zero or more"):
        suppress_table(pd.DataFrame([[1, -2]]))


# ------------------------------------------------------------------ the summary

MONTHS = ["2024-11", "2024-12", "2025-01", "2025-02"]
# Per month: needles, condoms, propositioning, welfare_concern (3 in Feb 2025: the secret).
PLAN = {
    "needles": [84 // 2, 84 - 84 // 2, 25, 26],
    "condoms": [20, 22, 17, 19],
    "propositioning": [40, 41, 27, 28],
    "welfare_concern": [12, 11, 15, 3],
}


def _summary_reports(seg, extra_hint=None):
    rows = []
    k = 0
    for cat, per_month in PLAN.items():
        for month, n in zip(MONTHS, per_month, strict=True):
            start = pd.Period(month, freq="M").start_time
            for i in range(n):
                s = [3, 20, 30, 10][k % 4]
                k += 1
                c = seg.geometry.iloc[s].interpolate(0.5, normalized=True)
                when = start + timedelta(days=i % 27, hours=20 + i % 4)
                hint = extra_hint if (extra_hint and cat == "condoms") else None
                rows.append((cat, when, c.x, c.y, s, True, hint))
    return report_frame(rows)


@pytest.fixture(scope="module")
def net():
    return named_network()


@pytest.fixture(scope="module")
def figs(net, settings):
    seg, _ = net
    reports = _summary_reports(seg)
    plan = plan_to_json(make_plan(seg))
    plan["date"] = "2025-02-10"
    return summary_figures(
        reports,
        start="2025-01-01",
        end="2025-02-28",
        settings=settings,
        plans=[plan],
        segments=seg,
        area_name="Test area",
    )


def _standalone_three(text: str) -> bool:
    return re.search(r"(?<![\d.,:/-])3(?![\d.,:%/-])", text) is not None


def test_periods_and_narrative(figs):
    assert figs.period_label("this") == "January to February 2025"
    assert figs.period_label("previous") == "November to December 2024"
    assert "last_year" not in figs.periods
    assert "Reports of discarded needles fell from 84 to 51 (down 39%)." in figs.narrative
    assert any("Patrol teams made 5 planned hotspot visits" in s for s in figs.narrative)


def test_small_count_never_revealed(figs, settings, tmp_path):
    feb = pd.Period("2025-02", freq="M")
    key = ("m", "welfare_concern", feb)
    assert key in figs.primary and figs.text(key) == "fewer than 10"
    # Its month column and its category row each hold another hidden figure.
    column = [("m", c, feb) for c in figs.categories] + [("mt", feb)]
    assert sum(k in figs.hidden for k in column) >= 2
    row = [("m", "welfare_concern", m) for m in figs.periods["this"]] + [
        ("p", "welfare_concern", "this")
    ]
    assert sum(k in figs.hidden for k in row) >= 2
    # Chart data and bars.
    data = chart_values(figs)
    assert np.isnan(data.loc["Welfare concern", "Feb 2025"])
    assert not (data == 3).any().any()
    for fig in (trend_figure(figs), totals_figure(figs)):
        for ax in fig.axes:
            for patch in ax.patches:
                assert abs(patch.get_height() - 3) > 1e-9 and abs(patch.get_width() - 3) > 1e-9
    # Narrative, HTML and PDF text.
    assert not any("elfare" in s and _standalone_three(s) for s in figs.narrative)
    html = summary_html(figs, settings=settings)
    body = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    welfare_rows = [
        r for r in re.findall(r"<tr.*?</tr>", body, flags=re.S) if "Welfare concern" in r
    ]
    assert welfare_rows and any("fewer than 10" in r for r in welfare_rows)
    assert not any(_standalone_three(re.sub(r"<[^>]+>", " ", r)) for r in welfare_rows)
    text = pdf_text(html_to_pdf(html), tmp_path)
    lines = [ln for ln in text.splitlines() if "Welfare concern" in ln]
    assert lines and not any(_standalone_three(ln) for ln in lines)
    public = str(figs.to_public_dict())
    assert "Welfare concern" in public
    assert not _standalone_three(str(figs.to_public_dict()["categories"]["Welfare concern"]))


def test_summary_pdf_content(figs, settings, tmp_path):
    text = squash(pdf_text(html_to_pdf(summary_html(figs, settings=settings)), tmp_path))
    for heading in (
        "Community impact summary",
        "At a glance",
        "Reports by category",
        "Month by month",
        "Streets with the most reports",
        "Patrols",
        "About these figures",
    ):
        assert heading in text
    assert "fewer than 10" in text
    assert "Discarded needles" in text and "Page 1 of" in text


def test_percentages_only_on_bases_of_ten(figs):
    feb = pd.Period("2025-02", freq="M")
    jan = pd.Period("2025-01", freq="M")
    assert figs.change(("m", "welfare_concern", jan), ("m", "welfare_concern", feb)) == ""
    assert figs.change(("p", "needles", "previous"), ("p", "needles", "this")) == "down 39%"


def test_streets_named_not_points_and_escaped(net, settings):
    seg, _ = net
    evil_road = f"{EVIL} Road"  # reads like a street: listed, and escaped
    reports = _summary_reports(seg, extra_hint=evil_road)
    f = summary_figures(
        reports, start="2025-01-01", end="2025-02-28", settings=settings, segments=seg
    )
    assert evil_road in f.streets
    html = summary_html(f, settings=settings)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Road" in html
    bare = summary_figures(
        _summary_reports(seg, extra_hint=EVIL),
        start="2025-01-01",
        end="2025-02-28",
        settings=settings,
        segments=seg,
    )
    assert EVIL not in bare.streets  # not a street name: never listed
    assert "Anlaby Road" in f.streets or "Coltman Street" in f.streets or len(f.streets) >= 2
    # No coordinates anywhere in the public text.
    lon = f"{seg.geometry.iloc[3].interpolate(0.5, normalized=True).x:.4f}"
    assert lon not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


def test_malicious_category_label_is_escaped(net, settings):
    seg, _ = net
    c = seg.geometry.iloc[3].interpolate(0.5, normalized=True)
    rows = [(EVIL, datetime(2025, 2, d, 21), c.x, c.y, 3, True) for d in range(1, 15)]
    f = summary_figures(report_frame(rows), start="2025-02-01", end="2025-02-28", settings=settings)
    html = summary_html(f, settings=settings)
    assert "<script>" not in html


def test_last_year_column_when_data_reaches_back(net, settings):
    seg, _ = net
    c = seg.geometry.iloc[3].interpolate(0.5, normalized=True)
    rows = [
        ("needles", datetime(y, 2, d, 21), c.x, c.y, 3, True)
        for y in (2024, 2025)
        for d in range(1, 13)
    ]
    rows += [("needles", datetime(2025, 1, d, 21), c.x, c.y, 3, True) for d in range(1, 12)]
    f = summary_figures(report_frame(rows), start="2025-02-01", end="2025-02-28", settings=settings)
    assert f.period_label("last_year") == "February 2024"
    assert f.text(("pt", "last_year")) == "12"
    assert any("a year earlier" in s for s in f.narrative)


def test_inverted_period_is_a_plain_error(settings):
    with pytest.raises(ValueError, match="ends before it starts"):
        summary_figures(
            report_frame([]) if False else pd.DataFrame(columns=["occurred_at", "category"]),
            start="2025-03-01",
            end="2025-01-01",
            settings=settings,
        )


def test_delivered_visits_replace_planned_ones_in_the_period(net, settings):
    seg, _ = net
    reports = _summary_reports(seg)
    plan = plan_to_json(make_plan(seg))
    plan["date"] = "2025-02-10"
    hot_ids = [s["hotspot_id"] for t in plan["teams"] for s in t["stops"]]
    log = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-02-10", "2025-02-11", "2025-02-12"]),
            "minutes": [15.0, 20.0, 2.5],
            "hotspot_id": hot_ids[:1] * 3,
        }
    )
    f = summary_figures(
        reports,
        start="2025-01-01",
        end="2025-02-28",
        settings=settings,
        plans=[plan],
        visits=log,
        segments=seg,
    )
    assert f.effort["source"] == "delivered"
    assert f.effort["visits"] == 3 and f.effort["minutes"] == pytest.approx(37.5)
    assert any("Patrol teams made 3 delivered hotspot visits" in s for s in f.narrative)
    assert "Visits delivered" in summary_html(f, settings=settings)
    old = log.assign(date=pd.to_datetime(["2024-06-01"] * 3))  # outside the period: planned
    g = summary_figures(
        reports,
        start="2025-01-01",
        end="2025-02-28",
        settings=settings,
        plans=[plan],
        visits=old,
        segments=seg,
    )
    assert g.effort["source"] == "planned" and g.effort["visits"] == 5


# ------------------------------------------------------------------ months without data, areas


def _month_rows(when_counts, seg, *, category="needles"):
    c = seg.geometry.iloc[3].interpolate(0.5, normalized=True)
    return [
        (category, pd.Timestamp(month) + timedelta(days=i % 27, hours=21), c.x, c.y, 3, True)
        for month, n in when_counts
        for i in range(n)
    ]


def _month_cells(html: str, label: str) -> list[str]:
    body = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    table = body[body.index("Month by month") :]
    row = re.search(rf"<tr[^>]*><td>{label}</td>(.*?)</tr>", table, flags=re.S)
    assert row, label
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


def test_every_month_of_the_period_is_listed_and_a_month_without_data_reads_no_data(net, settings):
    seg, _ = net
    rows = _month_rows([("2025-01-01", 30), ("2025-03-01", 20)], seg)
    f = summary_figures(report_frame(rows), start="2025-01-01", end="2025-03-31", settings=settings)
    assert [str(m) for m in f.months] == ["2025-01", "2025-02", "2025-03"]
    feb = pd.Period("2025-02", freq="M")
    assert f.no_data == (feb,)
    assert f.text(("m", "needles", feb)) == "no data" and f.text(("mt", feb)) == "no data"
    assert f.text(("pt", "this")) == "50"  # the months with data
    assert "previous" not in f.periods  # no comparison with months that have no data
    html = summary_html(f, settings=settings)
    assert _month_cells(html, "All reports") == ["30", "no data", "20"]
    assert any("No reports were imported" in s and "Feb 2025" in s for s in f.narrative)
    assert np.isnan(chart_values(f).loc["Discarded needles", "Feb 2025"])
    # A report of any category in February (here one kept out of the summary) covers it: 0.
    other = _month_rows([("2025-02-01", 1)], seg, category="burglary")
    g = summary_figures(
        report_frame(rows + other),
        start="2025-01-01",
        end="2025-03-31",
        settings=settings,
        categories=["needles"],
    )
    assert g.no_data == () and g.text(("m", "needles", feb)) == "0"
    assert _month_cells(summary_html(g, settings=settings), "All reports") == ["30", "0", "20"]


def test_a_comparison_is_made_only_with_months_that_have_data(net, settings):
    seg, _ = net
    rows = _month_rows([("2024-12-01", 40), ("2025-01-01", 30)], seg)
    f = summary_figures(report_frame(rows), start="2025-01-01", end="2025-01-31", settings=settings)
    assert f.periods["previous"] == (pd.Period("2024-12", freq="M"),)
    assert "last_year" not in f.periods  # January 2024 has no data
    assert f.text(("pt", "previous")) == "40" and not f.no_data
    assert any("fell from 40 to 30" in s for s in f.narrative)
    gap = _month_rows([("2024-11-01", 40), ("2025-01-01", 30)], seg)
    g = summary_figures(report_frame(gap), start="2025-01-01", end="2025-01-31", settings=settings)
    assert "previous" not in g.periods and not any("from 0" in s for s in g.narrative)


# The map points police.uk writes after "On or near" in place of a street, as in its files.
MAP_POINTS = tuple(sorted(p.title() for p in POLICE_UK_PLACES))
N_POINTS = len(MAP_POINTS)


def test_street_like_names_never_police_uk_map_points():
    from planning.impact_streets import street_like

    names = pd.Series(
        [
            *MAP_POINTS,
            "Anlaby Road",
            "Victoria Street West",
            "Spring Bank",
            "A63",
            "Boulevard",
            "",
            None,
        ],
        dtype="string",
    )
    ok = street_like(names)
    boulevard, hospital = N_POINTS + 4, MAP_POINTS.index("Hospital")
    assert not ok[:N_POINTS].any() and ok[N_POINTS:boulevard].all()
    assert not ok[boulevard]  # one word: a street only when the network has it
    assert street_like(names, street_names=["Boulevard", "Hospital"])[boulevard]
    assert not street_like(names, street_names=["Hospital"])[hospital]  # a map point stays one
    assert not ok[boulevard + 1 :].any()


def test_hull_summary_names_the_area_counts_mapped_categories_and_lists_only_streets(
    police_2024, settings, tmp_path
):
    from geo.reports import read_reports

    reports = read_reports(police_2024, settings=settings).reports
    inbox = reports[reports["lon"].between(-0.43, -0.24) & reports["lat"].between(53.71, 53.82)]
    mapped = [c for c in settings.categories if c in set(inbox["category"])]
    assert inbox["location_hint"].isin(MAP_POINTS).sum() > 100  # the file is full of them
    hull = settings.with_area((-0.43, 53.71, -0.24, 53.82), name="Kingston upon Hull")
    f = summary_figures(
        inbox, start="2024-01-01", end="2024-01-31", settings=hull, categories=mapped
    )
    assert f.area_name == "Kingston upon Hull"
    assert set(f.categories) <= set(settings.categories)
    assert f.text(("pt", "this")) == f"{int(inbox['category'].isin(mapped).sum()):,}"
    assert not set(f.streets) & set(MAP_POINTS)  # police.uk had 14 at 'Parking Area'
    low = summary_figures(
        inbox, start="2024-01-01", end="2024-01-31", settings=hull, categories=mapped, threshold=3
    )
    assert len(low.streets) == 8 and not set(low.streets) & set(MAP_POINTS)
    assert "South Street" in low.streets
    html = summary_html(f, settings=hull)
    assert "<h1>Community impact summary for Kingston upon Hull</h1>" in html
    assert any("Kingston upon Hull" in s for s in f.narrative)
    text = squash(pdf_text(html_to_pdf(html), tmp_path))
    assert "Kingston upon Hull" in text
    assert not any(p in text for p in MAP_POINTS), [p for p in MAP_POINTS if p in text]
    assert "synthetic" not in text.lower() and "demo" not in text.lower()
