"""The demo's cluster scenario: the street junctions that host the synthetic clusters, by kind."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from geo.street_tags import _DRIVE_HIGHWAY, _TRUNK, _WALK_EXCLUDED_HIGHWAY
from geo.streets import StreetNetwork

__all__ = [
    "ASB_RADIUS_M",
    "CLUSTER_KINDS",
    "CLUSTER_RADIUS_M",
    "CLUSTER_SKILLS",
    "CLUSTER_STRENGTH",
    "FINDS_RADIUS_M",
    "demo_clusters",
]

#: The story's clusters in pick order: four persistent, one emerging, one fading.
CLUSTER_KINDS = ("persistent", "persistent", "persistent", "persistent", "emerging", "fading")
#: The partner skill each cluster's mix of reports calls for most (same order): welfare-heavy
#: beats need outreach, a beat with many needle finds needs the sharps team.
CLUSTER_SKILLS = ("outreach", "police", "sharps", "police", "outreach", "police")
#: Relative intensity of each cluster: the persistent ones in pick order, then by kind.
CLUSTER_STRENGTH = {"persistent": (1.0, 0.8, 0.65, 0.5), "emerging": 1.6, "fading": 1.1}
#: Reach (along the network) of a cluster's night reports, its morning finds and its ASB.
CLUSTER_RADIUS_M = 130.0
FINDS_RADIUS_M = 180.0
ASB_RADIUS_M = 250.0

# Street classes a cluster may sit on: the drivable streets but motorways and trunk roads,
# and pedestrian streets and service roads (not footways, cycleways, steps or trails).
_STREET_HIGHWAYS = (_DRIVE_HIGHWAY - _WALK_EXCLUDED_HIGHWAY - _TRUNK) | {"pedestrian", "service"}
_MIN_SEPARATION_M = 380.0
_MIN_CLUSTER_SEGMENTS = 4
_MIN_CLUSTER_M = 200.0
_EDGE_MARGIN_M = 120.0
# Strictest first: distinct street names and a cluster of a few segments; then relax.
_TIERS = ((True, True), (False, True), (False, False))


def _street_mask(segments: pd.DataFrame) -> np.ndarray:
    highway = segments["highway"].astype(str).to_numpy()
    names = segments["name"].astype(str).to_numpy()
    return np.isin(highway, list(_STREET_HIGHWAYS)) & (names != "")


def demo_clusters(network: StreetNetwork, *, seed: int = 7) -> pd.DataFrame:
    """Choose the demo's street sex-work clusters: junctions of named streets, from the seed.

    Candidate junctions are nodes where two or more differently named streets (not
    footways) meet, away from the edge of the network. They are shuffled with the seed and
    taken greedily at least ~380 m apart (preferring streets not used yet). Each cluster is
    the stretch of those named streets within 130 m (along the network) of its junction.

    Parameters
    ----------
    network
        The street network.
    seed
        The seed; the same seed and network give the same clusters.

    Returns
    -------
    pandas.DataFrame
        One row per cluster in :data:`CLUSTER_KINDS` order: ``cluster`` ("A".."F"),
        ``kind``, ``skill`` (:data:`CLUSTER_SKILLS`), ``node``, ``lon``, ``lat`` (the
        junction), ``streets`` (sorted names) and ``segment_ids`` (sorted).
    """
    seg = network.segments
    if len(seg) == 0:
        msg = "The street network is empty; load a network before building the demo."
        raise ValueError(msg)
    street = _street_mask(seg)
    names = seg["name"].astype(str).to_numpy()
    pairs = _junction_names(seg, street, names)
    nodes_x, nodes_y = network.to_metric(
        network.nodes["x"].to_numpy(), network.nodes["y"].to_numpy()
    )
    cand = _inner_junctions(pairs, nodes_x, nodes_y)
    if len(cand) < len(CLUSTER_KINDS):
        msg = (
            f"The street network has only {len(cand)} junctions of named streets; the demo "
            f"needs at least {len(CLUSTER_KINDS)}. Use a larger network."
        )
        raise ValueError(msg)
    rng = np.random.default_rng([int(seed), 1])
    order = cand[rng.permutation(len(cand))]
    names_at = pairs.groupby("node")["name"].agg(lambda s: tuple(sorted(s)))
    members = _ClusterMembers(network, street, names, names_at)
    chosen = _choose_junctions(order, names_at, nodes_x, nodes_y, members.big_enough)
    return _cluster_table(network, chosen, members, names)


def _junction_names(seg: pd.DataFrame, street: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    """The distinct (node, street name) pairs at the ends of street segments."""
    u = seg["u"].to_numpy()
    v = seg["v"].to_numpy()
    ends = np.r_[u[street], v[street]]
    end_names = np.r_[names[street], names[street]]
    return pd.DataFrame({"node": ends, "name": end_names}).drop_duplicates()


def _inner_junctions(pairs: pd.DataFrame, nodes_x: np.ndarray, nodes_y: np.ndarray) -> np.ndarray:
    """Sorted nodes where two or more named streets meet, away from the network's edge."""
    n_names = pairs.groupby("node")["name"].nunique()
    cand = n_names.index[n_names >= 2].to_numpy(dtype=np.int64)
    x0, y0, x1, y1 = nodes_x.min(), nodes_y.min(), nodes_x.max(), nodes_y.max()
    margin = min(_EDGE_MARGIN_M, 0.1 * min(x1 - x0, y1 - y0))
    inner = (
        (nodes_x[cand] > x0 + margin)
        & (nodes_x[cand] < x1 - margin)
        & (nodes_y[cand] > y0 + margin)
        & (nodes_y[cand] < y1 - margin)
    )
    return np.sort(cand[inner])


