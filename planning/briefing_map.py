"""Route maps for team briefings: the route drawn on the street network as a PNG (no web tiles)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from planning.charts import chart_style, pyplot
from planning.routes import TeamRoute

__all__ = ["M_PER_DEG_LAT", "M_PER_DEG_LON", "TEAM_COLOURS", "route_map_png", "team_colour"]

#: Team colours on maps and headings (print-safe, distinguishable in greyscale order).
TEAM_COLOURS = (
    "#1f5fa8",
    "#c0392b",
    "#1e8449",
    "#7d3c98",
    "#d35400",
    "#117a8b",
    "#6e4b2a",
    "#b03a78",
)
#: Metres per degree of latitude, and of longitude at the equator.
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
_MAJOR = {"motorway", "trunk", "primary", "secondary"}
_MEDIUM = {"tertiary", "unclassified", "residential", "living_street"}


def team_colour(index: int) -> str:
    """Return the colour used for the team at position ``index`` in the plan.

    Parameters
    ----------
    index
        The team's position in ``plan.routes``.

    Returns
    -------
    str
        A hex colour.
    """
    return TEAM_COLOURS[index % len(TEAM_COLOURS)]


def _nice_scale(span_m: float) -> int:
    for step in (50, 100, 200, 250, 500, 1000, 2000, 5000):
        if step >= span_m / 6:
            return step
    return 10_000


@dataclass(frozen=True)
class _Frame:
    """Local metric coordinates around the route and the map's extent in them."""

    lon0: float
    lat0: float
    kx: float
    ky: float
    xmin: float
    xmax: float
    ymin: float
    ymax: float

    def xy(self, arr: np.ndarray) -> np.ndarray:
        """Longitude/latitude pairs to metres east and north of the centre."""
        arr = np.asarray(arr, dtype=float).reshape(-1, 2)
        return np.column_stack(
            [(arr[:, 0] - self.lon0) * self.kx, (arr[:, 1] - self.lat0) * self.ky]
        )


def _map_frame(pts: np.ndarray, width_in: float, height_in: float) -> _Frame:
    """Centre on ``pts``, pad round them and fit the figure's aspect ratio."""
    lon0, lat0 = float(np.mean(pts[:, 0])), float(np.mean(pts[:, 1]))
    kx = M_PER_DEG_LON * math.cos(math.radians(lat0))
    ky = M_PER_DEG_LAT
    p = _Frame(lon0, lat0, kx, ky, 0.0, 0.0, 0.0, 0.0).xy(pts)
    xmin, ymin = p.min(axis=0)
    xmax, ymax = p.max(axis=0)
    pad = max(120.0, 0.08 * max(xmax - xmin, ymax - ymin))
    xmin, xmax, ymin, ymax = xmin - pad, xmax + pad, ymin - pad, ymax + pad
    # Fit the figure's aspect ratio.
    want = width_in / height_in
    w, h = xmax - xmin, ymax - ymin
    if w / h < want:
        grow = (h * want - w) / 2
        xmin, xmax = xmin - grow, xmax + grow
    else:
        grow = (w / want - h) / 2
        ymin, ymax = ymin - grow, ymax + grow
    return _Frame(lon0, lat0, kx, ky, xmin, xmax, ymin, ymax)


def _draw_streets(
    ax: Any,
    segments: pd.DataFrame,
    frame: _Frame,
    path: Sequence[tuple[float, float]],
    *,
    max_labels: int,
    pe: Any,
) -> None:
    """Grey streets in view (wider and darker for main roads) and the names near the route."""
    from matplotlib.collections import LineCollection

    f = frame
    lo_lon, hi_lon = f.lon0 + f.xmin / f.kx, f.lon0 + f.xmax / f.kx
    lo_lat, hi_lat = f.lat0 + f.ymin / f.ky, f.lat0 + f.ymax / f.ky
    view = segments.cx[lo_lon:hi_lon, lo_lat:hi_lat]
    if not len(view):
        return
    geoms = np.asarray(view.geometry.values)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    local = f.xy(coords)
    splits = np.flatnonzero(np.diff(idx)) + 1
    lines = np.split(local, splits)
    hw = view["highway"].astype(str).to_numpy() if "highway" in view else None
    widths = np.full(len(lines), 0.6)
    colours = np.full(len(lines), "#c8c8c8", dtype=object)
    if hw is not None:
        present = np.unique(idx)
        hw_lines = hw[present]
        widths = np.where(
            np.isin(hw_lines, list(_MAJOR)),
            2.2,
            np.where(np.isin(hw_lines, list(_MEDIUM)), 1.1, 0.6),
        )
        colours = np.where(np.isin(hw_lines, list(_MAJOR)), "#a9a9a9", "#c4c4c4")
    ax.add_collection(LineCollection(lines, linewidths=widths, colors=list(colours), zorder=1))
    _label_streets(ax, view, f.xy, path, max_labels=max_labels, pe=pe)


