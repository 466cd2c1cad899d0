"""An area's settings overrides: validation with plain messages, and applying them to Settings."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

from geo.settings import KINDS, Category, Settings

__all__ = [
    "POLICE_UK_CRIME_TYPES",
    "SETTING_KEYS",
    "SKILLS",
    "apply_area_settings",
    "validate_setting",
]

#: The overrides an area may hold; anything else stays in ``data/settings.toml``.
SETTING_KEYS = ("bases", "teams", "categories", "police_crime_types", "suppression_threshold")
SKILLS = ("police", "sharps", "outreach")
#: data.police.uk's fixed vocabulary of crime types.
POLICE_UK_CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TEXT_MAX = 300
_MAX_ITEMS = 200


def _text(value: Any, what: str, *, limit: int = 80, empty: bool = False) -> str:
    text = " ".join(str(value if value is not None else "").split())
    if (not text and not empty) or len(text) > limit:
        msg = f"{what} must be some text of at most {limit} characters."
        raise ValueError(msg)
    if any(not ch.isprintable() for ch in text):
        msg = f"{what} cannot hold control characters."
        raise ValueError(msg)
    return text


def _number(value: Any, what: str, lo: float, hi: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not (math.isfinite(out) and lo <= out <= hi):
        msg = f"{what} must be a number from {lo:g} to {hi:g}."
        raise ValueError(msg)
    return out


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) > _MAX_ITEMS:
        msg = f"{what} must be a table of at most {_MAX_ITEMS} entries."
        raise ValueError(msg)
    return value


def _bases(value: Any) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, point in _mapping(value, "Bases").items():
        label = _text(name, "A base's name")
        if not isinstance(point, list | tuple) or len(point) != 2:
            msg = f"Base {label!r} must be [longitude, latitude], e.g. [-0.3367, 53.7446]."
            raise ValueError(msg)
        out[label] = [
            _number(point[0], f"Base {label!r}'s longitude", -180, 180),
            _number(point[1], f"Base {label!r}'s latitude", -90, 90),
        ]
    return out


def _teams(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > _MAX_ITEMS:
        msg = f"Teams must be a list of at most {_MAX_ITEMS} teams."
        raise ValueError(msg)
    out = []
    for team in value:
        if not isinstance(team, dict):
            msg = "Each team must be a table with at least a name."
            raise ValueError(msg)
        name = _text(team.get("name"), "A team's name")
        clean = {str(k)[:64]: _plain(v, "Team " + repr(name)) for k, v in team.items()}
        clean["name"] = name
        out.append(clean)
    names = [t["name"].casefold() for t in out]
    if len(set(names)) != len(names):
        msg = "Two teams have the same name; give each team its own."
        raise ValueError(msg)
    return out


def _plain(value: Any, what: str, depth: int = 0) -> Any:
    """JSON-like value (text checked, numbers finite), at most three levels deep."""
    if depth > 3:
        msg = f"{what} is nested too deeply."
        raise ValueError(msg)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return _number(value, what, -1e9, 1e9)
    if isinstance(value, str):
        return _text(value, what, limit=_TEXT_MAX, empty=True)
    if isinstance(value, list | tuple) and len(value) <= _MAX_ITEMS:
        return [_plain(v, what, depth + 1) for v in value]
    if isinstance(value, dict) and len(value) <= _MAX_ITEMS:
        return {_text(k, what, limit=64): _plain(v, what, depth + 1) for k, v in value.items()}
    msg = f"{what} holds a value that is not text, a number, a list or a table."
    raise ValueError(msg)


def _slug(value: Any, what: str) -> str:
    text = str(value if value is not None else "").strip()
    if not _SLUG.fullmatch(text):
        msg = f"{what} must be a slug: lower-case letters, digits and _ (e.g. 'needles')."
        raise ValueError(msg)
    return text


def _categories(value: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for slug, spec in _mapping(value, "Categories").items():
        key = _slug(slug, "A category")
        spec = spec if isinstance(spec, dict) else {}
        kind = str(spec.get("kind", "nuisance"))
        skill = str(spec.get("skill", "police"))
        if kind not in KINDS or skill not in SKILLS:
            msg = (
                f"Category {key!r}: kind must be one of {', '.join(KINDS)} and skill one of "
                f"{', '.join(SKILLS)}."
            )
            raise ValueError(msg)
        out[key] = {
            "label": _text(spec.get("label", key), f"Category {key!r}'s label"),
            "harm_weight": _number(
                spec.get("harm_weight", 1.0), f"Category {key!r}'s harm weight", 0.1, 100
            ),
            "kind": kind,
            "skill": skill,
            "action": _text(
                spec.get("action", ""), f"Category {key!r}'s action", limit=_TEXT_MAX, empty=True
            ),
        }
    if not out:
        msg = "Keep at least one category."
        raise ValueError(msg)
    return out


def _police(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for crime, slug in _mapping(value, "The police.uk mapping").items():
        if crime not in POLICE_UK_CRIME_TYPES:
            msg = (
                f"{str(crime)[:60]!r} is not a data.police.uk crime type; use one of "
                f"{', '.join(POLICE_UK_CRIME_TYPES)}."
            )
            raise ValueError(msg)
        out[crime] = _slug(slug, f"The category for {crime!r}")
    return out


def validate_setting(key: str, value: Any, *, allow_none: bool = False) -> Any:
    """Check one settings override of an area and return it in its stored (JSON) form.

    Parameters
    ----------
    key
        ``bases`` ({name: [lon, lat]}), ``teams`` (a list of tables, each with a unique
        ``name``), ``categories`` ({slug: {label, harm_weight, kind, skill, action}}),
        ``police_crime_types`` ({police.uk crime type: category slug}) or
        ``suppression_threshold`` (a whole number from 2 to 100).
    value
        The value.
    allow_none
        Accept ``None`` (the override is being removed).

    Returns
    -------
    Any

    Raises
    ------
    ValueError
        With a plain message saying what to change.
    """
    if key not in SETTING_KEYS:
        msg = f"{str(key)[:40]!r} is not an area setting; use one of {', '.join(SETTING_KEYS)}."
        raise ValueError(msg)
    if value is None and allow_none:
        return None
    if key == "bases":
        return _bases(value)
    if key == "teams":
        return _teams(value)
    if key == "categories":
        return _categories(value)
    if key == "police_crime_types":
        return _police(value)
    number = _number(value, "The suppression threshold", 2, 100)
    if number != int(number):
        msg = "The suppression threshold must be a whole number from 2 to 100."
        raise ValueError(msg)
    return int(number)


def apply_area_settings(base: Settings, overrides: dict[str, Any]) -> Settings:
    """Return ``base`` with an area's overrides applied (each replaces its whole section).

    Parameters
    ----------
    base
        The default settings.
    overrides
        The area's overrides (as stored; invalid entries are ignored, never half-applied).

    Returns
    -------
    Settings
    """
    changes: dict[str, Any] = {}
    for key, raw in overrides.items():
        try:
            value = validate_setting(key, raw)
        except ValueError:
            continue
        if key == "bases":
            changes["bases"] = {k: (v[0], v[1]) for k, v in value.items()}
        elif key == "categories":
            changes["categories"] = {k: Category(slug=k, **v) for k, v in value.items()}
        elif key == "police_crime_types":
            changes["police_crime_types"] = value
        elif key == "suppression_threshold":
            changes["general"] = {**base.general, "suppression_threshold": value}
    return replace(base, **changes) if changes else base
