"""Research export: suppressed monthly counts, no report-level rows, dictionary, geography, audit."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from cli import main
from geo.areas import create_area
from geo.store import Store
from planning.impact_suppression import _feasible_range
from planning.research_export import (
    RESEARCH_FILES,
    group_pinned,
    research_counts,
    suppress_monthly,
)

BOX = (-0.36, 53.73, -0.30, 53.76)
REPORT_FIELDS = {"report_id", "occurred_at", "lon", "lat", "location_hint", "batch_id", "source"}


def _reports(seed: int = 3, n: int = 900) -> pd.DataFrame:
    """Reports spread over six months, a few dense places and a scatter of single reports."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-0.335, 53.745], [-0.320, 53.741], [-0.345, 53.750]])
    k = rng.integers(0, 4, n)
    lon = np.where(k < 3, centres[np.minimum(k, 2), 0], rng.uniform(BOX[0], BOX[2], n))
    lat = np.where(k < 3, centres[np.minimum(k, 2), 1], rng.uniform(BOX[1], BOX[3], n))
    lon = lon + rng.normal(0, 0.0002, n) * (k < 3)
    lat = lat + rng.normal(0, 0.0002, n) * (k < 3)
    when = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 181 * 24, n), unit="h")
    cats = rng.choice(["needles", "asb", "welfare_concern", "drugs"], n, p=[0.4, 0.3, 0.2, 0.1])
    return pd.DataFrame(
        {
            "report_id": [f"{i:032x}" for i in range(n)],
            "occurred_at": when.astype("datetime64[ns]"),
            "time_known": True,
            "category": cats,
            "source": "council",
            "lon": lon,
            "lat": lat,
            "segment_id": pd.array([pd.NA] * n, dtype="Int64"),
            "location_hint": pd.array([pd.NA] * n, dtype="string"),
            "lsoa_code": pd.array([pd.NA] * n, dtype="string"),
        }
    )


def _pinned_by_lp(group: pd.DataFrame, total: int, threshold: int) -> bool:
    """The impact LP check: can any withheld small count be pinned from the published figures?"""
    hidden = group[group["withheld"]]
    if hidden.empty:
        return False
    keys = list(hidden.index)
    values = {k: int(group.loc[k, "count"]) for k in group.index} | {"T": total}
    eq = [[(k, 1) for k in group.index] + [("T", -1)]]
    bounds = {
        k: (1.0, float(threshold - 1)) if values[k] < threshold else (float(threshold), None)
        for k in keys
    }
    for k in keys:
        if values[k] < threshold:
            lo, hi = _feasible_range(k, values, eq, bounds)
            if hi - lo < 1 - 1e-6:
                return True
    return False


@hyp_settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
    st.integers(min_value=2, max_value=12),
)
def test_no_withheld_small_count_can_be_pinned_from_a_published_total(values, threshold):
    counts = pd.DataFrame(
        {
            "unit_id": [f"S{i}" for i in range(len(values))],
            "unit_type": "segment",
            "month": "2025-01",
            "category": "needles",
            "count": np.array(values, dtype=np.int64),
        }
    )
    out, totals = suppress_monthly(counts, threshold=threshold)
    small = out["count"] < threshold
    assert out.loc[small, "withheld"].all()  # every small count withheld
    assert int(totals["total"].iloc[0]) == sum(values)
    if not bool(totals["withheld"].iloc[0]):
        assert not _pinned_by_lp(out, sum(values), threshold)


def test_group_rule_matches_hand_cases():
    # one small count and a published total: pinned; two small counts 1 and 1: pinned
    assert group_pinned(4, 1, 0, 10)
    assert group_pinned(2, 2, 0, 10)
    # two small counts 3 and 5: each could be 1..7
    assert not group_pinned(8, 2, 0, 10)
    # one small count 1 hidden with a complement of exactly 10: the sum 11 pins it at 1
    assert group_pinned(11, 1, 1, 10)
    assert not group_pinned(14, 1, 1, 10)


