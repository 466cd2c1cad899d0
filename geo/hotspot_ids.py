"""Stable hotspot ids from the place (the 100 m grid square holding most of its reports), not the rank."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "ALPHABET",
    "HOTSPOT_ID_PATTERN",
    "ID_CELL_M",
    "encode",
    "is_hotspot_id",
    "place_ids",
    "unique_ids",
]

#: Crockford's base 32: digits and capitals without I, L, O and U (never misread).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#: Every hotspot id: ``H-`` then six base-32 digits, and a ``-2``... suffix in the rare case
#: that every square of a hotspot is another's.
HOTSPOT_ID_PATTERN = re.compile(r"^H-[0-9A-HJKMNP-TV-Z]{6}(?:-[2-9][0-9]?)?$")

#: Side in metres of the grid squares that name hotspots (fixed: an id must not change with a
#: display setting such as the outline's ``point_cell_m``).
ID_CELL_M = 100.0

# A square's column and row packed in 30 bits (13 of column, 17 of row: any National Grid
# 100 m square, and UTM squares across 819 km by 13,107 km) -> six base-32 digits.
_COL_BITS = 13
_ROW_BITS = 17
_MASK = (1 << 30) - 1
_SPREAD = 0x1C3A5B97  # odd, so multiplying modulo 2**30 is a bijection
_CODE_WIDTH = 6


def encode(number: int, *, width: int = 1) -> str:
    """Write a non-negative integer in Crockford base 32, left-padded with zeros.

    Parameters
    ----------
    number
        The number (at least 0).
    width
        The fewest digits.

    Returns
    -------
    str
        The digits, at least ``width`` of them.

    Raises
    ------
    ValueError
        When ``number`` is negative.
    """
    n = int(number)
    if n < 0:
        msg = f"Cannot write {n} as a hotspot code: codes are built from non-negative numbers."
        raise ValueError(msg)
    digits = []
    while True:
        n, r = divmod(n, 32)
        digits.append(ALPHABET[r])
        if n == 0:
            break
    return "".join(reversed(digits)).rjust(width, "0")


def is_hotspot_id(text: object) -> bool:
    """Whether ``text`` has the form of a hotspot id (``H-`` and base-32 digits).

    Parameters
    ----------
    text
        Any value (e.g. typed by hand).

    Returns
    -------
    bool
    """
    return isinstance(text, str) and HOTSPOT_ID_PATTERN.fullmatch(text) is not None


def place_ids(
    x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int, *, cell_m: float = ID_CELL_M
) -> list[str]:
    """Each hotspot's id: the grid square holding most of its reports, as a short code.

    Hotspots are taken in rank order; one whose densest square an earlier hotspot holds
    already takes its next densest free square (a suffix ``-2`` only when it has none).

    Parameters
    ----------
    x, y
        Report coordinates in a metric CRS (metres; in Great Britain the National Grid).
    group
        Hotspot of each report (0 = top-ranked ... n_groups-1, -1 = in none).
    n_groups
        Number of hotspots.
    cell_m
        Grid square side in metres.

    Returns
    -------
    list of str
        ``"H-"`` and six base-32 digits, per hotspot in rank order.
    """
    grp = np.asarray(group, dtype=np.int64)
    ok = grp >= 0
    col = np.floor(np.asarray(x, dtype=float)[ok] / cell_m).astype(np.int64)
    row = np.floor(np.asarray(y, dtype=float)[ok] / cell_m).astype(np.int64)
    keys, counts = np.unique(np.c_[grp[ok], col, row], axis=0, return_counts=True)
    # per hotspot: most reports first, then the lowest row, then the lowest column
    order = np.lexsort((keys[:, 1], keys[:, 2], -counts, keys[:, 0]))
    keys = keys[order]
    bounds = np.searchsorted(keys[:, 0], np.arange(n_groups + 1))
    codes = _cell_codes(keys[:, 1], keys[:, 2])
    taken: set[str] = set()
    out: list[str] = []
    for g in range(n_groups):  # hotspots, not reports: a few hundred at most
        mine = codes[bounds[g] : bounds[g + 1]]
        free = next((c for c in mine if c not in taken), None)
        chosen = free if free is not None else (mine[0] if mine else "H-000000")
        taken.add(chosen)
        out.append(chosen)
    return unique_ids(out)


def _cell_codes(column: np.ndarray, row: np.ndarray) -> list[str]:
    """``H-`` codes of grid squares: column and row packed, then spread by a fixed bijection.

    The bijection (an odd multiplier modulo 2**30, then a right xorshift) makes neighbouring
    squares read unlike each other, so two nearby hotspots are not told apart by one letter.
    """
    col = np.asarray(column, dtype=np.int64) % (1 << _COL_BITS)
    row_ = np.asarray(row, dtype=np.int64) % (1 << _ROW_BITS)
    packed = ((row_ << _COL_BITS) | col) & _MASK
    spread = (packed * _SPREAD) & _MASK
    spread ^= spread >> 15  # a right xorshift is a bijection too: it mixes high bits down
    return [f"H-{encode(int(v), width=_CODE_WIDTH)}" for v in spread]


def unique_ids(ids: Sequence[str]) -> list[str]:
    """Make ids unique in order: a repeat gets ``-2``, ``-3``... (the first keeps its id).

    Parameters
    ----------
    ids
        Ids in rank order.

    Returns
    -------
    list of str
    """
    seen: dict[str, int] = {}
    out: list[str] = []
    for hid in ids:
        k = seen.get(hid, 0) + 1
        seen[hid] = k
        out.append(hid if k == 1 else f"{hid}-{k}")
    return out
