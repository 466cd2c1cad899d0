"""AppTest of the Settings page: taxonomy, defaults, tiles, database, purge and audit log."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.ingest import import_file
from geo.store import Store
from tests.conftest import PROJECT_ROOT

PAGE = str(PROJECT_ROOT / "views" / "settings.py")
N_OLD = 6
N_RECENT = 4


def _page() -> AppTest:
    """Run the Settings page directly (app.py's navigation may not list it yet)."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def seeded(tmp_path: Path, settings) -> Store:
    """The app's store (``BEATPLAN_DB``) with old (2020) and recent reports."""
    recent = date.today() - timedelta(days=10)
    rows = [
        {
            "reference": f"OLD-{i}",
            "date": f"2020-03-{i + 1:02d}",
            "time": "22:15",
            "category": "propositioning",
            "lat": 53.745 + i * 1e-4,
            "lon": -0.335,
            "source": "police",
            "location": "Example Street",
        }
        for i in range(N_OLD)
    ] + [
        {
            "reference": f"NEW-{i}",
            "date": recent.isoformat(),
            "time": "21:00",
            "category": "needles",
            "lat": 53.746,
            "lon": -0.336 + i * 1e-4,
            "source": "council",
            "location": "Example Street",
        }
        for i in range(N_RECENT)
    ]
    path = tmp_path / "partner.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    store = Store()
    summary = import_file(path, store=store, settings=settings)
    assert summary.accepted == N_OLD + N_RECENT
    yield store
    store.dispose()


def test_settings_page_shows_configuration(settings):
    at = _page()
    assert at.title[0].value == "Settings"
    frames = [d.value for d in at.dataframe]
    taxonomy = next(f for f in frames if "Weight (how serious)" in f.columns)
    assert len(taxonomy) == len(settings.categories)
    assert set(taxonomy["Category"]) == set(settings.categories)
    for col in ("Label", "Kind", "Partner skill", "Suggested action"):
        assert col in taxonomy.columns
    defaults = next(f for f in frames if "Setting" in f.columns)
    assert "Retention period" in set(defaults["Setting"])
    assert any("no request to any third party" in s.value for s in at.success)
    assert any("opt-in" in c.value for c in at.caption)
    assert "sqlite:///" in at.code[0].value
    assert any("audit log is empty" in i.value for i in at.info)


def test_purge_needs_confirmation(seeded):
    at = _page()
    assert at.button(key="purge_button").disabled
    assert at.number_input(key="purge_months").value == 13
    assert seeded.count_reports() == N_OLD + N_RECENT


def test_purge_deletes_old_reports_and_audits(seeded):
    at = _page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Stored reports"] == str(N_OLD + N_RECENT)
    at.number_input(key="purge_months").set_value(12)
    at.checkbox(key="purge_confirm").check().run()
    assert not at.button(key="purge_button").disabled
    at.button(key="purge_button").click().run()
    assert not at.exception, at.exception
    assert seeded.count_reports() == N_RECENT
    assert any(f"Purged {N_OLD} reports" in s.value for s in at.success)
    assert {m.label: m.value for m in at.metric}["Stored reports"] == str(N_RECENT)
    assert at.checkbox(key="purge_confirm").value is False
    log = seeded.audit_log()
    purges = log[log["action"] == "purge"]
    assert len(purges) == 1 and int(purges["n_rows"].iloc[0]) == N_OLD
    shown = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert "purge" in set(shown["action"])
