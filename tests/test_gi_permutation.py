"""Tests of the vectorised conditional-permutation Gi* (geo.significance) against exact and esda p."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import false_discovery_control

from geo.significance import _permutation_g_local, _run_g_local, gi_star, segment_adjacency
from tests.test_hotspots import grid_segments


def _exact_directed_p(y: np.ndarray, adj: np.ndarray, i: int) -> float:
    """The limit of esda's folded p for segment ``i``: min(q, 1 - q), q = P(draw sum >= lag_i).

    Enumerates every set of ``c_i`` other segments (the conditional randomisation's
    outcomes, all equally likely).
    """
    nb = np.flatnonzero(adj[i])
    lag = y[nb].sum()
    others = [j for j in range(len(y)) if j != i]
    sums = np.array([y[list(c)].sum() for c in itertools.combinations(others, len(nb))])
    q = float((sums >= lag - 1e-12).mean())
    return min(q, 1.0 - q)


def test_permutation_p_matches_the_exact_conditional_distribution():
    # A dense random graph: most segments are among their own first draws, so the
    # "skip yourself, take one more" branch is exercised constantly.
    rng = np.random.default_rng(4)
    n = 9
    upper = np.triu(rng.random((n, n)) < 0.6, 1)
    adj = (upper | upper.T).astype(float)
    adj[0, 1:] = adj[1:, 0] = 1.0  # segment 0 neighbours all 8 others (one possible draw)
    y = rng.gamma(2.0, 1.0, n)
    y[[0, 1, 2]] += 4.0  # a planted high cluster
    perms = 20_000
    out = _permutation_g_local(y, sp.csr_matrix(adj), permutations=perms, seed=7, rows=np.arange(n))
    for i in range(n):
        exact = _exact_directed_p(y, adj, i)
        sd = np.sqrt(max(exact * (1 - exact), 1e-4) / perms)
        assert abs(out.p_sim[i] - exact) <= 5 * sd + 2 / perms, (i, out.p_sim[i], exact)
    assert out.p_sim[0] == pytest.approx(1 / (perms + 1))  # its only draw equals the observed


def test_permutation_p_agrees_with_esda_statistically():
    # 180 grid segments with a network-band-like neighbourhood (adjacency squared) and a
    # planted cluster: same analytical statistics, same p-value distribution, same hot set.
    grid = grid_segments()
    a1 = segment_adjacency(grid)
    adj = ((a1 + a1 @ a1) > 0).astype(float).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    rng = np.random.default_rng(11)
    y = rng.gamma(1.5, 1.0, len(grid))
    y[40:52] += 30.0
    rows = np.arange(len(grid))
    ours = _permutation_g_local(y, adj, permutations=999, seed=3, rows=rows)
    ref = _run_g_local(y, adj, permutations=999, seed=3, n_jobs=1)
    np.testing.assert_allclose(ours.Zs, ref.Zs, rtol=1e-9)
    np.testing.assert_allclose(ours.Gs, ref.Gs, rtol=1e-9)
    p_ours, p_ref = ours.p_sim, np.asarray(ref.p_sim, dtype=float)
    # Each p is a Monte Carlo estimate (sd <= 0.016 at P = 999): they differ by noise only.
    assert np.abs(p_ours - p_ref).max() < 0.08
    assert abs(p_ours.mean() - p_ref.mean()) < 0.03  # shared draws correlate the p
    assert np.corrcoef(p_ours, p_ref)[0, 1] > 0.98

    def hot(p: np.ndarray) -> tuple[set[int], set[int]]:
        p_hot = np.where(ours.Zs > 0, p, 1.0)
        bh = false_discovery_control(p_hot, method="bh") <= 0.05
        return set(np.flatnonzero(bh)), set(np.flatnonzero(p_hot <= 0.01))

    for found, expected in zip(hot(p_ours), hot(p_ref), strict=True):
        assert len(expected) >= 10, "the planted cluster must be significant"
        assert len(found & expected) / len(found | expected) >= 0.75


def test_permutation_gi_star_is_seeded_and_leaves_numpy_random_state_alone():
    grid = grid_segments()
    y = np.random.default_rng(2).poisson(2.0, len(grid)).astype(float)
    np.random.seed(99)
    state = np.random.get_state()[1].copy()
    a = gi_star(grid, y, inference="permutation", permutations=199, seed=5)
    b = gi_star(grid, y, inference="permutation", permutations=199, seed=5)
    c = gi_star(grid, y, inference="permutation", permutations=199, seed=6)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    np.testing.assert_array_equal(a["p_sim"], b["p_sim"])
    assert not np.array_equal(a["p_sim"], c["p_sim"])
    assert ((a["p_sim"] >= 1 / 200) & (a["p_sim"] <= 0.5 + 1 / 200)).all()


def test_untested_segments_get_no_permutations():
    grid = grid_segments()
    y = np.random.default_rng(8).poisson(2.0, len(grid)).astype(float)
    tested = y > 1
    gi = gi_star(grid, y, inference="permutation", permutations=99, seed=1, tested=tested)
    assert (gi["p_sim"].to_numpy()[~tested] == 1.0).all()
    assert (gi["p_adj"].to_numpy()[~tested] == 1.0).all()
    assert (gi["p_sim"].to_numpy()[tested] < 1.0).any()
