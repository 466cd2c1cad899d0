"""End-to-end: script and markup payloads in every field that reaches a page never run or fetch."""

from __future__ import annotations

import io
import json
import mimetypes
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT
from ui.browser import (
    MAP_IFRAME,
    RequestRecorder,
    each_map_layer_js,
    is_local_url,
    save_screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.e2e
APP = PROJECT_ROOT / "app.py"
HOST = "host.example"
PAYLOADS: tuple[str, ...] = (
    "${top.alert(1)}",
    "`${top.alert(2)}`",
    "</script><script>alert(3)</script>",
    f"![x](http://{HOST}/x.png)",
    "[x](javascript:alert(4))",
    "<img src=x onerror=alert(5)>",
    "javascript:alert(6)",
    "a\u2028b\u2029c",
    "a\rb",
)
ALL = " ".join(p.replace("\r", " ") for p in PAYLOADS)
# Opens every tooltip and popup in a Leaflet map (content is set, and any markup parsed, on open).
_OPEN_TOOLTIPS_JS = each_map_layer_js(
    "for (const open of ['openTooltip', 'openPopup']) {"
    " try { if (where && layer[open]) { layer[open](where); n += 1; } } catch (e) {} }"
)
SWEEP: tuple[tuple[float, float], ...] = ((24.938, 60.164), (24.956, 60.174))  # near "Station"


def _grid_geojson(path: Path) -> None:
    """A small street grid by the demo's Helsinki bases, every street named with a payload."""
    (w, s), _ = SWEEP
    lons = [w + i * 0.002 for i in range(10)]
    lats = [s + j * 0.001 for j in range(11)]
    feats = []
    for j, lat in enumerate(lats):
        for i in range(len(lons) - 1):
            name = PAYLOADS[(i + j) % len(PAYLOADS)]
            feats.append((name, [[lons[i], lat], [lons[i + 1], lat]]))
    for i, lon in enumerate(lons):
        for j in range(len(lats) - 1):
            feats.append(
                (PAYLOADS[(i * 3 + j) % len(PAYLOADS)], [[lon, lats[j]], [lon, lats[j + 1]]])
            )
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": name, "highway": "residential"},
                        "geometry": {"type": "LineString", "coordinates": coords},
                    }
                    for name, coords in feats
                ],
            }
        ),
        encoding="utf-8",
    )


def _report_rows() -> list[list[str]]:
    """Reports: a dense run on two streets (a hotspot) and a thin spread, with hostile text."""
    rows = []
    for k in range(90):
        lon = 24.9425 + (k % 30) * 0.0002
        day = 1 + k % 27
        rows.append([f"2026-01-{day:02d}", "21:30", "asb", "60.1690", f"{lon:.5f}"])
    for k in range(40):
        lon, lat = 24.939 + (k * 0.00041) % 0.016, 60.1645 + (k * 0.00023) % 0.009
        rows.append([f"2026-01-{1 + k % 27:02d}", "22:00", "drugs", f"{lat:.5f}", f"{lon:.5f}"])
    for k, payload in enumerate(PAYLOADS):  # hostile categories, sources and street hints
        rows[k][2] = payload
        rows[k] += [payload, payload, payload]
    for row in rows[len(PAYLOADS) :]:
        row += ["police", "Anlaby Road", "x"]
    return rows


def _csv_bytes() -> bytes:
    header = ["date", "time", "category", "lat", "lon", "source", "location", PAYLOADS[3]]
    out = io.StringIO()
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(_report_rows())
    return out.getvalue().encode("utf-8")


