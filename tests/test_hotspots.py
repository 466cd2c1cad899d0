"""Tests of geo.hotspots: risk, decay, network smoothing, Gi*, labels, profiles, point mode."""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString

from geo.hotspot_ids import is_hotspot_id
from geo.hotspots import (
    HOTSPOT_COLUMNS,
    _Labeller,
    active_hours,
    eb_rates,
    find_hotspots,
    find_point_hotspots,
    gi_star,
    metric_crs_for,
    segment_adjacency,
    segment_risk,
    segment_table,
    smooth_risk,
    time_profile,
)

ORIGIN = (508000.0, 428000.0)  # British National Grid, central Hull


def grid_segments(rows: int = 10, cols: int = 10, spacing: float = 100.0) -> gpd.GeoDataFrame:
    """An R x C grid of streets ("Grid Row r" east-west, "Grid Col c" north-south) in 4326."""
    x0, y0 = ORIGIN
    names, us, vs, lines = [], [], [], []
    for r in range(rows):
        for c in range(cols - 1):
            names.append(f"Grid Row {r}")
            us.append(r * cols + c)
            vs.append(r * cols + c + 1)
            y = y0 + r * spacing
            lines.append(LineString([(x0 + c * spacing, y), (x0 + (c + 1) * spacing, y)]))
    for c in range(cols):
        for r in range(rows - 1):
            names.append(f"Grid Col {c}")
            us.append(r * cols + c)
            vs.append((r + 1) * cols + c)
            x = x0 + c * spacing
            lines.append(LineString([(x, y0 + r * spacing), (x, y0 + (r + 1) * spacing)]))
    g = gpd.GeoDataFrame({"name": names, "u": us, "v": vs}, geometry=lines, crs=27700)
    g["length_m"] = g.length.astype(float)
    g = g.to_crs(4326)
    g.insert(0, "segment_id", np.arange(len(g), dtype=np.int64))
    g["highway"] = "residential"
    return g[["segment_id", "name", "highway", "length_m", "u", "v", "geometry"]]


def line_segments(lengths: list[float], names: list[str] | None = None) -> gpd.GeoDataFrame:
    """Segments end to end along one straight line (node i to node i+1)."""
    x0, y0 = ORIGIN
    xs = x0 + np.r_[0.0, np.cumsum(lengths)]
    lines = [LineString([(xs[i], y0), (xs[i + 1], y0)]) for i in range(len(lengths))]
    g = gpd.GeoDataFrame(
        {
            "segment_id": np.arange(len(lengths), dtype=np.int64),
            "name": names or [f"Street {i}" for i in range(len(lengths))],
            "highway": "residential",
            "length_m": np.asarray(lengths, dtype=float),
            "u": np.arange(len(lengths), dtype=np.int64),
            "v": np.arange(1, len(lengths) + 1, dtype=np.int64),
        },
        geometry=lines,
        crs=27700,
    )
    return g.to_crs(4326)


def reports_on(
    segments: gpd.GeoDataFrame,
    seg_ids: np.ndarray,
    *,
    rng: np.random.Generator,
    start: str = "2024-01-01",
    days: float = 28.0,
    category: str | list[str] = "asb",
    time_known: bool = True,
) -> pd.DataFrame:
    """Synthetic CONTRACTS reports at random points of the given segments."""
    seg_ids = np.asarray(seg_ids, dtype=np.int64)
    metric = segments.to_crs(27700).geometry.to_numpy()
    frac = rng.uniform(0.05, 0.95, len(seg_ids))
    pts = shapely.line_interpolate_point(metric[seg_ids], frac, normalized=True)
    ll = gpd.GeoSeries(pts, crs=27700).to_crs(4326)
    when = pd.Timestamp(start) + pd.to_timedelta(rng.uniform(0, days, len(seg_ids)), unit="D")
    cats = [category] * len(seg_ids) if isinstance(category, str) else list(category)
    return pd.DataFrame(
        {
            "report_id": [f"r{i}" for i in range(len(seg_ids))],
            "occurred_at": when.floor("min"),
            "time_known": time_known,
            "category": cats,
            "source": "police",
            "lon": ll.x.to_numpy(),
            "lat": ll.y.to_numpy(),
            "segment_id": pd.array(seg_ids, dtype="Int64"),
            "location_hint": segments["name"].to_numpy()[seg_ids],
            "lsoa_code": pd.NA,
            "batch_id": "b1",
        }
    )


