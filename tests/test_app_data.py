"""AppTest of the Data page: upload, counts, dropped columns, rejected rows, plain errors."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    at.switch_page("views/data.py").run()
    assert not at.exception
    return at


def _import(at: AppTest, name: str, content: bytes, *, mapping: str = "") -> AppTest:
    # By label: a supervisor's Data page also holds the 'Set up your area' form (issue 12).
    next(u for u in at.file_uploader if u.label == "Partner file").upload(name, content, "text/csv")
    if mapping:
        next(t for t in at.text_input if t.label.startswith("Column mapping")).set_value(mapping)
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    assert not at.exception
    return at


def test_data_page_opens_empty():
    at = _app()
    assert at.title[0].value == "Data"
    assert any("Nothing imported yet" in c.value for c in at.caption)


def test_upload_shows_counts_dropped_columns_and_rejects():
    content = (
        b"date,time,category,lat,lon,client name,notes\n"
        b"05/01/2024,21:30,Propositioning,53.744,-0.356,Jane,a long note about someone here\n"
        b"06/01/2024,22:00,Welfare,0,0,John,another long note about a person there\n"
        b"07/01/2024,23:00,Needles,53.745,-0.357,Ann,yet another long narrative note here\n"
    )
    at = _import(_app(), "outreach.csv", content)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows read"] == "3"
    assert metrics["Accepted"] == "2"
    assert metrics["Rejected"] == "1"
    frames = [d.value for d in at.dataframe]
    dropped = next(f for f in frames if "Why" in f.columns)
    assert set(dropped["Column"]) == {"client name", "notes"}
    rejected = next(f for f in frames if "reason" in f.columns)
    assert list(rejected["reason"]) == ["coordinates are (0, 0), a placeholder, not a place"]
    assert "Jane" not in rejected.to_csv() and "John" not in rejected.to_csv()
    assert at.get("download_button")


def test_bad_file_gives_plain_error_not_traceback():
    at = _import(_app(), "empty.csv", b"")
    assert at.error and "was not imported" in at.error[0].value
    assert not at.exception


def test_mapping_override_from_the_page():
    content = b"when,issue,y,x\n2024-01-05 21:00,Propositioning,53.74,-0.35\n"
    at = _import(_app(), "m.csv", content, mapping="category=issue")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accepted"] == "1"


def test_no_pages_folder():
    # A folder named pages/ beside app.py switches Streamlit to its old multipage mode, which
    # bypasses st.navigation (titles, order, the shared sidebar). Pages live in views/.
    assert not (PROJECT_ROOT / "pages").exists()


def test_upload_snaps_to_the_loaded_network(tmp_path):
    from geo.store import Store
    from geo.streets import StreetNetwork
    from geo.workspace import install_network
    from tests.conftest import shared_file

    net = StreetNetwork.from_file(shared_file("osm", "leeds-its-example.osm.pbf"))
    install_network(net, Store())
    mid = net.segments.geometry.iloc[0].interpolate(0.5, normalized=True)
    content = (
        f"date,time,category,lat,lon\n2024-01-05,21:00,asb,{mid.y:.6f},{mid.x:.6f}\n"
        "2024-01-05,21:00,asb,53.9,-1.4\n"
    ).encode()
    at = _import(_app(), "leeds.csv", content)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accepted"] == "2"
    assert metrics["Off the street network"] == "1"
