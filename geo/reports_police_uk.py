"""Recognise data.police.uk street-level crime files and map their fixed columns."""

from __future__ import annotations

from collections.abc import Mapping

POLICE_UK_HEADER = ("Crime ID", "Month", "Longitude", "Latitude", "Location", "Crime type")

# The report field each data.police.uk column holds.
POLICE_UK_COLUMNS: dict[str, str] = {
    "lon": "Longitude",
    "lat": "Latitude",
    "datetime": "Month",
    "category": "Crime type",
    "reference": "Crime ID",
    "location": "Location",
    "lsoa_code": "LSOA code",
}
POLICE_UK_NOTE = "Recognised a data.police.uk street-level file: month only, no time of day."


def is_police_uk(columns: list[str]) -> bool:
    """Tell a data.police.uk street-level CSV by its header.

    Parameters
    ----------
    columns
        The header cells.

    Returns
    -------
    bool
    """
    cols = {str(c).strip() for c in columns}
    return all(c in cols for c in POLICE_UK_HEADER)


def police_uk_mapping(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """The column mapping of a data.police.uk file, with explicit overrides applied.

    Parameters
    ----------
    mapping
        ``{field: column}`` overrides, or ``None``.

    Returns
    -------
    dict
        ``{field: column}``.
    """
    return {**POLICE_UK_COLUMNS, **(dict(mapping) if mapping else {})}