class _ClusterMembers:
    """The street segments of the cluster around a junction, computed once per junction."""

    def __init__(
        self, network: StreetNetwork, street: np.ndarray, names: np.ndarray, names_at: pd.Series
    ) -> None:
        seg = network.segments
        self.street = street
        self.names = names
        self.names_at = names_at
        self.u = seg["u"].to_numpy()
        self.v = seg["v"].to_numpy()
        self.graph = network.node_matrix()
        self.length = seg["length_m"].to_numpy(dtype=float)
        self._members: dict[int, np.ndarray] = {}

    def of(self, node: int) -> np.ndarray:
        """Boolean mask of the junction's named streets within the cluster radius."""
        if node not in self._members:
            d = dijkstra(self.graph, directed=False, indices=node, limit=CLUSTER_RADIUS_M)
            near = np.minimum(d[self.u], d[self.v]) <= CLUSTER_RADIUS_M
            self._members[node] = self.street & np.isin(self.names, self.names_at[node]) & near
        return self._members[node]

    def big_enough(self, node: int) -> bool:
        """Whether the junction's cluster has enough segments and street length."""
        m = self.of(node)
        return int(m.sum()) >= _MIN_CLUSTER_SEGMENTS and self.length[m].sum() >= _MIN_CLUSTER_M


def _choose_junctions(
    order: np.ndarray,
    names_at: pd.Series,
    nodes_x: np.ndarray,
    nodes_y: np.ndarray,
    big_enough: Callable[[int], bool],
) -> list[int]:
    """Take junctions greedily in ``order``, relaxing the tiers and then the separation."""
    chosen: list[int] = []
    separation = _MIN_SEPARATION_M
    while len(chosen) < len(CLUSTER_KINDS):
        for distinct, sized in _TIERS:
            chosen = _choose_in_tier(
                order, names_at, nodes_x, nodes_y, big_enough, separation, distinct, sized
            )
            if len(chosen) == len(CLUSTER_KINDS):
                break
        separation = separation * 0.8 if separation > 1.0 else 0.0
    return chosen


def _choose_in_tier(
    order: np.ndarray,
    names_at: pd.Series,
    nodes_x: np.ndarray,
    nodes_y: np.ndarray,
    big_enough: Callable[[int], bool],
    separation: float,
    distinct: bool,
    sized: bool,
) -> list[int]:
    """One greedy pass over the junctions under one tier's rules."""
    used: set[str] = set()
    chosen: list[int] = []
    for node in order:
        if len(chosen) == len(CLUSTER_KINDS):
            break
        streets = set(names_at[node])
        if distinct and streets & used:
            continue
        if chosen:
            d = np.hypot(nodes_x[chosen] - nodes_x[node], nodes_y[chosen] - nodes_y[node])
            if d.min() < separation:
                continue
        if sized and not big_enough(int(node)):
            continue
        chosen.append(int(node))
        used |= streets
    return chosen


def _cluster_table(
    network: StreetNetwork, chosen: list[int], members: _ClusterMembers, names: np.ndarray
) -> pd.DataFrame:
    """One row per chosen junction, in :data:`CLUSTER_KINDS` order."""
    seg_ids_all = network.segments["segment_id"].to_numpy()
    rows = []
    for k, node in enumerate(chosen):
        member = members.of(node)
        rows.append(
            {
                "cluster": chr(ord("A") + k),
                "kind": CLUSTER_KINDS[k],
                "skill": CLUSTER_SKILLS[k],
                "node": node,
                "lon": float(network.nodes["x"].iloc[node]),
                "lat": float(network.nodes["y"].iloc[node]),
                "streets": sorted(set(names[member])),
                "segment_ids": [int(i) for i in np.sort(seg_ids_all[member])],
            }
        )
    return pd.DataFrame(rows)
