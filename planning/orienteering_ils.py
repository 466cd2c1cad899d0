"""Ruin-and-recreate iterated local search: the first stage of the orienteering solver."""

from __future__ import annotations

import numpy as np

__all__ = ["IteratedLocalSearch"]


class IteratedLocalSearch:
    """Iterated local search for the team orienteering problem with time windows.

    Vansteenwegen, Souffriau, Vanden Berghe and Van Oudheusden (2009), *Iterated local search
    for the team orienteering problem with time windows*, Computers & Operations Research 36:
    insertion by the ratio score^2 / time added, checked in O(1) with each visit's wait and
    ``maxShift``; shaking removes ``S`` consecutive visits from position ``R`` of every route.
    Works on the integer model data, so its routes are feasible for the OR-Tools model except
    for breaks and revisit gaps (which OR-Tools then enforces or repairs).
    """

    def __init__(
        self,
        mats: list[np.ndarray],
        vmat: list[int],
        service: np.ndarray,
        cand_node: np.ndarray,
        cand_open: np.ndarray,
        cand_close: np.ndarray,
        cand_group: np.ndarray,
        cand_score: np.ndarray,
        cand_allowed: np.ndarray,
        starts: list[int],
        ends: list[int],
        vwin: list[tuple[int, int]],
        caps: list[int],
        breaks: list[tuple[int, int, int] | None] | None = None,
    ) -> None:
        self.mats = [m.astype(np.float64) for m in mats]
        self.vmat, self.service = vmat, service.astype(np.float64)
        self.node, self.open, self.close = (
            cand_node,
            cand_open.astype(float),
            cand_close.astype(float),
        )
        self.group, self.score, self.allowed = cand_group, cand_score.astype(float), cand_allowed
        self.starts, self.ends, self.vwin, self.caps = starts, ends, vwin, caps
        self.m = len(starts)
        self.routes: list[list[int]] = [[] for _ in range(self.m)]
        self.stall_limit = 300
        horizon = max(b for _, b in vwin)
        # Visits whose window never binds (and symmetric travel): 2-opt may reorder them freely.
        symmetric = all(np.allclose(m, m.T) for m in self.mats)
        self.free = (self.open <= min(a for a, _ in vwin)) & (self.close >= horizon) & symmetric
        self.group_used = np.zeros(int(cand_group.max(initial=-1)) + 1, dtype=bool)
        # A team with a break plans its stops in its window less the break, which leaves the
        # room :meth:`fit_breaks` then finds for the break (by removing stops if need be).
        self.breaks = list(breaks) if breaks is not None else [None] * self.m
        self.full_vwin = list(vwin)
        self.vwin = [
            (a, max(a, b - spec[0])) if spec is not None else (a, b)
            for (a, b), spec in zip(vwin, self.breaks, strict=True)
        ]
        self.break_starts: list[int | None] = [None] * self.m
        self.sched = [self._schedule(v) for v in range(self.m)]

    def _schedule(self, v: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        t = self.mats[self.vmat[v]]
        cands = self.routes[v]
        nodes = np.array([self.starts[v], *self.node[cands], self.ends[v]], dtype=np.int64)
        a, b = self.vwin[v]
        opens = np.concatenate([[a], self.open[cands], [a]])
        closes = np.concatenate([[b], self.close[cands], [b]])
        n = len(nodes)
        start = np.empty(n)
        wait = np.zeros(n)
        start[0] = a
        for i in range(1, n):
            arr = start[i - 1] + self.service[nodes[i - 1]] + t[nodes[i - 1], nodes[i]]
            start[i] = max(arr, opens[i])
            wait[i] = start[i] - arr
        maxshift = np.empty(n)
        maxshift[-1] = b - start[-1]
        for i in range(n - 2, -1, -1):
            maxshift[i] = min(closes[i] - start[i], wait[i + 1] + maxshift[i + 1])
        return nodes, start, wait, maxshift

    def insert_best(self, power: float = 2.0, noise: np.ndarray | None = None) -> bool:
        """Insert the feasible candidate with the best score^power / time added.

        Parameters
        ----------
        power
            Exponent of the score in the insertion ratio.
        noise
            Optional factor per candidate on its score (randomised restarts).

        Returns
        -------
        bool
            Whether a candidate was inserted.
        """
        avail = ~self.group_used[self.group]
        best = (-np.inf, -1, -1, -1)
        for v in range(self.m):
            if len(self.routes[v]) >= self.caps[v]:
                continue
            cand = np.flatnonzero(avail & self.allowed[:, v])
            if cand.size == 0:
                continue
            t = self.mats[self.vmat[v]]
            nodes, start, wait, maxshift = self.sched[v]
            prev, nxt = nodes[:-1], nodes[1:]
            jn = self.node[cand]
            t_in = t[prev][:, jn].T
            arr = (start[:-1] + self.service[prev])[None, :] + t_in
            ok = arr <= self.close[cand][:, None]
            w = np.maximum(0.0, self.open[cand][:, None] - arr)
            shift = t_in + w + self.service[jn][:, None] + t[jn][:, nxt] - t[prev, nxt][None, :]
            ok &= shift <= (wait[1:] + maxshift[1:])[None, :]
            if not ok.any():
                continue
            value = self.score[cand] ** power
            if noise is not None:
                value = value * noise[cand]
            ratio = np.where(ok, value[:, None] / np.maximum(shift, 1e-3), -np.inf)
            k = int(np.argmax(ratio))
            r = ratio.flat[k]
            if r > best[0]:
                best = (r, v, int(cand[k // ratio.shape[1]]), k % ratio.shape[1])
        if best[1] < 0:
            return False
        _, v, c, pos = best
        self.routes[v].insert(pos, c)
        self.group_used[self.group[c]] = True
        self.sched[v] = self._schedule(v)
        return True

    def shake(self, s: int, r: int) -> None:
        """Remove ``s`` consecutive visits from position ``r`` (modulo its length) of every route.

        Parameters
        ----------
        s
            Number of visits removed per route.
        r
            Position of the first one.
        """
        for v in range(self.m):
            route = self.routes[v]
            if not route:
                continue
            a = r % len(route)
            for c in route[a : a + s]:
                self.group_used[self.group[c]] = False
            del route[a : a + s]
            self.sched[v] = self._schedule(v)

    def total(self) -> float:
        """Total score of the current routes."""
        return float(sum(self.score[c] for route in self.routes for c in route))

    def restore(self, routes: list[list[int]]) -> None:
        """Make ``routes`` (candidate indices per vehicle) the current routes.

        Parameters
        ----------
        routes
            As returned by :meth:`run`.
        """
        self._restore(routes)

    def fit_breaks(self) -> None:
        """Give every team its full window back and place its break, dropping stops if need be.

        A break (``(duration, earliest start, latest start)`` in model units) goes in the
        first gap between two route positions where it can start in its window and the rest of
        the route can be delayed by it (each visit's ``maxShift``); it may fall during the
        travel of that leg, as in OR-Tools' breaks. Where no gap holds it, the lowest-scoring
        visit overlapping the break window (else the lowest-scoring one) is dropped and the
        search repeated, so a route always ends up feasible with its break (an empty route
        takes it at the base). The break starts found are in :attr:`break_starts`.
        """
        self.vwin = list(self.full_vwin)
        for v in range(self.m):
            self.sched[v] = self._schedule(v)
            spec = self.breaks[v]
            if spec is None:
                continue
            while True:
                at = self._break_gap(v, spec)
                if at is not None or not self.routes[v]:
                    self.break_starts[v] = at
                    break
                self._drop(v, self._break_victim(v, spec))

    def _break_gap(self, v: int, spec: tuple[int, int, int]) -> int | None:
        """Start of the break in the first gap of route ``v`` that holds it, or ``None``."""
        dur, lo, hi = spec
        t = self.mats[self.vmat[v]]
        nodes, start, _, maxshift = self.sched[v]
        for i in range(len(nodes) - 1):
            end_i = start[i] + self.service[nodes[i]]
            at = max(end_i, lo)
            if at > hi:
                return None
            arrive = max(at + dur, end_i + t[nodes[i], nodes[i + 1]] + dur)
            if arrive - start[i + 1] <= maxshift[i + 1] + 1e-9:
                return int(at)
        return None

    def _break_victim(self, v: int, spec: tuple[int, int, int]) -> int:
        """Position in route ``v`` of the visit to drop to make room for its break."""
        dur, lo, hi = spec
        route = self.routes[v]
        start = self.sched[v][1][1:-1]
        ends = start + self.service[self.node[route]]
        near = (ends >= lo) & (start <= hi + dur)
        score = np.where(near, self.score[route], np.inf)
        if not near.any():
            score = self.score[route]
        return int(np.argmin(score))

    def _drop(self, v: int, pos: int) -> None:
        """Remove the visit at position ``pos`` of route ``v``."""
        c = self.routes[v].pop(pos)
        self.group_used[self.group[c]] = False
        self.sched[v] = self._schedule(v)

    def fit_gaps(self, gaps: list[tuple[int, int, int]]) -> None:
        """Drop second visits that cannot start ``gap`` after the first (model nodes and units).

        Parameters
        ----------
        gaps
            ``(first node, second node, gap)``.
        """
        for first, second, gap in gaps:
            at: dict[int, tuple[int, int, float, float]] = {}
            for v, route in enumerate(self.routes):
                _, start, _, maxshift = self.sched[v]
                for pos, c in enumerate(route):
                    at[int(self.node[c])] = (v, pos, start[pos + 1], maxshift[pos + 1])
            if first not in at or second not in at:
                continue
            v1, p1, s1, _ = at[first]
            v2, p2, s2, slack = at[second]
            if (v1 == v2 and p2 < p1) or s2 + slack < s1 + gap:
                self._drop(v2, p2)

    def _restore(self, routes: list[list[int]]) -> None:
        self.routes = [list(x) for x in routes]
        self.group_used[:] = False
        for route in self.routes:
            self.group_used[self.group[route]] = True
        self.sched = [self._schedule(v) for v in range(self.m)]

    def _two_opt(self, v: int) -> bool:
        """Best-improvement 2-opt on a route whose visits have no binding window."""
        route = self.routes[v]
        if len(route) < 3 or not self.free[route].all():
            return False
        t = self.mats[self.vmat[v]]
        improved = False
        for _ in range(4 * len(route)):
            p = np.array([self.starts[v], *self.node[route], self.ends[v]], dtype=np.int64)
            a, b = p[:-1], p[1:]
            delta = t[a[:, None], a[None, :]] + t[b[:, None], b[None, :]]
            delta -= t[a, b][:, None] + t[a, b][None, :]
            delta = np.triu(delta, 2)
            # The move reverses visits i+1..j; the first index is the start depot.
            i, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if delta[i, j] >= -1e-9:
                break
            route[i:j] = route[i:j][::-1]
            improved = True
        if improved:
            self.sched[v] = self._schedule(v)
        return improved

    def _fill(self, power: float = 2.0, noise: np.ndarray | None = None) -> float:
        for _ in range(3):
            while self.insert_best(power, noise):
                pass
            if not any([self._two_opt(v) for v in range(self.m)]):
                break
        return self.total()

    def run(
        self, deadline: float, *, max_iterations: int | None = None, seed: int = 0
    ) -> list[list[int]]:
        """Ruin and recreate from the greedy start until ``deadline``; return the best routes.

        Parameters
        ----------
        deadline
            ``time.perf_counter()`` value at which to stop.
        max_iterations
            Optional cap on the ruin-and-recreate iterations.
        seed
            Seed of the random choices.

        Returns
        -------
        list[list[int]]
            Candidate indices per vehicle, in visiting order.
        """
        import time as _time

        rng = np.random.default_rng(seed)
        self.iterations = 0
        current = self._fill()
        best_score, best = current, [list(x) for x in self.routes]
        cur_routes = [list(x) for x in self.routes]
        t_begin = _time.perf_counter()
        span = max(deadline - t_begin, 1e-6)
        xy_node = self.node
        stall = 0
        while _time.perf_counter() < deadline:
            if max_iterations is not None and self.iterations >= max_iterations:
                break
            if stall >= self.stall_limit:
                # Diversify: a fresh randomised greedy start (the best so far is kept).
                self._restore([[] for _ in range(self.m)])
                noise = rng.uniform(0.5, 1.5, size=len(self.node))
                current = self._fill(float(rng.choice([1.0, 2.0, 3.0])), noise)
                cur_routes, stall = [list(x) for x in self.routes], 0
            self.iterations += 1
            progress = (_time.perf_counter() - t_begin) / span
            kind = rng.integers(0, 3)
            for v in range(self.m):
                route = self.routes[v]
                if not route:
                    continue
                size = int(rng.integers(1, len(route) // 2 + 2))
                if kind == 0:  # a run of consecutive visits
                    a = int(rng.integers(0, len(route)))
                    drop = route[a : a + size]
                elif kind == 1:  # random visits
                    drop = list(rng.choice(route, size=min(size, len(route)), replace=False))
                else:  # visits close (in travel) to a random one
                    t = self.mats[self.vmat[v]]
                    pivot = xy_node[route[int(rng.integers(0, len(route)))]]
                    near = np.argsort(t[pivot, xy_node[route]])[:size]
                    drop = [route[i] for i in near]
                for c in drop:
                    self.group_used[self.group[c]] = False
                self.routes[v] = [c for c in route if c not in set(drop)]
                self.sched[v] = self._schedule(v)
            noise = rng.uniform(0.8, 1.2, size=len(self.node))
            score = self._fill(float(rng.choice([1.0, 2.0, 3.0])), noise)
            if score > best_score + 1e-9:
                best_score, best = score, [list(x) for x in self.routes]
                stall = 0
            else:
                stall += 1
            threshold = 0.03 * (1.0 - progress)
            if score >= current - 1e-9 or score >= best_score * (1.0 - threshold):
                current, cur_routes = score, [list(x) for x in self.routes]
            else:
                self._restore(cur_routes)
        return best