def one_report(seg: int, when: str, category: str = "asb") -> dict:
    return {
        "occurred_at": pd.Timestamp(when),
        "time_known": True,
        "category": category,
        "source": "police",
        "segment_id": seg,
        "lon": -0.34,
        "lat": 53.74,
    }


# --------------------------------------------------------------------------------------


def test_metric_crs_is_bng_in_britain_and_utm_elsewhere():
    assert metric_crs_for([-0.34], [53.74]).to_epsg() == 27700
    assert metric_crs_for([24.94], [60.17]).to_epsg() == 32635
    assert metric_crs_for([-58.4], [-34.6]).to_epsg() == 32721


def test_segment_risk_harm_weight_and_half_life_decay(settings):
    segs = line_segments([100, 100, 100])
    at = "2024-03-01"
    reports = pd.DataFrame(
        [
            one_report(0, "2024-03-01", "needles"),  # age 0, weight 3
            one_report(0, "2024-02-02", "asb"),  # exactly 28 days: half of 1
            one_report(1, "2024-01-05", "drugs"),  # 56 days: quarter of 1.5
            one_report(1, "2024-03-05", "needles"),  # after `at`: ignored
            one_report(2, "2024-02-02", "not_in_taxonomy"),  # weight 1, half
        ]
    )
    reports["segment_id"] = reports["segment_id"].astype("Int64")
    risk = segment_risk(segs, reports, at=at, half_life_days=28, settings=settings)
    assert list(risk.index) == [0, 1, 2]
    np.testing.assert_allclose(risk.to_numpy(), [3.0 + 0.5, 1.5 * 0.25, 0.5])


def test_segment_risk_default_at_is_a_day_after_latest(settings):
    segs = line_segments([100])
    reports = pd.DataFrame([one_report(0, "2024-01-10 12:00")])
    risk = segment_risk(segs, reports, half_life_days=1, settings=settings)
    assert risk.iloc[0] == pytest.approx(0.5)
    # reports with no segment (point mode) are ignored
    reports["segment_id"] = pd.array([pd.NA], dtype="Int64")
    assert segment_risk(segs, reports, settings=settings).sum() == 0


def test_smoothing_follows_network_distance_with_triangular_kernel():
    segs = line_segments([100] * 5)  # midpoints 100 m apart along the line
    risk = pd.Series([0, 0, 1.0, 0, 0], index=segs["segment_id"])
    sm = smooth_risk(segs, risk, bandwidth_m=150)
    # K(0)=1, K(100)=1/3 each side, K(200)=0: shares 0.6 / 0.2 / 0.2
    np.testing.assert_allclose(sm.to_numpy(), [0, 0.2, 0.6, 0.2, 0], atol=1e-12)
    assert sm.sum() == pytest.approx(1.0)  # risk is conserved
    assert (smooth_risk(segs, risk, bandwidth_m=0) == risk.to_numpy()).all()


def test_smoothing_ignores_straight_line_proximity():
    # A U-shaped street: segments 0 and 2 are 30 m apart as the crow flies but 330 m by road.
    x0, y0 = ORIGIN
    pts = [(x0, y0), (x0, y0 + 150), (x0 + 30, y0 + 150), (x0 + 30, y0)]
    lines = [LineString([pts[i], pts[i + 1]]) for i in range(3)]
    segs = gpd.GeoDataFrame(
        {
            "segment_id": [0, 1, 2],
            "name": ["A", "B", "C"],
            "highway": "residential",
            "length_m": [150.0, 30.0, 150.0],
            "u": [0, 1, 2],
            "v": [1, 2, 3],
        },
        geometry=lines,
        crs=27700,
    ).to_crs(4326)
    sm = smooth_risk(segs, np.array([1.0, 0, 0]), bandwidth_m=150)
    assert sm.iloc[2] == 0.0  # midpoints 75 + 30 + 75 = 180 m apart on the network
    assert sm.iloc[1] > 0  # 75 + 15 = 90 m


