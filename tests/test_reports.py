"""Tests of the partner-file readers: formats, encodings, dates, coordinates, rejections."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from geo.errors import ReportFileError
from geo.reports import auto_map_columns, decode_text, is_police_uk, parse_dates, read_reports
from tests.conftest import HULL_BBOX

HEADER = "date,time,category,lat,lon,source\n"


def read_text(text: str, *, encoding: str = "utf-8", name: str = "partner.csv", **kw):
    return read_reports(text.encode(encoding), file_name=name, **kw)


def accounted(result) -> bool:
    return (
        len(result.reports) + result.duplicates_in_file + len(result.rejected) == result.rows_read
    )


# ----------------------------------------------------------------------------- formats


def test_generic_csv_maps_synonyms_and_reads_values():
    text = (
        "Incident Date,Time,Incident Type,Latitude,Longitude,Partner\n"
        "05/01/2024,21:30,Propositioning,53.7440,-0.3560,Outreach\n"
        "31/01/2024,07:05,Discarded needles,53.7450,-0.3570,Council\n"
    )
    r = read_text(text)
    assert r.mapping["datetime"] == "Incident Date"
    assert r.mapping["category"] == "Incident Type"
    assert r.mapping["lat"] == "Latitude" and r.mapping["lon"] == "Longitude"
    assert list(r.reports["category"]) == ["propositioning", "needles"]
    assert list(r.reports["source"]) == ["outreach", "council"]
    assert list(r.reports["occurred_at"]) == [
        pd.Timestamp("2024-01-05 21:30"),
        pd.Timestamp("2024-01-31 07:05"),
    ]
    assert r.reports["time_known"].all()
    assert r.reports["lat"].iloc[0] == pytest.approx(53.744)
    assert r.rejected.empty and accounted(r)


def test_mapping_override_wins_over_synonyms():
    text = "when,issue,what,y,x\n2024-03-01 22:00,Welfare,ignored,53.74,-0.35\n"
    r = read_text(text, mapping={"category": "issue"}, source="outreach")
    assert r.mapping["category"] == "issue"
    assert r.reports["category"].iloc[0] == "welfare_concern"
    assert r.reports["source"].iloc[0] == "outreach"


def test_mapping_to_a_missing_column_is_a_clear_error():
    with pytest.raises(ReportFileError, match="no such column"):
        read_text(HEADER + "2024-01-01,10:00,asb,53.7,-0.3,police\n", mapping={"category": "Nope"})


def test_xlsx_reader(tmp_path):
    frame = pd.DataFrame(
        {
            "Date": [pd.Timestamp("2024-02-03 23:15"), pd.Timestamp("2024-02-04 01:40")],
            "Type": ["Condoms", "Sex in public"],
            "Lat": [53.741, 53.742],
            "Long": [-0.351, -0.352],
        }
    )
    path = tmp_path / "finds.xlsx"
    frame.to_excel(path, index=False)
    r = read_reports(path, source="council")
    assert r.format == "xlsx"
    assert list(r.reports["category"]) == ["condoms", "sex_in_public"]
    assert r.reports["occurred_at"].iloc[1] == pd.Timestamp("2024-02-04 01:40")
    assert (r.reports["source"] == "council").all()


def test_geojson_points_and_non_points():
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-0.35, 53.74]},
                "properties": {"date": "2024-01-02T20:00:00", "category": "propositioning"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": {"date": "2024-01-02T20:00:00", "category": "asb"},
            },
            {
                "type": "Feature",
                "geometry": None,
                "properties": {"date": "2024-01-02T20:00:00", "category": "asb"},
            },
        ],
    }
    r = read_reports(json.dumps(doc).encode(), file_name="reports.geojson", source="public")
    assert r.format == "geojson"
    assert len(r.reports) == 1 and r.reports["lon"].iloc[0] == pytest.approx(-0.35)
    assert sorted(r.rejected["reason"]) == ["feature has no geometry", "feature is not a point"]
    assert accounted(r)


def test_police_uk_is_detected_and_mapped(police_2022, settings):
    r = read_reports(police_2022, settings=settings)
    assert r.format == "police.uk"
    assert r.rows_read == 8001 and accounted(r)
    rep = r.reports
    assert not rep["time_known"].any()
    assert (rep["occurred_at"] == pd.Timestamp("2022-01-01")).all()
    counts = rep["category"].value_counts()
    assert counts["asb"] == 930 and counts["drugs"] == 106 and counts["public_order"] == 807
    assert "violence_and_sexual_offences" in counts.index  # foreign types keep their own slug
    assert not rep["location_hint"].str.startswith("On or near").any()
    assert rep["lsoa_code"].str.match(r"^[EW]0\d{7}$").all()
    assert (rep["source"] == "police").all()
    assert rep["report_id"].is_unique


def test_police_uk_identical_asb_rows_are_kept_as_distinct_incidents(police_2022):
    raw = pd.read_csv(police_2022, dtype=str, keep_default_na=False)
    asb = raw[raw["Crime type"] == "Anti-social behaviour"]
    dup_groups = asb.duplicated(
        subset=["Longitude", "Latitude", "Location", "LSOA code"], keep=False
    )
    assert dup_groups.sum() > 0  # the real file has identical ASB rows
    r = read_reports(police_2022)
    assert (r.reports["category"] == "asb").sum() == len(asb)


def test_police_uk_reused_crime_ids_at_different_places_are_all_kept(police_2024):
    raw = pd.read_csv(police_2024, dtype=str, keep_default_na=False)
    reused = raw[(raw["Crime ID"] != "") & raw["Crime ID"].duplicated(keep=False)]
    assert reused["Location"].nunique() > 1  # the real file reuses IDs across places
    r = read_reports(police_2024)
    assert len(r.reports) == len(raw) == 7718 and r.duplicates_in_file == 0
    again = read_reports(police_2024)
    assert set(again.reports["report_id"]) == set(r.reports["report_id"])


def test_police_uk_area_rejects_rows_outside(police_2022, settings):
    r = read_reports(police_2022, settings=settings.with_area(HULL_BBOX))
    raw = pd.read_csv(police_2022)
    w, s, e, n = HULL_BBOX
    inside = raw["Longitude"].between(w, e) & raw["Latitude"].between(s, n)
    assert len(r.reports) == int(inside.sum())
    assert len(r.rejected) == int((~inside).sum())
    assert set(r.rejected["reason"]) == {"outside the configured area"}


# ----------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16"])
def test_encodings(encoding):
    text = HEADER + "2024-01-05,21:00,Fly-tipping £50 fine,53.74,-0.35,council\n"
    text += "2024-01-05,21:00,Fly-tipping £50 fine,north,-0.35,council\n"
    r = read_text(text, encoding=encoding)
    assert r.reports["category"].iloc[0] == "other"  # not in the taxonomy
    assert r.rejected["category"].iloc[0] == "Fly-tipping £50 fine"  # decoded as written
    assert r.mapping["datetime"] == "date"  # the BOM did not stick to the first header


def test_decode_text_reads_pound_sign_in_cp1252():
    text, enc = decode_text("£".encode("cp1252"))
    assert text == "£" and enc == "cp1252"


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiters(sep):
    text = (
        HEADER.replace(",", sep)
        + sep.join(["2024-01-05", "21:00", "asb", "53.74", "-0.35", "police"])
        + "\n"
    )
    r = read_text(text)
    assert len(r.reports) == 1 and r.reports["lat"].iloc[0] == pytest.approx(53.74)


def test_decimal_comma_with_semicolons():
    text = "date;category;lat;lon\n2024-01-05;asb;53,74;-0,35\n"
    r = read_text(text)
    assert r.reports["lon"].iloc[0] == pytest.approx(-0.35)


# ----------------------------------------------------------------------------- dates


def test_british_dates_are_day_first():
    r = read_text(HEADER + "03/04/2024,10:00,asb,53.74,-0.35,police\n")
    assert r.reports["occurred_at"].iloc[0] == pd.Timestamp("2024-04-03 10:00")


def test_iso_dates_with_offset_are_converted_to_london_time():
    r = read_text("datetime,category,lat,lon\n2024-07-01T20:00:00Z,asb,53.74,-0.35\n")
    assert r.reports["occurred_at"].iloc[0] == pd.Timestamp("2024-07-01 21:00")  # BST


def test_mixed_date_formats_are_refused_not_guessed():
    rows = "".join(f"2024-01-{d:02d},asb,53.74,-0.35\n" for d in range(1, 11))
    rows += "".join(f"{d:02d}/02/2024,asb,53.74,-0.35\n" for d in range(1, 11))
    with pytest.raises(ReportFileError, match="mixes formats"):
        read_text("date,category,lat,lon\n" + rows)


def test_us_dates_are_refused():
    rows = "".join(f"01/{d}/2024,asb,53.74,-0.35\n" for d in range(13, 31))
    with pytest.raises(ReportFileError, match="month/day/year"):
        read_text("date,category,lat,lon\n" + rows)


def test_date_only_gives_time_unknown_and_bad_dates_are_rejected():
    r = read_text(
        "date,category,lat,lon\n2024-01-05,asb,53.74,-0.35\nnot a date,asb,53.74,-0.35\n,asb,53.7,-0.3\n"
    )
    assert not r.reports["time_known"].iloc[0]
    assert sorted(r.rejected["reason"]) == ["date not readable", "no date"]


def test_parse_dates_separate_time_column():
    occ, known, reason = parse_dates(
        pd.Series(["05/01/2024", "06/01/2024"]), pd.Series(["23:45", "99:00"])
    )
    assert occ.iloc[0] == pd.Timestamp("2024-01-05 23:45") and known.iloc[0]
    assert reason.iloc[1] == "time of day not readable (use HH:MM)"


# ----------------------------------------------------------------------------- coordinates


def test_british_national_grid_is_converted():
    # Ordnance Survey's worked example (Caister water tower): OSGB36 E 651409.792, N 313177.448
    # is ETRS89/WGS84 52 39 28.8282 N, 1 42 57.7896 E.
    r = read_text("date,category,easting,northing\n2024-01-05,asb,651409.792,313177.448\n")
    assert r.reports["lat"].iloc[0] == pytest.approx(52 + 39 / 60 + 28.8282 / 3600, abs=2e-4)
    assert r.reports["lon"].iloc[0] == pytest.approx(1 + 42 / 60 + 57.7896 / 3600, abs=2e-4)
    assert any("British National Grid" in n for n in r.notes)


def test_bng_in_x_y_columns_is_detected():
    r = read_text("date,category,x,y\n2024-01-05,asb,510120,428830\n2024-01-06,asb,510200,428900\n")
    assert r.reports["lat"].between(53.7, 53.8).all()


def test_swapped_lat_lon_columns_are_corrected():
    rows = "".join(f"2024-01-{d:02d},asb,-0.35,53.7{d}\n" for d in range(1, 6))
    r = read_text("date,category,lat,lon\n" + rows)
    assert r.reports["lat"].between(53, 54).all() and r.reports["lon"].between(-1, 0).all()
    assert any("swapped" in n for n in r.notes)


def test_bad_coordinates_are_rejected_with_reasons():
    text = (
        "date,category,lat,lon\n"
        "2024-01-05,asb,0,0\n"
        "2024-01-05,asb,,-0.35\n"
        "2024-01-05,asb,north,-0.35\n"
        "2024-01-05,asb,95,200\n"
        "2024-01-05,asb,53.74,-0.35\n"
    )
    r = read_text(text)
    assert len(r.reports) == 1
    reasons = dict(zip(r.rejected["row"], r.rejected["reason"], strict=True))
    assert reasons == {
        2: "coordinates are (0, 0), a placeholder, not a place",
        3: "coordinates blank",
        4: "coordinates not numbers",
        5: "coordinates out of range",
    }


def test_blank_category_rejected():
    r = read_text("date,category,lat,lon\n2024-01-05,,53.74,-0.35\n")
    assert list(r.rejected["reason"]) == ["no category"]


# ----------------------------------------------------------------------------- whole-file errors


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"date,category,lat,lon\n", "no data rows"),
        (b"colour,size\nred,3\n", "No usable column"),
    ],
)
def test_bad_files_raise_plain_errors(data, match):
    with pytest.raises(ReportFileError, match=match):
        read_reports(data, file_name="bad.csv")


def test_ragged_rows_are_rejected_by_line_not_silently_cut():
    text = (
        "date,category,lat,lon\n2024-01-01,asb,53.74,-0.35\n2024-01-01,asb,53.74,-0.35,extra,cells\n"
        "2024-01-02,asb,53.75,-0.36\n"
    )
    r = read_text(text)
    assert len(r.reports) == 2 and accounted(r)
    assert list(r.rejected["row"]) == [3]
    assert list(r.rejected["reason"]) == ["row has 6 cells but the header has 4"]


def test_only_ragged_rows():
    r = read_text("date,category,lat,lon\n2024-01-01,asb,1,2,3,4,5\n")
    assert r.reports.empty and len(r.rejected) == 1 and accounted(r)


def test_size_limit(settings):
    from dataclasses import replace

    small = replace(settings, general={**settings.general, "max_upload_mb": 0.0001})
    with pytest.raises(ReportFileError, match="over the"):
        read_text(HEADER + "2024-01-05,21:00,asb,53.74,-0.35,police\n" * 20, settings=small)


def test_broken_xlsx_is_a_plain_error():
    with pytest.raises(ReportFileError, match="could not be opened"):
        read_reports(b"PK\x03\x04not really a zip", file_name="x.xlsx")


# ----------------------------------------------------------------------------- identity


def test_identical_rows_in_one_file_are_distinct_and_ids_are_stable():
    text = HEADER + "2024-01-05,21:00,asb,53.74,-0.35,police\n" * 3
    a = read_text(text)
    b = read_text(text)
    assert len(a.reports) == 3 and a.reports["report_id"].is_unique
    assert list(a.reports["report_id"]) == list(b.reports["report_id"])


def test_repeated_reference_in_one_file_is_a_duplicate():
    text = "ref,date,category,lat,lon\nA1,2024-01-05,asb,53.74,-0.35\nA1,2024-01-05,asb,53.74,-0.35\nA2,2024-01-05,asb,53.74,-0.35\n"
    r = read_text(text, source="council")
    assert len(r.reports) == 2 and r.duplicates_in_file == 1 and accounted(r)


def test_is_police_uk():
    assert is_police_uk(
        [
            "Crime ID",
            "Month",
            "Reported by",
            "Falls within",
            "Longitude",
            "Latitude",
            "Location",
            "LSOA code",
            "LSOA name",
            "Crime type",
            "Last outcome category",
            "Context",
        ]
    )
    assert not is_police_uk(["date", "category", "lat", "lon"])


def test_auto_map_does_not_use_a_column_twice():
    m = auto_map_columns(["x", "y", "easting", "northing", "date", "type"])
    assert len(set(m.values())) == len(m)


# ----------------------------------------------------------------------------- properties

cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(cell, cell, cell, cell), min_size=1, max_size=15))
def test_any_table_of_strings_imports_or_is_rejected_row_by_row(rows):
    frame = pd.DataFrame(rows, columns=["date", "category", "lat", "lon"])
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    try:
        r = read_reports(buf.getvalue().encode("utf-8"), file_name="fuzz.csv")
    except ReportFileError as exc:
        assert str(exc)  # the loader raises only its own error type, with a message
        return
    assert accounted(r)
    assert r.rejected["reason"].map(lambda s: isinstance(s, str) and len(s) > 0).all()
    assert r.reports["lon"].between(-180, 180).all() and r.reports["lat"].between(-90, 90).all()


@hsettings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-2, 1), st.floats(50, 56), st.integers(0, 23)), min_size=1, max_size=20
    )
)
def test_valid_rows_always_import(rows):
    lines = [
        f"2024-01-05,{h:02d}:00,asb,{lat:.6f},{lon:.6f}"
        for lon, lat, h in rows
        if not (round(lon, 6) == 0 and round(lat, 6) == 0)
    ]
    if not lines:
        return
    r = read_text("date,time,category,lat,lon\n" + "\n".join(lines) + "\n")
    assert len(r.reports) == len(lines)
    np.testing.assert_allclose(
        r.reports["occurred_at"].dt.hour, [int(x.split(",")[1][:2]) for x in lines]
    )


def test_impossible_british_dates_are_rejected_not_rolled_over():
    r = read_text(
        "date,category,lat,lon\n31/02/2024,asb,53.74,-0.35\n28/02/2024,asb,53.74,-0.35\n"
        "29/02/2024 23:59,asb,53.74,-0.35\n"
    )
    assert list(r.rejected["reason"]) == ["date not readable"]
    assert list(r.reports["occurred_at"]) == [
        pd.Timestamp("2024-02-28"),
        pd.Timestamp("2024-02-29 23:59"),
    ]


# ----------------------------------------------------------------------------- fast paths


def test_arrow_csv_reading_equals_the_pandas_reader():
    """Arrow's parser gives the same cells, names and row numbers as pandas' C parser."""
    from geo.reports_csv import _arrow_frame, _fast_frame

    text = (
        'Date,Type,"Lat",Lon,Notes\n'
        '05/01/2024,"Needles, sharps",53.744, -0.356 ,"two\nlines"\n'
        "\n"
        '06/01/2024,ASB,53.745,-0.357,"say ""hi"""\n'
        "07/01/2024,,NaN,NA,\r\n"
    )
    fast = _arrow_frame(text.encode(), text, ",")
    assert fast is not None
    slow = _fast_frame(text, ",")
    assert list(fast.columns) == list(slow.columns)
    for col in slow.columns:
        assert fast[col].tolist() == slow[col].tolist(), col
    assert fast["Notes"].dtype == "string"


