"""What the Hotspots map sends: heat places pooled past a cap, streets as compact lines."""

from __future__ import annotations

import numpy as np

from ui.hotspot_map import heat_points


def test_heat_points_keep_every_place_and_count_under_the_cap():
    lat = [53.74, 53.74, 53.740001, 53.75, np.nan]
    lon = [-0.37, -0.37, -0.370001, -0.36, -0.36]
    pts = heat_points(lat, lon, max_points=2)
    assert pts.tolist() == [[53.74, -0.37, 3.0], [53.75, -0.36, 1.0]]
    assert heat_points([53.7], [-0.3]).tolist() == [[53.7, -0.3]]  # no weights when all are 1
    assert heat_points([], []).shape[0] == 0


def test_heat_points_past_the_cap_pool_into_cells_that_keep_every_report():
    rng = np.random.default_rng(7)
    lat = 53.74 + rng.normal(0, 0.004, 20_000)
    lon = -0.36 + rng.normal(0, 0.006, 20_000)
    lat[:500] = 53.75  # one busy place
    lon[:500] = -0.35
    pts = heat_points(lat, lon, max_points=1_000)
    assert 250 < len(pts) <= 1_000  # the finest grid that fits, not a much coarser one
    assert pts[:, 2].sum() == 20_000  # every report keeps its weight
    assert pts[:, 0].min() >= lat.min() - 1e-5 and pts[:, 0].max() <= lat.max() + 1e-5
    assert pts[:, 1].min() >= lon.min() - 1e-5 and pts[:, 1].max() <= lon.max() + 1e-5
    busy = pts[np.argmax(pts[:, 2])]
    assert busy[2] >= 500 and abs(busy[0] - 53.75) < 0.002 and abs(busy[1] + 0.35) < 0.002
    # The weighted centre of all places is the reports' own centre.
    centre = (pts[:, :2] * pts[:, 2:]).sum(axis=0) / 20_000
    assert np.allclose(centre, [np.round(lat, 5).mean(), np.round(lon, 5).mean()], atol=1e-5)
