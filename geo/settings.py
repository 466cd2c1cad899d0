"""Load Beatplan's settings (categories, harm weights, defaults) from ``data/settings.toml``."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SETTINGS_PATH = DATA_DIR / "settings.toml"

KINDS = ("nuisance", "safeguarding")


@dataclass(frozen=True)
class Category:
    """One report category of the taxonomy."""

    slug: str
    label: str
    harm_weight: float = 1.0
    kind: str = "nuisance"
    skill: str = "police"
    action: str = ""


@dataclass(frozen=True)
class Settings:
    """All configuration in one object; sections other than categories are plain dicts."""

    categories: dict[str, Category]
    police_crime_types: dict[str, str]
    area_bbox: tuple[float, float, float, float] | None = None
    area_name: str = ""
    general: dict[str, Any] = field(default_factory=dict)
    snapping: dict[str, Any] = field(default_factory=dict)
    hotspots: dict[str, Any] = field(default_factory=dict)
    patrols: dict[str, Any] = field(default_factory=dict)
    maps: dict[str, Any] = field(default_factory=dict)
    signposting: dict[str, Any] = field(default_factory=dict)
    bases: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: The area's boundary polygon (shapely, WGS84) when it has one (geo.areas).
    area_boundary: Any = None

    def harm_weight(self, category: str) -> float:
        """Return the harm weight of ``category`` (1.0 for categories outside the taxonomy)."""
        cat = self.categories.get(category)
        return cat.harm_weight if cat else 1.0

    def label(self, category: str) -> str:
        """Return the human label of ``category`` (the slug, tidied, when it is not configured)."""
        cat = self.categories.get(category)
        return cat.label if cat else category.replace("_", " ").capitalize()

    def skill(self, category: str) -> str:
        """Return the partner skill a category calls for (``police`` by default)."""
        cat = self.categories.get(category)
        return cat.skill if cat else "police"

    def with_area(
        self,
        bbox: tuple[float, float, float, float] | None,
        *,
        name: str = "",
        boundary: Any = None,
    ) -> Settings:
        """Return a copy of these settings with another area bounding box (and boundary)."""
        from dataclasses import replace

        return replace(self, area_bbox=bbox, area_name=name, area_boundary=boundary)


def slugify(text: str) -> str:
    """Turn a free label such as ``"Violence and sexual offences"`` into ``violence_and_sexual_offences``."""
    slug = re.sub(r"[^0-9a-z]+", "_", str(text).strip().lower()).strip("_")
    return slug or "unknown"


def _parse_bbox(raw: Any) -> tuple[float, float, float, float] | None:
    if not raw:
        return None
    if len(raw) != 4:
        msg = "The area bbox in settings must be [min_lon, min_lat, max_lon, max_lat]."
        raise ValueError(msg)
    west, south, east, north = (float(v) for v in raw)
    if not (west < east and south < north):
        msg = "The area bbox in settings must have min_lon < max_lon and min_lat < max_lat."
        raise ValueError(msg)
    return (west, south, east, north)


def _parse_maps(raw: dict[str, Any]) -> dict[str, Any]:
    maps = dict(raw)
    maps["tiles"] = check_tiles(maps.get("tiles")) or "none"
    return maps


def _parse_bases(raw: dict[str, Any]) -> dict[str, tuple[float, float]]:
    return {str(name): lonlat(value, f"Base {name!r} in settings") for name, value in raw.items()}


def lonlat(value: Any, where: str) -> tuple[float, float]:
    """Check that ``value`` is a ``[lon, lat]`` pair in degrees.

    Parameters
    ----------
    value
        The pair as read from a settings or teams file.
    where
        What the value is, to name it in the message (e.g. ``"Base 'Hull'"``).

    Returns
    -------
    tuple of float
        ``(lon, lat)``; a ``ValueError`` tells the user how to write it otherwise.
    """
    try:
        lon, lat = (float(x) for x in value)
    except (TypeError, ValueError):
        msg = f"{where} must be [lon, lat], e.g. [-0.3367, 53.7446]; got {value!r}."
        raise ValueError(msg) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"{where} = {value!r} is not a [lon, lat] pair in degrees; check the order."
        raise ValueError(msg)
    return (lon, lat)


_TILE_KEYS = ("{z}", "{x}", "{y}")
_TILE_URL = re.compile(
    r"https://(\{s\}\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?/[^\s\x00-\x1f\x7f\"'<>`\\]*"
)


def check_tiles(value: Any) -> str | None:
    """Validate the ``[maps] tiles`` setting ``value``: ``"none"`` or an https tile URL template.

    Returns the URL template, or ``None`` for ``"none"``/empty (no tiles, no third party).

    Raises
    ------
    ValueError
        For anything but ``https://host/...{z}...{x}...{y}...`` (``http:``, ``//host``,
        ``javascript:``, relative paths, spaces or quotes included).
    """
    tiles = str(value if value is not None else "").strip()
    if tiles.lower() in {"", "none"}:
        return None
    if not _TILE_URL.fullmatch(tiles) or not all(key in tiles for key in _TILE_KEYS):
        shown = tiles[:80].encode("ascii", "backslashreplace").decode("ascii")
        msg = (
            '[maps] tiles in the settings file must be "none" or an https:// tile URL '
            "template with {z}, {x} and {y}, such as "
            f"https://tiles.example.org/{{z}}/{{x}}/{{y}}.png; it is {shown!r}."
        )
        raise ValueError(msg)
    return tiles


def parse_settings(raw: dict[str, Any]) -> Settings:
    """Build :class:`Settings` from a parsed TOML document.

    Parameters
    ----------
    raw
        The TOML document as a dict.

    Returns
    -------
    Settings
    """
    cats: dict[str, Category] = {}
    for slug, spec in (raw.get("categories") or {}).items():
        kind = spec.get("kind", "nuisance")
        if kind not in KINDS:
            msg = f"Category {slug!r} has kind {kind!r}; use one of {', '.join(KINDS)}."
            raise ValueError(msg)
        cats[slug] = Category(
            slug=slug,
            label=str(spec.get("label", slug)),
            harm_weight=float(spec.get("harm_weight", 1.0)),
            kind=kind,
            skill=str(spec.get("skill", "police")),
            action=str(spec.get("action", "")),
        )
    police = dict((raw.get("police_uk") or {}).get("crime_types") or {})
    area = raw.get("area") or {}
    return Settings(
        categories=cats,
        police_crime_types=police,
        area_bbox=_parse_bbox(area.get("bbox")),
        area_name=str(area.get("name", "")),
        general=dict(raw.get("general") or {}),
        snapping=dict(raw.get("snapping") or {}),
        hotspots=dict(raw.get("hotspots") or {}),
        patrols=dict(raw.get("patrols") or {}),
        maps=_parse_maps(raw.get("maps") or {}),
        signposting=dict(raw.get("signposting") or {}),
        bases=_parse_bases(raw.get("bases") or {}),
    )


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> Settings:
    with open(path, "rb") as fh:
        return parse_settings(tomllib.load(fh))


def settings_file(path: str | os.PathLike[str] | None = None) -> Path:
    """The settings file to read: ``path``, else ``$BEATPLAN_SETTINGS``, else ``data/settings.toml``.

    Parameters
    ----------
    path
        A settings TOML, or ``None`` for the default.

    Returns
    -------
    pathlib.Path
        The file (not checked: it may not exist).
    """
    return Path(path or os.environ.get("BEATPLAN_SETTINGS") or DEFAULT_SETTINGS_PATH)


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load settings from ``path``, ``$BEATPLAN_SETTINGS`` or ``data/settings.toml``.

    Parameters
    ----------
    path
        A TOML file; by default the environment variable ``BEATPLAN_SETTINGS`` or the
        project's ``data/settings.toml``.

    Returns
    -------
    Settings
    """
    chosen = settings_file(path)
    if not chosen.is_file():
        msg = f"Settings file {chosen} not found; point BEATPLAN_SETTINGS at a settings TOML."
        raise FileNotFoundError(msg)
    return _load_cached(str(chosen), chosen.stat().st_mtime)