def test_gi_star_matches_hand_computation_and_handles_islands():
    # A line of 6 segments plus one isolated segment (an island).
    segs = line_segments([100] * 6)
    island = segs.iloc[[0]].copy()
    island["segment_id"] = 6
    island["u"], island["v"] = 10, 11
    segs = pd.concat([segs, island], ignore_index=True)
    y = np.array([1.0, 5.0, 6.0, 2.0, 0.0, 1.0, 9.0])
    gi = gi_star(segs, y, permutations=99, seed=1, fdr=0.05)
    adj = segment_adjacency(segs).toarray() + np.eye(7)
    n = 7
    ybar = y.mean()
    s = math.sqrt((y**2).mean() - ybar**2)
    for i in range(6):  # Getis & Ord (1992) G*_i standardised, binary star weights
        wi = adj[i].sum()
        g = (adj[i] @ y) / y.sum()
        var = wi * (n - wi) / (n**2 * (n - 1)) * (s / ybar) ** 2
        assert gi["z"].iloc[i] == pytest.approx((g - wi / n) / math.sqrt(var))
    assert math.isnan(gi["z"].iloc[6])
    assert gi["p_adj"].iloc[6] == 1.0
    assert not gi["significant_hot"].iloc[6]
    assert ((gi["p_sim"] > 0) & (gi["p_sim"] <= 1)).all()
    assert (gi["p_adj"] >= gi["p_sim"] - 1e-12).all()


def test_gi_star_degenerate_values_do_not_crash():
    segs = line_segments([100] * 4)
    gi = gi_star(segs, np.zeros(4), permutations=9)
    assert not gi["significant_hot"].any()
    gi = gi_star(segs, np.full(4, 2.0), permutations=9)
    assert not gi["significant_hot"].any()


def test_eb_rates_shrink_short_segments_and_flatten_noise():
    length = np.array([2.0, 200.0, 200.0, 200.0])
    rates = eb_rates(np.array([0.0, 1.0, 2.0, 1.0]), length)
    assert np.ptp(rates) == 0  # within Poisson noise: everything is the mean, 4/602 per m
    assert rates[0] == pytest.approx(4 / 602)
    rates = eb_rates(np.array([1.0, 40.0, 1.0, 1.0]), length)
    assert 43 / 602 < rates[0] < 0.5  # the 2 m segment's raw 0.5/m is pulled to the mean
    assert rates[1] == max(rates)


@pytest.fixture(scope="module")
def grid():
    return grid_segments(10, 10)


def _noise(grid, rng, n=200):
    return reports_on(grid, rng.integers(0, len(grid), n), rng=rng)


def test_planted_cluster_is_found_and_labelled(grid, settings):
    # A cross of 8 segments around the junction of Grid Row 5 and Grid Col 5. (Gi* on
    # first-order adjacency barely sees a cluster along one straight street: each of its
    # segments has 2 hot neighbours out of 6; see find_hotspots' notes.)
    rng = np.random.default_rng(3)
    names = grid["name"].to_numpy()
    run = np.r_[
        np.flatnonzero(names == "Grid Row 5")[3:7], np.flatnonzero(names == "Grid Col 5")[3:7]
    ]
    noise = _noise(grid, rng)
    cluster = reports_on(grid, rng.choice(run, 60), rng=rng, category="welfare_concern")
    reports = pd.concat([noise, cluster], ignore_index=True)
    hot, table = find_hotspots(grid, reports, settings=settings, return_segments=True)
    assert list(hot.columns) == HOTSPOT_COLUMNS
    assert hot.crs.to_epsg() == 4326
    top = hot.iloc[0]
    assert top["rank"] == 1 and is_hotspot_id(top["hotspot_id"])
    assert set(run) & set(top["segment_ids"])
    assert re.fullmatch(
        r"Grid (Row|Col) 5 \(Grid (Col|Row) \d+ to Grid (Col|Row) \d+\)", top["label"]
    )
    assert top["z"] > 3 and top["p_adj"] <= 0.05
    assert top["skill"] == "outreach"  # welfare reports dominate
    assert top["counts"]["welfare_concern"] >= 20
    assert sum(top["counts"].values()) == top["n_reports"]
    assert np.asarray(top["profile"]).shape == (7, 24)
    assert np.asarray(top["profile"]).sum() == top["n_reports"]
    assert top["active_hours"] and all(0 <= h < 24 for h in top["active_hours"])
    assert hot["risk"].is_monotonic_decreasing
    assert table["significant_hot"].sum() >= len(top["segment_ids"])
    assert top["geometry"].geom_type == "MultiLineString"


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_uniform_noise_yields_no_significant_hotspot(grid, settings, seed):
    rng = np.random.default_rng(seed)
    hot = find_hotspots(grid, _noise(grid, rng, 300), settings=settings)
    assert len(hot) == 0
    assert list(hot.columns) == HOTSPOT_COLUMNS


