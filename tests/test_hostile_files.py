"""Hostile and careless input files: caps on size, rows, columns and teams, plain errors."""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.errors import ReportFileError
from geo.reports import read_reports
from planning.teams import MAX_TEAMS, teams_from_dict

DAY = date(2024, 3, 1)


def _team(name: str, **extra) -> dict:
    return {
        "name": name,
        "base": [-0.34, 53.74],
        "shift": "18:00-22:00",
        "skills": ["police"],
        **extra,
    }


# ----------------------------------------------------------------------------- teams file


def test_teams_file_over_the_cap_is_refused_with_a_plain_message():
    raw = {"team": [_team(f"T{k}") for k in range(MAX_TEAMS + 1)]}
    with pytest.raises(ValueError, match=f"at most {MAX_TEAMS}"):
        teams_from_dict(raw, date=DAY)
    assert len(teams_from_dict({"team": raw["team"][:MAX_TEAMS]}, date=DAY)) == MAX_TEAMS


@pytest.mark.parametrize("day", [-100000, -2, 8, 10**9, 1.5, "x", True])
def test_team_day_offset_outside_the_limits_is_refused(day):
    with pytest.raises(ValueError, match="day ="):
        teams_from_dict({"team": [_team("A", day=day)]}, date=DAY)


@pytest.mark.parametrize(
    ("day", "start"), [(-1, date(2024, 2, 29)), (0, DAY), (7, date(2024, 3, 8))]
)
def test_team_day_offset_inside_the_limits_moves_the_shift(day, start):
    (team,) = teams_from_dict({"team": [_team("A", day=day)]}, date=DAY)
    assert team.shift_start.date() == start


# ----------------------------------------------------------------------------- GPX tracks


def _gpx(points: list[tuple[str, str]]) -> bytes:
    pts = "".join(
        f'<trkpt lat="{lat}" lon="{lon}"><time>2024-03-01T18:{k:02d}:00Z</time></trkpt>'
        for k, (lat, lon) in enumerate(points)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        f"{pts}</trkseg></trk></gpx>"
    ).encode()


def test_gpx_points_at_impossible_positions_are_left_out_and_counted():
    from planning.tracking import read_tracks

    good = [("53.7440", "-0.3560"), ("53.7441", "-0.3561")]
    bad = [("95", "-0.356"), ("53.744", "500"), ("nan", "-0.356"), ("53.744", "inf")]
    fixes = read_tracks([("t.gpx", _gpx(good + bad))])
    assert len(fixes) == 2
    assert fixes["lat"].between(-90, 90).all() and fixes["lon"].between(-180, 180).all()
    assert fixes.attrs["rejected_fixes"] == 4
    assert any("4 point(s)" in w for w in fixes.attrs["warnings"])


def test_gpx_with_no_valid_position_is_refused_plainly():
    from planning.tracking import read_tracks

    with pytest.raises(ValueError, match="no track point with a valid position"):
        read_tracks([("t.gpx", _gpx([("95", "500"), ("nan", "nan")]))])


# ----------------------------------------------------------------------------- partner files


def _limited(**general):
    from geo.settings import load_settings

    base = load_settings()
    return replace(base, general={**base.general, **general})


def _xlsx(frame, *, sheets: int = 1) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for k in range(sheets):
            frame.to_excel(xw, sheet_name=f"S{k}", index=False)
    return buf.getvalue()


