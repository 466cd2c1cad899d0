"""End-to-end test tools: run Streamlit on 127.0.0.1, wait for it in Chromium, keep requests local."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # playwright is a test dependency only
    from playwright.sync_api import BrowserContext, Frame, Page, Request, Route

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = PROJECT_ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_HOSTS = frozenset({"127.0.0.1"})
# Schemes that never reach the network.
_LOCAL_SCHEMES = frozenset({"data", "blob", "about", "javascript"})
# The st_folium component's iframe.
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

_APP_READY_JS = """
() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    const state = app.getAttribute('data-test-script-state');
    if (state !== null && state !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    return !!main && !!main.querySelector('[data-testid="stElementContainer"]');
}
"""

_MAP_READY_JS = """
() => window.L !== undefined && window.map !== undefined
    && document.querySelector('.leaflet-container .leaflet-map-pane') !== null
"""
_MAP_IDLE_JS = """
() => !window.map._animatingZoom && !window.map._panAnim?._inProgress
    && document.querySelector('.leaflet-zoom-anim') === null
"""
_MAP_VIEW_JS = """
() => {
    const c = window.map.getCenter(), s = window.map.getSize();
    return [window.map.getZoom(), c.lat, c.lng, s.x, s.y];
}
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now.

    Returns
    -------
    int
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stage_app(script: str | os.PathLike[str], dest_dir: Path, *, name: str = "app.py") -> Path:
    """Put a Streamlit script in ``dest_dir`` next to a ``static`` link to the project's.

    Streamlit serves ``static/`` from beside the main script, so a test app outside the
    project root needs the link to reach ``static/vendor``.

    Parameters
    ----------
    script
        A path to a script, or the script's source text (anything containing a newline).
    dest_dir
        A scratch directory, e.g. pytest's ``tmp_path``.
    name
        The file name to write.

    Returns
    -------
    Path
        The staged script.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / name
    text = str(script)
    if "\n" in text:
        target.write_text(text, encoding="utf-8")
    else:
        shutil.copyfile(Path(text), target)
    link = dest_dir / "static"
    if not link.exists():
        link.symlink_to(PROJECT_ROOT / "static", target_is_directory=True)
    return target


def _get(url: str, *, timeout: float) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    with opener.open(url, timeout=timeout) as resp:
        return resp.status, resp.read().decode("utf-8", "replace")


class StreamlitServer:
    """A ``streamlit run`` subprocess bound to 127.0.0.1 on a free port.

    Use as a context manager; ``url`` is set once ``/_stcore/health`` answers ``ok``.

    Parameters
    ----------
    script
        The Streamlit script to run.
    env
        Extra environment variables (e.g. ``BEATPLAN_DB``) over ``os.environ``.
    cwd
        Working directory; the project root, so ``.streamlit/config.toml`` applies.
    timeout
        Seconds to wait for the health check.
    log_path
        Where Streamlit's output goes (default: ``<script>.log`` beside the script).
    """

    def __init__(
        self,
        script: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] = PROJECT_ROOT,
        timeout: float = 60.0,
        log_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.script = Path(script).resolve()
        self.env = {**os.environ, **(env or {})}
        self.cwd = Path(cwd)
        self.timeout = timeout
        self.log_path = Path(log_path) if log_path else self.script.with_suffix(".log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """Return the command line used to start Streamlit.

        Returns
        -------
        list of str
        """
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(self.script),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--server.enableStaticServing",
            "true",
        ]

    def log_tail(self, n: int = 40) -> str:
        """Return the last ``n`` lines of Streamlit's output.

        Parameters
        ----------
        n
            How many lines.

        Returns
        -------
        str
        """
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def start(self) -> str:
        """Start Streamlit and wait until its health check says ``ok``.

        Returns
        -------
        str
            The app's URL, ``http://127.0.0.1:<port>``.

        Raises
        ------
        RuntimeError
            If Streamlit exits or is not healthy within ``timeout`` seconds.
        """
        self.env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                msg = f"Streamlit exited with code {self.proc.returncode}:\n{self.log_tail()}"
                raise RuntimeError(msg)
            try:
                status, body = _get(f"{self.url}/_stcore/health", timeout=2)
                if status == 200 and body.strip() == "ok":
                    return self.url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        msg = f"Streamlit was not healthy within {self.timeout:.0f} s:\n{self.log_tail()}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Terminate the Streamlit process (kill it after 10 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> StreamlitServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def each_map_layer_js(body: str) -> str:
    """A page script that runs the JavaScript ``body`` on every layer of ``window.map``.

    In ``body``, ``layer`` is the layer, ``where`` its place (a marker's point or the centre of
    its bounds, else ``null``) and ``n`` a counter the script returns.
    """
    return (
        "() => { let n = 0; window.map.eachLayer((layer) => { const where = layer.getLatLng "
        "? layer.getLatLng() : (layer.getBounds && layer.getBounds().isValid() "
        "? layer.getBounds().getCenter() : null); " + body + " }); return n; }"
    )


def wait_for_app(page: Page, *, timeout_ms: float = 60_000) -> None:
    """Wait until the script run is over and the main block shows at least one element.

    Parameters
    ----------
    page
        A Playwright page that has opened the app.
    timeout_ms
        How long to wait.
    """
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=timeout_ms)
    page.wait_for_function(_APP_READY_JS, timeout=timeout_ms, polling=200)


def wait_for_map(page: Page, *, index: int = 0, timeout_ms: float = 30_000) -> Frame:
    """Wait for a st_folium map's iframe to hold an initialised Leaflet map at rest.

    streamlit-folium keeps the map in ``window.map``; after it appears, this waits
    until no zoom or pan animation runs and the view holds still, so hovering and
    screenshots land where expected.

    Parameters
    ----------
    page
        The page.
    index
        Which st_folium map on the page (0 = the first).
    timeout_ms
        How long to wait.

    Returns
    -------
    playwright Frame
        The component's frame, for queries inside the map.
    """
    iframe = page.locator(MAP_IFRAME).nth(index)
    iframe.wait_for(state="attached", timeout=timeout_ms)
    frame = iframe.element_handle(timeout=timeout_ms).content_frame()
    if frame is None:
        msg = "The st_folium iframe has no frame."
        raise RuntimeError(msg)
    frame.wait_for_function(_MAP_READY_JS, timeout=timeout_ms, polling=100)
    # Then wait out any zoom/pan animation: the view must stay put for two checks running.
    deadline = time.monotonic() + timeout_ms / 1000
    last = None
    while time.monotonic() < deadline:
        frame.wait_for_function(_MAP_IDLE_JS, timeout=timeout_ms, polling=100)
        view = frame.evaluate(_MAP_VIEW_JS)
        if view == last:
            return frame
        last = view
        time.sleep(0.3)
    msg = "The map kept moving; it never settled."
    raise RuntimeError(msg)


def save_screenshot(page: Page, name: str, *, directory: Path = SCREENSHOT_DIR) -> Path:
    """Save a full-page PNG under ``tests/e2e/screenshots/`` (git-ignored).

    Parameters
    ----------
    page
        The page.
    name
        File name without extension.
    directory
        Where to save.

    Returns
    -------
    Path
        The PNG's path.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def is_local_url(url: str, *, hosts: frozenset[str] = LOCAL_HOSTS) -> bool:
    """Tell whether a request URL stays on this machine.

    Parameters
    ----------
    url
        A request URL.
    hosts
        Allowed host names.

    Returns
    -------
    bool
    """
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    return parts.hostname in hosts