def test_normal_inference_option(grid, settings):
    rng = np.random.default_rng(3)
    names = grid["name"].to_numpy()
    run = np.flatnonzero(names == "Grid Row 5")[2:7]  # one straight street
    reports = pd.concat(
        [_noise(grid, rng), reports_on(grid, rng.choice(run, 60), rng=rng)], ignore_index=True
    )
    hot = find_hotspots(grid, reports, settings=settings, inference="normal")
    assert len(hot) >= 1 and set(run) & set(hot.iloc[0]["segment_ids"])
    with pytest.raises(ValueError, match="inference"):
        gi_star(grid, np.ones(len(grid)), inference="bayes")


def test_find_hotspots_filters_and_errors(grid, settings):
    rng = np.random.default_rng(5)
    reports = _noise(grid, rng, 50)
    with pytest.raises(ValueError, match="No reports in the chosen period"):
        find_hotspots(grid, reports, start="2030-01-01", settings=settings)
    with pytest.raises(ValueError, match="No reports in the chosen period"):
        find_hotspots(grid, reports, categories=["needles"], settings=settings)
    off = reports.assign(segment_id=pd.array([pd.NA] * len(reports), dtype="Int64"))
    with pytest.raises(ValueError, match="find_point_hotspots"):
        find_hotspots(grid, off, settings=settings)


def test_time_profile_and_active_hours():
    reports = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(
                ["2024-01-01 22:30", "2024-01-02 22:10", "2024-01-07 23:59", "2024-01-01 00:00"]
            ),
            "time_known": [True, True, True, False],
        }
    )
    prof = time_profile(reports)
    assert prof.shape == (7, 24) and prof.sum() == 3
    assert prof[0, 22] == 1 and prof[1, 22] == 1 and prof[6, 23] == 1
    hand = np.zeros((7, 24), dtype=int)
    hand[4, 22], hand[5, 22], hand[5, 23], hand[2, 1], hand[0, 14] = 6, 4, 6, 3, 1
    assert active_hours(hand) == [22, 23]  # 16 of 20 = 80%
    assert active_hours(hand, share=0.85) == [1, 22, 23]  # 19 of 20 >= 17
    assert active_hours(hand, share=1.0) == [1, 14, 22, 23]
    assert active_hours(np.zeros((7, 24))) == []


def test_labels_fall_back_gracefully():
    segs = line_segments(
        [100, 100, 100, 100, 100],
        ["Park Street", "Anlaby Road", "Anlaby Road", "Argyle Street", ""],
    )
    lab = _Labeller(segs)
    assert lab.label(np.array([1, 2])) == "Anlaby Road (Argyle Street to Park Street)"
    assert lab.label(np.array([4])) == "unnamed street near Argyle Street"
    assert lab.label(np.array([1])) == "Anlaby Road (near Park Street)"
    lonely = line_segments([100, 100], ["Anlaby Road", ""])
    assert _Labeller(lonely).label(np.array([0])) == "Anlaby Road"
    assert _Labeller(line_segments([50], [""])).label(np.array([0])) == "unnamed street"


