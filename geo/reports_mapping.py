"""Map partner files onto report fields: header synonyms, explicit mappings, category words."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo.errors import ReportFileError
from geo.reports_police_uk import police_uk_mapping
from geo.settings import Settings, slugify

# Report fields a partner file may map columns to, with the header synonyms we recognise.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "lat": ("lat", "latitude", "y", "lat wgs84", "latitude wgs84", "gps lat", "gps latitude"),
    "lon": (
        "lon",
        "lng",
        "long",
        "longitude",
        "x",
        "lon wgs84",
        "longitude wgs84",
        "gps lon",
        "gps long",
        "gps longitude",
    ),
    "easting": (
        "easting",
        "eastings",
        "os easting",
        "grid easting",
        "bng easting",
        "x bng",
        "os x",
        "osgb easting",
    ),
    "northing": (
        "northing",
        "northings",
        "os northing",
        "grid northing",
        "bng northing",
        "y bng",
        "os y",
        "osgb northing",
    ),
    "datetime": (
        "datetime",
        "date time",
        "occurred",
        "occurred at",
        "occurred on",
        "reported",
        "reported at",
        "reported on",
        "timestamp",
        "date",
        "date reported",
        "incident date",
        "date of incident",
        "found",
        "found at",
        "date found",
        "when",
        "month",
    ),
    "time": ("time", "hour", "time of day", "time reported", "incident time", "time found"),
    "category": (
        "category",
        "type",
        "incident type",
        "crime type",
        "report type",
        "issue",
        "issue type",
        "finding",
        "what",
        "classification",
        "kind",
    ),
    "source": ("source", "partner", "agency", "reported by", "organisation", "organization"),
    "reference": (
        "reference",
        "ref",
        "id",
        "crime id",
        "incident id",
        "incident number",
        "report id",
        "log number",
        "case number",
        "record id",
        "job number",
    ),
    "location": (
        "location",
        "street",
        "street name",
        "road",
        "location description",
        "nearest street",
        "place",
    ),
    "lsoa_code": ("lsoa code", "lsoa", "lsoa11cd", "lsoa21cd"),
}
# Free words partners use for our categories (matched on the slugified value).
CATEGORY_SYNONYMS: dict[str, str] = {
    "needle": "needles",
    "needles": "needles",
    "sharps": "needles",
    "syringe": "needles",
    "syringes": "needles",
    "discarded_needle": "needles",
    "discarded_needles": "needles",
    "needle_find": "needles",
    "condom": "condoms",
    "condoms": "condoms",
    "discarded_condoms": "condoms",
    "used_condoms": "condoms",
    "propositioning": "propositioning",
    "soliciting": "propositioning",
    "kerb_crawling": "propositioning",
    "curb_crawling": "propositioning",
    "sex_in_public": "sex_in_public",
    "public_sex": "sex_in_public",
    "sexual_activity_in_public": "sex_in_public",
    "welfare": "welfare_concern",
    "welfare_concern": "welfare_concern",
    "welfare_check": "welfare_concern",
    "safeguarding": "welfare_concern",
    "anti_social_behaviour": "asb",
    "antisocial_behaviour": "asb",
    "asb": "asb",
    "anti_social_behavior": "asb",
    "drugs": "drugs",
    "drug_use": "drugs",
    "drug_dealing": "drugs",
    "public_order": "public_order",
}

# Columns the GeoJSON reader makes from each feature's geometry.
_GEOJSON_GEOMETRY = (
    ("lon", "__x"),
    ("lat", "__y"),
    ("easting", "__easting"),
    ("northing", "__northing"),
)


def _norm(text: str) -> str:
    """A header cell reduced to lower-case words, for matching synonyms."""
    return re.sub(r"[^0-9a-z]+", " ", str(text).lower()).strip()


def auto_map_columns(
    columns: list[str], *, override: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map report fields to file columns by header synonyms, with an explicit override.

    Parameters
    ----------
    columns
        The file's header.
    override
        ``{field: column}`` pairs that win over the synonyms (e.g. ``{"category": "Issue"}``).

    Returns
    -------
    dict
        ``{field: column}`` for every field found.
    """
    mapping: dict[str, str] = {}
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(_norm(col), col)
    if override:
        for fld, col in override.items():
            if fld not in FIELD_SYNONYMS:
                msg = (
                    f"Unknown field {fld!r} in the column mapping; use one of "
                    f"{', '.join(FIELD_SYNONYMS)}."
                )
                raise ReportFileError(msg)
            if col not in columns:
                msg = (
                    f"The mapping names column {col!r} for {fld}, but the file has no such "
                    f"column. Columns are: {', '.join(map(str, columns))}."
                )
                raise ReportFileError(msg)
            mapping[fld] = col
    used = set(mapping.values())
    for fld, synonyms in FIELD_SYNONYMS.items():
        if fld in mapping:
            continue
        for syn in synonyms:
            col = by_norm.get(syn)
            if col is not None and col not in used:
                mapping[fld] = col
                used.add(col)
                break
    return mapping


def report_columns(
    columns: list[str], fmt: str, mapping: Mapping[str, str] | None
) -> dict[str, str]:
    """Map report fields to a read file's columns, as its format calls for.

    Parameters
    ----------
    columns
        The table's columns, including the readers' ``__`` columns.
    fmt
        ``"police.uk"`` (fixed columns), ``"geojson"`` (synonyms on the properties, the
        geometry for the coordinates) or any other format (synonyms).
    mapping
        Explicit ``{field: column}`` overrides.

    Returns
    -------
    dict
        ``{field: column}``.
    """
    if fmt == "police.uk":
        return police_uk_mapping(mapping)
    if fmt == "geojson":
        colmap = auto_map_columns([c for c in columns if not c.startswith("__")], override=mapping)
        for fld, col in _GEOJSON_GEOMETRY:
            if col in columns:
                colmap[fld] = col
        return colmap
    return auto_map_columns(columns, override=mapping)


def category_slugs(values: pd.Series, settings: Settings) -> pd.Series:
    """Map partner category text to taxonomy slugs (police.uk crime types included).

    Parameters
    ----------
    values
        Category text as written in the file.
    settings
        Settings holding the taxonomy and the police.uk mapping.

    Returns
    -------
    pandas.Series of str (missing for blank values)
    """
    s = values.astype("string[pyarrow]").str.strip()
    codes, uniq = pd.factorize(s)  # each distinct text mapped once, rows by code
    labels = {slugify(c.label): slug for slug, c in settings.categories.items()}
    police = {slugify(k): v for k, v in settings.police_crime_types.items()}
    mapped = np.empty(len(uniq) + 1, dtype=object)
    mapped[-1] = pd.NA  # code -1: a missing cell
    for i, raw in enumerate(uniq):
        slug = slugify(raw)
        mapped[i] = (
            police.get(slug)
            or (slug if slug in settings.categories else None)
            or labels.get(slug)
            or CATEGORY_SYNONYMS.get(slug)
            or slug
        )
        if raw == "":
            mapped[i] = pd.NA
    return pd.Series(mapped[codes], index=values.index, dtype="string[pyarrow]")