def test_research_counts_hold_no_published_count_below_the_threshold():
    reports = _reports()
    counts = research_counts(reports, threshold=10)
    c = counts.counts
    assert not c.empty and c["unit_id"].str.startswith("C").all()
    assert (c.loc[~c["withheld"], "count"] >= 10).all()
    assert c["withheld"].any() and (~c["withheld"]).any()
    # the counts add up to the reports: nothing lost, one row per unit, month and category
    assert int(c["count"].sum()) == len(reports)
    assert not c.duplicated(["unit_id", "month", "category"]).any()
    for (_, _), g in c.groupby(["month", "category"]):
        t = counts.totals
        row = t[(t["month"] == g["month"].iloc[0]) & (t["category"] == g["category"].iloc[0])]
        if not bool(row["withheld"].iloc[0]):
            assert not _pinned_by_lp(g, int(row["total"].iloc[0]), 10)


@pytest.fixture
def area_store(tmp_path: Path) -> tuple[Store, str]:
    db = tmp_path / "r.db"
    store = Store(f"sqlite:///{db}")
    area = create_area(store, "Hessle Road study", bbox=BOX)
    reports = _reports()
    store.add_batch(
        reports,
        file_name="partner.csv",
        source="council",
        fmt="csv",
        rows_read=len(reports),
        rejected=0,
        area_id=area.area_id,
    )
    yield store, f"sqlite:///{db}"
    store.dispose()


def test_cli_research_export_reads_back_safe(area_store, tmp_path, capsys):
    store, url = area_store
    out = tmp_path / "research.zip"
    code = main(
        [
            "--db",
            url,
            "export",
            "research",
            "--area",
            "Hessle Road study",
            "--from",
            "2025-01-01",
            "--to",
            "2025-06-30",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    line = json.loads(capsys.readouterr().out)
    assert line["mode"] == "point" and line["threshold"] == 10 and line["withheld"] > 0
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == sorted(RESEARCH_FILES)
        counts = pd.read_csv(io.BytesIO(zf.read("counts.csv")), encoding="utf-8-sig")
        totals = pd.read_csv(io.BytesIO(zf.read("monthly_totals.csv")), encoding="utf-8-sig")
        dictionary = pd.read_csv(io.BytesIO(zf.read("data_dictionary.csv")), encoding="utf-8-sig")
        notes = zf.read("method_notes.md").decode("utf-8")
        gpkg = tmp_path / "g.gpkg"
        gpkg.write_bytes(zf.read("geography.gpkg"))
    # no count below the threshold, no row per report, no report-level column
    published = counts["count"].dropna()
    assert (published >= 10).all() and len(published) > 0
    assert counts.loc[counts["withheld"] == "yes", "count"].isna().all()
    assert not REPORT_FIELDS & set(counts.columns) and not REPORT_FIELDS & set(totals.columns)
    assert (
        len(counts) < line["reports"]
        and not counts.duplicated(["unit_id", "month", "category"]).any()
    )
    assert (totals["total"].dropna() >= 0).all()
    # the dictionary lists every column of every table
    listed = set(zip(dictionary["file"], dictionary["column"], strict=True))
    for name, frame in (("counts.csv", counts), ("monthly_totals.csv", totals)):
        assert {(name, c) for c in frame.columns} <= listed
    boundary = gpd.read_file(gpkg, layer="boundary")
    cells = gpd.read_file(gpkg, layer="cells")
    assert boundary["name"].tolist() == ["Hessle Road study"]
    assert set(cells["unit_id"]) == set(counts["unit_id"])
    assert {("geography.gpkg:cells", c) for c in cells.columns} <= listed
    assert r"half\_life\_days" in notes and "withheld" in notes and "Hessle Road study" in notes
    last = store.audit_log().iloc[-1]
    assert last["action"] == "export" and "research export" in last["what"]
    assert int(last["n_rows"]) == len(counts)


def test_cli_research_export_refuses_a_wrong_name(area_store, tmp_path, capsys):
    _, url = area_store
    code = main(
        [
            "--db",
            url,
            "export",
            "research",
            "--from",
            "2025-01-01",
            "--to",
            "2025-02-01",
            "--out",
            str(tmp_path / "x.csv"),
        ]
    )
    assert code == 2
    assert ".zip" in capsys.readouterr().err
