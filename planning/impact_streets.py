"""Street names for the community summary: only names that read like a street, never a map point."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geo.reports_vocab import POLICE_UK_PLACES, STREET_TYPES

__all__ = ["report_streets", "street_like"]

#: Words that may follow a street type ("Victoria Street West", "Hessle Road North").
_TRAILING = r"(?:\s+(?:north|south|east|west|upper|lower|central))?"
#: A road number such as "A63" or "M62".
_ROAD_NUMBER = r"[abm][0-9]{1,4}(?:\s?\(m\))?"


def _norm(values: pd.Series) -> pd.Series:
    """Names reduced for matching: lower case, single spaces, no full stops or commas."""
    return (
        values.astype("string")
        .str.lower()
        .str.replace(r"[.,]", "", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )


def street_like(names: pd.Series, *, street_names: Iterable[str] | None = None) -> pd.Series:
    """Whether each name reads like a street: never one of police.uk's anonymous map points.

    police.uk places a crime at the nearest of its anonymous map points and names it "On or
    near Parking Area", "Supermarket", "Nightclub"...: those are not streets, and a summary
    that lists them says nothing about where. A name counts as a street when it is a street
    of the area's network, or when its last word (before an optional direction) is a street
    type (Road, Street, Lane, ...), or when it is a road number (A63).

    Parameters
    ----------
    names
        The names (missing values are not streets).
    street_names
        The area's street network names, when it has one.

    Returns
    -------
    pandas.Series
        Boolean, aligned with ``names``.
    """
    low = _norm(names).fillna("")
    place = low.isin(POLICE_UK_PLACES)
    last = low.str.extract(r"([a-z]+)" + _TRAILING + r"$", expand=False)
    typed = last.isin(STREET_TYPES).fillna(False) & (low.str.count(" ") >= 1)
    numbered = low.str.fullmatch(_ROAD_NUMBER).fillna(False)
    known = pd.Series(False, index=names.index)
    if street_names is not None:
        net = set(_norm(pd.Series(list(street_names), dtype="string")).dropna()) - {""}
        known = low.isin(net)
    ok = (typed | numbered | known) & ~place & (low != "")
    return ok.astype(bool)


def report_streets(reports: pd.DataFrame, segments: pd.DataFrame | None) -> pd.Series:
    """The street of each report: its street hint, else its segment's name; only real streets.

    Parameters
    ----------
    reports
        The report table (``location_hint``, optionally ``segment_id``).
    segments
        Street segments (``segment_id``, ``name``), or ``None`` without a network.

    Returns
    -------
    pandas.Series
        ``string`` dtype, ``<NA>`` where no street is known or the name is not a street
        (:func:`street_like`).
    """
    hint = reports.get("location_hint")
    names = (
        pd.Series(hint, index=reports.index, dtype="string")
        if hint is not None
        else pd.Series(pd.NA, index=reports.index, dtype="string")
    )
    names = names.str.strip().replace("", pd.NA)
    net_names = None
    if segments is not None and "segment_id" in reports and len(segments):
        net_names = segments["name"].astype(str)
        seg_names = pd.Series(net_names.to_numpy(), index=segments["segment_id"].astype(int))
        seg = pd.to_numeric(reports["segment_id"], errors="coerce")
        from_seg = seg.map(seg_names).astype("string").str.strip().replace("", pd.NA)
        names = names.fillna(from_seg)
    codes, uniq = pd.factorize(names)
    if not len(uniq):
        return names
    keep = street_like(pd.Series(uniq, dtype="string"), street_names=net_names).to_numpy()
    return names.where(pd.Series(codes >= 0, index=names.index) & keep[codes.clip(0)])
