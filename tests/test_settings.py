"""Tests of the settings loader: taxonomy, area, bases, and plain errors for bad values."""

from __future__ import annotations

import pytest

from geo.settings import load_settings, parse_settings, slugify


def test_project_settings_load():
    s = load_settings()
    assert {
        "needles",
        "condoms",
        "propositioning",
        "sex_in_public",
        "welfare_concern",
        "asb",
        "drugs",
        "public_order",
    } <= set(s.categories)
    assert s.categories["welfare_concern"].kind == "safeguarding"
    assert s.skill("welfare_concern") == "outreach"
    assert s.police_crime_types["Anti-social behaviour"] == "asb"
    assert s.harm_weight("no_such_category") == 1.0


def test_bases_and_area():
    s = parse_settings(
        {"bases": {"Station": [-0.3367, 53.7446]}, "area": {"bbox": [-1, 53, 0, 54]}}
    )
    assert s.bases == {"Station": (-0.3367, 53.7446)}
    assert s.area_bbox == (-1.0, 53.0, 0.0, 54.0)
    with pytest.raises(ValueError, match=r"\[lon, lat\]"):
        parse_settings({"bases": {"X": "here"}})
    with pytest.raises(ValueError, match="min_lon < max_lon"):
        parse_settings({"area": {"bbox": [1, 53, 0, 54]}})
    with pytest.raises(ValueError, match="kind"):
        parse_settings({"categories": {"x": {"kind": "other"}}})


def test_slugify():
    assert slugify("Violence and sexual offences") == "violence_and_sexual_offences"
    assert slugify("  ") == "unknown"
