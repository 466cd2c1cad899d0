"""Significance of street-segment risk: segment adjacency, network bands and Gi* with FDR."""

from __future__ import annotations

import math
import warnings
from collections.abc import MutableMapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo.network_distance import band_adjacency
from geo.risk import _check_segments, _incidence, _opt, _resolve_settings
from geo.settings import Settings

__all__ = [
    "NORMAL_ABOVE_SEGMENTS",
    "PERMUTATION_MAX_SEGMENTS",
    "gi_star",
    "segment_adjacency",
    "segment_band_adjacency",
]

NORMAL_ABOVE_SEGMENTS = (
    5_000  # "auto": normal above (esda: 1.5 s at 5k, 2.8 s at 10k, 0 found at 26k)
)
PERMUTATION_MAX_SEGMENTS = 50_000  # esda copies the value array per segment: O(n^2)


def segment_adjacency(segments: pd.DataFrame) -> sp.csr_matrix:
    """Return the n x n segment adjacency (1 where two segments share an end node).

    Parameters
    ----------
    segments
        Street segments with ``u`` and ``v`` end-node positions.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, binary, zero diagonal.
    """
    _check_segments(segments)
    inc = _incidence(segments)
    adj = (inc @ inc.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    return adj


def segment_band_adjacency(
    segments: pd.DataFrame,
    *,
    band_m: float,
    cache: MutableMapping[Any, Any] | None = None,
    radius_m: float | None = None,
) -> sp.csr_matrix:
    """Binary weights between segments whose midpoints lie within ``band_m`` along the network.

    The network analogue of a distance-band weights matrix: on networks of short segments
    (footways, crossings) first-order adjacency gives each segment two or three
    neighbours, too few for Gi* to tell a cluster from noise; a band of the smoothing
    bandwidth gives it the street stretch around it. Computed with bounded Dijkstra
    searches tile by tile (:func:`geo.network_distance.midpoint_distances`, near-linear
    in the network size, equal to the full search).

    Parameters
    ----------
    segments
        Street segments (``segment_id``, ``length_m``, ``u``, ``v``).
    band_m
        The network distance band in metres (> 0).
    cache
        A StreetNetwork's analysis cache: the matrix is kept there under the band.
    radius_m
        Search this far (>= ``band_m``) so the same search serves the smoothing kernel.

    Returns
    -------
    scipy.sparse.csr_matrix
        n x n, symmetric, zero diagonal, 1 where two segments are within the band.
    """
    _check_segments(segments)
    if not (band_m > 0 and math.isfinite(band_m)):
        msg = "band_m must be a positive number of metres."
        raise ValueError(msg)
    return band_adjacency(segments, band_m=band_m, cache=cache, radius_m=radius_m)


def gi_star(
    segments: pd.DataFrame,
    values: pd.Series | np.ndarray,
    *,
    permutations: int | None = None,
    seed: int | None = None,
    fdr: float | None = None,
    n_jobs: int = 1,
    settings: Settings | None = None,
    adjacency: sp.spmatrix | None = None,
    tested: np.ndarray | None = None,
    inference: str = "auto",
) -> pd.DataFrame:
    """Getis-Ord Gi* of ``values`` on segment adjacency, with FDR control.

    The weights ``w`` are the binary segment adjacency (segments sharing an end node, or
    the ``adjacency`` given) with self-weight 1. The analytical statistics (``g``, ``z``)
    are computed here with sparse products, equal to
    ``esda.G_Local(values, w, transform="B", star=True)``; with permutation inference
    esda's conditional permutations give ``p_sim`` (only up to
    :data:`PERMUTATION_MAX_SEGMENTS` segments: its loop is per segment and copies the
    value array each time). ``inference="auto"`` (the default) uses permutations up to
    ``[hotspots] normal_above_segments`` segments (:data:`NORMAL_ABOVE_SEGMENTS`) and the
    normal approximation above, where the permutation floor ``1/(P+1)`` leaves
    Benjamini-Hochberg nothing to find.
    ``p_sim`` is esda's folded pseudo p-value; the hot-spot test is one-sided, so the
    p-value used for the Benjamini-Hochberg adjustment is ``p_sim`` where ``z > 0`` and
    1 elsewhere. Islands (segments with no neighbour) are not tested: ``z`` NaN, p 1.
    esda's randomisation is conditional on the segment's own value, so restricting the
    tested family with a rule on the own value alone (``tested``, e.g. "has reports")
    keeps the p-values valid and shrinks the Benjamini-Hochberg family.
    With ``P`` permutations the smallest p is ``1/(P+1)``; over ``m`` tested segments
    Benjamini-Hochberg then needs at least ``m / ((P+1) * fdr)`` segments at that floor
    before any is significant, so raise ``permutations`` on very large networks if
    genuine hotspots are missed.

    Parameters
    ----------
    segments
        Street segments (``segment_id``, ``u``, ``v``, ``length_m``).
    values
        The variable per segment (usually :func:`segment_risk`), aligned with rows or
        indexed by ``segment_id``.
    permutations
        Conditional permutations (default ``[hotspots] permutations``).
    seed
        Seed of the permutations (default ``[hotspots] seed``).
    fdr
        False-discovery rate for ``significant_hot`` (default ``[hotspots] fdr``).
    n_jobs
        Passed to esda (1 is fastest on small machines).
    settings
        Settings for the defaults.
    adjacency
        A precomputed :func:`segment_adjacency` to reuse.
    tested
        Boolean mask (segment rows) of the hypotheses to test; default all but islands.
        Untested segments get ``p_adj`` 1 and are never significant.
    inference
        ``"auto"`` (default, see above), ``"permutation"`` (esda's conditional
        permutation ``p_sim``) or ``"normal"`` (one-sided normal p of the analytical Gi*
        z, no permutations: no ``1/(P+1)`` floor, but optimistic for skewed, sparse
        values).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment_id`` with columns ``g``, ``z``, ``p_sim``, ``p_adj`` and
        ``significant_hot`` (``z > 0`` and ``p_adj <= fdr``).
    """
    _check_segments(segments)
    settings = _resolve_settings(settings)
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    permutations, seed, fdr = _gi_options(
        permutations, seed, fdr, inference, settings, n_segments=len(ids)
    )
    y = _values_per_segment(values, ids)
    adj = segment_adjacency(segments) if adjacency is None else sp.csr_matrix(adjacency)
    island = np.diff(adj.indptr) == 0
    out = _untested_frame(ids)
    tested = ~island if tested is None else (np.asarray(tested, dtype=bool) & ~island)
    if not _testable(y, tested):
        return out  # nothing to test: no variation, or too few segments
    if permutations:
        g = _run_g_local(y, adj, permutations=permutations, seed=seed, n_jobs=n_jobs)
    else:
        g = _analytic_g_local(y, adj)
    return _fill_gi(out, g, permutations=permutations, island=island, tested=tested, fdr=fdr)


def _gi_options(
    permutations: int | None,
    seed: int | None,
    fdr: float | None,
    inference: str,
    settings: Settings,
    *,
    n_segments: int,
) -> tuple[int, int, float]:
    """Resolve the permutations, seed and FDR of :func:`gi_star` (0 permutations for normal)."""
    permutations = int(_opt(permutations, settings, "permutations", 999))
    seed = int(_opt(seed, settings, "seed", 12345))
    fdr = float(_opt(fdr, settings, "fdr", 0.05))
    if inference not in ("auto", "permutation", "normal"):
        msg = 'inference must be "auto", "permutation" or "normal".'
        raise ValueError(msg)
    if inference == "auto":
        above = int(_opt(None, settings, "normal_above_segments", NORMAL_ABOVE_SEGMENTS))
        inference = "normal" if n_segments > above else "permutation"
    if inference == "normal":
        permutations = 0
    elif permutations and n_segments > PERMUTATION_MAX_SEGMENTS:
        msg = (
            f"Permutation inference is limited to {PERMUTATION_MAX_SEGMENTS:,} segments "
            f"(this network has {n_segments:,}); use inference='normal' or 'auto'."
        )
        raise ValueError(msg)
    return permutations, seed, fdr


def _analytic_g_local(y: np.ndarray, adj: sp.csr_matrix) -> SimpleNamespace:
    """Gi* with binary weights and self-weight 1: ``Gs``, ``Zs`` and ``p_norm`` as esda gives them.

    ``G*_i = sum_j w_ij y_j / sum_j y_j``, ``E = W_i / n``,
    ``V = W_i (n - W_i) / (n - 1) / n^2 * s^2 / ybar^2`` (esda ``G_Local.calc`` with
    ``star=True``); two sparse passes, no permutations.
    """
    from scipy.stats import norm

    n = len(y)
    w = (sp.csr_matrix(adj) + sp.identity(n, format="csr")).tocsr()
    w.data[:] = 1.0  # binary, as esda's transform "B"
    total = y.sum()
    mean = total / n
    var = (y**2).sum() / n - mean**2
    card = np.asarray(w.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (w @ y) / total
        vg = card * (n - card) / (n - 1) / n**2 * var / mean**2
        z = (g - card / n) / np.sqrt(vg)
    return SimpleNamespace(Gs=g, Zs=z, p_norm=norm.sf(np.abs(z)))


def _values_per_segment(values: pd.Series | np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The tested variable aligned with the segment rows (a Series is matched by id)."""
    if isinstance(values, pd.Series):
        y = values.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    else:
        y = np.asarray(values, dtype=float)
    if y.shape != (len(ids),):
        msg = "values must hold one value per segment; compute them with segment_risk()."
        raise ValueError(msg)
    return y


def _untested_frame(ids: np.ndarray) -> pd.DataFrame:
    """The Gi* result of segments that are not tested: NaN statistics, p 1, not significant."""
    n = len(ids)
    return pd.DataFrame(
        {
            "g": np.full(n, np.nan),
            "z": np.full(n, np.nan),
            "p_sim": np.ones(n),
            "p_adj": np.ones(n),
            "significant_hot": np.zeros(n, dtype=bool),
        },
        index=pd.Index(ids, name="segment_id"),
    )


def _testable(y: np.ndarray, tested: np.ndarray) -> bool:
    """Whether there is anything to test: enough segments, finite and varying values."""
    return not (
        len(y) < 3
        or tested.sum() < 2
        or not np.all(np.isfinite(y))
        or np.ptp(y) == 0
        or y.sum() <= 0
    )


def _run_g_local(
    y: np.ndarray, adj: sp.csr_matrix, *, permutations: int, seed: int, n_jobs: int
) -> Any:
    """esda's Gi* with self-weight 1, leaving numpy's global random state as it was."""
    import esda
    from libpysal.weights import WSP

    n = len(y)
    w = WSP((adj + sp.identity(n, format="csr")).tocsr()).to_W(silence_warnings=True)
    state = np.random.get_state()  # esda seeds numpy's global generator
    try:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            return esda.G_Local(
                y,
                w,
                transform="B",
                star=True,
                permutations=permutations,
                seed=seed,
                n_jobs=n_jobs,
                keep_simulations=False,
            )
    finally:
        np.random.set_state(state)


def _fill_gi(
    out: pd.DataFrame,
    g: Any,
    *,
    permutations: int,
    island: np.ndarray,
    tested: np.ndarray,
    fdr: float,
) -> pd.DataFrame:
    """Write esda's statistics and the Benjamini-Hochberg adjusted one-sided p into ``out``."""
    from scipy.stats import false_discovery_control

    n = len(out)
    z = np.asarray(g.Zs, dtype=float)
    if permutations:
        p_sim = np.asarray(g.p_sim, dtype=float)
    else:  # one-sided upper-tail normal p of the analytical z
        p_sim = np.where(z > 0, np.asarray(g.p_norm, dtype=float), 1.0)
    z[island] = np.nan
    p_sim = np.where(island, 1.0, p_sim)
    p_hot = np.where(np.nan_to_num(z, nan=0.0) > 0, p_sim, 1.0)
    p_adj = np.ones(n)
    if tested.any():
        p_adj[tested] = false_discovery_control(p_hot[tested], method="bh")
    out["g"] = np.where(island, np.nan, np.asarray(g.Gs, dtype=float))
    out["z"] = z
    out["p_sim"] = p_sim
    out["p_adj"] = p_adj
    out["significant_hot"] = tested & (np.nan_to_num(z, nan=0.0) > 0) & (p_adj <= fdr)
    return out
