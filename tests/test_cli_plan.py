"""CLI tests on the demo: beatplan demo, plan (JSON/GeoJSON/GPX), brief (PDF/HTML), summary."""

from __future__ import annotations

import json
import subprocess

import gpxpy
import pytest

from cli import main
from tests.conftest import PROJECT_ROOT

TEAMS = PROJECT_ROOT / "data" / "demo" / "teams.toml"


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("BEATPLAN_DB", str(path / "demo.db"))
    mp.setenv("BEATPLAN_DATA", str(path))
    assert main(["demo", "--seed", "7"]) == 0
    yield path
    mp.undo()


def run(args, capsys, env):
    import os

    os.environ["BEATPLAN_DB"] = str(env / "demo.db")
    os.environ["BEATPLAN_DATA"] = str(env)
    code = main(args)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.strip() else None), err


def _ensure_plan(env, capsys) -> None:
    """Write plan.json for the tests that read a plan, when an earlier test has not."""
    if not (env / "plan.json").exists():
        code, _, err = run(
            ["plan", "--teams", str(TEAMS), "--time-limit", "2", "--out", str(env / "plan.json")],
            capsys,
            env,
        )
        assert code == 0, err


def test_demo_is_idempotent_and_labelled(demo_env, capsys):
    code, out, _ = run(["demo", "--if-empty"], capsys, demo_env)
    assert code == 0 and out["skipped"] is True and out["reports"] >= 9000
    assert (demo_env / "demo" / "SYNTHETIC-DEMO-reports-seed7.csv").is_file()


def test_plan_json_geojson_gpx(demo_env, capsys):
    code, out, err = run(
        ["plan", "--teams", str(TEAMS), "--time-limit", "2", "--out", str(demo_env / "plan.json")],
        capsys,
        demo_env,
    )
    assert code == 0, err
    assert out["teams"] == 3 and out["stops"] >= 3 and 0 < out["risk_covered_share"] <= 1
    body = json.loads((demo_env / "plan.json").read_text())
    names = [t["name"] for t in body["teams"]]
    assert names == ["Foot patrol", "Outreach patrol", "Sharps sweep"]
    for team in body["teams"]:
        for stop in team["stops"]:
            # A welfare (outreach) stop only goes to a team with an outreach worker.
            assert stop["skill"] in team["skills"]
    code, out, _ = run(
        ["plan", "--teams", str(TEAMS), "--time-limit", "2", "--out", str(demo_env / "plan.gpx")],
        capsys,
        demo_env,
    )
    gpx = gpxpy.parse((demo_env / "plan.gpx").read_text())
    assert code == 0 and len(gpx.waypoints) == out["stops"]
    code, out, _ = run(
        [
            "plan",
            "--teams",
            str(TEAMS),
            "--time-limit",
            "2",
            "--out",
            str(demo_env / "plan.geojson"),
        ],
        capsys,
        demo_env,
    )
    fc = json.loads((demo_env / "plan.geojson").read_text())
    assert code == 0 and fc["type"] == "FeatureCollection"


def test_plan_bad_output_name(demo_env, capsys):
    code, _, err = run(
        ["plan", "--teams", str(TEAMS), "--out", str(demo_env / "p.txt")], capsys, demo_env
    )
    assert code == 2 and ".gpx" in err


