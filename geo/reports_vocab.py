"""Only vocabulary reaches storage: categories, sources, street hints and file names."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from geo.privacy import contains_personal, street_hint
from geo.settings import Settings, slugify

__all__ = [
    "DEFAULT_SOURCES",
    "OTHER",
    "POLICE_UK_PLACES",
    "STREET_TYPES",
    "allowed_categories",
    "allowed_sources",
    "stored_file_name",
    "vet_categories",
    "vet_hints",
    "vet_source",
    "vet_sources",
]

OTHER = "other"
_STR = "string[pyarrow]"
#: Sources accepted when the settings list none (``[general] sources``).
DEFAULT_SOURCES = ("police", "council", "outreach", "cctv", "public", "other")
#: The anonymous map points data.police.uk writes after "On or near" instead of a street.
POLICE_UK_PLACES = frozenset(
    p.lower()
    for p in (
        "Supermarket",
        "Parking Area",
        "Petrol Station",
        "Nightclub",
        "Shopping Area",
        "Sports/Recreation Area",
        "Further/Higher Educational Building",
        "Hospital",
        "Conference/Exhibition Centre",
        "Theatre/Concert Hall",
        "Police Station",
        "Bus/Coach Station",
        "Train Station",
        "Airport/Airfield",
        "Pedestrian Subway",
        "Park/Open Space",
        "Theme/Adventure Park",
        "Prison",
    )
)
#: The last word of a street name, for "On or near X" hints read without a street network.
STREET_TYPES = frozenset(
    [
        "road",
        "street",
        "lane",
        "avenue",
        "close",
        "court",
        "crescent",
        "drive",
        "grove",
        "place",
        "square",
        "terrace",
        "way",
        "walk",
        "gardens",
        "row",
        "hill",
        "park",
        "parade",
        "mews",
        "rise",
        "view",
        "green",
        "bank",
        "gate",
        "vale",
        "wharf",
        "quay",
        "yard",
        "passage",
        "boulevard",
        "broadway",
        "circus",
        "parkway",
        "bridge",
        "approach",
        "end",
        "fold",
        "garth",
        "croft",
        "chase",
        "wynd",
        "side",
        "centre",
        "buildings",
        "villas",
        "station",
        "estate",
    ]
)
_DIRECTIONS = r"(?:\s+(?:north|south|east|west|upper|lower))?"
_ROAD_NUMBER = re.compile(r"(?i)[ABM][0-9]{1,4}(?:\s?\(M\))?")
_ON_OR_NEAR = re.compile(r"(?i)^\s*on or near\s+")
_PLAIN_PLACE = re.compile(r"[A-Za-z][A-Za-z'&/.\- ]{1,78}[A-Za-z]")
_FILE_TYPES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".geojson", ".json", ".xls"})


def allowed_categories(settings: Settings) -> frozenset[str]:
    """The category slugs that may be stored: the taxonomy, its police.uk mapping and ``other``.

    Parameters
    ----------
    settings
        Settings holding ``[categories]`` and ``[police_uk.crime_types]``.

    Returns
    -------
    frozenset of str
    """
    return frozenset(settings.categories) | set(settings.police_crime_types.values()) | {OTHER}


def allowed_sources(settings: Settings) -> tuple[str, ...]:
    """The source slugs that may be stored (``[general] sources``, plus ``other``).

    Parameters
    ----------
    settings
        Settings.

    Returns
    -------
    tuple of str
    """
    listed = settings.general.get("sources") or DEFAULT_SOURCES
    slugs = tuple(dict.fromkeys(slugify(s) for s in listed))
    return slugs if OTHER in slugs else (*slugs, OTHER)


def vet_categories(slugs: pd.Series, settings: Settings) -> tuple[pd.Series, pd.Series]:
    """Replace every category slug outside the vocabulary with ``other``.

    Parameters
    ----------
    slugs
        Category slugs (missing values stay missing).
    settings
        Settings (see :func:`allowed_categories`).

    Returns
    -------
    (slugs, became_other)
        The vetted slugs, and which rows became ``other``.
    """
    allowed = allowed_categories(settings)
    s = slugs.astype(_STR)
    outside = s.notna() & ~s.isin(allowed).fillna(False).astype(bool)
    outside &= s != OTHER
    return s.mask(outside, OTHER), outside.astype(bool)


def _source_word(text: str, allowed: tuple[str, ...]) -> str:
    """The listed source a free source text names as a whole word, else ``other``."""
    words = slugify(text).split("_")
    for slug in allowed:
        parts = slug.split("_")
        n = len(parts)
        if any(words[k : k + n] == parts for k in range(len(words) - n + 1)):
            return slug
    return OTHER


def vet_source(text: str | None, settings: Settings) -> str:
    """The listed source one given source names (``--source``), ``other`` or ``unknown``.

    Parameters
    ----------
    text
        The source as given; ``None`` or blank means ``unknown``.
    settings
        Settings (see :func:`allowed_sources`).

    Returns
    -------
    str
    """
    if text is None or not str(text).strip():
        return "unknown"
    if contains_personal(pd.Series([str(text)])).iloc[0]:
        return OTHER
    return _source_word(str(text), allowed_sources(settings))


def vet_sources(
    values: pd.Series, settings: Settings, *, default: str | None
) -> tuple[pd.Series, pd.Series]:
    """Map free source text onto the listed sources; anything else becomes ``other``.

    A value naming a listed source as a whole word (``"Humberside Police"``) is that
    source; a blank value takes ``default``; personal data and everything else is ``other``.

    Parameters
    ----------
    values
        Source text as written in the file (or the given source for every row).
    settings
        Settings (see :func:`allowed_sources`).
    default
        The source for blank cells (``--source``); ``None`` means ``unknown``.

    Returns
    -------
    (slugs, became_other)
        The vetted slugs, and which rows' source text became ``other``.
    """
    allowed = allowed_sources(settings)
    s = values.astype(_STR).str.strip().fillna("")
    fallback = vet_source(default, settings)
    codes, uniq = pd.factorize(s)
    personal = contains_personal(pd.Series(uniq, dtype=_STR)).to_numpy()
    mapped = np.array(
        [
            fallback if u == "" else (OTHER if bad else _source_word(u, allowed))
            for u, bad in zip(uniq, personal, strict=True)
        ],
        dtype=object,
    )
    out = pd.Series(mapped[codes] if len(mapped) else [], index=values.index, dtype=_STR)
    named_other = np.array(
        [u != "" and m == OTHER and slugify(u) != OTHER for u, m in zip(uniq, mapped, strict=True)]
    )
    became = named_other[codes] if len(named_other) else np.zeros(len(values), dtype=bool)
    return out, pd.Series(became, index=values.index, dtype=bool)


def _norm_street(values: pd.Series) -> pd.Series:
    """Street names reduced for matching: lower case, single spaces, no full stops."""
    return (
        values.astype(_STR)
        .str.lower()
        .str.replace(r"[.,]", "", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )


def _police_uk_place(x: pd.Series, *, plain_streets: bool) -> pd.Series:
    """Whether "On or near" places are police.uk map points (or plain street names)."""
    low = x.fillna("").str.lower()
    ok = low.isin(POLICE_UK_PLACES).fillna(False).astype(bool)
    if plain_streets:
        last = low.str.extract(r"([a-z]+)" + _DIRECTIONS + r"\s*$", expand=False)
        plain = x.fillna("").str.fullmatch(_PLAIN_PLACE).fillna(False).astype(bool)
        plain &= last.isin(STREET_TYPES).fillna(False).astype(bool)
        plain &= x.fillna("").str.count(r"\s+") < 6
        ok |= plain | x.fillna("").str.fullmatch(_ROAD_NUMBER).fillna(False).astype(bool)
    return ok & ~contains_personal(x.fillna(""))


def vet_hints(
    values: pd.Series, *, street_names: Iterable[str] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Keep a location hint only when it names a street of the network or a police.uk place.

    ``"12 Anlaby Road"`` becomes ``"Anlaby Road"`` when the network has an Anlaby Road;
    ``"On or near X"`` keeps ``X`` when X is a street of the network, one of police.uk's
    anonymous map points (``"Supermarket"``) or, with no network loaded, a plain street name
    (words ending in Road, Street, Lane...). Everything else is dropped.

    Parameters
    ----------
    values
        Location text as written in the file.
    street_names
        The names of the loaded street network's segments, or ``None`` without a network.

    Returns
    -------
    (hints, dropped)
        The kept hints (missing elsewhere), and which rows' non-blank hint was dropped.
    """
    raw = values.astype(_STR).str.strip()
    codes, uniq = pd.factorize(raw)
    u = pd.Series(uniq, dtype=_STR)
    on_or_near = u.str.contains(_ON_OR_NEAR, regex=True).fillna(False).astype(bool)
    place = street_hint(u).astype(_STR)
    if street_names is not None:
        known = pd.Series(list(street_names), dtype=_STR).dropna()
        known = known[known.str.strip() != ""]
        names = dict(zip(_norm_street(known), known, strict=True))
        canonical = _norm_street(place).map(names).astype(_STR)
    else:
        canonical = pd.Series(pd.NA, index=u.index, dtype=_STR)
    police_place = on_or_near & _police_uk_place(place, plain_streets=street_names is None)
    kept = canonical.fillna(place.where(police_place.to_numpy()))
    out = pd.Series(
        kept.to_numpy(dtype=object, na_value=None)[codes] if len(kept) else [],
        index=values.index,
        dtype=_STR,
    ).mask(codes < 0)
    blank = raw.isna() | (raw == "")
    return out, (out.isna() & ~blank).astype(bool)


def stored_file_name(data: bytes, file_name: str) -> str:
    """The name an import is stored and audited under: a hash of the file plus its type.

    A file name can hold a person's name, phone number or postcode, so it is never stored;
    ``sha256sum FILE`` shows the full hash, whose first 16 characters name the import.

    Parameters
    ----------
    data
        The file's bytes.
    file_name
        The name it was uploaded under (only its extension is kept, when it is a known type).

    Returns
    -------
    str
        For example ``"file-3f2a9c1b7e4d5a60.csv"``.
    """
    digest = hashlib.sha256(data).hexdigest()[:16]
    ext = Path(str(file_name)).suffix.lower()
    return f"file-{digest}{ext if ext in _FILE_TYPES else ''}"
