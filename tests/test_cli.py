"""Tests of the ``beatplan`` command line: JSON lines, exit codes, no tracebacks for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cli import main
from tests.conftest import PROJECT_ROOT

BAD_INPUTS = {
    "empty.csv": b"",
    "blank_lines.csv": b"\n\n  \n",
    "header_only.csv": b"date,category,lat,lon\n",
    "no_usable_column.csv": b"colour,size\nred,3\n",
    "mixed_dates.csv": (
        "date,category,lat,lon\n"
        + "2024-01-05,asb,53.7,-0.3\n" * 5
        + "05/01/2024,asb,53.7,-0.3\n" * 5
    ).encode(),
    "us_dates.csv": (
        "date,category,lat,lon\n" + "".join(f"01/{d}/2024,asb,53.7,-0.3\n" for d in range(13, 29))
    ).encode(),
    "broken.xlsx": b"PK\x03\x04 not a workbook",
    "not_json.geojson": b"{ not json",
    "lines.geojson": json.dumps({"type": "FeatureCollection", "features": []}).encode(),
    "old.xls": b"\xd0\xcf\x11\xe0 old excel",
    "personal_as_category.csv": b"date,notes,lat,lon\n2024-01-05,asb,53.7,-0.3\n",
}


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_inputs_exit_2_with_one_plain_line(name, tmp_path, capsys):
    path = tmp_path / name
    path.write_bytes(BAD_INPUTS[name])
    code, out, err = run(["--db", str(tmp_path / "db.sqlite"), "import", str(path)], capsys)
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("beatplan: ")
    assert "Traceback" not in err


def test_missing_file_and_bad_arguments(tmp_path, capsys):
    code, _, err = run(
        ["--db", str(tmp_path / "d.db"), "import", str(tmp_path / "nope.csv")], capsys
    )
    assert code == 2 and "not found" in err
    with pytest.raises(SystemExit) as exc:
        main(["import"])
    assert exc.value.code == 2
    code, _, err = run(["import", str(tmp_path), "--area", "1,2,3"], capsys)
    assert code == 2 and "--area" in err
    code, _, err = run(["purge", "--older-than", "0"], capsys)
    assert code == 2 and "at least 1" in err


def test_import_police_uk_accounts_for_every_row_and_reimport_adds_nothing(
    police_2022, tmp_path, capsys
):
    db = str(tmp_path / "p.db")
    code, out, _ = run(["--db", db, "import", str(police_2022), "--source", "police"], capsys)
    first = json.loads(out)
    assert code == 0
    assert first["rows_read"] == 8001
    assert first["accepted"] + first["duplicates"] + first["rejected"] == 8001
    assert first["accepted"] == 8001
    code, out, _ = run(["--db", db, "import", str(police_2022), "--source", "police"], capsys)
    second = json.loads(out)
    assert second["accepted"] == 0 and second["duplicates"] == 8001


def test_import_with_hull_area_rejects_outside_rows(police_2022, tmp_path, capsys):
    db = str(tmp_path / "h.db")
    code, _, _ = run(
        ["--db", db, "area", "create", "Hull", "--bbox=-0.45,53.71,-0.23,53.81"], capsys
    )
    assert code == 0
    code, out, _ = run(
        [
            "--db",
            db,
            "import",
            str(police_2022),
            "--source",
            "police",
            "--area",
            "Hull",
            "--rejects-dir",
            str(tmp_path),
        ],
        capsys,
    )
    summary = json.loads(out)
    assert code == 0
    rejects = pd.read_csv(summary["rejects_file"], encoding="utf-8-sig")
    assert len(rejects) == summary["rejected"] > 0
    assert set(rejects["reason"]) == {"outside Hull"}
    assert summary["accepted"] + summary["rejected"] == 8001


def test_mapping_option(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text("when,issue,y,x\n2024-01-05 21:00,Propositioning,53.74,-0.35\n")
    code, out, _ = run(
        [
            "--db",
            str(tmp_path / "m.db"),
            "import",
            str(path),
            "--source",
            "outreach",
            "--mapping",
            "category=issue",
        ],
        capsys,
    )
    assert code == 0 and json.loads(out)["accepted"] == 1


def test_purge_prints_json(tmp_path, capsys):
    code, out, _ = run(["--db", str(tmp_path / "q.db"), "purge", "--older-than", "13"], capsys)
    assert code == 0 and json.loads(out)["purged"] == 0


def test_console_script_runs_as_a_real_process(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    exe = Path(sys.executable).with_name("beatplan")
    proc = subprocess.run(
        [str(exe), "--db", str(tmp_path / "s.db"), "import", str(path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "beatplan: The file is empty: there are no rows to import."