def _draw_route(
    ax: Any,
    route: TeamRoute,
    path: Sequence[tuple[float, float]],
    xy: Callable[[np.ndarray], np.ndarray],
    colour: str,
) -> None:
    """The route in the team colour on a white casing, with an arrow at the middle of each leg."""
    route_xy = xy(np.array(path, dtype=float))
    ax.plot(route_xy[:, 0], route_xy[:, 1], color="white", lw=5.5, zorder=3, solid_capstyle="round")
    ax.plot(
        route_xy[:, 0],
        route_xy[:, 1],
        color=colour,
        lw=2.8,
        zorder=4,
        solid_capstyle="round",
        solid_joinstyle="round",
    )
    # Direction arrows at the middle of each leg.
    for leg in route.legs:
        lx = xy(np.array(leg, dtype=float)) if len(leg) >= 2 else None
        if lx is None:
            continue
        seglen = np.hypot(*np.diff(lx, axis=0).T)
        if seglen.sum() < 60:
            continue
        cum = np.concatenate([[0], np.cumsum(seglen)])
        k = int(np.searchsorted(cum, cum[-1] / 2)) - 1
        k = min(max(k, 0), len(lx) - 2)
        a, b = lx[k], lx[k + 1]
        mid = (a + b) / 2
        ax.annotate(
            "",
            xy=mid + (b - a) * 0.01,
            xytext=mid - (b - a) * 0.01,
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 0, "mutation_scale": 16},
            zorder=5,
        )


def _base_marker(ax: Any, at: np.ndarray, letter: str, colour: str) -> None:
    """A square base marker with a letter (B for the base, E for a different end base)."""
    ax.scatter(
        [at[0]], [at[1]], marker="s", s=150, color=colour, edgecolor="white", lw=1.2, zorder=6
    )
    _white_label(ax, at[0], at[1], letter, fontsize=7.5, zorder=7)


def _white_label(ax: Any, x: float, y: float, text: str, *, fontsize: float, zorder: int) -> None:
    """Bold white text centred on a marker (a base letter or a stop number)."""
    ax.text(
        x,
        y,
        text,
        color="white",
        ha="center",
        va="center",
        fontsize=fontsize,
        weight="bold",
        zorder=zorder,
    )


def _draw_stops(ax: Any, route: TeamRoute, frame: _Frame, colour: str) -> None:
    """The base (B), a different end base (E) and the numbered stops, side by side when shared."""
    base = route.team.base
    xy = frame.xy
    _base_marker(ax, xy(np.array([base]))[0], "B", "#222")
    if route.team.end_base is not None and route.team.end_base != base:
        _base_marker(ax, xy(np.array([route.team.end_base]))[0], "E", "#555")
    seen: dict[tuple[float, float], int] = {}
    for s in route.stops:
        sx = xy(np.array([(s.lon, s.lat)]))[0]
        key = (round(s.lon, 5), round(s.lat, 5))
        n = seen.get(key, 0)
        seen[key] = n + 1
        off = np.array([n * 0.018 * (frame.xmax - frame.xmin), 0.0])
        ax.scatter(
            [sx[0] + off[0]],
            [sx[1] + off[1]],
            s=230,
            color=colour,
            edgecolor="white",
            lw=1.5,
            zorder=8,
        )
        _white_label(ax, sx[0] + off[0], sx[1] + off[1], str(s.order), fontsize=8, zorder=9)


def _draw_scale_and_north(ax: Any, frame: _Frame, pe: Any) -> None:
    """A scale bar at the bottom left and a north arrow at the top right."""
    xmin, xmax, ymin, ymax = frame.xmin, frame.xmax, frame.ymin, frame.ymax
    step = _nice_scale(xmax - xmin)
    x0, y0 = xmin + 0.03 * (xmax - xmin), ymin + 0.05 * (ymax - ymin)
    ax.plot([x0, x0 + step], [y0, y0], color="#222", lw=2, zorder=10, solid_capstyle="butt")
    label = f"{step} m" if step < 1000 else f"{step / 1000:g} km"
    ax.text(
        x0 + step / 2,
        y0 + 0.015 * (ymax - ymin),
        label,
        ha="center",
        va="bottom",
        fontsize=7,
        zorder=10,
        path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
    )
    nx_, ny_ = xmax - 0.04 * (xmax - xmin), ymax - 0.12 * (ymax - ymin)
    ax.annotate(
        "N",
        xy=(nx_, ny_ + 0.08 * (ymax - ymin)),
        xytext=(nx_, ny_),
        ha="center",
        va="top",
        fontsize=9,
        weight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1.2},
        zorder=10,
    )