def test_segment_table_columns(grid):
    risk = pd.Series(np.arange(len(grid), dtype=float), index=grid["segment_id"])
    table = segment_table(grid, risk)
    assert {"risk", "smoothed_risk", "z", "p_adj", "significant_hot"} <= set(table.columns)
    assert len(table) == len(grid) and table.crs.to_epsg() == 4326


def _planted_reports(seed: int = 2) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """200 scattered reports over 5 km and 30 around the middle; with their BNG positions."""
    rng = np.random.default_rng(seed)
    x0, y0 = ORIGIN
    n_noise, n_cl = 200, 30
    xs = np.r_[rng.uniform(x0, x0 + 5000, n_noise), x0 + 2500 + rng.normal(0, 30, n_cl)]
    ys = np.r_[rng.uniform(y0, y0 + 5000, n_noise), y0 + 2500 + rng.normal(0, 30, n_cl)]
    ll = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=27700).to_crs(4326)
    reports = pd.DataFrame(
        {
            "occurred_at": pd.Timestamp("2024-01-01"),
            "time_known": False,
            "category": "asb",
            "source": "police",
            "lon": ll.x,
            "lat": ll.y,
            "segment_id": pd.array([pd.NA] * len(xs), dtype="Int64"),
            "location_hint": ["Noise Lane"] * n_noise
            + ["Spring Bank"] * 20
            + ["Beverley Road"] * 10,
        }
    )
    return reports, xs, ys


def test_point_mode_finds_planted_cluster(settings):
    reports, _, _ = _planted_reports()
    x0, y0 = ORIGIN
    n_cl = 30
    hot = find_point_hotspots(reports, settings=settings)
    assert list(hot.columns) == HOTSPOT_COLUMNS
    assert len(hot) >= 1
    top = hot.iloc[0]
    assert top["label"] == "Spring Bank and Beverley Road"
    assert top["n_reports"] >= n_cl
    centre = gpd.GeoSeries(gpd.points_from_xy([x0 + 2500], [y0 + 2500]), crs=27700)
    assert hot.geometry.iloc[:1].to_crs(27700).contains(centre.iloc[0]).all()
    assert math.isnan(top["z"]) and top["segment_ids"] == []
    assert top["active_hours"] == []  # police.uk months have no time of day


def _circle_centres(ring: np.ndarray) -> np.ndarray:
    """Centres of the circles through every three consecutive vertices (a buffer's arcs)."""
    a, b, c = ring[:-2], ring[1:-1], ring[2:]
    d = 2 * (
        a[:, 0] * (b[:, 1] - c[:, 1])
        + b[:, 0] * (c[:, 1] - a[:, 1])
        + c[:, 0] * (a[:, 1] - b[:, 1])
    )
    ok = np.abs(d) > 1e-9
    sa, sb, sc = (a**2).sum(1), (b**2).sum(1), (c**2).sum(1)
    ux = (sa * (b[:, 1] - c[:, 1]) + sb * (c[:, 1] - a[:, 1]) + sc * (a[:, 1] - b[:, 1]))[ok] / d[
        ok
    ]
    uy = (sa * (c[:, 0] - b[:, 0]) + sb * (a[:, 0] - c[:, 0]) + sc * (b[:, 0] - a[:, 0]))[ok] / d[
        ok
    ]
    return np.c_[ux, uy]


