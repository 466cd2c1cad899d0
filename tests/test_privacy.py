"""Tests of personal-data detection, scrubbing, suppression and spreadsheet neutralisation."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.ingest import import_file
from geo.privacy import (
    contains_personal,
    detect_personal_columns,
    format_count,
    neutralise_cells,
    personal_column_reason,
    street_hint,
    suppress_counts,
)


@pytest.mark.parametrize(
    "name",
    [
        "Name",
        "Client name",
        "Surname",
        "DOB",
        "Date of birth",
        "Mobile",
        "Phone number",
        "E-mail",
        "Email address",
        "Home address",
        "Postcode",
        "Vehicle reg",
        "VRM",
        "Notes",
        "Description",
        "Free text",
        "Photo",
        "Comments",
    ],
)
def test_personal_column_names(name):
    assert personal_column_reason(name) is not None


@pytest.mark.parametrize(
    "name",
    [
        "LSOA name",
        "Street name",
        "Location",
        "Crime type",
        "Latitude",
        "Month",
        "Reported by",
        "Category",
        "Source",
        "Crime ID",
        "Falls within",
        "Last outcome category",
    ],
)
def test_safe_column_names(name):
    assert personal_column_reason(name) is None


def test_content_patterns_drop_innocently_named_columns():
    frame = pd.DataFrame(
        {
            "col_a": ["call 07700 900123", "", "x"],
            "col_b": ["someone@example.org", "y", ""],
            "col_c": ["seen in AB12 CDE", "", ""],
            "col_d": ["HU1 2AA", "", ""],
            "col_e": ["fine", "also fine", "ok"],
            "col_f": [
                "she said she was waiting for a friend near the corner shop",
                "a long free text narrative about the people who were there that night",
                "another long note describing someone in detail near the park gates",
            ],
        }
    )
    dropped = {d.column: d.reason for d in detect_personal_columns(frame)}
    assert dropped == {
        "col_a": "it contains phone numbers",
        "col_b": "it contains e-mail addresses",
        "col_c": "it contains vehicle registrations",
        "col_d": "it contains full postcodes",
        "col_f": "it holds free-text notes",
    }


def test_street_hint_strips_house_numbers_and_personal_data():
    s = street_hint(
        pd.Series(
            [
                "On or near Anlaby Road",
                "12 Spring Bank",
                "Flat 3, 4 Beverley Road",
                "HU3 2AA",
                "call 07700 900123",
                "",
            ]
        )
    )
    assert s.iloc[0] == "Anlaby Road"
    assert s.iloc[1] == "Spring Bank"
    assert s.iloc[2] == "Beverley Road"
    assert s.iloc[3:].isna().all()


def test_contains_personal_is_per_cell():
    flags = contains_personal(pd.Series(["asb", "AB12 CDE", None, "x@y.com"]))
    assert list(flags) == [False, True, False, True]


def test_suppression_and_format():
    assert list(suppress_counts([0, 3, 9, 10, 25])) == [False, True, True, False, False]
    assert format_count(3) == "fewer than 10"
    assert format_count(0) == "0"
    assert format_count(1234) == "1,234"


def test_neutralise_cells():
    frame = pd.DataFrame(
        {
            "a": ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM", "\tx", "\rx", "ok", "-1.47"],
            "n": [-1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = neutralise_cells(frame)
    assert list(out["a"]) == [
        "'=HYPERLINK(1)",
        "'+1+1",
        "'-2+3",
        "'@SUM",
        "'\tx",
        "'\rx",
        "ok",
        "-1.47",
    ]
    assert list(out["n"]) == list(frame["n"])


@given(st.text(min_size=1, max_size=20))
def test_neutralised_cells_never_start_with_a_trigger(text):
    out = neutralise_cells(pd.DataFrame({"a": [text]}))["a"].iloc[0]
    plain_number = pd.Series([text]).str.fullmatch(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?").iloc[0]
    assert plain_number or not out.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_dropped_values_appear_nowhere_in_the_database(tmp_path, store):
    secrets = [
        "Jane Roe",
        "07700 900123",
        "jane.roe@example.org",
        "AB12 CDE",
        "HU3 2AA",
        "12/03/1990",
        "she was crying and said her name",
    ]
    text = (
        "date,time,category,lat,lon,client name,mobile,contact,vehicle,home postcode,dob,notes,location\n"
        f"2024-01-05,21:00,welfare,53.744,-0.356,{secrets[0]},{secrets[1]},{secrets[2]},"
        f"{secrets[3]},{secrets[4]},{secrets[5]},{secrets[6]},12 Anlaby Road\n"
        f"2024-01-06,22:00,propositioning,53.745,-0.357,John Doe,07700 900456,j@example.org,"
        f"CD34 EFG,HU3 2AB,01/01/1980,another long narrative text about a person,Anlaby Road\n"
    )
    summary = import_file(
        text.encode(),
        file_name="outreach.csv",
        store=store,
        source="outreach",
        rejects_dir=tmp_path,
    )
    assert summary.accepted == 2
    dropped = {d.column for d in summary.dropped_columns}
    assert {
        "client name",
        "mobile",
        "contact",
        "vehicle",
        "home postcode",
        "dob",
        "notes",
    } <= dropped
    store.dispose()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
    assert blob  # the database file exists and was read
    for secret in [*secrets, "John Doe", "07700 900456", "CD34 EFG", "01/01/1980"]:
        assert secret.encode() not in blob, secret
        assert secret.encode("utf-16-le") not in blob, secret
    assert b"Anlaby Road" in blob  # the street hint is kept, the house number is not
    assert b"12 Anlaby Road" not in blob