def route_map_png(
    route: TeamRoute,
    segments: pd.DataFrame | None,
    *,
    colour: str = TEAM_COLOURS[0],
    width_in: float = 7.2,
    height_in: float = 4.6,
    dpi: int = 200,
    max_labels: int = 10,
) -> bytes:
    """Draw one team's route on the street network as a PNG (no web tiles).

    Grey streets (wider for main roads), the route in the team colour, numbered stops, the base
    as ``B``, and the names of the main streets near the route.

    Parameters
    ----------
    route
        The team's route.
    segments
        Street segments (CONTRACTS ``net.segments``); ``None`` draws the route alone.
    colour
        The route colour.
    width_in, height_in, dpi
        Figure size.
    max_labels
        At most this many street names.

    Returns
    -------
    bytes
        The PNG image.
    """
    plt = pyplot()
    import matplotlib.patheffects as pe

    base = route.team.base
    finish = route.team.finish_base
    path = route.path or [base, *[(s.lon, s.lat) for s in route.stops], finish]
    pts = np.array([*path, base, finish, *[(s.lon, s.lat) for s in route.stops]], dtype=float)
    frame = _map_frame(pts, width_in, height_in)

    with chart_style(font_size=7):
        fig = plt.figure(figsize=(width_in, height_in), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(frame.xmin, frame.xmax)
        ax.set_ylim(frame.ymin, frame.ymax)
        ax.set_aspect("equal")
        ax.set_axis_off()
        fig.patch.set_facecolor("white")
        if segments is not None and len(segments):
            _draw_streets(ax, segments, frame, path, max_labels=max_labels, pe=pe)
        _draw_route(ax, route, path, frame.xy, colour)
        _draw_stops(ax, route, frame, colour)
        _draw_scale_and_north(ax, frame, pe)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
        plt.close(fig)
    return buf.getvalue()


def _label_streets(
    ax: Any,
    view: pd.DataFrame,
    xy: Any,
    path: Sequence[tuple[float, float]],
    *,
    max_labels: int,
    pe: Any,
) -> None:
    """Write the names of the longest named streets within 80 m of the route."""
    if "name" not in view or len(path) < 2:
        return
    names = view["name"].fillna("").astype(str).str.strip()
    named = view.loc[names.ne("")]
    if named.empty:
        return
    route_line = LineString(xy(np.array(path, dtype=float)))
    geoms = np.asarray(named.geometry.values)
    local = shapely.transform(geoms, lambda c: xy(c))
    near = shapely.distance(local, route_line) <= 80.0
    if not near.any():
        return
    lengths = shapely.length(local)
    frame = pd.DataFrame(
        {
            "name": names.loc[named.index].to_numpy(),
            "len": lengths,
            "near": near,
            "k": np.arange(len(named)),
        }
    )
    near_len = frame.loc[frame["near"]].groupby("name")["len"].sum().sort_values(ascending=False)
    placed: list[tuple[float, float]] = []
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    span = max(xlim[1] - xlim[0], ylim[1] - ylim[0])
    for name in near_len.index[:max_labels]:
        rows = frame.loc[(frame["name"] == name) & frame["near"]].sort_values(
            "len", ascending=False
        )
        for k in rows["k"]:
            line = local[int(k)]
            if line.length < 0.04 * span:
                continue
            mid = line.interpolate(0.5, normalized=True)
            if not (xlim[0] < mid.x < xlim[1] and ylim[0] < mid.y < ylim[1]):
                continue
            if any(math.hypot(mid.x - px, mid.y - py) < 0.08 * span for px, py in placed):
                continue
            a = line.interpolate(max(0.0, 0.5 - 0.1), normalized=True)
            b = line.interpolate(min(1.0, 0.5 + 0.1), normalized=True)
            angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
            if angle > 90:
                angle -= 180
            elif angle < -90:
                angle += 180
            ax.text(
                mid.x,
                mid.y,
                name,
                rotation=angle,
                rotation_mode="anchor",
                ha="center",
                va="center",
                fontsize=6.8,
                color="#333",
                style="italic",
                zorder=2,
                path_effects=[pe.withStroke(linewidth=2.2, foreground="white")],
            )
            placed.append((mid.x, mid.y))
            break
