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
    (
        r"^(witness|victim|offender|suspect|informant|reporter|complainant|caller|client|person|"
        r"subject|patient|resident|customer|individual|who|sex worker|worker|officer)s?$",
        "a person's name",
    ),
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

# Letters or digits may not touch a match on either side; an underscore may (slugs such as
# "welfare_ab12_cde" are scanned too).
_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"
_SEP = r"[\s_]?"
EMAIL_RE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
# 0 or +44 then 9 or 10 more digits, with up to two spaces, hyphens or brackets between any two.
UK_PHONE_RE = (
    r"(?<![\d.])(?:\+44[\s_-]*(?:\(0\)[\s_-]*)?|\(?0[\s_\-)]{0,2})"
    r"(?:\d[\s_\-)]{0,2}){8,9}\d(?!\d)"
)
# Current (AB12 CDE), prefix (A123 BCD) and suffix (ABC 123D) registration marks, any case.
UK_VRM_RE = (
    _B + r"(?:[A-Z]{2}[0-9]{2}" + _SEP + r"[A-Z]{3}|[A-Z][0-9]{1,3}" + _SEP + r"[A-Z]{3}|"
    r"[A-Z]{3}" + _SEP + r"[0-9]{1,3}[A-Z])" + _E
)
UK_POSTCODE_RE = (
    _B + r"(?:GIR" + _SEP + r"0AA|[A-Z]{1,2}[0-9][A-Z0-9]?" + _SEP + r"[0-9][A-Z]{2})" + _E
)
# National Insurance numbers: two prefix letters (never D, F, I, Q, U, V; second never O;
# never BG, GB, KN, NK, NT, TN, ZZ), six digits, a suffix A to D.
UK_NINO_RE = (
    _B + r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?:[\s_-]?\d{2}){3}[\s_-]?[A-D]" + _E
)
_DATE = (
    r"(?:\d{1,2}[\s_/.\-]{1,2}\d{1,2}[\s_/.\-]{1,2}\d{2,4}|\d{4}[\s_/.\-]\d{1,2}[\s_/.\-]\d{1,2}|"
    r"\d{1,2}(?:st|nd|rd|th)?[\s_]+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    r"[\s_,]+\d{2,4})"
)
# A date of birth (a date after "dob", "d.o.b.", "date of birth" or "born") or an age.
DOB_RE = (
    r"(?<![A-Za-z])(?:(?:dob|d\.o\.b\.?|date[\s_]+of[\s_]+birth|birth[\s_]?date|born(?:[\s_]+on)?)"
    r"[\s_:.\-]*" + _DATE + r"|aged?[\s_:]*\d{1,3}(?!\d)|"
    r"(?<!\d)\d{1,3}[\s_-]*(?:years?|yrs?)[\s_-]+old(?![A-Za-z])|(?<!\d)\d{1,3}[\s_]?y/?o(?![A-Za-z]))"
)
# Ten digits (3-3-4, spaces or hyphens allowed); an NHS number only when its check digit fits.
NHS_CANDIDATE_RE = r"(?<![\d.])(\d{3})[\s_-]?(\d{3})[\s_-]?(\d{4})(?!\d)"
_NHS_ANY = re.compile(NHS_CANDIDATE_RE.replace("(\\d", "(?:\\d"))

CONTENT_PATTERNS: dict[str, str] = {
    "e-mail addresses": EMAIL_RE,
    "phone numbers": UK_PHONE_RE,
    "full postcodes": UK_POSTCODE_RE,
    "vehicle registrations": UK_VRM_RE,
    "National Insurance numbers": UK_NINO_RE,
    "dates of birth or ages": DOB_RE,
}
_CONTENT_RES = {k: re.compile(v, re.IGNORECASE) for k, v in CONTENT_PATTERNS.items()}
_ANY_PERSONAL = re.compile("|".join(f"(?:{p})" for p in CONTENT_PATTERNS.values()), re.IGNORECASE)
_NHS_WEIGHTS = np.arange(10, 1, -1)


def nhs_number_valid(digits: str) -> bool:
    """Tell whether ten digits form a valid NHS number (modulus 11 check digit).

    Parameters
    ----------
    digits
        Ten digits, spaces and hyphens allowed.

    Returns
    -------
    bool
    """
    d = re.sub(r"[\s_-]", "", str(digits))
    if not re.fullmatch(r"\d{10}", d):
        return False
    return bool(_nhs_checks(np.frombuffer(d.encode(), dtype=np.uint8).reshape(1, 10) - 48)[0])


def _nhs_checks(digits: np.ndarray) -> np.ndarray:
    """Which rows of an ``(n, 10)`` digit array carry a valid NHS check digit."""
    check = 11 - (digits[:, :9] @ _NHS_WEIGHTS) % 11
    check = np.where(check == 11, 0, check)
    return (check != 10) & (check == digits[:, 9])


def _nhs_hits(uniq: pd.Series) -> pd.Series:
    """Per distinct value: whether it holds a ten-digit run that is a valid NHS number."""
    found = uniq.astype(str).str.extractall(NHS_CANDIDATE_RE)
    if found.empty:
        return pd.Series(False, index=uniq.index)
    text = (found[0] + found[1] + found[2]).to_numpy(dtype="U10").astype("S10")
    digits = np.frombuffer(text.tobytes(), dtype=np.uint8).reshape(-1, 10).astype(np.int64) - 48
    valid = pd.Series(_nhs_checks(digits), index=found.index)
    per_value = valid.groupby(level=0).any()
    return per_value.reindex(uniq.index, fill_value=False).astype(bool)


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
    # Random ten-digit references pass the NHS check one time in eleven: a column counts
    # as NHS numbers when at least half its ten-digit values pass.
    candidates = uniq[uniq.str.contains(_NHS_ANY, regex=True)]
    if len(candidates) and _nhs_hits(candidates).mean() >= 0.5:
        return "NHS numbers"
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
    """Flag each cell holding an e-mail, phone, postcode, plate, NI or NHS number, DOB or age.

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
    hit = uniq.str.contains(_ANY_PERSONAL, regex=True).fillna(False).astype(bool)
    hit |= _nhs_hits(uniq).to_numpy()
    bad = set(uniq[hit].tolist())
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


def safe_csv(frame: pd.DataFrame, *, encoding: str = "utf-8-sig") -> bytes:
    """Write a table as CSV that is safe to open in a spreadsheet.

    Cells are neutralised (:func:`neutralise_cells`) and every field holding a line break
    of any kind (``\\n`` or a bare ``\\r``) is quoted: rows end in CRLF, so the writer
    quotes both characters (with ``\\n`` endings pandas leaves a bare ``\\r`` unquoted, and
    a spreadsheet then starts a new row there, where ``=...`` runs as a formula).

    Parameters
    ----------
    frame
        The table (its index is not written).
    encoding
        Text encoding; the default BOM makes Excel read UTF-8.

    Returns
    -------
    bytes
    """
    text = neutralise_cells(frame).to_csv(index=False, lineterminator="\r\n")
    return text.encode(encoding)