def _edited_workbook(part: str, edit: Callable[[bytes], bytes]) -> bytes:
    """A one-row workbook whose zip member ``part`` is rewritten by ``edit`` (all deflated)."""
    frame = pd.DataFrame(
        {"date": ["2024-01-05"], "category": ["asb"], "lat": [53.74], "lon": [-0.35]}
    )
    src = zipfile.ZipFile(io.BytesIO(_xlsx(frame)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                data = edit(data)
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _same_part_workbook(n_sheets: int) -> bytes:
    """A workbook whose sheets all point at the first sheet's part (as in the finding)."""

    def copy_sheets(data: bytes) -> bytes:
        text = data.decode()
        sheet = re.search(r"<sheet [^>]*/>", text).group(0)
        copies = "".join(
            sheet.replace('name="S0"', f'name="S{k}"').replace('sheetId="1"', f'sheetId="{k + 1}"')
            for k in range(n_sheets)
        )
        return text.replace(sheet, copies).encode()

    return _edited_workbook("xl/workbook.xml", copy_sheets)


def test_xlsx_reads_the_first_sheet_only():
    r = read_reports(_same_part_workbook(300), file_name="w.xlsx", source="council")
    assert len(r.reports) == 1
    assert any("299 other sheet(s) not opened" in n for n in r.notes)


def _padded_workbook(pad: int) -> bytes:
    """A one-row workbook whose sheet XML carries ``pad`` spaces: tiny packed, huge opened."""
    return _edited_workbook(
        "xl/worksheets/sheet1.xml",
        lambda data: data.replace(b"<sheetData>", b"<sheetData>" + b" " * pad),
    )


def test_xlsx_bomb_is_refused_before_parsing():
    data = _padded_workbook(20_000_000)
    assert len(data) < 100_000  # 20 MB of XML packed into a few kilobytes
    with pytest.raises(ReportFileError, match="packed far tighter"):
        read_reports(data, file_name="w.xlsx")
    with pytest.raises(ReportFileError, match="expands to"):
        read_reports(data, file_name="w.xlsx", settings=_limited(max_xlsx_uncompressed_mb=10))
    # The same sheet without the padding reads.
    assert len(read_reports(_padded_workbook(0), file_name="w.xlsx").reports) == 1


def test_xlsx_over_the_row_and_column_caps_is_refused():
    frame = pd.DataFrame(
        {"date": ["2024-01-05"] * 30, "category": "asb", "lat": 53.74, "lon": -0.35}
    )
    with pytest.raises(ReportFileError, match="more than 20 rows"):
        read_reports(_xlsx(frame), file_name="w.xlsx", settings=_limited(max_rows=20))
    wide = frame.assign(**{f"c{k}": "x" for k in range(10)})
    with pytest.raises(ReportFileError, match="14 columns, over the limit of 8"):
        read_reports(_xlsx(wide), file_name="w.xlsx", settings=_limited(max_columns=8))


def test_csv_with_too_many_columns_is_refused_before_parsing():
    header = "date,category,lat,lon," + ",".join(f"c{k}" for k in range(600))
    row = "2024-01-05,asb,53.74,-0.35," + ",".join("x" for _ in range(600))
    with pytest.raises(ReportFileError, match="604 columns, over the limit of 500"):
        read_reports(f"{header}\n{row}\n".encode(), file_name="wide.csv")


def test_csv_with_too_many_rows_is_refused():
    rows = "".join("2024-01-05,asb,53.74,-0.35\n" for _ in range(50))
    with pytest.raises(ReportFileError, match="more than 40 rows"):
        read_reports(
            ("date,category,lat,lon\n" + rows).encode(),
            file_name="a.csv",
            settings=_limited(max_rows=40),
        )


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_geojson_gives_a_plain_error(depth):
    doc = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
        '{"type": "Point", "coordinates": [-0.35, 53.74]}, "properties": {"x": '
        + "[" * depth
        + "]" * depth
        + "}}]}"
    )
    with pytest.raises(ReportFileError, match="nested more than"):
        read_reports(doc.encode(), file_name="deep.geojson")


def test_brackets_inside_geojson_text_do_not_count_as_nesting():
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-0.35, 53.74]},
        "properties": {"date": "2024-01-05", "category": "asb", "note": '[[[[\\"' * 40},
    }
    doc = json.dumps({"type": "FeatureCollection", "features": [feature]})
    r = read_reports(doc.encode(), file_name="ok.geojson", source="council")
    assert len(r.reports) == 1


# ----------------------------------------------------------------------------- purge means gone


class _Names:
    """A street network reduced to its names (every report off-network)."""

    def __init__(self, names):
        self.segments = pd.DataFrame({"name": names})

    def snap(self, lon, lat, *, max_distance_m=50.0):
        return np.full(len(lon), -1, dtype=np.int64), np.full(len(lon), np.inf)


def _import(store, rows: str, **kw):
    from geo.ingest import import_file

    text = "date,category,lat,lon,location\n" + rows
    return import_file(
        text.encode(),
        file_name="p.csv",
        store=store,
        network=_Names(["Hessle Road", "Anlaby Road"]),
        **kw,
    )