def test_brief_pdf_and_html(demo_env, capsys):
    _ensure_plan(demo_env, capsys)
    code, _, err = run(
        ["brief", "--plan", str(demo_env / "plan.json"), "--out", str(demo_env / "brief.pdf")],
        capsys,
        demo_env,
    )
    assert code == 0, err
    text = subprocess.run(
        ["pdftotext", str(demo_env / "brief.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Outreach patrol" in text and "Sharps sweep" in text and "Debrief" in text
    code, _out, _ = run(
        [
            "brief",
            "--plan",
            str(demo_env / "plan.json"),
            "--team",
            "Sharps sweep",
            "--out",
            str(demo_env / "brief.html"),
        ],
        capsys,
        demo_env,
    )
    html = (demo_env / "brief.html").read_text()
    assert code == 0 and "Sharps sweep" in html and "Foot patrol" not in html
    bad = demo_env / "notplan.json"
    bad.write_text("[1, 2]")
    code, _, err = run(
        ["brief", "--plan", str(bad), "--out", str(demo_env / "b.pdf")], capsys, demo_env
    )
    assert code == 2 and "not a plan" in err


def test_summary_pdf(demo_env, capsys):

    from geo.store import Store

    store = Store(str(demo_env / "demo.db"))
    last = store.period()[1]
    start = last.replace(day=1)  # a public summary covers one month or one quarter
    code, _out, err = run(
        [
            "summary",
            "--from",
            f"{start:%Y-%m-%d}",
            "--to",
            f"{last:%Y-%m-%d}",
            "--out",
            str(demo_env / "summary.pdf"),
        ],
        capsys,
        demo_env,
    )
    assert code == 0, err
    text = subprocess.run(
        ["pdftotext", str(demo_env / "summary.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Community impact summary" in text
    log = store.audit_log()
    assert {"export", "demo", "plan"} <= set(log["action"])


def test_track_matches_a_synthetic_walk_to_the_plan(demo_env, capsys):
    from planning.export import plan_from_json
    from planning.tracking import synthetic_track

    _ensure_plan(demo_env, capsys)
    plan = plan_from_json(json.loads((demo_env / "plan.json").read_text()))
    team = next(r for r in plan.routes if len(r.stops) >= 2)
    first, second = team.stops[0].hotspot_id, team.stops[1].hotspot_id
    gpx = synthetic_track(plan, team.team.name, seed=3, pause_at={second: 0})
    path = demo_env / "walk.gpx"
    path.write_text(gpx)
    code, out, err = run(
        ["track", str(path), "--plan", str(demo_env / "plan.json")], capsys, demo_env
    )
    assert code == 0, err
    visited = {v["hotspot_id"]: v["minutes"] for v in out["visits"]}
    assert visited[first] == pytest.approx(plan.dwell_minutes, abs=2.5)
    assert second not in visited  # walked straight past: not a visit
    rows = {(r["team"], r["hotspot_id"]): r["status"] for r in out["plan"]}
    assert rows[(team.team.name, first)] == "done"
    assert rows[(team.team.name, second)] == "missed"
    bad = demo_env / "bad.gpx"
    bad.write_text("<gpx>not really")
    code, _, err = run(["track", str(bad), "--plan", str(demo_env / "plan.json")], capsys, demo_env)
    assert code == 2 and "Traceback" not in err


def test_evaluate_on_the_demo_months_1_9_against_10_12(demo_env, capsys):
    """The CLI's back-test: shape, intervals, chosen settings, protocol; no ranking asserted."""
    import pandas as pd

    from geo.forecast import FAMILIES, METHODS
    from geo.store import Store

    lo, hi = Store(str(demo_env / "demo.db")).period()
    split = (lo + pd.DateOffset(months=9)).normalize()
    code, out, err = run(
        [
            "evaluate",
            "--train-from",
            f"{lo:%Y-%m-%d}",
            "--train-to",
            f"{split - pd.Timedelta(days=1):%Y-%m-%d}",
            "--test-from",
            f"{split:%Y-%m-%d}",
            "--test-to",
            f"{hi:%Y-%m-%d}",
        ],
        capsys,
        demo_env,
    )
    assert code == 0, err
    assert out["mode"] == "network" and out["n_train"] > 5000 and out["n_test"] > 2000
    assert out["coverage"] == [0.01, 0.05, 0.1]
    assert out["study_area"]["km_street"] > 10 and "rolling origin" in out["validation"]
    assert set(out["methods"]) == set(METHODS)
    for name, m in out["methods"].items():
        kept = m["settings"].get("model", name)  # ours: the candidate kept and its setting
        setting = {k: v for k, v in m["settings"].items() if k != "model"}
        assert setting in FAMILIES[kept if kept in FAMILIES else "beatplan"]
        for key, cov in zip(("0.01", "0.05", "0.10"), out["coverage"], strict=True):
            lo_, hi_ = m["hit_rate_ci"][key]
            assert 0 <= lo_ <= hi_ <= 1
            assert m["pai"][key] == pytest.approx(m["hit_rate"][key] / cov)
            assert 0 <= m["pei"][key] <= 1 + 1e-9
