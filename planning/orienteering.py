"""The team orienteering problem with time windows: instance, solution and unit rounding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["OrienteeringInstance", "OrienteeringSolution", "scale_down", "scale_up"]


@dataclass
class OrienteeringInstance:
    """A team orienteering problem with time windows, in the instance's own units.

    Locations ``0..n-1`` include the depots. Time and distance coincide (``travel``).

    Attributes
    ----------
    travel
        ``n x n`` travel times, or a list of such matrices (one per travel mode) chosen per
        vehicle by ``vehicle_matrix``.
    scores
        Score of visiting each location (0 for depots).
    service
        Service (dwell) time at each location.
    starts, ends
        Start and end location of each vehicle; depots must not be visits.
    vehicle_windows
        ``(earliest departure, latest return)`` of each vehicle.
    windows
        Per location, the allowed intervals for the start of service, or ``None`` for the
        vehicle's whole horizon.
    allowed
        Per location, the vehicles that may visit it (``None`` = any).
    mandatory
        Per location, whether it carries a very large drop penalty.
    max_stops
        Per vehicle, the largest number of visits (``None`` = no cap).
    breaks
        Per vehicle, ``(duration, earliest start, latest start)`` of one break, or ``None``.
    min_gaps
        ``(i, j, gap)``: when both ``i`` and ``j`` are visited, ``j`` starts at least ``gap``
        after ``i`` starts.
    balance
        Prefer, among plans of equal score, those in which more vehicles make a stop (one
        idle vehicle costs more than any difference in travel): no team idles while another
        has a stop it could hand over.
    scale
        Model units per instance unit; travel and service are rounded up and windows inwards,
        so a route feasible in the model is feasible in the instance's units.
    score_scale
        Integer model score per unit of score (scores are rounded to integers after scaling).
    """

    travel: np.ndarray | Sequence[np.ndarray]
    scores: np.ndarray
    service: np.ndarray
    starts: Sequence[int]
    ends: Sequence[int]
    vehicle_windows: Sequence[tuple[float, float]]
    windows: Sequence[Sequence[tuple[float, float]] | None] | None = None
    vehicle_matrix: Sequence[int] | None = None
    allowed: Sequence[Sequence[int] | None] | None = None
    mandatory: Sequence[bool] | None = None
    max_stops: Sequence[int | None] | None = None
    breaks: Sequence[tuple[float, float, float] | None] | None = None
    min_gaps: Sequence[tuple[int, int, float]] = ()
    balance: bool = False
    scale: float = 1.0
    score_scale: float = 1.0

    @property
    def n(self) -> int:
        """Number of locations."""
        return len(self.scores)

    @property
    def n_vehicles(self) -> int:
        """Number of vehicles."""
        return len(self.starts)

    def matrices(self) -> list[np.ndarray]:
        """The travel matrices as a list."""
        if isinstance(self.travel, np.ndarray) and self.travel.ndim == 2:
            return [self.travel]
        return [np.asarray(m, dtype=np.float64) for m in self.travel]

    def matrix_of(self, vehicle: int) -> np.ndarray:
        """The travel matrix vehicle ``vehicle`` uses."""
        mats = self.matrices()
        return mats[0 if self.vehicle_matrix is None else self.vehicle_matrix[vehicle]]


@dataclass
class OrienteeringSolution:
    """Routes found by :func:`solve_orienteering`, in the instance's units.

    ``status`` is OR-Tools' routing status; ``stage`` says which search stage's routes these
    are (``"OR-Tools"``, or ``"first stage"`` when OR-Tools found nothing better).
    """

    routes: list[list[int]]
    service_starts: list[list[float]]
    depart: list[float]
    back: list[float]
    break_starts: list[float | None]
    score: float
    objective: int
    seconds: float
    status: str
    stage: str = "OR-Tools"

    @property
    def visited(self) -> set[int]:
        """All locations visited."""
        return {i for r in self.routes for i in r}


def scale_up(x: np.ndarray | float, scale: float) -> np.ndarray:
    """Scale to integer model units and round up, forgiving float noise (12.3 * 10 = 122.99999...).

    Parameters
    ----------
    x
        Values in the instance's units.
    scale
        Model units per instance unit.

    Returns
    -------
    numpy.ndarray
        ``int64`` model units.
    """
    return _scaled(x, scale, np.ceil)


def scale_down(x: np.ndarray | float, scale: float) -> np.ndarray:
    """Scale to integer model units and round down, forgiving float noise.

    Parameters and return are as for :func:`scale_up`.
    """
    return _scaled(x, scale, np.floor)


def _scaled(x: np.ndarray | float, scale: float, rounding: Callable[..., Any]) -> np.ndarray:
    """``x * scale`` rounded to 6 decimals (float noise), then by ``rounding``, as ``int64``."""
    return rounding(np.round(np.asarray(x, dtype=np.float64) * scale, 6)).astype(np.int64)