def _xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "${top.alert(7)}<img src=x>"  # sheet names may not hold [ ] : / \\ ? *
    ws.append(["date", "time", "category", "lat", "lon", PAYLOADS[5], PAYLOADS[0]])
    for row in _report_rows()[:30]:
        ws.append([*row[:5], PAYLOADS[1], PAYLOADS[2]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _gpx_bytes() -> bytes:
    name = "&lt;img src=x onerror=alert(8)&gt; ${top.alert(9)}"
    pts = "".join(
        f'<trkpt lat="60.1690" lon="{24.9425 + k * 0.0002:.5f}">'
        f"<time>2026-02-02T18:{10 + k:02d}:00Z</time></trkpt>"
        for k in range(30)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>{name}</name>'
        f"<trkseg>{pts}</trkseg></trk></gpx>"
    ).encode()


def _hostile_settings(tmp_path: Path) -> Path:
    raw = (PROJECT_ROOT / "data" / "settings.toml").read_text(encoding="utf-8")
    base = tomllib.loads(raw)
    first = "asb" if "asb" in (base.get("categories") or {}) else next(iter(base["categories"]))

    def q(text: str) -> str:
        return json.dumps(text)  # a TOML basic string is a JSON string

    raw = re.sub(r"(?m)^tiles = .*$", 'tiles = "https://127.0.0.1/{z}/{x}/{y}.png"', raw)
    raw = re.sub(r"(?m)^attribution = .*$", lambda _m: f"attribution = {q(ALL)}", raw)
    raw = re.sub(r"(?m)^text = .*$", lambda _m: f"text = {q(ALL)}", raw)
    raw = re.sub(r'(?m)^name = ""$', lambda _m: f"name = {q(PAYLOADS[0])}", raw, count=1)
    raw = re.sub(
        r"(?m)^\[bases\]$",
        lambda _m: "[bases]\n" + "\n".join(f"{q(p)} = [24.9420, 60.1700]" for p in PAYLOADS),
        raw,
        count=1,
    )
    raw = re.sub(
        rf'(?m)^(\[categories\.{first}\]\n(?:.*\n)*?)label = ".*"$',
        lambda mt: mt.group(1) + f"label = {q(ALL)}",
        raw,
        count=1,
    )
    path = tmp_path / "hostile-settings.toml"
    path.write_text(raw, encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))  # still valid TOML
    return path


def _install_hostile_network(tmp_path: Path, env: dict[str, str], settings_path: Path) -> None:
    import os

    from geo.settings import load_settings
    from geo.store import Store
    from geo.streets import StreetNetwork
    from geo.workspace import install_network

    src = tmp_path / f"{PAYLOADS[5]}.geojson".replace("/", "_")
    _grid_geojson(src)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        store = Store(
            env["BEATPLAN_DB"] if "://" in env["BEATPLAN_DB"] else f"sqlite:///{env['BEATPLAN_DB']}"
        )
        net = StreetNetwork.from_file(src)
        install_network(
            net, store, data_dir=tmp_path, settings=load_settings(settings_path), what=src.name
        )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _open_map_tooltips(page: Any) -> int:
    opened = 0
    for k in range(page.locator(MAP_IFRAME).count()):
        handle = page.locator(MAP_IFRAME).nth(k).element_handle(timeout=30_000)
        frame = handle.content_frame()
        if frame is None:
            continue
        frame.wait_for_function("() => window.map !== undefined", timeout=30_000)
        opened += frame.evaluate(_OPEN_TOOLTIPS_JS)
    return opened


def _upload(page: Any, name: str, data: bytes, mime: str, *, button: str | None) -> None:
    # by its label: a supervisor's Data page also offers "Set up your area" with uploaders
    label = "Partner file" if button == "Import" else "GPX tracks"
    chooser = (
        page.locator('[data-testid="stFileUploader"]')
        .filter(has_text=label)
        .locator('[data-testid="stFileUploaderDropzoneInput"]')
        .first
    )
    chooser.set_input_files({"name": name, "mimeType": mime, "buffer": data})
    page.locator('[data-testid="stFileChip"]').first.wait_for(timeout=30_000)
    if button:
        page.get_by_role("button", name=button).click()
    wait_for_app(page, timeout_ms=120_000)


def _goto(page: Any, title: str) -> None:
    """Open a page through the sidebar navigation, keeping the session (and its plan)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.wait_for_timeout(300)
    wait_for_app(page, timeout_ms=120_000)


def _no_markup_from_data(page: Any, where: str = "") -> None:
    main = page.locator('[data-testid="stAppViewContainer"]')
    for frame in page.frames:
        for src in frame.eval_on_selector_all("img", "els => els.map(e => e.src)"):
            assert not src or is_local_url(src), (where, frame.url, src)
        assert frame.eval_on_selector_all("a[href^='javascript']", "els => els.length") == 0
    errors = main.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()


def test_every_page_with_hostile_data(
    page: Any,
    streamlit_app: Callable[..., str],
    request_recorder: RequestRecorder,
    e2e_env: dict[str, str],
    tmp_path: Path,
) -> None:
    settings_path = _hostile_settings(tmp_path)
    env = {**e2e_env, "BEATPLAN_SETTINGS": str(settings_path), "BEATPLAN_DATA": str(tmp_path)}
    _install_hostile_network(tmp_path, env, settings_path)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    url = streamlit_app(APP, env=env)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/data")
    wait_for_app(page, timeout_ms=120_000)
    _upload(page, f"{PAYLOADS[3]} {PAYLOADS[0]}.csv", _csv_bytes(), "text/csv", button="Import")
    _no_markup_from_data(page)
    _upload(
        page,
        f"{PAYLOADS[5]}.xlsx",
        _xlsx_bytes(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        button="Import",
    )
    _no_markup_from_data(page)
    save_screenshot(page, "payloads_data")

    for title in ("Hotspots", "Area", "Patrols"):
        _goto(page, title)
        _open_map_tooltips(page)
        _no_markup_from_data(page)
    page.get_by_role("button", name="Plan patrols").click()
    wait_for_app(page, timeout_ms=180_000)
    save_screenshot(page, "payloads_patrols")
    page.get_by_text("Risk covered").first.wait_for(timeout=120_000)
    wait_for_app(page, timeout_ms=60_000)
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert page.locator(MAP_IFRAME).count() >= 1, alerts
    assert _open_map_tooltips(page) > 0
    _no_markup_from_data(page)
    save_screenshot(page, "payloads_patrols")

    _goto(page, "Tracking")
    _upload(
        page, f"{PAYLOADS[5]} {PAYLOADS[0]}.gpx", _gpx_bytes(), "application/gpx+xml", button=None
    )
    if page.locator(MAP_IFRAME).count():
        _open_map_tooltips(page)
    _no_markup_from_data(page)
    save_screenshot(page, "payloads_tracking")

    for title in ("Briefings", "Community summary", "Settings", "Audit log", "Access"):
        _goto(page, title)
        for frame in page.frames:  # briefing and summary previews are iframes too
            frame.wait_for_load_state()
        _no_markup_from_data(page, title)
    page.wait_for_timeout(500)
    assert dialogs == [], dialogs
    request_recorder.assert_local()


def _serve_map(page: Any, html_text: str) -> None:
    static = PROJECT_ROOT / "static"

    def handle(route: Any) -> None:
        path = route.request.url.split("127.0.0.1", 1)[1].split("?", 1)[0]
        if path == "/map.html":
            route.fulfill(status=200, content_type="text/html", body=html_text)
            return
        file = static / path.removeprefix("/app/static/")
        if path.startswith("/app/static/") and file.is_file():
            mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            route.fulfill(status=200, content_type=mime, body=file.read_bytes())
        else:
            route.fulfill(status=404, body="")

    page.route("http://127.0.0.1/**", handle)


def test_map_builders_with_payloads_in_chromium(
    page: Any, request_recorder: RequestRecorder
) -> None:
    import folium
    import geopandas as gpd
    from shapely.geometry import LineString

    from ui import maps

    maps.configure_offline_assets()
    names = list(PAYLOADS)
    lines = [
        LineString([(-0.37 + k * 0.001, 53.74), (-0.369 + k * 0.001, 53.74)])
        for k in range(len(names))
    ]
    gdf = gpd.GeoDataFrame(
        {"name": names, "risk": [float(k) for k in range(len(names))], "hotspot_id": names},
        geometry=lines,
        crs="EPSG:4326",
    )
    m = maps.base_map(
        bounds=(-0.371, 53.739, -0.36, 53.741),
        tiles="https://127.0.0.1/{z}/{x}/{y}.png",
        attribution=ALL,
    )
    maps.add_street_network(m, gdf, name=ALL)
    maps.add_segments_by_value(m, gdf, column="risk", tooltip_fields={"name": ALL}, name=ALL)
    maps.add_legend(m, maps.default_colormap([0.0, 1.0]), caption=ALL)
    maps.add_outlines(m, gdf.assign(label=names), tooltip_fields={"name": ALL}, name=ALL)
    from datetime import datetime

    t0 = datetime(2026, 3, 2, 18, 0)
    routes = [
        SimpleNamespace(
            team=SimpleNamespace(name=p, base=(-0.37, 53.7401)),
            path=[(-0.37, 53.7401), (-0.365, 53.7402)],
            stops=[SimpleNamespace(order=1, label=p, arrive=t0, leave=t0, lat=53.7402, lon=-0.366)],
        )
        for p in PAYLOADS
    ]
    maps.add_routes(m, routes)
    for p in PAYLOADS:
        folium.PolyLine([(53.7405, -0.37), (53.7406, -0.36)], tooltip=maps.text_tooltip(p)).add_to(
            m
        )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _serve_map(page, m.get_root().render())
    page.goto("http://127.0.0.1/map.html")
    page.wait_for_function("() => window.L !== undefined", timeout=30_000)
    # folium names the map map_<id>; expose it as window.map like streamlit-folium does.
    page.evaluate(
        "() => { for (const k in window) if (/^map_[0-9a-f]+$/.test(k)) window.map = window[k]; }"
    )
    assert page.evaluate(_OPEN_TOOLTIPS_JS) >= len(PAYLOADS) * 3
    page.wait_for_timeout(300)
    shown = page.locator(".leaflet-tooltip").all_inner_texts()
    for p in (
        "${top.alert(1)}",
        "<img src=x onerror=alert(5)>",
        "</script><script>alert(3)</script>",
    ):
        assert any(p in t for t in shown), p
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip script").count() == 0
    assert page.locator(".leaflet-control-attribution img").count() == 0
    assert "${top.alert(1)}" in page.locator(".leaflet-control-attribution").inner_text()
    assert dialogs == []
    request_recorder.assert_local()
