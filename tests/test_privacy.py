"""Tests of personal-data detection, scrubbing, suppression and spreadsheet neutralisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from geo.errors import ReportFileError
from geo.ingest import import_file
from geo.privacy import (
    contains_personal,
    detect_personal_columns,
    find_personal_content,
    format_count,
    neutralise_cells,
    nhs_number_valid,
    personal_column_reason,
    safe_csv,
    street_hint,
    suppress_counts,
)
from geo.reports import read_reports
from geo.reports_vocab import vet_hints


class StreetNames:
    """A street network reduced to its names: every report is off-network."""

    def __init__(self, names: list[str]) -> None:
        self.segments = pd.DataFrame({"name": names})

    def snap(self, lon, lat, *, max_distance_m=50.0):
        n = len(lon)
        return np.full(n, -1, dtype=np.int64), np.full(n, np.inf)


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
        network=StreetNames(["Anlaby Road"]),
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


# ----------------------------------------------------------------------------- content filter


def _cased(draw, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(text, flips, strict=True))


_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"
_SEPS = st.sampled_from(["", " ", "_"])
_PAD = st.sampled_from(["", "seen ", "welfare_", "at ", "x: "])


@st.composite
def postcodes(draw):
    area = draw(st.text(_LETTERS, min_size=1, max_size=2))
    district = str(draw(st.integers(1, 99)))
    inward = str(draw(st.integers(0, 9))) + draw(
        st.text("ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2)
    )
    return draw(_PAD) + _cased(draw, area + district + draw(_SEPS) + inward)


@st.composite
def plates(draw):
    mark = (
        draw(st.text(_LETTERS, min_size=2, max_size=2))
        + f"{draw(st.integers(10, 99))}"
        + draw(_SEPS)
        + draw(st.text(_LETTERS, min_size=3, max_size=3))
    )
    return draw(_PAD) + _cased(draw, mark)


@st.composite
def ni_numbers(draw):
    first = draw(st.sampled_from("ACEHJKLMPRSW"))
    second = draw(st.sampled_from("ACEHJLMPRSW"))
    pairs = [f"{draw(st.integers(0, 99)):02d}" for _ in range(3)]
    sep = draw(st.sampled_from(["", " "]))
    body = first + second + sep + sep.join(pairs) + sep + draw(st.sampled_from("ABCD"))
    return draw(_PAD) + _cased(draw, body)


def _nhs_check(nine: list[int]) -> int:
    check = 11 - sum(d * w for d, w in zip(nine, range(10, 1, -1), strict=True)) % 11
    return 0 if check == 11 else check


@st.composite
def nhs_numbers(draw, *, valid: bool = True):
    nine = draw(st.lists(st.integers(0, 9), min_size=9, max_size=9).filter(lambda d: d[0] != 0))
    check = _nhs_check(nine)
    if valid:
        assume(check != 10)
        last = check
    else:
        last = draw(st.integers(0, 9).filter(lambda d: d != check))
    digits = "".join(map(str, nine)) + str(last)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return draw(_PAD) + f"{digits[:3]}{sep}{digits[3:6]}{sep}{digits[6:]}"


@st.composite
def dates_of_birth(draw):
    day, month, year = (
        draw(st.integers(1, 28)),
        draw(st.integers(1, 12)),
        draw(st.integers(1940, 2015)),
    )
    key = draw(
        st.sampled_from(["dob", "DOB:", "d.o.b.", "date of birth", "born", "Born on", "dob_"])
    )
    sep = draw(st.sampled_from(["/", "-", ".", "_", " "]))
    date = draw(
        st.sampled_from(
            [
                f"{day:02d}{sep}{month:02d}{sep}{year}",
                f"{day}{sep}{month}{sep}{year % 100:02d}",
                f"{year}-{month:02d}-{day:02d}",
                f"{day} {['Jan', 'March', 'apr', 'December'][month % 4]} {year}",
            ]
        )
    )
    gap = draw(st.sampled_from([" ", "_", ""]))
    return draw(_PAD) + key + gap + date


@st.composite
def spaced_phones(draw):
    digits = "07" + "".join(
        str(d) for d in draw(st.lists(st.integers(0, 9), min_size=9, max_size=9))
    )
    seps = draw(st.lists(st.sampled_from(["", " ", "  ", "-", ") "]), min_size=10, max_size=10))
    spaced = digits[0] + "".join(s + d for s, d in zip(seps, digits[1:], strict=True))
    return draw(_PAD) + spaced


@pytest.mark.parametrize(
    "strategy",
    [postcodes(), plates(), ni_numbers(), nhs_numbers(), dates_of_birth(), spaced_phones()],
)
def test_content_filter_finds_personal_data_in_any_case_and_spacing(strategy):
    @given(strategy)
    @hsettings(max_examples=150, deadline=None)
    def check(text):
        assert contains_personal(pd.Series([text])).iloc[0], text

    check()


@given(nhs_numbers(valid=False))
@hsettings(max_examples=100, deadline=None)
def test_ten_digits_with_a_wrong_check_digit_are_not_an_nhs_number(text):
    digits = "".join(c for c in text if c.isdigit())
    assert not nhs_number_valid(digits)
    assert not contains_personal(pd.Series([text])).iloc[0]


def test_nhs_check_digit_and_column_rule():
    assert nhs_number_valid("943 476 5919") and not nhs_number_valid("943 476 5918")
    refs = pd.Series([f"{1000000000 + 7919 * k}" for k in range(200)])
    assert find_personal_content(refs) is None  # random 10-digit references, ~1 in 11 pass
    assert find_personal_content(pd.Series(["943 476 5919", "401 023 2137"])) == "NHS numbers"


@pytest.mark.parametrize(
    "text",
    [
        "asb",
        "welfare_concern",
        "Violence and sexual offences",
        "Anlaby Road",
        "On or near Supermarket",
        "A63 Castle Street",
        "2024-01-05 21:30",
        "05/01/2024",
        "-0.3560000000",
        "53.7446123456",
        "outreach",
        "Page 3",
    ],
)
def test_content_filter_leaves_vocabulary_dates_and_coordinates_alone(text):
    assert not contains_personal(pd.Series([text])).iloc[0]


def test_safe_csv_quotes_every_line_break_and_neutralises_formulas():
    import csv
    import io

    frame = pd.DataFrame(
        {"a": ["x\r=1+1", "y\n@SUM(A1)", "\r=2", "=3", "ok"], "n": [1, 2, 3, 4, 5]}
    )
    raw = safe_csv(frame)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 6  # no line break split a row (a bare \r used to, unquoted)
    assert [r[0] for r in rows[1:]] == ["x\r=1+1", "y\n@SUM(A1)", "'\r=2", "'=3", "ok"]


# ----------------------------------------------------------------------------- only vocabulary stored

GEMMA_FILE = "Gemma Collins 07700 900123 gemma.c@example.org HU3 2AA.csv"


def test_free_text_fields_store_only_vocabulary(tmp_path, store):
    text = (
        "date,time,category,lat,lon,reported by,location\n"
        "2024-01-05,21:00,welfare_gemma_collins_aged_19_dob_03_04_2007,53.744,-0.356,"
        "Gemma Collins,Rear of 22 Hessle Road above Gemma's mum's shop\n"
        "2024-01-06,22:00,Welfare,53.745,-0.357,Humberside Police,12 Hessle Road\n"
        "2024-01-07,22:00,needles,north,-0.357,Outreach,Hessle Road\n"
    )
    summary = import_file(
        text.encode(),
        file_name=GEMMA_FILE,
        store=store,
        network=StreetNames(["Hessle Road", "Anlaby Road"]),
    )
    assert (summary.accepted, summary.rejected) == (2, 1)
    rep = store.reports().sort_values("occurred_at")
    assert list(rep["category"]) == ["other", "welfare_concern"]
    assert list(rep["source"]) == ["other", "police"]
    assert rep["location_hint"].iloc[0] is pd.NA or pd.isna(rep["location_hint"].iloc[0])
    assert rep["location_hint"].iloc[1] == "Hessle Road"
    assert (summary.other_categories, summary.other_sources, summary.dropped_hints) == (1, 1, 1)
    assert any("stored as 'other'" in n for n in summary.notes)
    assert any("location hint" in n for n in summary.notes)
    (stored_name,) = store.batches()["file_name"]
    assert stored_name.startswith("file-") and stored_name.endswith(".csv")
    assert "Gemma" not in " ".join(store.audit_log()["what"])
    assert "Gemma" not in Path(summary.rejects_file).name
    store.dispose()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*")).lower()
    for secret in ("gemma", "07700", "example.org", "hu3 2aa", "rear of", "2007"):
        assert secret.encode() not in blob, secret


def test_given_source_outside_the_list_is_stored_as_other(store):
    text = "date,category,lat,lon\n2024-01-05,asb,53.744,-0.356\n"
    summary = import_file(text.encode(), file_name="a.csv", store=store, source="Gemma Collins")
    assert summary.source == "other"
    assert list(store.reports()["source"]) == ["other"]
    assert list(store.batches()["source"]) == ["other"]


@pytest.mark.parametrize(
    ("column", "values"),
    [("Witness", ["Gemma Collins", "John Smith"]), ("Agency", ["call 07700 900123", "x"])],
)
def test_explicit_mapping_cannot_map_a_personal_column(column, values):
    frame = pd.DataFrame(
        {"date": ["2024-01-05", "2024-01-06"], "category": ["asb", "asb"], column: values}
    )
    frame["lat"], frame["lon"] = "53.744", "-0.356"
    with pytest.raises(ReportFileError, match="personal data"):
        read_reports(frame.to_csv(index=False).encode(), mapping={"source": column})


def test_location_hints_without_a_network_keep_only_police_uk_places():
    hints, dropped = vet_hints(
        pd.Series(
            [
                "On or near Anlaby Road",
                "On or near Supermarket",
                "12 Anlaby Road",
                "On or near Gemma Collins House",
                "",
                None,
            ]
        )
    )
    assert list(hints[:2]) == ["Anlaby Road", "Supermarket"]
    assert hints[2:].isna().all()
    assert list(dropped) == [False, False, True, True, False, False]
