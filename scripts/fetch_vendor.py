"""Fetch the JavaScript, CSS and fonts folium's maps need from the npm registry into static/vendor/."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENDOR_DIR = PROJECT_ROOT / "static" / "vendor"
STAMP_NAME = "VENDOR.json"


@dataclass(frozen=True)
class Package:
    """One npm package and the files taken from it.

    ``files`` pairs a path inside the tarball's ``package/`` folder with a path under the
    vendor directory; a source ending in ``/`` copies that folder's files (not sub-folders).
    """

    spec: str
    integrity: str
    files: tuple[tuple[str, str], ...]


# Pinned versions and the npm integrity of each tarball. folium 0.20 asks for leaflet 1.9.3,
# jquery 3.7.1, bootstrap 5.2.2, the Bootstrap 3 glyphicons, Leaflet.awesome-markers 2.0.2
# (cdnjs; npm has the same 2.0.1 code as 2.0.5), Font Awesome 6.2.0 and leaflet.fullscreen 3.0.0;
# HeatMap takes Leaflet.heat 0.2.0, Draw leaflet-draw 1.0.4 (MIT; its package.json carries
# the licence) and MarkerCluster leaflet.markercluster 1.5.3 (for Leaflet 1.9).
PACKAGES: tuple[Package, ...] = (
    Package(
        "leaflet@1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        (
            ("dist/leaflet.js", "leaflet/leaflet.js"),
            ("dist/leaflet.css", "leaflet/leaflet.css"),
            ("dist/images/", "leaflet/images/"),
            ("LICENSE", "leaflet/LICENSE"),
        ),
    ),
    Package(
        "jquery@3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        (
            ("dist/jquery.min.js", "jquery/jquery.min.js"),
            ("LICENSE.txt", "jquery/LICENSE.txt"),
        ),
    ),
    Package(
        "bootstrap@5.2.2",
        "sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ==",
        (
            ("dist/js/bootstrap.bundle.min.js", "bootstrap/js/bootstrap.bundle.min.js"),
            ("dist/css/bootstrap.min.css", "bootstrap/css/bootstrap.min.css"),
            ("LICENSE", "bootstrap/LICENSE"),
        ),
    ),
    Package(
        "bootstrap@3.4.1",
        "sha512-yN5oZVmRCwe5aKwzRj6736nSmKDX7pLYwsXiCj/EYmo16hODaBiT4En5btW/jhBF/seV+XMx3aYwukYC3A49DA==",
        (
            # bootstrap-glyphicons.css is cut out of bootstrap.css below (see _glyphicons_css).
            ("dist/fonts/", "bootstrap3-glyphicons/fonts/"),
            ("LICENSE", "bootstrap3-glyphicons/LICENSE"),
        ),
    ),
    Package(
        "leaflet.awesome-markers@2.0.5",
        "sha512-Ne/xDjkGyaujwNVVkv2tyXQUV0ZW7gZ0Mo0FuQY4jp2qWrvXi0hwDBvmZyF/8YOvybyMabTMM/mFWCTd1jZIQA==",
        (
            ("dist/leaflet.awesome-markers.js", "awesome-markers/leaflet.awesome-markers.js"),
            ("dist/leaflet.awesome-markers.css", "awesome-markers/leaflet.awesome-markers.css"),
            ("dist/images/", "awesome-markers/images/"),
            ("LICENSE", "awesome-markers/LICENSE"),
        ),
    ),
    Package(
        "@fortawesome/fontawesome-free@6.2.0",
        "sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ==",
        (
            ("css/all.min.css", "fontawesome/css/all.min.css"),
            ("webfonts/", "fontawesome/webfonts/"),
            ("LICENSE.txt", "fontawesome/LICENSE.txt"),
        ),
    ),
    Package(
        "leaflet.fullscreen@3.0.0",
        "sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        (
            ("Control.FullScreen.js", "leaflet-fullscreen/Control.FullScreen.js"),
            ("Control.FullScreen.css", "leaflet-fullscreen/Control.FullScreen.css"),
            ("icon-fullscreen.svg", "leaflet-fullscreen/icon-fullscreen.svg"),
            ("LICENSE", "leaflet-fullscreen/LICENSE"),
        ),
    ),
    Package(
        "leaflet-draw@1.0.4",
        "sha512-rsQ6saQO5ST5Aj6XRFylr5zvarWgzWnrg46zQ1MEOEIHsppdC/8hnN8qMoFvACsPvTioAuysya/TVtog15tyAQ==",
        (
            ("dist/leaflet.draw.js", "leaflet-draw/leaflet.draw.js"),
            ("dist/leaflet.draw.css", "leaflet-draw/leaflet.draw.css"),
            ("dist/images/", "leaflet-draw/images/"),
            ("package.json", "leaflet-draw/package.json"),
        ),
    ),
    Package(
        "leaflet.heat@0.2.0",
        "sha512-Cd5PbAA/rX3X3XKxfDoUGi9qp78FyhWYurFg3nsfhntcM/MCNK08pRkf4iEenO1KNqwVPKCmkyktjW3UD+h9bQ==",
        (
            ("dist/leaflet-heat.js", "leaflet-heat/leaflet-heat.js"),
            ("LICENSE", "leaflet-heat/LICENSE"),
        ),
    ),
    Package(
        "leaflet.markercluster@1.5.3",
        "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        (
            ("dist/leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
            ("dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
            ("dist/MarkerCluster.Default.css", "markercluster/MarkerCluster.Default.css"),
            ("MIT-LICENCE.txt", "markercluster/MIT-LICENCE.txt"),
        ),
    ),
)

GLYPHICONS_CSS = "bootstrap3-glyphicons/css/bootstrap-glyphicons.css"
ROTATE_CSS = "folium/leaflet.awesome.rotate.min.css"

# The files ui.maps points folium at; all must exist after a fetch.
REQUIRED_FILES: tuple[str, ...] = (
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/images/marker-icon.png",
    "jquery/jquery.min.js",
    "bootstrap/js/bootstrap.bundle.min.js",
    "bootstrap/css/bootstrap.min.css",
    GLYPHICONS_CSS,
    "bootstrap3-glyphicons/fonts/glyphicons-halflings-regular.woff2",
    "awesome-markers/leaflet.awesome-markers.js",
    "awesome-markers/leaflet.awesome-markers.css",
    "fontawesome/css/all.min.css",
    "fontawesome/webfonts/fa-solid-900.woff2",
    ROTATE_CSS,
    "leaflet-fullscreen/Control.FullScreen.js",
    "leaflet-fullscreen/Control.FullScreen.css",
    "leaflet-heat/leaflet-heat.js",
    "leaflet-draw/leaflet.draw.js",
    "leaflet-draw/leaflet.draw.css",
    "leaflet-draw/images/spritesheet.svg",
    "markercluster/leaflet.markercluster.js",
    "markercluster/MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css",
)


def manifest_hash() -> str:
    """Return a short hash of the pinned manifest, stored in the stamp to detect changes.

    Returns
    -------
    str
        The first 16 hex digits of a SHA-256 over the package specs, integrities and files.
    """
    text = json.dumps([[p.spec, p.integrity, p.files] for p in PACKAGES] + [REQUIRED_FILES])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_up_to_date(vendor_dir: Path) -> bool:
    """Tell whether ``vendor_dir`` holds this manifest's files, by its stamp.

    Parameters
    ----------
    vendor_dir
        The vendor directory, normally ``static/vendor``.

    Returns
    -------
    bool
        True when the stamp matches the manifest and every required file exists.
    """
    stamp = vendor_dir / STAMP_NAME
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if recorded.get("manifest") != manifest_hash():
        return False
    return all((vendor_dir / rel).is_file() for rel in REQUIRED_FILES)


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        msg = (
            "npm is not installed, so the map scripts (Leaflet and friends) cannot be fetched. "
            "Install Node.js and npm (Debian: sudo apt-get install npm) and run "
            "`python scripts/fetch_vendor.py` again."
        )
        raise SystemExit(f"fetch_vendor: {msg}")
    return npm


def _pack(npm: str, workdir: Path) -> dict[str, Path]:
    """Download every pinned tarball with ``npm pack`` and check its integrity."""
    cmd = [npm, "pack", "--json", "--silent", "--pack-destination", str(workdir)]
    cmd += [p.spec for p in PACKAGES]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, check=False)
    if proc.returncode != 0:
        msg = f"npm pack failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}"
        raise SystemExit(f"fetch_vendor: {msg}")
    try:
        packed = json.loads(proc.stdout)
    except ValueError as exc:
        msg = f"npm pack printed something other than JSON: {proc.stdout[:500]!r}"
        raise SystemExit(f"fetch_vendor: {msg}") from exc
    tarballs: dict[str, Path] = {}
    by_id = {entry["id"]: entry for entry in packed}
    for pkg in PACKAGES:
        entry = by_id.get(pkg.spec)
        if entry is None:
            msg = f"npm pack did not return {pkg.spec}."
            raise SystemExit(f"fetch_vendor: {msg}")
        if entry.get("integrity") != pkg.integrity:
            msg = (
                f"{pkg.spec} has integrity {entry.get('integrity')!r}, "
                f"expected {pkg.integrity!r}; refusing to install it."
            )
            raise SystemExit(f"fetch_vendor: {msg}")
        tarballs[pkg.spec] = workdir / entry["filename"]
    return tarballs


def _extract(pkg: Package, tarball: Path, out: Path) -> int:
    """Copy the package's listed files from ``tarball`` into ``out``; return how many."""
    count = 0
    with tarfile.open(tarball, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        for src, dst in pkg.files:
            if src.endswith("/"):
                prefix = f"package/{src}"
                chosen = [
                    (name, dst + name[len(prefix) :])
                    for name in members
                    if name.startswith(prefix) and "/" not in name[len(prefix) :]
                ]
                if not chosen:
                    msg = f"{pkg.spec} has no files under {src}."
                    raise SystemExit(f"fetch_vendor: {msg}")
            else:
                if f"package/{src}" not in members:
                    msg = f"{pkg.spec} has no file {src}."
                    raise SystemExit(f"fetch_vendor: {msg}")
                chosen = [(f"package/{src}", dst)]
            for name, rel in chosen:
                fh = tar.extractfile(members[name])
                assert fh is not None
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(fh.read())
                count += 1
    return count


def _glyphicons_css(tarball: Path) -> str:
    """Cut the Glyphicons @font-face and ``.glyphicon*`` rules out of Bootstrap 3's CSS.

    folium links ``bootstrap-glyphicons.css`` from Bootstrap 3.0.0, which is not on npm;
    these rules from 3.4.1 are the same icons and leave the rest of Bootstrap 3 out.
    """
    with tarfile.open(tarball, "r:gz") as tar:
        fh = tar.extractfile("package/dist/css/bootstrap.css")
        assert fh is not None
        css = fh.read().decode("utf-8")
    match = re.search(
        r'@font-face\s*\{\s*font-family:\s*"Glyphicons Halflings";.*?'
        r"\.glyphicon-menu-up:before\s*\{[^}]*\}",
        css,
        flags=re.DOTALL,
    )
    if match is None:
        msg = "could not find the Glyphicons rules in bootstrap@3.4.1's bootstrap.css."
        raise SystemExit(f"fetch_vendor: {msg}")
    return "/* Glyphicons rules from Bootstrap 3.4.1 (MIT), cut by scripts/fetch_vendor.py */\n" + (
        match.group(0) + "\n"
    )


def _rotate_css() -> str:
    """Write folium's ``leaflet.awesome.rotate`` rules (``.fa-rotate-N``, 0 to 360 degrees)."""
    rule = ".fa-rotate-{0}{{-ms-transform:rotate({0}deg);-webkit-transform:rotate({0}deg);transform:rotate({0}deg)}}"
    return "\n".join(rule.format(n) for n in range(361)) + "\n"


def fetch(vendor_dir: Path, *, force: bool = False) -> bool:
    """Fetch the pinned packages into ``vendor_dir`` unless its stamp says they are there.

    Parameters
    ----------
    vendor_dir
        Where the files go, normally ``static/vendor`` (served at ``/app/static/vendor``).
    force
        Fetch again even when the stamp is current.

    Returns
    -------
    bool
        True when files were fetched, False when the directory was already up to date.
    """
    if not force and is_up_to_date(vendor_dir):
        print(
            f"fetch_vendor: {vendor_dir} is up to date ({len(PACKAGES)} packages), nothing to do."
        )
        return False
    npm = _npm()
    vendor_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fetch_vendor_") as tmp:
        workdir = Path(tmp)
        print(f"fetch_vendor: npm pack {' '.join(p.spec for p in PACKAGES)}")
        tarballs = _pack(npm, workdir)
        staging = Path(tempfile.mkdtemp(prefix=".vendor-", dir=vendor_dir.parent))
        try:
            for pkg in PACKAGES:
                n = _extract(pkg, tarballs[pkg.spec], staging)
                print(f"fetch_vendor: {pkg.spec}: {n} files")
            glyph = staging / GLYPHICONS_CSS
            glyph.parent.mkdir(parents=True, exist_ok=True)
            glyph.write_text(_glyphicons_css(tarballs["bootstrap@3.4.1"]), encoding="utf-8")
            rotate = staging / ROTATE_CSS
            rotate.parent.mkdir(parents=True, exist_ok=True)
            rotate.write_text(_rotate_css(), encoding="utf-8")
            print(f"fetch_vendor: wrote {GLYPHICONS_CSS} and {ROTATE_CSS}")
            missing = [rel for rel in REQUIRED_FILES if not (staging / rel).is_file()]
            if missing:
                msg = f"these files are missing after extraction: {', '.join(missing)}"
                raise SystemExit(f"fetch_vendor: {msg}")
            stamp = {
                "manifest": manifest_hash(),
                "packages": {p.spec: p.integrity for p in PACKAGES},
                "note": "Fetched by scripts/fetch_vendor.py; not committed (see .gitignore).",
            }
            (staging / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            if vendor_dir.exists():
                shutil.rmtree(vendor_dir)
            staging.rename(vendor_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
    print(f"fetch_vendor: installed {len(PACKAGES)} packages into {vendor_dir}")
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the command line: ``python scripts/fetch_vendor.py [--force] [--check] [--dest DIR]``.

    Parameters
    ----------
    argv
        The command-line arguments; ``None`` reads them from ``sys.argv``.

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds the files missing or stale.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", type=Path, default=DEFAULT_VENDOR_DIR, help="vendor directory")
    parser.add_argument("--force", action="store_true", help="fetch even when up to date")
    parser.add_argument(
        "--check", action="store_true", help="only report whether the files are in place"
    )
    args = parser.parse_args(argv)
    if args.check:
        ok = is_up_to_date(args.dest)
        print(f"fetch_vendor: {args.dest} is {'up to date' if ok else 'missing or stale'}.")
        return 0 if ok else 1
    fetch(args.dest, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
