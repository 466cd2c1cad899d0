"""The command-line journey of issue 12 with areas: demo, a real area, imports, hotspots, deletion."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from geo.areas import find_area
from geo.store import Store
from tests.conftest import run_cli

HULL = "Kingston upon Hull"
BOX = (-0.43, 53.71, -0.24, 53.82)


def _in_box(path) -> int:
    raw = pd.read_csv(path)
    w, s, e, n = BOX
    return int((raw["Longitude"].between(w, e) & raw["Latitude"].between(s, n)).sum())


def test_journey_demo_then_hull_then_the_demo_leaves(cli_env, capsys, police_2022, police_2024):
    code, demo, _ = run_cli(["demo"], capsys)
    assert code == 0 and demo["area"] == "Helsinki (demo)" and demo["reports"] == 10_000
    code, area, _ = run_cli(["area", "create", HULL, "--bbox", ",".join(map(str, BOX))], capsys)
    assert code == 0 and area["name"] == HULL and area["current"] and area["reports"] == 0
    code, out, _ = run_cli(
        ["import", str(police_2022), str(police_2024), "--source", "police", "--area", HULL],
        capsys,
    )
    assert code == 0 and out["area"] == HULL and out["files"] == 2
    for detail, path in zip(out["details"], (police_2022, police_2024), strict=True):
        read = len(pd.read_csv(path))
        assert detail["rows_read"] == read  # every row accounted for
        assert detail["accepted"] + detail["duplicates"] + detail["rejected"] == read
    assert out["accepted"] <= _in_box(police_2022) + _in_box(police_2024)
    reasons = pd.concat(pd.read_csv(f, encoding="utf-8-sig") for f in out["rejects_file"])
    assert (reasons["reason"] == f"outside {HULL}").sum() >= len(reasons) - 50
    assert out["unmapped"]["shoplifting"] > 0 and "asb" not in out["unmapped"]

    h = cli_env / "h.geojson"
    code, hot, _ = run_cli(
        ["hotspots", "--area", HULL, "--from", "2024-01-01", "--to", "2024-01-31", "--out", str(h)],
        capsys,
    )
    assert code == 0 and hot["mode"] == "point" and hot["hotspots"] >= 1
    table = gpd.read_file(h)
    assert table["label"].str.len().gt(3).all()  # named places, not bare ids
    counts = table["counts"].map(json.loads)
    assert set().union(*counts) <= {"asb", "drugs", "public_order"}  # mapped categories only
    w, s, e, n = BOX
    x0, y0, x1, y1 = table.total_bounds
    assert w <= x0 <= x1 <= e and s <= y0 <= y1 <= n  # inside the area

    code, imports, _ = run_cli(["imports", "list", "--area", HULL], capsys)
    assert code == 0 and len(imports["imports"]) == 2
    assert sum(i["accepted"] for i in imports["imports"]) == out["accepted"]

    store = Store()
    hull_id = find_area(store, HULL).area_id
    hull_reports = store.count_reports(area_id=hull_id)
    code, gone, _ = run_cli(["area", "delete", "Helsinki (demo)"], capsys)
    assert code == 0 and gone["reports"] == 10_000 and gone["network_file"]
    assert store.count_reports(all_areas=True) == hull_reports == out["accepted"]
    code, listed, _ = run_cli(["area", "list"], capsys)
    assert [a["name"] for a in listed["areas"]] == [HULL] and not any(
        a["synthetic"] for a in listed["areas"]
    )
    store.dispose()


def test_imports_delete_and_purge_per_area(cli_env, capsys, police_2024):
    run_cli(["area", "create", HULL, "--bbox", ",".join(map(str, BOX))], capsys)
    code, out, _ = run_cli(["import", str(police_2024), "--source", "police"], capsys)
    assert code == 0 and out["area"] == HULL  # the current area
    code, imports, _ = run_cli(["imports", "list"], capsys)
    batch = imports["imports"][0]["batch_id"]
    code, purged, _ = run_cli(["purge", "--older-than", "1", "--area", HULL], capsys)
    assert code == 0 and purged["purged"] == out["accepted"] and purged["imports_removed"] == 1
    code, imports, _ = run_cli(["imports", "list"], capsys)
    assert imports["imports"] == []  # the list stays true
    code, _, err = run_cli(["imports", "delete", batch], capsys)
    assert code == 2 and "imports list" in err


def test_area_errors_are_one_plain_line(cli_env, capsys, tmp_path):
    code, _, err = run_cli(
        ["hotspots", "--area", "Nowhere", "--out", str(tmp_path / "x.csv")], capsys
    )
    assert code == 2 and err.startswith("beatplan: --area: no area is called 'Nowhere'")
    code, _, err = run_cli(["area", "create", "Hull"], capsys)
    assert code == 2 and "--bbox" in err
    code, _, err = run_cli(["area", "create", "Hull", "--bbox", "1,2,3"], capsys)
    assert code == 2 and "--bbox must be four numbers" in err
    code, _, err = run_cli(
        ["area", "create", "Hull", "--boundary", str(tmp_path / "no.geojson")], capsys
    )
    assert code == 2 and "not found" in err
    assert run_cli(["area", "create", "Hull", "--bbox", "-0.43,53.71,-0.24,53.82"], capsys)[0] == 0
    code, _, err = run_cli(["area", "create", "hull", "--bbox", "-0.43,53.71,-0.24,53.82"], capsys)
    assert code == 2 and "exists already" in err
    code, _, err = run_cli(["area", "delete", "Leeds"], capsys)
    assert code == 2 and "beatplan area list" in err
    for line in err.splitlines():
        assert "Traceback" not in line
