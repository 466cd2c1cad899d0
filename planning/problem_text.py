"""Text for the problem-solving log: the personal-data filter and the partnership settings."""

from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from typing import Any

from geo.privacy import CONTENT_PATTERNS, NHS_CANDIDATE_RE, nhs_number_valid
from geo.settings import settings_file

__all__ = [
    "ACTION_MAX",
    "DEFAULT_AGENCIES",
    "PersonalDataError",
    "agencies",
    "check_text",
    "find_personal_text",
    "partnership_settings",
]

ACTION_MAX = 200
DEFAULT_AGENCIES = (
    "police",
    "outreach",
    "council_cleansing",
    "drug_alcohol_service",
    "housing",
    "health",
)


class PersonalDataError(ValueError):
    """Text for the log holds personal data; the message names the kind, never the text."""


# ---------------------------------------------------------------------------------------
# settings


@lru_cache(maxsize=8)
def _read_partnership(path: str, mtime: float) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return dict(tomllib.load(fh).get("partnership") or {})


def partnership_settings(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The ``[partnership]`` section of the settings file (agencies, buffer, weeks).

    Parameters
    ----------
    path
        A settings TOML (default: :func:`geo.settings.settings_file`).

    Returns
    -------
    dict
        The section as read (empty when the file has none).
    """
    chosen = settings_file(path)
    if not chosen.is_file():
        msg = f"Settings file {chosen} not found; point BEATPLAN_SETTINGS at a settings TOML."
        raise FileNotFoundError(msg)
    return _read_partnership(str(chosen), chosen.stat().st_mtime)


def agencies(path: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The agencies a response may belong to (``[partnership] agencies``).

    Parameters
    ----------
    path
        A settings TOML (see :func:`partnership_settings`).

    Returns
    -------
    tuple of str
        Lower-case slugs; :data:`DEFAULT_AGENCIES` when the settings list none.
    """
    raw = partnership_settings(path).get("agencies") or DEFAULT_AGENCIES
    out = tuple(dict.fromkeys(str(a).strip().lower() for a in raw if str(a).strip()))
    bad = [a for a in out if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", a)]
    if bad:
        msg = (
            "[partnership] agencies in the settings must be slugs such as council_cleansing "
            "(lower-case letters, digits, underscores; at most 40 characters)."
        )
        raise ValueError(msg)
    return out


# ---------------------------------------------------------------------------------------
# the personal-data filter

# Words that make a run of capitalised words a place, street, agency or time, not a person.
_PLACE_TEXT = """
    street st road rd avenue ave lane ln close cl terrace grove drive dr way place pl
    crescent court ct gardens walk row square sq hill park mews view parade quay dock docks
    bridge green yard gate gates passage alley arcade boulevard circus embankment esplanade
    wharf estate centre center station market hall church chapel school college university
    library hospital surgery clinic pharmacy shop shops store stores pub inn hotel house
    tower towers flats north south east west upper lower old new great little saint st. city
    town village ward beat area district county road's car parking bus rail railway
    interchange playground field fields common cemetery retail industrial business precinct
    subway underpass footbridge footpath path cycleway canal river marina pier police
    council service services outreach team unit partnership project trust nhs hmp cleansing
    housing health probation fire rescue ambulance charity foundation network humberside
    hull yorkshire england uk pcso pc sgt anti social behaviour asb monday tuesday wednesday
    thursday friday saturday sunday january february march april may june july august
    september october november december christmas easter joint patrol patrols needle needles
    bin bins sharps lighting cctv camera cameras visit visits check checks review meeting
    operation op response referral referrals bank side end wood moor vale rise croft mount
    lea meadow meadows garth parkway approach circle the a an at on in of and or to with by
    for from near behind outside opposite off between after before every each all our
"""
_PLACE_WORDS = frozenset(_PLACE_TEXT.split())
# Common UK first names; ambiguous ones that are also words or street names (Mark, Will, May,
# Rose, Victoria, Albert, George...) are left out, so a lone "Victoria" is not refused.
_FIRST_NAME_TEXT = """
    aaron adam aisha alan alex alexander alice amanda amelia amy andrew angela ann anna anne
    anthony ashley barbara ben benjamin beth bethany brian callum carl carol caroline
    charlie charlotte chloe chris christine christopher claire craig daniel danielle darren
    david dean debbie deborah dennis donna dylan elaine eleanor elizabeth ellie emily emma
    eric ethan gary gavin gemma gillian graham hannah harry helen holly ian isla jack
    jacqueline james jamie jane janet jason jennifer jessica joanne john jonathan joseph
    josh joshua julie karen kate katie kayleigh keith kelly kevin kieran kirsty laura lauren
    leah lee leanne lewis liam linda lisa louise lucy luke lydia maria martin matthew megan
    melissa michael michelle mohammed muhammad naomi natalie neil nicola nicole oliver
    olivia paul paula peter philip rachel rebecca richard robert ryan sam samantha sandra
    sarah scott sharon shaun simon sophie stacey stephen steven stuart susan thomas tina tom
    tony tracey tracy vicky wayne zoe
"""
_FIRST_NAMES = frozenset(_FIRST_NAME_TEXT.split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
# "Mrs Smith", "mr smith", "Dr Patel": titles in any case where they cannot be a word,
# capitalised only where they can ("Miss", "Dr" for Drive, "Sir", "Lady").
_TITLE_NAME = re.compile(
    r"(?<![A-Za-z])(?:(?i:mrs?|mx)\.?\s+[A-Za-z]{2,}|"
    r"(?:Ms|Miss|Dr|Prof|Sir|Lady|Lord|Rev|Fr|MRS?|MS|MISS|DR)\.?\s+[A-Z][a-z])"
)
_HOUSE_ADDRESS = re.compile(
    r"(?<![\w.])(?:(?:flat|apartment|apt|unit|no\.?|number)\s*\d+[a-z]?\b|\d+[a-z]?\s*[,/-]?\s*"
    r"(?:[A-Za-z'\-]+\s+){1,3}(?:street|st|road|rd|avenue|ave|lane|ln|close|terrace|grove|"
    r"drive|way|place|crescent|court|gardens|walk|row|square|hill|mews|view|parade)\b)",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"\d(?:[\s-]?\d){6,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_PATTERNS = [(what, re.compile(rx, re.IGNORECASE)) for what, rx in CONTENT_PATTERNS.items()]


def _name_found(text: str) -> bool:
    """Whether ``text`` holds what looks like a person's name (see :func:`find_personal_text`)."""
    if _TITLE_NAME.search(text):
        return True
    run: list[str] = []
    for m in [*_WORD.finditer(text), None]:
        word = m.group(0) if m is not None else ""
        plain = word.lower().strip("'-")
        is_cap = bool(word) and word[0].isupper()
        if is_cap and plain not in _PLACE_WORDS:
            run.append(plain)
            continue
        # a run just before a street word is a street ("Hessle Road", "Sarah Street")
        street = is_cap and plain in _PLACE_WORDS
        if run and not street and (len(run) >= 2 or any(w in _FIRST_NAMES for w in run)):
            return True
        run = []
    return False


def find_personal_text(text: str) -> str | None:
    """Name the kind of personal data in a short text for the log, or ``None``.

    What it catches, beyond the ingest content patterns of :mod:`geo.privacy` (e-mail
    addresses, phone numbers, full postcodes, vehicle registrations, National Insurance
    numbers, dates of birth or ages) and NHS numbers:

    - long numbers (seven digits or more, spaces or hyphens allowed): phone, NHS or
      reference numbers;
    - addresses with a house or flat number ("12 Park Street", "flat 3");
    - names, by a conservative rule: a title and a capitalised word ("Mrs Smith"); two or
      more capitalised words in a row, none of them street, place, agency, day, month or
      patrol vocabulary, and not followed by a street word ("John Smith", but not
      "Hessle Road", "Hull City Council" or "Princes Quay"); a capitalised common first
      name on its own ("ask Sarah"), unless a street word follows ("Sarah Street").

    Lower-case names and unusual first names on their own are not caught: the rule refuses
    text that looks personal, it cannot prove text is not.

    Parameters
    ----------
    text
        The text.

    Returns
    -------
    str or None
        e.g. ``"phone numbers"``, ``"a person's name"``, ``"an address with a house number"``.
    """
    for what, rx in _PATTERNS:
        if rx.search(text):
            return what
    for m in re.finditer(NHS_CANDIDATE_RE, text):
        if nhs_number_valid("".join(m.groups())):
            return "NHS numbers"
    if _LONG_NUMBER.search(text):
        return "long numbers (phone, NHS or reference numbers)"
    if _HOUSE_ADDRESS.search(text):
        return "an address with a house number"
    if _name_found(text):
        return "a person's name"
    return None


def check_text(text: object, *, what: str = "action", max_len: int = ACTION_MAX) -> str:
    """Return text for the log tidied (spaces collapsed), or refuse it with a plain message.

    Parameters
    ----------
    text
        The text as typed.
    what
        What it is, for the message (``"title"``, ``"action"``, ``"scanning note"``...).
    max_len
        Longest allowed, in characters.

    Returns
    -------
    str

    Raises
    ------
    PersonalDataError
        When it holds personal data (:func:`find_personal_text`); the message names the
        kind found, never the text.
    ValueError
        When it is empty (for a title or action), too long or holds control characters.
    """
    raw = "" if text is None else str(text)
    if _CONTROL.search(raw.replace("\n", " ").replace("\t", " ")):
        msg = f"The {what} holds control characters; type it again as plain text."
        raise ValueError(msg)
    tidy = " ".join(raw.split())
    if len(tidy) > max_len:
        msg = f"The {what} is {len(tidy)} characters long; keep it to {max_len}."
        raise ValueError(msg)
    found = find_personal_text(tidy) if tidy else None
    if found:
        msg = (
            f"The {what} looks like it holds {found}; the log records what an agency will do "
            "and where, never who. Write it without personal details (street names such as "
            "'Hessle Road' are fine)."
        )
        raise PersonalDataError(msg)
    return tidy
