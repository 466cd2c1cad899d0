"""The partner-meeting pack: the demo area's pack renders, marked, with ids and actions, no person."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli import main
from geo.demo import build_demo
from geo.settings import load_settings
from geo.store import Store
from planning.impact_suppression import _feasible_range
from planning.meeting import safeguarding_table
from planning.problems import add_problem, add_response
from planning.tracking_store import log_patrol

PERSON = "Alice Marsh"  # a team member's name in a saved plan: must never reach the pack


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("meeting")
    url = f"sqlite:///{tmp / 'm.db'}"
    store = Store(url)
    out = build_demo(store, seed=7, data_dir=tmp)
    yield tmp, url, store, out["area_id"]
    store.dispose()


def _cli(args: list[str], capsys) -> dict:
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_demo_meeting_pack_renders_marked_with_ids_and_actions(demo, capsys, monkeypatch):
    tmp, url, store, area_id = demo
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp))
    base = ["--db", url]
    first = _cli([*base, "meeting", "--since", "2026-10-01", "--out", str(tmp / "a.html")], capsys)
    html = (tmp / "a.html").read_text(encoding="utf-8")
    ids = re.findall(r'<td class="id">(H-[0-9A-Z-]+)</td>', html)
    assert len(ids) == first["hotspots"] > 2
    problem = add_problem(
        store, area_id=area_id, title="Needles in the alleys", hotspot_ids=[ids[0]]
    )
    add_response(
        store,
        problem.problem_id,
        agency="council_cleansing",
        action="Weekly sharps sweep behind the shops",
        started="2026-10-05",
        area_id=area_id,
    )
    log_patrol(store, team="Foot patrol", date="2026-10-20", hotspot_id=ids[0], minutes=20)
    stop = {"hotspot_id": ids[1], "arrive": "2026-10-21T20:00:00", "leave": "2026-10-21T20:15:00"}
    plan = {"teams": [{"name": "Foot patrol", "members": [PERSON], "stops": [stop]}]}
    store.save_plan("2026-10-21", json.dumps(plan), area_id=area_id)

    line = _cli([*base, "meeting", "--since", "2026-10-01", "--out", str(tmp / "p.pdf")], capsys)
    assert line["problems"] == 1 and line["pages"] >= 2 and line["bytes"] > 10_000
    text = _pdftotext(tmp / "p.pdf")
    pages = text.split("\f")
    assert all("OFFICIAL-SENSITIVE" in p for p in pages if p.strip())
    assert len([p for p in pages if p.strip()]) == line["pages"]
    assert ids[0] in text and ids[1] in text and problem.problem_id in text
    assert "Weekly sharps sweep behind the shops" in text and "Council cleansing" in text
    assert PERSON not in text and PERSON not in (tmp / "a.html").read_text(encoding="utf-8")
    # safeguarding reports appear only in their own section
    before, _, after = text.partition("Safeguarding reports since the last meeting")
    assert after and "Welfare concern" not in before and "Welfare concern" in after
    events = store.audit_log()
    assert (events["action"] == "export").sum() >= 2
    assert events["what"].str.contains("meeting pack pdf").any()


def test_meeting_refuses_a_date_after_the_data(demo, capsys):
    _, url, _, _ = demo
    code = main(["--db", url, "meeting", "--since", "2030-01-01", "--out", "/tmp/x.pdf"])
    assert code == 2
    assert "--since" in capsys.readouterr().err


def test_small_safeguarding_counts_cannot_be_worked_out():
    settings = load_settings()
    cats = ["welfare_concern"] * 3 + ["welfare_concern"] * 25 + ["needles"] * 40
    at_hot = np.array([True] * 3 + [False] * 25 + [True] * 40)
    rows = safeguarding_table(pd.DataFrame({"category": cats}), at_hot, settings, threshold=10)
    cells = {r["label"]: r for r in rows}
    welfare = cells["Welfare concern"]
    assert welfare["hotspots"] == "fewer than 10"
    # its complement elsewhere is withheld too, so the published total does not give it away
    assert welfare["elsewhere"] == "not shown" and welfare["total"] == "28"
    shown = " ".join(v for r in rows for v in r.values())
    assert not re.search(r"\b3\b", shown.replace("fewer than 10", ""))
    # the impact LP agrees: with what is shown the hidden 3 ranges over at least two values
    values = {"h": 3, "e": 25, "t": 28, "H": 3, "E": 25, "T": 28}
    eqs = [[("h", 1), ("e", 1), ("t", -1)], [("H", 1), ("E", 1), ("T", -1)]]
    eqs += [[("h", 1), ("H", -1)], [("e", 1), ("E", -1)], [("t", 1), ("T", -1)]]
    bounds = {"h": (1.0, 9.0), "H": (1.0, 9.0), "e": (10.0, None), "E": (10.0, None)}
    lo, hi = _feasible_range("h", values, eqs, bounds)
    assert hi - lo >= 1
