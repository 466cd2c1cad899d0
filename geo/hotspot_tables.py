"""The hotspot and segment tables: CONTRACTS columns, per-hotspot summaries and skills."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.settings import Settings
from geo.time_profiles import _profile_codes, active_hours

__all__ = ["HOTSPOT_COLUMNS", "segment_table"]

HOTSPOT_COLUMNS = [
    "hotspot_id",
    "rank",
    "label",
    "risk",
    "n_reports",
    "counts",
    "skill",
    "active_hours",
    "profile",
    "z",
    "p_adj",
    "segment_ids",
    "geometry",
]

_DEFAULT_SAFEGUARDING_SHARE = 0.2


def _empty_hotspots() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in HOTSPOT_COLUMNS[:-1]})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def _skill(counts: dict[str, int], settings: Settings, safeguarding_share: float) -> str:
    if not counts:
        return "police"
    total = sum(counts.values())
    safeguarding = sum(
        c
        for cat, c in counts.items()
        if (k := settings.categories.get(cat)) and k.kind == "safeguarding"
    )
    if total and safeguarding / total >= safeguarding_share:
        return "outreach"
    weighted = sorted(counts, key=lambda c: (-counts[c] * settings.harm_weight(c), c))
    return settings.skill(weighted[0])


def _group_summaries(
    reports: pd.DataFrame, group: np.ndarray, n_groups: int, settings: Settings, share: float
) -> dict[str, list[Any]]:
    """Counts, profile, active hours and skill per group (group -1 = none), vectorised."""
    ok = group >= 0
    g = group[ok]
    cats = reports["category"].astype(object).to_numpy()[ok]
    counts: list[dict[str, int]] = [{} for _ in range(n_groups)]
    if ok.any():
        table = pd.crosstab(g, cats)
        for gi, row in zip(table.index, table.to_numpy(), strict=True):
            counts[int(gi)] = {
                str(c): int(k) for c, k in zip(table.columns, row, strict=True) if k > 0
            }
    code = _profile_codes(reports)[ok]
    timed = code >= 0
    prof = np.bincount(g[timed] * 168 + code[timed], minlength=n_groups * 168)
    prof = prof.reshape(n_groups, 7, 24).astype(np.int64)
    n_rep = np.bincount(g, minlength=n_groups)
    sg_share = float(settings.hotspots.get("safeguarding_share", _DEFAULT_SAFEGUARDING_SHARE))
    return {
        "n_reports": [int(k) for k in n_rep],
        "counts": counts,
        "profile": [p.tolist() for p in prof],
        "active_hours": [active_hours(p, share=share) for p in prof],
        "skill": [_skill(c, settings, sg_share) for c in counts],
    }


def _hotspot_frame(
    labels: list[str],
    risk: np.ndarray,
    summary: dict[str, list[Any]],
    *,
    z: np.ndarray,
    p_adj: np.ndarray,
    segment_ids: list[list[int]],
    ids: list[str],
) -> pd.DataFrame:
    """The CONTRACTS hotspot columns (all but ``geometry``), ranked as given.

    ``ids`` are the stable place ids (:mod:`geo.hotspot_ids`); ``rank`` is 1, 2... in the
    order given.
    """
    return pd.DataFrame(
        {
            "hotspot_id": list(ids),
            "rank": np.arange(1, len(labels) + 1, dtype=np.int64),
            "label": labels,
            "risk": risk,
            "n_reports": summary["n_reports"],
            "counts": summary["counts"],
            "skill": summary["skill"],
            "active_hours": summary["active_hours"],
            "profile": summary["profile"],
            "z": z,
            "p_adj": p_adj,
            "segment_ids": segment_ids,
        }
    )


def segment_table(
    segments: gpd.GeoDataFrame,
    risk: pd.Series,
    gi: pd.DataFrame | None = None,
    *,
    smoothed: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Return the segments with ``risk``, ``smoothed_risk``, ``z``, ``p_adj`` and ``significant_hot``.

    Parameters
    ----------
    segments
        Street segments (EPSG:4326).
    risk
        :func:`segment_risk` output.
    gi
        :func:`gi_star` output (columns filled with NaN/False when omitted).
    smoothed
        :func:`smooth_risk` output (``risk`` copied when omitted).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``segments`` with the extra columns, for drawing.
    """
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    out = segments.copy()
    out["risk"] = risk.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    sm = smoothed if smoothed is not None else risk
    out["smoothed_risk"] = sm.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    if gi is not None:
        g = gi.reindex(ids)
        out["z"] = g["z"].to_numpy(dtype=float)
        out["p_adj"] = g["p_adj"].fillna(1.0).to_numpy(dtype=float)
        out["significant_hot"] = g["significant_hot"].fillna(False).to_numpy(dtype=bool)
    else:
        out["z"] = np.nan
        out["p_adj"] = np.nan
        out["significant_hot"] = False
    return out
