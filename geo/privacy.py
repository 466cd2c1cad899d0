"""Personal-data detection, text scrubbing, small-count suppression and spreadsheet-safe cells."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Column names that name personal data. Matched against the normalised column name
# (lower case, runs of non-alphanumerics turned into single spaces), as whole words.
_PERSONAL_NAME_RULES: tuple[tuple[str, str], ...] = (
    (
        r"\b(first|last|full|given|family|sur|fore|middle|client|person|victim|offender|suspect|"
        r"contact|reporter|officer|worker|informant|witness)\s?names?\b",
        "a person's name",
    ),
    (r"^(names?|surname|forename|firstname|lastname|fullname|alias|nickname)$", "a person's name"),
    (r"\b(dob|d o b|date of birth|birth ?date|birthday|born)\b", "a date of birth"),
    (r"\b(phone|telephone|tel|mobile|mob|cell|contact number|phone number)\b", "a phone number"),
    (r"\b(e ?mail|email address)\b", "an e-mail address"),
    (r"\b(address|addr|house|flat|dwelling|home)\b", "an address"),
    (r"\b(postcode|post code|postal code|zip)\b", "a postcode"),
    (
        r"\b(vehicle|vrm|registration|reg|number ?plate|plate|licence|license|make model)\b",
        "a vehicle registration",
    ),
    (
        r"\b(notes?|description|descr|desc|comments?|narrative|details?|remarks?|free ?text|"
        r"summary|observations?|account|statement|message|text)\b",
        "free text",
    ),
    (r"\b(image|photo|photograph|picture|img|video|attachment|url|link)\b", "an image or link"),
    (
        r"\b(ni number|national insurance|nhs number|passport|pnc|cro|gender|sex of|ethnicity|"
        r"ethnic|nationality|age)\b",
        "a personal attribute",
    ),
)

# Words that make a column name safe even when it contains "name" (e.g. "LSOA name", "street name").
_SAFE_NAME_WORDS = re.compile(
    r"\b(street|road|location|place|lsoa|msoa|ward|area|beat|neighbourhood|category|type|crime|"
    r"source|team|partner|agency|force|falls within|reported by|segment|hotspot)\b"
)

EMAIL_RE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
UK_PHONE_RE = r"(?<![\w.])(?:\+44[\s-]?(?:\(0\)[\s-]?)?|\(?0)(?:\d[\s\-)]{0,2}){8,9}\d(?![\w.])"
# Current (AB12 CDE), prefix (A123 BCD) and suffix (ABC 123D) registration marks.
UK_VRM_RE = (
    r"\b(?:[A-Z]{2}[0-9]{2}\s?[A-Z]{3}|[A-Z][0-9]{1,3}\s?[A-Z]{3}|[A-Z]{3}\s?[0-9]{1,3}[A-Z])\b"
)
UK_POSTCODE_RE = r"\b(?:GIR\s?0AA|[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2})\b"

CONTENT_PATTERNS: dict[str, str] = {
    "e-mail addresses": EMAIL_RE,
    "phone numbers": UK_PHONE_RE,
    "full postcodes": UK_POSTCODE_RE,
    "vehicle registrations": UK_VRM_RE,
}
_CONTENT_RES = {
    k: re.compile(v, re.IGNORECASE if k == "e-mail addresses" else 0)
    for k, v in CONTENT_PATTERNS.items()
}
_ANY_PERSONAL = re.compile("|".join(f"(?:{p})" for p in CONTENT_PATTERNS.values()))

SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain signed number cannot run as a formula, so "-1.4685" is left as it is.
_PLAIN_NUMBER = r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"


@dataclass(frozen=True)
class DroppedColumn:
    """A column left out of an import, with the plain-English reason."""

    column: str
    reason: str


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", str(name).lower()).strip()


def personal_column_reason(column: str) -> str | None:
    """Say why a column's *name* marks it as personal data, or ``None`` when it does not.

    Parameters
    ----------
    column
        The column header as written in the file.

    Returns
    -------
    str or None
        For example ``"its name suggests a phone number"``.
    """
    norm = _normalise(column)
    if not norm:
        return None
    for pattern, what in _PERSONAL_NAME_RULES:
        if re.search(pattern, norm):
            if what == "a person's name" and _SAFE_NAME_WORDS.search(norm):
                return None
            if what == "free text" and _SAFE_NAME_WORDS.search(norm) and "desc" not in norm:
                return None
            return f"its name suggests {what}"
    return None


def find_personal_content(values: pd.Series) -> str | None:
    """Name the kind of personal data found in ``values`` (e.g. ``"phone numbers"``), if any.

    Parameters
    ----------
    values
        Cell values as strings; only distinct non-empty values are scanned.

    Returns
    -------
    str or None
    """
    uniq = pd.Series(pd.unique(values.dropna().astype(str)))
    uniq = uniq[uniq.str.len() > 0]
    if uniq.empty:
        return None
    for what, rx in _CONTENT_RES.items():
        if uniq.str.contains(rx, regex=True).any():
            return what
    return None


def looks_like_free_text(values: pd.Series) -> bool:
    """Tell whether a column holds free-text notes: long, varied, multi-word cells.

    Parameters
    ----------
    values
        Cell values as strings.

    Returns
    -------
    bool
    """
    vals = values.dropna().astype(str)
    vals = vals[vals.str.len() > 0]
    if len(vals) < 3:
        return False
    words = vals.str.count(r"\s+") + 1
    return bool(words.median() >= 6 and vals.nunique() >= max(3, 0.5 * len(vals)))


def detect_personal_columns(
    frame: pd.DataFrame,
    *,
    keep: tuple[str, ...] = (),
    sample: int = 5000,
    seed: int = 0,
) -> list[DroppedColumn]:
    """List the columns of ``frame`` that hold personal data, by name and by content.

    Parameters
    ----------
    frame
        The raw table, all cells as strings.
    keep
        Columns mapped to report fields: these are checked by name only here, and their
        values are scrubbed row by row by the reader instead.
    sample
        At most this many distinct non-empty values are scanned per other column.
    seed
        Seed for the sample.

    Returns
    -------
    list of DroppedColumn
    """
    dropped: list[DroppedColumn] = []
    for col in frame.columns:
        reason = personal_column_reason(col)
        if reason is None and col not in keep:
            values = frame[col].dropna().astype(str)
            uniq = pd.Series(pd.unique(values))
            if len(uniq) > sample:
                uniq = uniq.sample(sample, random_state=seed)
            found = find_personal_content(uniq)
            if found:
                reason = f"it contains {found}"
            elif looks_like_free_text(uniq):
                reason = "it holds free-text notes"
        if reason:
            dropped.append(DroppedColumn(column=str(col), reason=reason))
    return dropped


def contains_personal(values: pd.Series) -> pd.Series:
    """Flag each cell that contains an e-mail, phone number, postcode or registration mark.

    Parameters
    ----------
    values
        Strings (missing values count as clean).

    Returns
    -------
    pandas.Series of bool
    """
    strs = values.astype("string[pyarrow]")
    uniq = pd.Series(pd.unique(strs.dropna()), dtype="string[pyarrow]")
    if uniq.empty:
        return pd.Series(False, index=values.index)
    bad = set(uniq[uniq.str.contains(_ANY_PERSONAL, regex=True).fillna(False)].tolist())
    if not bad:
        return pd.Series(False, index=values.index)
    return strs.isin(bad).fillna(False).astype(bool)


_HOUSE_NUMBER = re.compile(
    r"^(?:\s*(?:flat|apt|apartment|unit|house|no\.?)?\s*\d+[a-z]?(?:\s*[-/]\s*\d+[a-z]?)?[,\s]+)+",
    re.IGNORECASE,
)


def street_hint(values: pd.Series) -> pd.Series:
    """Reduce location text to a street-name hint: no house numbers, no personal data.

    ``"On or near Anlaby Road"`` becomes ``"Anlaby Road"``; ``"12 Anlaby Road"`` becomes
    ``"Anlaby Road"``; anything holding a postcode, phone number or e-mail becomes missing.

    Parameters
    ----------
    values
        Location text.

    Returns
    -------
    pandas.Series of str (missing where nothing safe remains)
    """
    codes, uniq = pd.factorize(values.astype("string[pyarrow]"), use_na_sentinel=True)
    u = pd.Series(uniq, dtype="string[pyarrow]").str.strip()
    u = u.str.replace(r"(?i)^on or near\s+", "", regex=True)
    u = u.str.replace(_HOUSE_NUMBER, "", regex=True).str.strip()
    u = u.mask(contains_personal(u) | (u.str.len() == 0))
    out = pd.Series(
        u.to_numpy(dtype=object, na_value=None)[codes] if len(u) else None,
        index=values.index,
        dtype="string",
    )
    return out.mask(codes < 0)


def suppress_counts(counts: pd.Series | np.ndarray, *, threshold: int = 10) -> pd.Series:
    """Mark counts below ``threshold`` (but above zero) as suppressed.

    Parameters
    ----------
    counts
        Non-negative integer counts.
    threshold
        The smallest count that may be published.

    Returns
    -------
    pandas.Series of bool
        True where the count must be hidden.
    """
    c = pd.Series(counts)
    return (c > 0) & (c < threshold)


def format_count(count: int, *, threshold: int = 10) -> str:
    """Render a count for a public output: ``"fewer than 10"`` below the threshold.

    Parameters
    ----------
    count
        The count.
    threshold
        The suppression threshold.

    Returns
    -------
    str
    """
    if 0 < count < threshold:
        return f"fewer than {threshold}"
    return f"{int(count):,}"


def neutralise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Make a table safe to open in a spreadsheet: prefix risky cells with an apostrophe.

    Cells beginning with ``= + - @``, a tab or a carriage return can run as formulas in
    Excel or LibreOffice; such text cells are prefixed with ``'``. Numbers, and text that is
    exactly a signed number such as ``"-1.47"``, are left alone.

    Parameters
    ----------
    frame
        The table to export.

    Returns
    -------
    pandas.DataFrame
        A copy with text cells neutralised.
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            continue
        s = series.astype("string[pyarrow]")
        risky = s.str.startswith(SPREADSHEET_TRIGGERS).fillna(False).astype(bool)
        risky &= ~s.str.fullmatch(_PLAIN_NUMBER).fillna(False).astype(bool)
        if risky.any():
            s = s.mask(risky, "'" + s)
            out[col] = s
    if out.columns.size:
        cols = pd.Series(out.columns.astype(str))
        risky_cols = cols.str.startswith(SPREADSHEET_TRIGGERS)
        if risky_cols.any():
            out.columns = cols.mask(risky_cols, "'" + cols).tolist()
    return out
