"""CLI tests for the street network, hotspots and evaluation commands on real public data."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.settings import slugify
from tests.conftest import HULL_BBOX, run_cli, shared_file

HULL = ",".join(str(v) for v in HULL_BBOX)


def test_network_load_then_import_snaps_reports(cli_env, capsys):
    leeds = shared_file("osm", "leeds-its-example.osm.pbf")
    code, out, _ = run_cli(["network", "load", str(leeds)], capsys)
    assert code == 0
    assert out["segments"] == 242 and out["nodes"] == 186
    assert out["length_km"] == pytest.approx(10.197, abs=0.01)
    assert (cli_env / "network.gpkg").is_file()
    # Reports at the midpoints of real Leeds segments, plus one far away.
    segs = gpd.read_file(cli_env / "network.gpkg", layer="segments")
    mids = shapely.line_interpolate_point(segs.geometry.to_numpy()[:20], 0.5, normalized=True)
    lines = [
        f"2024-01-05,21:00,asb,{y:.6f},{x:.6f}"
        for x, y in zip(shapely.get_x(mids), shapely.get_y(mids), strict=True)
    ]
    lines.append("2024-01-05,21:00,asb,53.9000,-1.4000")
    path = cli_env / "leeds.csv"
    path.write_text("date,time,category,lat,lon\n" + "\n".join(lines) + "\n")
    code, out, _ = run_cli(["import", str(path), "--source", "public"], capsys)
    assert code == 0 and out["accepted"] == 21 and out["off_network"] == 1
    # Loading the network again re-snaps every stored report.
    code, out, _ = run_cli(["network", "load", str(leeds)], capsys)
    assert out["reports"] == 21 and out["snapped"] == 20 and out["off_network"] == 1


def test_network_download_offline_is_a_plain_error(cli_env, capsys):
    code, _, err = run_cli(["network", "download", "Kingston upon Hull, UK"], capsys)
    assert code == 2
    assert "offline" in err and len(err.strip().splitlines()) == 1


def test_hotspots_point_mode_on_police_uk(cli_env, capsys, police_2022):
    assert run_cli(["area", "create", "Hull", f"--bbox={HULL}"], capsys)[0] == 0
    code, out, _ = run_cli(["import", str(police_2022), "--area", "Hull"], capsys)
    assert code == 0
    csv_out, geo_out = cli_env / "h.csv", cli_env / "h.geojson"
    code, out, _ = run_cli(
        ["hotspots", "--categories", "asb", "drugs", "public_order", "--out", str(csv_out)], capsys
    )
    assert code == 0 and out["mode"] == "point" and out["hotspots"] > 3
    table = pd.read_csv(csv_out)
    assert len(table) == out["hotspots"]
    assert table["rank"].iloc[0] == 1 and table["risk"].is_monotonic_decreasing
    assert table["hotspot_id"].str.fullmatch(r"H-[0-9A-Z]{6}").all()
    counts = table["counts"].map(json.loads)
    assert set().union(*counts) <= {"asb", "drugs", "public_order"}
    w, s, e, n = HULL_BBOX
    assert table["lon"].between(w, e).all() and table["lat"].between(s, n).all()
    code, out, _ = run_cli(["hotspots", "--categories", "asb", "--out", str(geo_out)], capsys)
    gdf = gpd.read_file(geo_out)
    assert code == 0 and len(gdf) == out["hotspots"] and gdf.geom_type.isin(["Polygon"]).all()


def test_hotspots_with_no_reports_is_a_user_error(cli_env, capsys):
    code, _, err = run_cli(["hotspots", "--out", str(cli_env / "x.csv")], capsys)
    assert code == 2 and "No reports" in err


def test_hotspots_bad_extension(cli_env, capsys, police_2022):
    run_cli(["area", "create", "Hull", f"--bbox={HULL}"], capsys)
    run_cli(["import", str(police_2022), "--area", "Hull"], capsys)
    code, _, err = run_cli(["hotspots", "--out", str(cli_env / "x.txt")], capsys)
    assert code == 2 and ".geojson or .csv" in err


def test_evaluate_hull_files(cli_env, capsys, police_2022, police_2024):
    code, out, _ = run_cli(
        [
            "evaluate",
            "--train",
            str(police_2022),
            "--test",
            str(police_2024),
            "--categories",
            "asb",
            "drugs",
            "public_order",
            f"--bbox={HULL}",
        ],
        capsys,
    )
    assert code == 0
    # every method with its figures, intervals and settings; no ranking is asserted here (the
    # settings are chosen on the training month, and rankings live in benchmarks/forecast.py)
    assert {"beatplan", "counts", "kde", "prospective", "counts_kernel"} <= set(out["methods"])
    assert out["coverage"] == [0.01, 0.05, 0.1]
    for name, figures in out["methods"].items():
        assert {"hit_rate", "hit_rate_ci", "pai", "pai_ci", "pei", "pei_ci", "settings"} <= set(
            figures
        ), name
        assert set(figures["pai"]) == {"0.01", "0.05", "0.10"}
        for key, (lo, hi) in figures["hit_rate_ci"].items():
            assert 0.0 <= lo <= figures["hit_rate"][key] + 1e-9 <= hi + 2e-9 <= 1.0 + 2e-9
    raw = pd.read_csv(police_2024)
    in_hull = raw["Longitude"].between(HULL_BBOX[0], HULL_BBOX[2]) & raw["Latitude"].between(
        HULL_BBOX[1], HULL_BBOX[3]
    )
    wanted = raw["Crime type"].map(slugify).isin(["anti_social_behaviour", "drugs", "public_order"])
    assert out["n_test"] == int((in_hull & wanted).sum())


def test_evaluate_needs_both_sides(cli_env, capsys, police_2022):
    code, _, err = run_cli(["evaluate", "--train", str(police_2022)], capsys)
    assert code == 2 and "--test" in err
    code, _, err = run_cli(["evaluate", "--train-from", "2024-01-01"], capsys)
    assert code == 2 and "--train-to" in err
