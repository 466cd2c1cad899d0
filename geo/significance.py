"""Significance of street-segment risk: segment adjacency, network bands and Gi* with FDR."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geo.risk import (
    _DIJKSTRA_BLOCK_BYTES,
    _check_segments,
    _incidence,
    _midpoint_graph,
    _opt,
    _resolve_settings,
)
from geo.settings import Settings

__all__ = ["gi_star", "segment_adjacency", "segment_band_adjacency"]


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


def segment_band_adjacency(segments: pd.DataFrame, *, band_m: float) -> sp.csr_matrix:
    """Binary weights between segments whose midpoints lie within ``band_m`` along the network.

    The network analogue of a distance-band weights matrix: on networks of short segments
    (footways, crossings) first-order adjacency gives each segment two or three
    neighbours, too few for Gi* to tell a cluster from noise; a band of the smoothing
    bandwidth gives it the street stretch around it. Computed with bounded Dijkstra from
    blocks of segment midpoints, no loop over segments.

    Parameters
    ----------
    segments
        Street segments (``segment_id``, ``length_m``, ``u``, ``v``).
    band_m
        The network distance band in metres (> 0).

    Returns
    -------
    scipy.sparse.csr_matrix
        n x n, symmetric, zero diagonal, 1 where two segments are within the band.
    """
    _check_segments(segments)
    if not (band_m > 0 and math.isfinite(band_m)):
        msg = "band_m must be a positive number of metres."
        raise ValueError(msg)
    graph, n_nodes = _midpoint_graph(segments)
    n = len(segments)
    block = max(1, int(_DIJKSTRA_BLOCK_BYTES // (8 * graph.shape[0])))
    rows_all: list[np.ndarray] = []
    cols_all: list[np.ndarray] = []
    for start in range(0, n, block):  # blocks of sources, not a loop over segments
        src = np.arange(start, min(n, start + block))
        dist = dijkstra(graph, directed=False, indices=n_nodes + src, limit=band_m)[:, n_nodes:]
        r, c = np.nonzero(dist <= band_m)
        keep = src[r] != c
        rows_all.append(src[r][keep])
        cols_all.append(c[keep])
    rows = np.concatenate(rows_all) if rows_all else np.empty(0, dtype=np.int64)
    cols = np.concatenate(cols_all) if cols_all else np.empty(0, dtype=np.int64)
    adj = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.float64)
    return adj.tocsr()


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
    inference: str = "permutation",
) -> pd.DataFrame:
    """Getis-Ord Gi* of ``values`` on segment adjacency, with FDR control.

    Uses ``esda.G_Local(values, w, transform="B", star=True, ...)`` where ``w`` is the
    binary segment adjacency (segments sharing an end node) with self-weight 1.
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
        ``"permutation"`` (default; esda's conditional permutation ``p_sim``) or
        ``"normal"`` (one-sided normal p of the analytical Gi* z, no permutations: no
        ``1/(P+1)`` floor, but optimistic for skewed, sparse values).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment_id`` with columns ``g``, ``z``, ``p_sim``, ``p_adj`` and
        ``significant_hot`` (``z > 0`` and ``p_adj <= fdr``).
    """
    _check_segments(segments)
    settings = _resolve_settings(settings)
    permutations, seed, fdr = _gi_options(permutations, seed, fdr, inference, settings)
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    y = _values_per_segment(values, ids)
    adj = segment_adjacency(segments) if adjacency is None else sp.csr_matrix(adjacency)
    island = np.diff(adj.indptr) == 0
    out = _untested_frame(ids)
    tested = ~island if tested is None else (np.asarray(tested, dtype=bool) & ~island)
    if not _testable(y, tested):
        return out  # nothing to test: no variation, or too few segments
    g = _run_g_local(y, adj, permutations=permutations, seed=seed, n_jobs=n_jobs)
    return _fill_gi(out, g, permutations=permutations, island=island, tested=tested, fdr=fdr)


def _gi_options(
    permutations: int | None,
    seed: int | None,
    fdr: float | None,
    inference: str,
    settings: Settings,
) -> tuple[int, int, float]:
    """Resolve the permutations, seed and FDR of :func:`gi_star` (0 permutations for normal)."""
    permutations = int(_opt(permutations, settings, "permutations", 999))
    seed = int(_opt(seed, settings, "seed", 12345))
    fdr = float(_opt(fdr, settings, "fdr", 0.05))
    if inference not in ("permutation", "normal"):
        msg = 'inference must be "permutation" or "normal".'
        raise ValueError(msg)
    if inference == "normal":
        permutations = 0
    return permutations, seed, fdr


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