def test_purge_leaves_no_trace_in_the_sqlite_file_or_its_wal(tmp_path):
    import sqlalchemy as sa

    from geo.store import Store

    db = tmp_path / "gone.db"
    store = Store(f"sqlite:///{db}")
    _import(
        store,
        "2020-01-05,asb,53.744,-0.356,Hessle Road\n2020-01-06,asb,53.744,-0.356,Hessle Road\n",
    )
    _import(store, "2024-06-05,asb,53.744,-0.356,Anlaby Road\n")
    # The app holds its own connection to the same file all the while.
    app = sa.create_engine(f"sqlite:///{db}")
    with app.connect() as held:
        assert held.exec_driver_sql("SELECT count(*) FROM reports").scalar() == 3
        held.commit()
        out = store.purge(older_than_months=13, now=datetime(2024, 12, 1))
        assert out["purged"] == 2 and out["scrubbed"] is True
        blob = b"".join(p.read_bytes() for p in tmp_path.glob("gone.db*"))
        assert b"Anlaby Road" in blob
        assert b"Hessle Road" not in blob
    app.dispose()
    store.dispose()


def test_rejects_live_under_the_data_folder_owner_only_and_go_with_their_import(tmp_path, store):
    from geo.ingest import delete_import

    summary = _import(
        store, "2024-06-05,asb,53.744,-0.356,Anlaby Road\n2024-06-05,asb,north,-0.356,x\n"
    )
    path = Path(summary.rejects_file)
    assert path.parent == tmp_path / "rejects"  # BEATPLAN_DATA is tmp_path in the tests
    assert path.name == f"{summary.batch_id}-rejected.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = delete_import(store, summary.batch_id, actor="tester")
    assert out["reports"] == 1 and out["rejects_files"] == 1
    assert not path.exists() and store.count_reports() == 0
    assert store.batches().empty
    assert store.audit_log()["action"].iloc[-1] == "delete"
    with pytest.raises(ValueError, match="No import has batch id"):
        store.delete_batch(summary.batch_id)


def test_purge_deletes_rejects_files_of_old_imports(tmp_path, store):
    summary = _import(store, "2024-06-05,asb,north,-0.356,x\n")
    path = Path(summary.rejects_file)
    assert path.is_file()
    out = store.purge(older_than_months=1, now=datetime.now() + timedelta(days=90))
    assert out["rejects_files"] == 1 and not path.exists()


# ----------------------------------------------------------------------------- street networks


def _street_file(path: Path, lines) -> Path:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": f"Road {i}", "highway": "residential"},
                "geometry": {"type": "LineString", "coordinates": c},
            }
            for i, c in enumerate(lines)
        ],
    }
    path.write_text(json.dumps(fc))
    return path


GOOD_LINES = [[[-0.356, 53.744], [-0.350, 53.744]], [[-0.350, 53.744], [-0.350, 53.748]]]


def test_a_street_file_with_a_tiny_segment_never_breaks_later_imports(tmp_path, store):
    from geo.ingest import import_file
    from geo.streets import StreetNetwork
    from geo.workspace import current_network, install_network

    tiny = [*GOOD_LINES, [[-0.350, 53.748], [-0.3499975, 53.748]]]  # 0.17 m long
    net = StreetNetwork.from_file(_street_file(tmp_path / "s.geojson", tiny))
    out = install_network(net, store, data_dir=tmp_path)
    assert any("shorter than" in n for n in out["notes"])
    loaded = current_network(tmp_path)
    assert (loaded.segments["length_m"] >= 0.5).all()
    summary = import_file(
        b"date,category,lat,lon\n2024-01-05,asb,53.744,-0.353\n",
        file_name="a.csv",
        store=store,
        network=loaded,
    )
    assert summary.accepted == 1 and summary.snapped == 1


def test_a_street_network_that_cannot_snap_is_not_installed(tmp_path, store, monkeypatch):
    from geo.streets import StreetNetwork
    from geo.workspace import install_network, network_path

    good = StreetNetwork.from_file(_street_file(tmp_path / "good.geojson", GOOD_LINES))
    install_network(good, store, data_dir=tmp_path)
    before = network_path(tmp_path).read_bytes()
    bad = StreetNetwork.from_file(_street_file(tmp_path / "bad.geojson", GOOD_LINES))

    def broken(*_a, **_k):
        raise RuntimeError("GEOS says no")

    monkeypatch.setattr(bad, "snap", broken)
    with pytest.raises(ValueError, match="current network was kept"):
        install_network(bad, store, data_dir=tmp_path)
    assert network_path(tmp_path).read_bytes() == before


def test_network_installs_are_audited_without_the_file_name(tmp_path, store):
    from geo.streets import StreetNetwork
    from geo.workspace import install_network

    net = StreetNetwork.from_file(_street_file(tmp_path / "g.geojson", GOOD_LINES))
    install_network(net, store, data_dir=tmp_path, what="Gemma Collins 07700900123.geojson")
    what = store.audit_log()["what"].iloc[-1]
    assert what.startswith("file-") and what.endswith(".geojson") and "Gemma" not in what