class RequestRecorder:
    """Record every request a browser context makes and block those leaving 127.0.0.1.

    Parameters
    ----------
    block
        Abort non-local requests (they are still recorded), so a test never reaches
        the internet even when the machine could.
    """

    def __init__(self, *, block: bool = True) -> None:
        self.block = block
        self.urls: list[str] = []
        self.websockets: list[str] = []

    def _on_request(self, request: Request) -> None:
        self.urls.append(request.url)

    def _on_route(self, route: Route) -> None:
        if is_local_url(route.request.url):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def attach(self, context: BrowserContext) -> RequestRecorder:
        """Start recording on ``context`` (and its pages and frames).

        Parameters
        ----------
        context
            A Playwright browser context.

        Returns
        -------
        RequestRecorder
            ``self``.
        """
        context.on("request", self._on_request)
        context.on(
            "page", lambda page: page.on("websocket", lambda ws: self.websockets.append(ws.url))
        )
        if self.block:
            context.route("**/*", self._on_route)
        return self

    def non_local(self) -> list[str]:
        """Return the recorded URLs (requests and websockets) that left 127.0.0.1.

        Returns
        -------
        list of str
        """
        return [u for u in [*self.urls, *self.websockets] if not is_local_url(u)]

    def assert_local(self) -> None:
        """Fail if any request left 127.0.0.1.

        Raises
        ------
        AssertionError
            Listing the offending URLs.
        """
        bad = self.non_local()
        assert not bad, "Requests left 127.0.0.1:\n" + "\n".join(dict.fromkeys(bad))


def launch_args(base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return Playwright launch options for Debian's headless Chromium.

    Parameters
    ----------
    base
        Options to extend (pytest-playwright's ``browser_type_launch_args``).

    Returns
    -------
    dict
    """
    return {**(base or {}), "executable_path": CHROMIUM_PATH, "args": list(CHROMIUM_ARGS)}