def test_point_mode_outlines_are_grid_squares_that_give_no_report_position_away(settings):
    reports, xs, ys = _planted_reports()
    hot = find_point_hotspots(reports, settings=settings)
    assert len(hot) >= 1
    cell = 100.0
    outlines = hot.geometry.to_crs(27700)
    verts = shapely.get_coordinates(outlines.to_numpy())
    # Every corner is a corner of the 100 m National Grid (up to the reprojection's rounding).
    on_grid = np.abs(verts / cell - np.round(verts / cell)).max(axis=1) * cell < 0.01
    assert on_grid.all(), verts[~on_grid]
    pts = np.c_[xs, ys]
    dist = np.hypot(*(verts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    assert not ((dist < 10) & ~on_grid).any()
    # The attack that read positions off the old outlines (a 25 m buffer of the reports'
    # hull: circles through its arc vertices are centred on reports) finds nothing now.
    for geom in outlines:
        for poly in getattr(geom, "geoms", [geom]):
            centres = _circle_centres(np.asarray(poly.exterior.coords))
            if len(centres):
                near = np.hypot(*(centres[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
                assert near.min() > 1.0
    # And each outline still covers every report of its cluster.
    clustered = hot["n_reports"].sum()
    inside = outlines.union_all().covers(shapely.points(pts)).sum()
    assert inside >= clustered


def test_point_mode_grid_square_is_a_setting_and_must_be_positive(settings):
    reports, _, _ = _planted_reports()
    coarse = find_point_hotspots(reports, settings=settings, cell_m=250)
    verts = shapely.get_coordinates(coarse.geometry.to_crs(27700).to_numpy())
    assert (np.abs(verts / 250 - np.round(verts / 250)) * 250 < 0.01).all()
    with pytest.raises(ValueError, match="positive number of metres"):
        find_point_hotspots(reports, settings=settings, cell_m=0)


def test_hour_windows_wrap_past_midnight():
    from geo.hotspots import format_hour_windows, hour_windows

    assert hour_windows([22, 23, 0, 1, 7]) == [(7, 8), (22, 2)]
    assert hour_windows([]) == []
    assert hour_windows(range(24)) == [(0, 0)]
    assert format_hour_windows([20, 21, 22, 23, 0, 1, 2]) == "20:00–03:00"
    assert format_hour_windows([]) == "no timed reports"


def test_unnamed_footpaths_are_labelled_by_the_nearest_named_street():
    x0, y0 = ORIGIN
    lines = [
        LineString([(x0, y0), (x0 + 100, y0)]),  # Spring Bank
        LineString([(x0 + 20, y0 + 60), (x0 + 80, y0 + 60)]),  # a footpath 60 m away, apart
        LineString([(x0 + 5000, y0), (x0 + 5050, y0)]),  # a service road far from anything
    ]
    segs = gpd.GeoDataFrame(
        {
            "segment_id": np.arange(3, dtype=np.int64),
            "name": ["Spring Bank", "", ""],
            "highway": ["residential", "footway", "service"],
            "length_m": [100.0, 60.0, 50.0],
            "u": np.array([0, 2, 4], dtype=np.int64),
            "v": np.array([1, 3, 5], dtype=np.int64),
        },
        geometry=lines,
        crs=27700,
    ).to_crs(4326)
    lab = _Labeller(segs)
    assert lab.label(np.array([1])) == "footpath near Spring Bank"
    assert lab.label(np.array([2])) == "service road"


def test_analytic_gi_star_equals_esda_and_auto_picks_by_size(grid, settings, monkeypatch):
    import geo.significance as significance

    rng = np.random.default_rng(9)
    y = rng.poisson(2.0, len(grid)).astype(float)
    ours = gi_star(grid, y, inference="normal", settings=settings)
    esda_run = significance._run_g_local(
        y, segment_adjacency(grid), permutations=19, seed=1, n_jobs=1
    )  # esda itself, the reference
    np.testing.assert_allclose(ours["z"], esda_run.Zs, rtol=1e-10)
    np.testing.assert_allclose(ours["g"], esda_run.Gs, rtol=1e-10)
    perm = gi_star(grid, y, inference="permutation", permutations=19, settings=settings)
    auto = gi_star(grid, y, settings=settings, permutations=19)  # 180 segments: permutations
    np.testing.assert_array_equal(auto["p_sim"], perm["p_sim"])
    assert not np.array_equal(auto["p_sim"], ours["p_sim"])
    monkeypatch.setattr(significance, "NORMAL_ABOVE_SEGMENTS", 100)
    auto = gi_star(grid, y, settings=settings, permutations=19)  # now "large": normal
    np.testing.assert_array_equal(auto["p_sim"], ours["p_sim"])
    monkeypatch.setattr(significance, "PERMUTATION_MAX_SEGMENTS", 100)
    with pytest.raises(ValueError, match="inference='normal'"):
        gi_star(grid, y, inference="permutation", settings=settings)
