"""The street raster of a network is built once per network (geo.study_area.network_units)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS

from geo.study_area import network_units
from tests.test_hotspots import grid_segments


def test_network_units_are_kept_per_network_and_read_only():
    segs = grid_segments(6, 6)
    crs = CRS.from_epsg(27700)
    units, pos = network_units(segs, crs, None)
    again, pos2 = network_units(segs, crs, None)
    assert again is units and pos2 is pos
    with pytest.raises(ValueError, match="read-only"):
        units.size[0] = 0.0
    other, _ = network_units(segs.copy(), crs, None)  # another network object: built anew
    assert other is not units
    np.testing.assert_array_equal(other.lattice.length, units.lattice.length)
    box = tuple(segs.total_bounds)
    inside, _ = network_units(segs, crs, box)
    assert inside is not units and inside.n == units.n
