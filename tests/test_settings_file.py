"""The settings file every reader uses: the given path, else $BEATPLAN_SETTINGS, else the default."""

from __future__ import annotations

from pathlib import Path

from geo.roles import roles_from_settings
from geo.settings import DEFAULT_SETTINGS_PATH, settings_file
from planning.problem_text import agencies, partnership_settings


def test_path_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.delenv("BEATPLAN_SETTINGS", raising=False)
    assert settings_file() == DEFAULT_SETTINGS_PATH
    chosen = tmp_path / "env.toml"
    monkeypatch.setenv("BEATPLAN_SETTINGS", str(chosen))
    assert settings_file() == chosen
    assert settings_file(tmp_path / "given.toml") == tmp_path / "given.toml"
    assert isinstance(settings_file(str(chosen)), Path)


def test_roles_and_partnership_read_the_same_chosen_file(tmp_path, monkeypatch):
    toml = tmp_path / "s.toml"
    toml.write_text(
        '[roles]\n"boss@force.police.uk" = "supervisor"\n\n'
        '[partnership]\nagencies = ["police", "outreach"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BEATPLAN_SETTINGS", str(toml))
    assert roles_from_settings() == {"boss@force.police.uk": "supervisor"}
    assert partnership_settings()["agencies"] == ["police", "outreach"]
    assert agencies() == ("police", "outreach")
    monkeypatch.setenv("BEATPLAN_SETTINGS", str(tmp_path / "missing.toml"))
    assert roles_from_settings() == {}  # no file: nobody is seeded