@pytest.mark.parametrize(
    "text",
    [
        "a,b\n1,2\n   \n3,4\n",  # a blank line of spaces: pandas skips it
        "a,a\n1,2\n",  # repeated header: pandas renames the second
        "a,\n1,2\n",  # blank header name
        "a,b\n1\n",  # short row: pandas pads it
        "a,b\n1,2,\n",  # long row: rejected by line
    ],
)
def test_irregular_files_leave_the_arrow_reader_for_pandas(text):
    from geo.reports_csv import _arrow_frame

    assert _arrow_frame(text.encode(), text, ",") is None


def test_report_id_hashes_equal_pandas_hash_of_the_rows():
    """The per-column hashing gives pandas' row hashes exactly, so stored ids never change."""
    from geo.reports_ids import _HASH_KEYS, _row_hashes

    rng = np.random.default_rng(5)
    n = 3_000
    words = np.array(["", "a", "é", "Anlaby Road", "x\x00y", "🚀"], dtype=object)
    parts = pd.DataFrame(
        {
            "kind": "c",
            "t": rng.integers(-(10**15), 10**15, n),
            "cat": pd.Series(words[rng.integers(0, 6, n)], dtype="string[pyarrow]"),
            "hint": pd.Series(words[rng.integers(0, 6, n)], dtype="string").mask(
                rng.random(n) < 0.3
            ),
            "lon": rng.integers(-(10**9), 10**9, n),
            "ref": np.char.add("R", rng.integers(0, 10**6, n).astype(str)),
            "k": rng.integers(0, 2**63, n).astype("uint64"),
        }
    )
    plain = parts.copy()
    for col in ("kind", "cat", "hint", "ref"):
        plain[col] = plain[col].astype("string[pyarrow]").fillna("").astype(object)
    got = _row_hashes(parts)
    for key, hashed in zip(_HASH_KEYS, got, strict=True):
        want = pd.util.hash_pandas_object(plain, index=False, hash_key=key).to_numpy()
        assert (hashed == want).all()
