"""Patrol teams on shift: roles and skills, shift times and the teams TOML file."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from geo.settings import lonlat
from planning import travel

__all__ = [
    "DAY_OFFSET_RANGE",
    "MAX_TEAMS",
    "ROLE_SKILLS",
    "SKILLS",
    "Team",
    "load_teams",
    "parse_shift",
    "team_skills",
    "teams_from_dict",
]

#: Skills a hotspot may call for (``hotspots.skill``). A stop needs a team holding exactly that
#: skill: "police" stops any team with a police member, "sharps" stops only a team with the
#: sharps skill (a police team records the place and calls the council sharps line instead of
#: handling needles, per the ``needles`` action in settings), "outreach" stops only a team with
#: an outreach worker.
SKILLS = ("police", "sharps", "outreach")

#: Most teams one plan takes (the solver's memory grows with teams x stops).
MAX_TEAMS = 50
#: Days a team's shift may start after the plan date (-1: the night before).
DAY_OFFSET_RANGE = (-1, 7)

#: Default skills of member roles (lower case). A team's skills are the union of its members'
#: skills and any ``skills`` listed for it.
ROLE_SKILLS: dict[str, tuple[str, ...]] = {
    "pcso": ("police",),
    "police officer": ("police",),
    "pc": ("police",),
    "special constable": ("police",),
    "sergeant": ("police",),
    "outreach worker": ("outreach",),
    "outreach": ("outreach",),
    "sharps team": ("sharps",),
    "sharps officer": ("sharps",),
    "street cleansing": ("sharps",),
    "council officer": (),
    "asb officer": (),
}


@dataclass(frozen=True)
class Team:
    """A patrol team for one shift.

    ``members`` are roles ("PCSO", "Outreach worker"), never names. ``skills`` are the union of
    the members' skills. ``base``/``end_base`` are ``(lon, lat)``; the team returns to ``base``
    unless ``end_base`` is given.
    """

    name: str
    skills: tuple[str, ...]
    base: tuple[float, float]
    shift_start: datetime
    shift_end: datetime
    mode: str = "walk"
    end_base: tuple[float, float] | None = None
    max_stops: int | None = None
    break_minutes: int = 0
    members: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.shift_end <= self.shift_start:
            msg = f"Team {self.name!r}: the shift must end after it starts; check its shift times."
            raise ValueError(msg)
        travel._check_mode(self.mode)
        if self.break_minutes < 0:
            msg = f"Team {self.name!r}: break_minutes must be zero or more."
            raise ValueError(msg)
        if self.max_stops is not None and self.max_stops < 0:
            msg = f"Team {self.name!r}: max_stops must be zero or more."
            raise ValueError(msg)

    @property
    def finish_base(self) -> tuple[float, float]:
        """Where the team ends its shift."""
        return self.end_base if self.end_base is not None else self.base

    def can_take(self, skill: str) -> bool:
        """Whether this team may be given a stop calling for ``skill``."""
        return skill in self.skills


def parse_shift(text: str, *, date: Date) -> tuple[datetime, datetime]:
    """Turn ``"18:00-22:00"`` into start and end datetimes on ``date``.

    An end at or before the start (``"20:00-00:00"``) falls on the next day; ``"24:00"`` is
    midnight at the end of the day.

    Parameters
    ----------
    text
        ``"HH:MM-HH:MM"``.
    date
        The day the shift starts.

    Returns
    -------
    tuple[datetime, datetime]
    """
    try:
        a, b = (part.strip() for part in str(text).split("-"))
        start = datetime.combine(date, _parse_hhmm(a))
        if b in ("24:00", "24"):
            end = datetime.combine(date + timedelta(days=1), time(0, 0))
        else:
            end = datetime.combine(date, _parse_hhmm(b))
    except ValueError:
        msg = f"Shift {text!r} is not like '18:00-22:00'; write start and end as HH:MM-HH:MM."
        raise ValueError(msg) from None
    if end <= start:
        end += timedelta(days=1)
    return start, end


def _parse_hhmm(text: str) -> time:
    hh, _, mm = text.partition(":")
    return time(int(hh), int(mm or 0))


def team_skills(members: Iterable[str], skills: Iterable[str] = ()) -> tuple[str, ...]:
    """Return the union of listed skills and the skills of member roles (:data:`ROLE_SKILLS`).

    Parameters
    ----------
    members
        Roles such as ``"PCSO"`` or ``"Outreach worker"``.
    skills
        Extra skills held by the team.

    Returns
    -------
    tuple[str, ...]
        Sorted, without duplicates.
    """
    out = {str(s).strip().lower() for s in skills if str(s).strip()}
    for role in members:
        out.update(ROLE_SKILLS.get(str(role).strip().lower(), ()))
    return tuple(sorted(out))


def load_teams(path_toml: str | Path, *, date: Date) -> list[Team]:
    """Read the teams on shift from a TOML file.

    The format::

        [bases]                         # optional named places, [lon, lat]
        station = [-0.3367, 53.7446]

        [[team]]
        name = "Foot patrol"
        members = ["PCSO", "PCSO"]      # roles, never names
        skills = ["police"]             # optional; added to the roles' skills
        base_name = "station"           # or base = [lon, lat]
        end_base_name = "station"       # optional (or end_base = [lon, lat]); default: base
        shift = "18:00-22:00"           # end before start = past midnight
        day = 0                         # optional: days after the plan date (1 = tomorrow)
        mode = "walk"                   # walk (default), cycle or drive
        max_stops = 6                   # optional
        break_minutes = 30              # optional

    Parameters
    ----------
    path_toml
        The TOML file.
    date
        The plan date; shifts start on it (plus ``day``).

    Returns
    -------
    list[Team]
    """
    path = Path(path_toml)
    if not path.is_file():
        msg = f"Teams file {path} not found; write one as described in planning.routes.load_teams."
        raise FileNotFoundError(msg)
    with path.open("rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            msg = f"Teams file {path} is not valid TOML ({exc}); fix the line it names."
            raise ValueError(msg) from None
    return teams_from_dict(raw, date=date)


def teams_from_dict(raw: Mapping[str, Any], *, date: Date) -> list[Team]:
    """Build teams from a parsed teams TOML document (see :func:`load_teams`).

    Parameters
    ----------
    raw
        The document.
    date
        The plan date.

    Returns
    -------
    list[Team]
    """
    bases = {str(k): lonlat(v, f"bases.{k}") for k, v in (raw.get("bases") or {}).items()}
    specs = raw.get("team") or raw.get("teams") or []
    if not specs:
        msg = "The teams file lists no team; add a [[team]] table per team."
        raise ValueError(msg)
    if not isinstance(specs, list) or not all(isinstance(s, Mapping) for s in specs):
        msg = "The teams file must list teams as [[team]] tables; see planning.teams.load_teams."
        raise ValueError(msg)
    if len(specs) > MAX_TEAMS:
        msg = (
            f"The teams file lists {len(specs)} teams; a plan takes at most {MAX_TEAMS}. "
            "Split the teams into several plans (one file per shift or area)."
        )
        raise ValueError(msg)
    teams: list[Team] = []
    names: set[str] = set()
    for k, spec in enumerate(specs, start=1):
        name = str(spec.get("name") or f"Team {k}")
        if name in names:
            msg = f"Two teams are called {name!r}; give each team its own name."
            raise ValueError(msg)
        names.add(name)
        base = _base(spec, "base", bases, name)
        if base is None:
            msg = f"Team {name!r} has no base; add base = [lon, lat] or base_name from [bases]."
            raise ValueError(msg)
        end_base = _base(spec, "end_base", bases, name)
        if "shift" not in spec:
            msg = f'Team {name!r} has no shift; add shift = "18:00-22:00".'
            raise ValueError(msg)
        day = date + timedelta(days=_day_offset(spec.get("day", 0), name))
        start, end = parse_shift(spec["shift"], date=day)
        members = tuple(str(m) for m in spec.get("members", ()))
        skills = team_skills(members, spec.get("skills", ()))
        if not skills:
            msg = (
                f'Team {name!r} has no skill; list skills = ["police"] (or sharps, outreach) '
                "or members with known roles such as PCSO or Outreach worker."
            )
            raise ValueError(msg)
        max_stops = spec.get("max_stops")
        teams.append(
            Team(
                name=name,
                skills=skills,
                base=base,
                shift_start=start,
                shift_end=end,
                mode=str(spec.get("mode", "walk")),
                end_base=end_base,
                max_stops=None if max_stops is None else int(max_stops),
                break_minutes=int(spec.get("break_minutes", 0)),
                members=members,
            )
        )
    return teams


def _day_offset(value: Any, name: str) -> int:
    """The team's ``day`` (days after the plan date), refusing anything outside the limits."""
    lo, hi = DAY_OFFSET_RANGE
    try:
        day = int(value)
        ok = not isinstance(value, bool) and float(value) == day
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or not lo <= day <= hi:
        msg = (
            f"Team {name!r} has day = {value!r}; use a whole number from {lo} (the day before "
            f"the plan date) to {hi} (a week after), or leave it out for the plan date."
        )
        raise ValueError(msg)
    return day


def _base(
    spec: Mapping[str, Any], key: str, bases: Mapping[str, tuple[float, float]], name: str
) -> tuple[float, float] | None:
    ref = spec.get(f"{key}_name")
    value = spec.get(key)
    if isinstance(value, str):
        ref, value = value, None
    if ref is not None:
        if ref not in bases:
            msg = f"Team {name!r}: base {ref!r} is not in [bases]; add it there as [lon, lat]."
            raise ValueError(msg)
        return bases[ref]
    if value is None:
        return None
    return lonlat(value, f"team {name!r} {key}")
