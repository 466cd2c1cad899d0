"""Tests of areas: CRUD and the resolve rule, imports per area, deletion, purge, networks, migration."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from geo.areas import (
    AreaChoiceError,
    area_settings,
    create_area,
    current_area,
    default_categories,
    default_period,
    delete_area,
    find_area,
    get_area,
    list_areas,
    resolve_area,
    set_area_setting,
    set_current_area,
)
from geo.ingest import delete_import, import_file
from geo.store import MIGRATIONS_DIR, Store
from geo.workspace import compute_hotspots, install_network, network_path
from tests import test_store as base
from tests.conftest import shared_file

# The store tests' fixtures: a fresh SQLite file and a fresh PostgreSQL schema.
pg_url = base.pg_url
store_url = base.store_url
store = base.store

HULL_BOX = (-0.43, 53.71, -0.24, 53.82)
LEEDS_BOX = (-1.60, 53.78, -1.52, 53.82)


def _csv(tmp_path: Path, name: str, rows: list[tuple[str, str, float, float]]) -> Path:
    path = tmp_path / name
    body = "".join(f"{d},21:00,{c},{lat},{lon}\n" for d, c, lat, lon in rows)
    path.write_text("date,time,category,lat,lon\n" + body, encoding="utf-8")
    return path


def _hull_rows(n: int, day: str = "2024-01-05", cat: str = "asb") -> list:
    return [(day, cat, 53.74 + i * 1e-4, -0.34 - i * 1e-4) for i in range(n)]


def test_create_list_find_and_plain_errors(store):
    hull = create_area(store, "  Kingston   upon Hull ", bbox=HULL_BOX)
    assert hull.name == "Kingston upon Hull" and current_area(store) == hull
    leeds = create_area(store, "Leeds", bbox=LEEDS_BOX, make_current=False)
    assert [a.name for a in list_areas(store)] == ["Kingston upon Hull", "Leeds"]
    assert find_area(store, "kingston upon hull") == hull
    assert get_area(store, leeds.area_id) == leeds
    with pytest.raises(ValueError, match="exists already"):
        create_area(store, "LEEDS", bbox=LEEDS_BOX)
    with pytest.raises(ValueError, match="min_lon,min_lat,max_lon,max_lat"):
        create_area(store, "Backwards", bbox=(1, 1, 0, 2))
    with pytest.raises(ValueError, match="control characters"):
        create_area(store, "Bad\x1b[31mname", bbox=HULL_BOX)
    with pytest.raises(ValueError, match="either a box"):
        create_area(store, "Neither", bbox=None)
    with pytest.raises(AreaChoiceError, match="beatplan area list"):
        get_area(store, "Nowhere")
    log = store.audit_log()
    assert (log["action"] == "area").sum() == 2
    assert not log["what"].str.contains("Hull|Leeds").any()  # ids, not names


def test_resolve_rule(store):
    with pytest.raises(AreaChoiceError, match="no area yet"):
        resolve_area(store)
    hull = create_area(store, "Hull", bbox=HULL_BOX, make_current=False)
    assert resolve_area(store) == hull  # the only one
    leeds = create_area(store, "Leeds", bbox=LEEDS_BOX, make_current=False)
    with pytest.raises(AreaChoiceError) as info:
        resolve_area(store)
    assert str(info.value) == "several areas: choose one with --area NAME (beatplan area list)"
    assert resolve_area(store, "leeds") == leeds  # given
    set_current_area(store, "Hull")
    assert resolve_area(store) == hull  # current
    assert resolve_area(store, "Leeds") == leeds


def test_import_rejects_rows_outside_the_area_with_its_name(store, tmp_path):
    create_area(store, "Hull <b>&'", bbox=HULL_BOX)
    rows = _hull_rows(6) + [("2024-01-05", "asb", 53.80, -1.55)] * 2  # two in Leeds
    out = import_file(_csv(tmp_path, "a.csv", rows), store=store, rejects_dir=tmp_path)
    assert (out.accepted, out.rejected, out.rows_read) == (6, 2, 8)
    assert set(out.rejected_rows["reason"]) == {"outside Hull <b>&'"}
    rejects = pd.read_csv(out.rejects_file, encoding="utf-8-sig")
    assert list(rejects["reason"]) == ["outside Hull <b>&'"] * 2


def test_boundary_polygon_from_a_file_in_british_national_grid(store, tmp_path):
    # a triangle in EPSG:27700 around central Hull: reprojected to WGS84 on reading
    tri = shapely.Polygon([(505000, 425000), (512000, 425000), (508500, 432000)])
    path = tmp_path / "hull.geojson"
    gpd.GeoDataFrame(geometry=[tri], crs=27700).to_file(path, driver="GeoJSON")
    area = create_area(store, "Hull centre", boundary=path)
    assert area.boundary is not None and -0.45 < area.bbox[0] < area.bbox[2] < -0.2
    inside = shapely.Point(508500, 427000)
    corner = shapely.Point(505500, 431500)  # in the box, outside the triangle
    pts = gpd.GeoSeries([inside, corner], crs=27700).to_crs(4326)
    rows = [("2024-01-05", "asb", p.y, p.x) for p in pts]
    out = import_file(_csv(tmp_path, "b.csv", rows), store=store, rejects_dir=tmp_path)
    assert (out.accepted, out.rejected) == (1, 1)
    assert list(out.rejected_rows["reason"]) == ["outside Hull centre"]
    assert get_area(store, area.area_id).boundary.equals_exact(area.boundary, 1e-9)
    bad = tmp_path / "lines.geojson"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=4326).to_file(bad)
    with pytest.raises(ValueError, match="no polygon"):
        create_area(store, "Lines", boundary=bad)


def test_reads_and_defaults_are_per_area(store, tmp_path):
    hull = create_area(store, "Hull", bbox=HULL_BOX)
    import_file(_csv(tmp_path, "h.csv", _hull_rows(5, "2024-01-05")), store=store, area=hull)
    leeds = create_area(store, "Leeds", bbox=LEEDS_BOX)
    rows = [("2024-06-01", "needles", 53.80, -1.55 + i * 1e-4) for i in range(3)]
    import_file(_csv(tmp_path, "l.csv", rows), store=store, area=leeds)
    assert store.count_reports(area_id=hull.area_id) == 5
    assert store.count_reports(area_id=leeds.area_id) == 3
    assert store.count_reports(all_areas=True) == 8
    assert store.count_reports() == 3  # the current area (Leeds, created last)
    assert store.categories(area_id=hull.area_id) == ["asb"]
    assert default_period(store, hull)[1] == pd.Timestamp("2024-01-05")  # not Leeds' June
    assert len(store.batches(area_id=hull.area_id)) == 1
    assert set(store.reports(area_id=hull.area_id)["area_id"]) == {hull.area_id}


def test_police_uk_types_the_taxonomy_does_not_map_are_kept_apart(store, police_2024, tmp_path):
    hull = create_area(store, "Kingston upon Hull", bbox=HULL_BOX)
    out = import_file(police_2024, store=store, source="police", rejects_dir=tmp_path)
    assert out.accepted + out.duplicates + out.rejected == out.rows_read == 7718
    stored = store.reports(area_id=hull.area_id)["category"].value_counts()
    assert out.unmapped == {
        c: int(n) for c, n in stored.items() if c not in ("asb", "drugs", "public_order")
    }
    assert out.unmapped["shoplifting"] > 0
    assert default_categories(store, hull) == ["asb", "drugs", "public_order"]
    # an area may map a police.uk type to one of its categories
    settings = dict(area_settings(hull).police_crime_types, Shoplifting="asb")
    hull = set_area_setting(store, hull, "police_crime_types", settings)
    assert area_settings(hull).police_crime_types["Shoplifting"] == "asb"
    with pytest.raises(ValueError, match=r"not a data\.police\.uk crime type"):
        set_area_setting(store, hull, "police_crime_types", {"Banana": "asb"})
    with pytest.raises(ValueError, match="from 2 to 100"):
        set_area_setting(store, hull, "suppression_threshold", 1)
    hull = set_area_setting(store, hull, "suppression_threshold", 5)
    assert area_settings(hull).general["suppression_threshold"] == 5


def test_delete_synthetic_area_removes_exactly_its_data(store, tmp_path, monkeypatch):
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    demo = create_area(store, "Helsinki (demo)", bbox=(24.9, 60.1, 25.0, 60.2), synthetic=True)
    rows = [("2024-01-05", "needles", 60.16, 24.94 + i * 1e-4) for i in range(7)]
    rows.append(("2024-01-05", "asb", 53.74, -0.34))  # outside: a rejects file
    out = import_file(_csv(tmp_path, "d.csv", rows), store=store, area=demo)
    store.save_plan("2024-01-06", "{}", area_id=demo.area_id)
    network_path(demo.area_id, data_dir=tmp_path).parent.mkdir(parents=True)
    network_path(demo.area_id, data_dir=tmp_path).write_bytes(b"not really a network")
    hull = create_area(store, "Hull", bbox=HULL_BOX)
    import_file(_csv(tmp_path, "h.csv", _hull_rows(4)), store=store, area=hull)
    counts = delete_area(store, "Helsinki (demo)", data_dir=tmp_path)
    assert counts["reports"] == 7 and counts["imports"] == 1 and counts["plans"] == 1
    assert counts["rejects_files"] == 1 and not Path(out.rejects_file).exists()
    assert counts["network_file"] and not network_path(demo.area_id, data_dir=tmp_path).exists()
    assert store.count_reports(all_areas=True) == 4 == store.count_reports(area_id=hull.area_id)
    assert [a.name for a in list_areas(store)] == ["Hull"]
    event = store.audit_log().iloc[-1]
    assert event["action"] == "area" and event["n_rows"] == 7 and "reports 7" in event["what"]


def test_delete_one_import_with_everything_it_added(store, tmp_path):
    hull = create_area(store, "Hull", bbox=HULL_BOX)
    rows = [*_hull_rows(3), ("2024-01-05", "asb", 53.80, -1.55)]
    first = import_file(_csv(tmp_path, "a.csv", rows), store=store, rejects_dir=tmp_path)
    import_file(_csv(tmp_path, "b.csv", _hull_rows(2, "2024-02-05")), store=store)
    out = delete_import(store, first.batch_id, rejects_dir=tmp_path, area_id=hull.area_id)
    assert out["reports"] == 3 and out["rejects_files"] == 1
    assert not Path(first.rejects_file).exists()
    assert store.count_reports() == 2 and list(store.batches()["accepted"]) == [2]
    leeds = create_area(store, "Leeds", bbox=LEEDS_BOX)
    other = store.batches(area_id=hull.area_id)["batch_id"].iloc[0]
    with pytest.raises(ValueError, match="imports list"):  # not an import of Leeds
        delete_import(store, other, area_id=leeds.area_id)
    assert store.audit_log()["action"].tolist().count("delete") == 1


def test_purge_works_per_area_and_keeps_the_import_list_true(store, tmp_path):
    hull = create_area(store, "Hull", bbox=HULL_BOX)
    old = import_file(_csv(tmp_path, "o.csv", _hull_rows(3, "2020-01-05")), store=store)
    mixed = _hull_rows(2, "2020-02-05") + [
        (d, c, la + 0.01, lo) for d, c, la, lo in _hull_rows(4, "2024-05-05")
    ]
    import_file(_csv(tmp_path, "m.csv", mixed), store=store)
    leeds = create_area(store, "Leeds", bbox=LEEDS_BOX)
    rows = [("2020-01-05", "asb", 53.80, -1.55 + i * 1e-4) for i in range(5)]
    import_file(_csv(tmp_path, "l.csv", rows), store=store, area=leeds)
    out = store.purge(older_than_months=13, now=datetime(2024, 6, 1), area_id=hull.area_id)
    assert out["purged"] == 5 and out["imports_removed"] == 1
    batches = store.batches(area_id=hull.area_id)
    assert old.batch_id not in set(batches["batch_id"])  # all its reports gone: removed
    assert batches[["accepted", "purged"]].values.tolist() == [[6, 2]]
    assert store.count_reports(area_id=hull.area_id) == 4
    assert store.count_reports(area_id=leeds.area_id) == 5  # another area: untouched


def test_a_network_of_another_area_never_changes_this_areas_hotspots(store, tmp_path, police_2024):
    from geo.streets import StreetNetwork

    hull = create_area(store, "Kingston upon Hull", bbox=HULL_BOX)
    import_file(police_2024, store=store, source="police", area=hull, rejects_dir=tmp_path)
    cats = default_categories(store, hull)
    before_reports = store.reports(area_id=hull.area_id, categories=cats)
    before, mode, _ = compute_hotspots(before_reports, network=None, settings=area_settings(hull))
    leeds = create_area(store, "Leeds", bbox=LEEDS_BOX)
    net = StreetNetwork.from_file(shared_file("osm", "leeds-its-example.osm.pbf"))
    out = install_network(net, store, data_dir=tmp_path, area_id=leeds.area_id)
    assert out["area_id"] == leeds.area_id and out["reports"] == 0  # Hull's reports not read
    assert network_path(leeds.area_id, data_dir=tmp_path).is_file()
    assert not network_path(hull.area_id, data_dir=tmp_path).exists()
    after_reports = store.reports(area_id=hull.area_id, categories=cats)
    assert after_reports["segment_id"].isna().all()
    pd.testing.assert_frame_equal(before_reports, after_reports)
    after, mode_after, _ = compute_hotspots(
        after_reports, network=None, settings=area_settings(hull)
    )
    assert mode == mode_after == "point" and len(before) > 0
    pd.testing.assert_frame_equal(
        pd.DataFrame(before.drop(columns="geometry")), pd.DataFrame(after.drop(columns="geometry"))
    )


def _config(conn: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def test_upgrade_adopts_existing_data_into_areas(store_url, tmp_path):
    legacy = Store(store_url)
    with legacy.engine.connect() as conn:
        command.downgrade(_config(conn), "0004")
        conn.commit()
    now = datetime(2024, 1, 6)
    batch = "INSERT INTO batches VALUES (:b, :f, 'council', 'csv', :t, 'me', 2, 2, 0, 0, 0)"
    report = "INSERT INTO reports VALUES (:r, :t, :k, 'asb', 'council', :lon, :lat, NULL, NULL, NULL, :b)"
    with legacy.engine.begin() as conn:
        conn.execute(
            sa.text(batch), {"b": "demo1", "f": "SYNTHETIC-DEMO-reports-seed7.csv", "t": now}
        )
        conn.execute(sa.text(batch), {"b": "real1", "f": "file-0123456789abcdef.csv", "t": now})
        for i, (b, lon, lat) in enumerate(
            [("demo1", 24.94, 60.17), ("demo1", 24.95, 60.16), ("real1", -0.34, 53.74)]
        ):
            conn.execute(
                sa.text(report), {"r": f"r{i}", "t": now, "k": True, "lon": lon, "lat": lat, "b": b}
            )
        conn.execute(
            sa.text("INSERT INTO plans VALUES ('p1', :t, 'me', '2024-01-07', '{}')"), {"t": now}
        )
    legacy.dispose()
    upgraded = Store(store_url)  # opening runs the upgrade
    areas = {a.name: a for a in list_areas(upgraded)}
    assert set(areas) == {"Helsinki (demo)", "Default area"}
    demo, real = areas["Helsinki (demo)"], areas["Default area"]
    assert demo.synthetic and not real.synthetic
    assert demo.contains([24.94, 24.95], [60.17, 60.16]).all()
    assert current_area(upgraded) == real
    assert upgraded.count_reports(area_id=demo.area_id) == 2
    assert upgraded.count_reports(area_id=real.area_id) == 1
    assert upgraded.count_reports(all_areas=True) == 3  # nothing left without an area
    with upgraded.engine.connect() as conn:
        plan_area = conn.execute(sa.text("SELECT area_id FROM plans")).scalar_one()
    assert plan_area == real.area_id
    delete_area(upgraded, demo, data_dir=tmp_path)
    assert upgraded.count_reports(all_areas=True) == 1
    upgraded.dispose()


def test_area_settings_are_validated_and_audited(store):
    hull = create_area(store, "Hull", bbox=HULL_BOX)
    hull = set_area_setting(store, hull, "bases", {"Central": [-0.3367, 53.7446]})
    assert area_settings(hull).bases == {"Central": (-0.3367, 53.7446)}
    cats = {
        "needles": {"label": "Needles", "harm_weight": 3, "kind": "nuisance", "skill": "sharps"}
    }
    hull = set_area_setting(store, hull, "categories", cats)
    assert list(area_settings(hull).categories) == ["needles"]
    for key, value, words in [
        ("bases", {"X": [200, 0]}, "longitude"),
        ("categories", {"Bad Slug": {}}, "slug"),
        ("teams", [{"name": "A"}, {"name": "a"}], "same name"),
        ("colour", "red", "not an area setting"),
    ]:
        with pytest.raises(ValueError, match=words):
            set_area_setting(store, hull, key, value)
    hull = set_area_setting(store, hull, "bases", None)
    assert "bases" not in hull.settings
    events = store.audit_log()
    assert (events["action"] == "area").sum() == 4  # created, bases, categories, bases removed
    assert json.dumps(hull.to_json())  # JSON-ready
