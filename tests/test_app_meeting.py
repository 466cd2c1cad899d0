"""AppTest of the Meeting page: partners and supervisors open it, viewers cannot; preview, downloads."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from geo.store import Store
from tests.conftest import PROJECT_ROOT
from tests.test_app_outputs import _seed
from tests.test_roles import AUTH, PEOPLE, claims, people  # noqa: F401 (fixture)

MEETING = str(PROJECT_ROOT / "views" / "meeting.py")


def _open(email: str) -> AppTest:
    at = AppTest.from_file(MEETING, default_timeout=120)
    at.secrets = AUTH
    at.user = claims(email)
    at.run()
    assert not at.exception, at.exception
    return at


def test_partner_opens_the_meeting_page_with_preview_and_downloads(people: Store) -> None:  # noqa: F811
    _seed()
    at = _open(PEOPLE["partner"])
    assert at.title[0].value == "Meeting"
    assert not at.error, [e.value for e in at.error]
    frames = at.get("iframe")
    assert frames and "OFFICIAL-SENSITIVE" in frames[0].proto.srcdoc
    assert "Partner meeting pack" in frames[0].proto.srcdoc
    downloads = at.get("download_button")
    assert len(downloads) == 2 and not any(d.proto.disabled for d in downloads)


def test_viewer_cannot_open_the_meeting_page(people: Store) -> None:  # noqa: F811
    _seed()
    at = _open(PEOPLE["viewer"])
    assert at.error and "cannot open" in at.error[0].value
    assert not at.title and not at.get("iframe") and not at.get("download_button")
