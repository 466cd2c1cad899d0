"""The problem-solving log: the personal-data filter, audited edits, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from geo.areas import create_area, delete_area
from geo.store import Store
from planning.problems import (
    PersonalDataError,
    add_problem,
    add_response,
    agencies,
    check_text,
    find_personal_text,
    get_problem,
    list_problems,
    update_problem,
    update_response,
)

FIRST = ["John", "Sarah", "Michael", "Emma", "Mohammed", "Leanne", "Gary", "Kirsty", "Wayne"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Patel", "Khan", "Hughes", "Walker"]
TEMPLATES = [
    "Speak to {} about the alley",
    "{} seen near the park gate",
    "Outreach to check on {} at the underpass",
    "Joint patrol on Hessle Road, ask {}",
]

names = st.builds(lambda f, s: f"{f} {s}", st.sampled_from(FIRST), st.sampled_from(SURNAMES))
titled = st.builds(
    lambda t, s: f"{t} {s}",
    st.sampled_from(["Mrs", "Mr", "mrs", "Ms", "Dr"]),
    st.sampled_from(SURNAMES),
)
digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
phones = st.builds(
    lambda d, sep, intl: ("+44 7" if intl else "07") + d[:3] + sep + d[3:],
    digits,
    st.sampled_from(["", " ", "-"]),
    st.booleans(),
)
letters = st.text(alphabet="ABCDEFGHJKLMNOPRSTUVWXY", min_size=5, max_size=5)
plates = st.builds(
    lambda a, d, sep, lower: (
        (a[:2] + d[:2] + sep + a[2:]).lower() if lower else a[:2] + d[:2] + sep + a[2:]
    ),
    letters,
    st.text(alphabet="0123456789", min_size=2, max_size=2),
    st.sampled_from(["", " "]),
    st.booleans(),
)
postcodes = st.builds(
    lambda area, n, m, tail: f"{area}{n} {m}{tail}",
    st.sampled_from(["HU", "HU", "LS", "M", "YO", "DN", "SW", "E"]),
    st.integers(1, 19),
    st.integers(0, 9),
    st.text(alphabet="ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TEMPLATES), st.one_of(names, titled, phones, plates, postcodes))
def test_filter_refuses_personal_data_and_never_echoes_it(template: str, item: str) -> None:
    text = template.format(item)
    assert find_personal_text(text) is not None
    with pytest.raises(PersonalDataError) as err:
        check_text(text, what="action")
    assert item not in str(err.value) and item.lower() not in str(err.value).lower()


STREETS = ["Hessle Road", "Anlaby Road", "Spring Bank", "Princes Avenue", "Beverley Road"]
STREETS += ["Freetown Way", "Queen Victoria Square", "Carr Lane", "Victoria Street West"]
ACTIONS = ["Joint patrol with outreach on", "Needle sweep of the alleys off", "Lighting check on"]
ACTIONS += ["Council cleansing to clear litter on", "Outreach van parked at", "CCTV review for"]
WHEN = ["", " evenings", " on Friday nights", " before the March meeting", " weekly"]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ACTIONS), st.sampled_from(STREETS), st.sampled_from(WHEN))
def test_filter_accepts_ordinary_actions(action: str, street: str, when: str) -> None:
    text = f"{action} {street}{when}"
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Joint patrol with outreach on Hessle Road evenings", None),
        ("Needle bin at the alley behind the park", None),
        ("Hull City Council to clear Princes Quay", None),
        ("Visit 12 Park Street about the bins", "an address with a house number"),
        ("Call worker.name@example.org", "e-mail addresses"),
        ("Referral 943 476 5919 to health", "NHS numbers"),
        ("Client born 03/04/1990", "dates of birth or ages"),
        ("Ask Sarah at the drop-in", "a person's name"),
        ("Sarah Street bins emptied", None),
    ],
)
def test_filter_examples(text: str, kind: str | None) -> None:
    assert find_personal_text(text) == kind


def test_text_limits_and_control_characters() -> None:
    with pytest.raises(ValueError, match="keep it to 200"):
        check_text("patrol " * 40)
    with pytest.raises(ValueError, match="control characters"):
        check_text("patrol\x1b[31m red")
    assert check_text("  two   spaces\n") == "two spaces"


@pytest.fixture
def area(store: Store):
    return create_area(store, "Test area", bbox=(-0.43, 53.71, -0.24, 53.82))


def test_log_round_trip_audited_without_text(store: Store, area) -> None:
    known = {"H-AAAA", "H-BBBB", "H-CCCC"}
    title = "Needles in the alleys off Hessle Road"
    p = add_problem(
        store, area_id=area.area_id, title=title, hotspot_ids=["H-AAAA", "H-BBBB"],
        known_hotspots=known, scanning="Needle finds up since January", actor="sup@example.org",
    )  # fmt: skip
    action = "Needle sweep of the alleys off Hessle Road weekly"
    r = add_response(
        store, p.problem_id, agency="council_cleansing", action=action, due="2024-04-01"
    )
    assert r.status == "open" and r.due.isoformat() == "2024-04-01"
    assert get_problem(store, p.problem_id).began is None  # nothing started yet
    update_response(store, r.response_id, status="done", started="2024-03-04", role="partner")
    p = update_problem(store, p.problem_id, hotspot_ids=["H-CCCC"], known_hotspots=known)
    (got,) = list_problems(store, area_id=area.area_id)
    assert got.hotspot_ids == ("H-CCCC",) and got.title == title
    assert got.began.isoformat() == "2024-03-04"
    assert [x.status for x in got.responses] == ["done"]
    assert list_problems(store, area_id=area.area_id, status="open") == []
    log = store.audit_log()
    mine = log[log["action"] == "problem"]
    assert len(mine) == 4
    assert not mine["what"].str.contains("Hessle|Needle|sweep", case=False).any()


def test_log_refuses_bad_input_plainly(store: Store, area) -> None:
    known = {"H-AAAA"}
    refused = (
        ("Needles", "H-ZZZZ", ValueError, "not hotspots of this area"),
        ("John Smith", "H-AAAA", PersonalDataError, "a person's name"),
    )
    for title, hotspot, error, reason in refused:
        with pytest.raises(error, match=reason):
            add_problem(
                store,
                area_id=area.area_id,
                title=title,
                hotspot_ids=[hotspot],
                known_hotspots=known,
            )
    p = add_problem(
        store, area_id=area.area_id, title="Needles", hotspot_ids=["H-AAAA"], known_hotspots=known
    )
    with pytest.raises(ValueError, match="agency must be one of"):
        add_response(store, p.problem_id, agency="PC Jones", action="Patrol")
    with pytest.raises(PermissionError, match="supervisors and partners"):
        add_response(store, p.problem_id, agency="police", action="Patrol", role="viewer")
    with pytest.raises(ValueError, match="No such problem"):
        add_response(store, "P-NOPE00", agency="police", action="Patrol")
    assert "outreach" in agencies() and "police" in agencies()
    assert list(store.audit_log()["action"]).count("problem") == 1  # only the one made


def test_deleting_the_area_removes_its_log(store: Store, area) -> None:
    p = add_problem(store, area_id=area.area_id, title="Needles", hotspot_ids=["H-AAAA"])
    add_response(store, p.problem_id, agency="police", action="Patrol on Hessle Road")
    other = create_area(store, "Other", bbox=(-1.6, 53.7, -1.5, 53.8), make_current=False)
    q = add_problem(store, area_id=other.area_id, title="Litter", hotspot_ids=["H-BBBB"])
    delete_area(store, area)
    assert list_problems(store, area_id=area.area_id) == []
    assert [x.problem_id for x in list_problems(store, area_id=other.area_id)] == [q.problem_id]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if out.strip() else {}), err


def test_cli_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "cli.db")]
    assert _run(capsys, *db, "area", "create", "Box", "--bbox=-0.43,53.71,-0.24,53.82")[0] == 0
    # no reports yet: a hotspot id is not a hotspot of this area
    code, _, err = _run(
        capsys, *db, "problems", "add", "--title", "Needles", "--hotspots", "H-AAAA"
    )
    assert code == 2 and err.count("\n") == 1 and "not hotspots of this area" in err
    store = Store(f"sqlite:///{tmp_path / 'cli.db'}")
    from geo.areas import get_area

    box = get_area(store, "Box")
    p = add_problem(store, area_id=box.area_id, title="Needles", hotspot_ids=["H-AAAA"])
    code, out, err = _run(
        capsys, *db, "problems", "add", "--problem", p.problem_id, "--agency", "outreach",
        "--action-text", "Joint patrol with outreach on Hessle Road evenings", "--due", "2024-04-01",
    )  # fmt: skip
    assert code == 0, err
    rid = out["response_id"]
    assert out["problem"]["responses"][0]["agency"] == "outreach"
    code, _, err = _run(
        capsys, *db, "problems", "add", "--problem", p.problem_id, "--agency", "police",
        "--action-text", "Speak to John Smith, 07700 900123",
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert "John" not in err and "07700" not in err
    code, out, err = _run(
        capsys, *db, "problems", "update", "--response", str(rid), "--status", "done",
        "--started", "2024-03-04",
    )  # fmt: skip
    assert code == 0, err
    assert out["problem"]["began"] == "2024-03-04"
    code, out, _ = _run(capsys, *db, "problems", "list")
    assert code == 0 and [x["problem_id"] for x in out["problems"]] == [p.problem_id]
    assert out["problems"][0]["responses"][0]["status"] == "done"
    code, _, err = _run(capsys, *db, "problems", "update", "--response", "999", "--status", "done")
    assert code == 2 and "No such response" in err
    store.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_filter_never_crashes_and_refusals_name_a_kind(text: str) -> None:
    try:
        check_text(text)
    except PersonalDataError as exc:
        assert "looks like it holds" in str(exc)
    except ValueError as exc:
        assert "control characters" in str(exc)
