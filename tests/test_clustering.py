"""Point-mode clusters (geo.clustering): dense, never wider than a patrol stop, grid outlines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from sklearn.cluster import DBSCAN

from geo.clustering import MAX_RADIUS_M, _dbscan_labels, _radii
from geo.hotspots import find_point_hotspots

# A street of police.uk-like map points 120 m apart, 10 reports stacked on each: the shape
# that made DBSCAN chain a whole city centre into one cluster.
ORIGIN = (507_000.0, 428_000.0)  # British National Grid, central Hull


def _chain(n_points: int = 14, per_point: int = 10, step_m: float = 120.0):
    x = np.repeat(ORIGIN[0] + step_m * np.arange(n_points), per_point)
    y = np.full(len(x), ORIGIN[1])
    return x, y


def test_a_chain_of_map_points_is_split_into_stops_no_wider_than_the_bound():
    x, y = _chain()
    plain = DBSCAN(eps=150, min_samples=8).fit_predict(np.c_[x, y])
    assert plain.max() == 0 and (plain == 0).all()  # one 1.56 km cluster
    labels = _dbscan_labels(x, y, eps=150, min_samples=8)
    n = int(labels.max()) + 1
    assert n >= 5
    assert (_radii(x, y, labels, n) <= MAX_RADIUS_M).all()
    assert np.bincount(labels[labels >= 0]).min() >= 8  # every part is still dense
    assert (labels >= 0).mean() >= 0.9  # and almost nothing falls out
    assert sorted(set(labels[labels >= 0])) == list(range(n))


def test_compact_clusters_are_left_as_dbscan_found_them():
    rng = np.random.default_rng(4)
    x = np.r_[rng.normal(0, 30, 60), rng.normal(1000, 30, 40)] + ORIGIN[0]
    y = np.r_[rng.normal(0, 30, 60), rng.normal(0, 30, 40)] + ORIGIN[1]
    plain = DBSCAN(eps=150, min_samples=8).fit_predict(np.c_[x, y])
    assert np.array_equal(_dbscan_labels(x, y, eps=150, min_samples=8), plain)
    unbounded = _dbscan_labels(*_chain(), eps=150, min_samples=8, max_radius_m=None)
    assert (unbounded == 0).all()
    with pytest.raises(ValueError, match="positive number of metres"):
        _dbscan_labels(x, y, eps=150, min_samples=8, max_radius_m=-5)


def test_split_hotspots_keep_grid_square_outlines_and_place_ids(settings):
    x, y = _chain()
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(x, y)
    reports = pd.DataFrame(
        {
            "report_id": [f"r{k}" for k in range(len(x))],
            "occurred_at": pd.Timestamp("2024-01-15 21:00"),
            "time_known": False,
            "category": "asb",
            "source": "police",
            "lon": lon,
            "lat": lat,
            "segment_id": pd.array([pd.NA] * len(x), dtype="Int64"),
            "location_hint": "Anlaby Road",
            "batch_id": "b",
        }
    )
    hot = find_point_hotspots(reports, settings=settings, metric_crs=27700)
    assert len(hot) >= 4  # 1.56 km of reports: at least four stops of 400 m or less
    assert hot["hotspot_id"].is_unique
    metric = hot.to_crs(27700)
    for geom in metric.geometry:
        bx0, by0, bx1, by1 = geom.bounds
        assert max(bx1 - bx0, by1 - by0) <= 2 * MAX_RADIUS_M + 100 + 1e-6
        coords = np.concatenate(
            [np.asarray(p.exterior.coords) for p in getattr(geom, "geoms", [geom])]
        )
        assert np.allclose(coords / 100, np.round(coords / 100), atol=1e-4)  # grid corners
    areas = metric.geometry.area.to_numpy() / 100**2  # whole 100 m squares, not hulls
    assert np.allclose(areas, np.round(areas), atol=1e-4) and (areas >= 1).all()
    span = int(np.floor(x.max() / 100) - np.floor(x.min() / 100)) + 1
    assert metric.geometry.union_all().area <= span * 100**2 * (1 + 1e-6)
