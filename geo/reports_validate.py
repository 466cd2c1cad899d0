"""Validate a read table into anonymised reports and rejected rows, one named step at a time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import ReportFileError
from geo.privacy import DroppedColumn, contains_personal, detect_personal_columns
from geo.reports_coords import (
    bng_coordinates,
    coordinate_columns,
    lon_lat_coordinates,
    reject_outside_area,
)
from geo.reports_dates import parse_dates
from geo.reports_ids import content_ids, micro_degrees, reference_ids
from geo.reports_mapping import category_slugs, report_columns
from geo.reports_police_uk import POLICE_UK_NOTE
from geo.reports_vocab import vet_categories, vet_hints, vet_source, vet_sources
from geo.settings import Settings

_STR = "string[pyarrow]"
_PERSONAL = "[removed: personal data]"
_PERSONAL_MAPPING = (
    "The mapping {fld}={col} names a column that holds personal data ({why}), so it cannot "
    "be imported. Map another column, or remove the personal data first."
)


@dataclass
class ReadResult:
    """What a reader made of one file: the accepted reports and the rejected rows."""

    reports: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int
    file_name: str
    source: str
    format: str
    mapping: dict[str, str] = field(default_factory=dict)
    dropped_columns: list[DroppedColumn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duplicates_in_file: int = 0
    stored_name: str = ""
    other_categories: int = 0
    other_sources: int = 0
    dropped_hints: int = 0

    @property
    def rejected_count(self) -> int:
        """Number of rows rejected with a reason."""
        return len(self.rejected)


class _Reasons:
    """The first rejection reason of each row, kept as small integer codes (fast on big files)."""

    def __init__(self, n: int) -> None:
        self.code = np.zeros(n, dtype=np.int16)
        self.texts: list[str] = [""]

    def add(self, mask: pd.Series | np.ndarray, why: str) -> None:
        """Give ``why`` to the rows in ``mask`` that have no reason yet."""
        if isinstance(mask, pd.Series):
            mask = mask.fillna(False).to_numpy(dtype=bool)
        hit = np.asarray(mask, dtype=bool) & (self.code == 0)
        if hit.any():
            if why not in self.texts:
                self.texts.append(why)
            self.code[hit] = self.texts.index(why)

    def add_series(self, reasons: pd.Series) -> None:
        """Add per-row reasons given as text (missing = no reason)."""
        for why in pd.unique(reasons.dropna()):
            self.add(reasons == why, str(why))

    @property
    def ok(self) -> np.ndarray:
        """Rows with no reason to reject them."""
        return self.code == 0

    def text(self, mask: np.ndarray) -> np.ndarray:
        """The reasons of the rows in ``mask``, as text."""
        return np.asarray(self.texts, dtype=object)[self.code[mask]]


@dataclass
class _Values:
    """The cleaned value of each report field, one entry per row of the file's table."""

    occurred: pd.Series
    time_known: pd.Series
    category: pd.Series
    source: pd.Series
    lon: pd.Series
    lat: pd.Series
    hint: pd.Series
    lsoa: pd.Series
    category_other: pd.Series
    source_other: pd.Series
    hint_dropped: pd.Series


def validate(
    frame: pd.DataFrame,
    *,
    fmt: str,
    file_name: str,
    source: str | None,
    mapping: Mapping[str, str] | None,
    settings: Settings,
    notes: list[str],
    bad_rows: pd.DataFrame | None = None,
    street_names: Iterable[str] | None = None,
    head: pd.DataFrame | None = None,
) -> ReadResult:
    """Turn a reader's table of strings into accepted reports and rejected rows.

    Parameters
    ----------
    frame
        The file's cells as text, with the readers' ``__row`` line numbers. The table is
        consumed: its columns are removed once read, so their memory is freed early.
    fmt
        ``"csv"``, ``"xlsx"``, ``"geojson"`` or ``"police.uk"``.
    file_name
        The name to record.
    source
        The partner, where the file has no source column.
    mapping
        Explicit ``{field: column}`` overrides.
    settings
        Settings (taxonomy, area).
    notes
        The reader's notes; the steps add theirs.
    bad_rows
        Rows the reader already rejected (``row``, ``reason``).
    street_names
        The loaded street network's names: location hints are kept only when they match
        one (or police.uk's "On or near" pattern); ``None`` without a network.
    head
        The first rows of every column of the file, when ``frame`` holds only the columns
        that become report fields: the others are named as dropped, with the reason their
        first rows give.

    Returns
    -------
    ReadResult

    Raises
    ------
    ReportFileError
        When no column holds coordinates, dates or categories, when a mapped column holds
        personal data, or when the dates mix formats.
    """
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)
    row_numbers = frame.pop("__row").to_numpy()
    bad_rows = bad_rows if bad_rows is not None else pd.DataFrame(columns=["row", "reason"])
    rows_read = len(frame) + len(bad_rows)
    columns = list(frame.columns if head is None else head.columns)
    colmap = report_columns(columns, fmt, mapping)
    if fmt == "police.uk":
        source = source or "police"
        notes.append(POLICE_UK_NOTE)
    source = vet_source(source, settings) if source else None
    coords_bng, xs, ys = coordinate_columns(frame, colmap)
    _require_fields(colmap, coords_bng, columns)
    fields, dropped = _anonymise(frame, colmap, columns, explicit=mapping, head=head)

    reasons = _Reasons(len(frame))
    values = _read_values(
        frame, fields, fmt, source, settings, reasons, notes, (coords_bng, xs, ys), street_names
    )
    accepted = pd.Series(reasons.ok, index=frame.index)
    rejected = _rejected_table(frame, fields, fmt, reasons, row_numbers, bad_rows, ~accepted)
    del row_numbers, reasons
    # Only the reference column is read from here on: free the file's other cells now.
    _drop_columns(frame, keep=[fields["reference"]] if "reference" in fields else [])
    rid, dup_in_file = _report_ids(frame, fields, fmt, values, accepted)
    keep = accepted & ~dup_in_file
    counts = _vocabulary_notes(values, keep, notes)
    return ReadResult(
        reports=_reports_table(values, rid, keep),
        rejected=rejected,
        rows_read=rows_read,
        file_name=file_name,
        source=source or "unknown",
        format=fmt,
        mapping=_shown_mapping(fields, fmt, coords_bng),
        dropped_columns=dropped,
        notes=notes,
        duplicates_in_file=int(dup_in_file.sum()),
        **counts,
    )


def _drop_columns(frame: pd.DataFrame, *, keep: list[str]) -> None:
    """Remove every column of ``frame`` but ``keep``, in place, so their memory is freed."""
    for col in [c for c in frame.columns if c not in keep]:
        del frame[col]


def _require_fields(colmap: Mapping[str, str], coords_bng: bool, columns: list[str]) -> None:
    """Raise, naming the file's columns, when coordinates, date or category has no column."""
    missing = [f for f in ("datetime", "category") if f not in colmap]
    if not coords_bng and not ("lon" in colmap and "lat" in colmap):
        missing.insert(0, "coordinates (latitude/longitude or easting/northing)")
    if missing:
        msg = (
            f"No usable column for {', '.join(missing)}. The file's columns are: "
            f"{', '.join(c for c in columns if not c.startswith('__'))}. Rename them, or give a "
            "mapping such as category=Issue."
        )
        raise ReportFileError(msg)


def _anonymise(
    frame: pd.DataFrame,
    colmap: Mapping[str, str],
    columns: list[str],
    *,
    explicit: Mapping[str, str] | None,
    head: pd.DataFrame | None = None,
) -> tuple[dict[str, str], list[DroppedColumn]]:
    """Drop personal columns before anything else looks at the rows; keep only report fields.

    A personal column mapped to a field other than ``location`` is an error, and so is any
    personal column the user mapped explicitly; an automatically mapped personal location
    column is dropped. Every column that is not a report field is dropped too; with
    ``head``, the first rows of each column, columns not read in full are judged on those.
    """
    kept_fields = dict(colmap.items())
    _refuse_personal_mapping(frame, explicit)
    dropped = detect_personal_columns(
        frame if head is None else head, keep=tuple(kept_fields.values())
    )
    dropped_names = {d.column for d in dropped}
    clash = [f for f, c in kept_fields.items() if c in dropped_names and f != "location"]
    if clash:
        names = ", ".join(f"{kept_fields[f]!r} ({f})" for f in clash)
        msg = (
            f"Column {names} looks like personal data, so it cannot be used as a report "
            "field. Map another column or remove the personal data from the file."
        )
        raise ReportFileError(msg)
    if "location" in kept_fields and kept_fields["location"] in dropped_names:
        kept_fields.pop("location")
    dropped += [
        DroppedColumn(column=c, reason="not a report field")
        for c in columns
        if c not in set(kept_fields.values()) | dropped_names and not c.startswith("__")
    ]
    return kept_fields, dropped


def _refuse_personal_mapping(frame: pd.DataFrame, explicit: Mapping[str, str] | None) -> None:
    """Raise when a column the user mapped by hand holds personal data (by name or content)."""
    if not explicit:
        return
    cols = [c for c in dict.fromkeys(explicit.values()) if c in frame.columns]
    found = {d.column: d.reason for d in detect_personal_columns(frame[cols])}
    if found:
        col, why = next(iter(found.items()))
        fld = next(f for f, c in explicit.items() if c == col)
        raise ReportFileError(_PERSONAL_MAPPING.format(fld=fld, col=col, why=why))


def _read_values(
    frame: pd.DataFrame,
    fields: Mapping[str, str],
    fmt: str,
    source: str | None,
    settings: Settings,
    reasons: _Reasons,
    notes: list[str],
    coords: tuple[bool, pd.Series | None, pd.Series | None],
    street_names: Iterable[str] | None,
) -> _Values:
    """Read every field, rejecting rows in order: geometry, date, coordinates, area, category.

    Only vocabulary comes out: categories and sources outside their lists become ``other``,
    location hints that name no known street are dropped.
    """
    reject = reasons.add
    if fmt == "geojson" and "__geometry_type" in frame.columns:
        gt = frame["__geometry_type"]
        reject(gt == "", "feature has no geometry")
        reject((gt != "") & (gt != "Point"), "feature is not a point")

    occurred, time_known, date_reason = parse_dates(
        frame[fields["datetime"]],
        frame[fields["time"]] if "time" in fields else None,
    )
    if fmt == "police.uk":
        time_known = pd.Series(False, index=frame.index)
    reasons.add_series(date_reason)

    coords_bng, xs, ys = coords
    if coords_bng:
        lon, lat = bng_coordinates(frame, fields, reject, notes)
    else:
        lon, lat = lon_lat_coordinates(frame, fields, xs, ys, reject, notes)
    reject_outside_area(
        lon,
        lat,
        settings.area_bbox,
        reject,
        name=settings.area_name,
        boundary=getattr(settings, "area_boundary", None),
    )

    cats = category_slugs(frame[fields["category"]], settings)
    reject(cats.isna(), "no category")
    cats, cat_other = vet_categories(cats, settings)

    if "source" in fields and fmt != "police.uk":
        src_text = frame[fields["source"]]
    else:
        src_text = pd.Series("", index=frame.index)
    src, src_other = vet_sources(src_text, settings, default=source)
    hint, hint_dropped, lsoa = _hint_and_lsoa(frame, fields, street_names)
    return _Values(
        occurred=occurred,
        time_known=time_known,
        category=cats,
        source=src,
        lon=lon,
        lat=lat,
        hint=hint,
        lsoa=lsoa,
        category_other=cat_other,
        source_other=src_other,
        hint_dropped=hint_dropped,
    )


def _vocabulary_notes(values: _Values, keep: pd.Series, notes: list[str]) -> dict[str, int]:
    """Count the stored rows whose category, source or hint was outside the vocabulary."""
    counts = {
        "other_categories": int((values.category_other & keep).sum()),
        "other_sources": int((values.source_other & keep).sum()),
        "dropped_hints": int((values.hint_dropped & keep).sum()),
    }
    texts = {
        "other_categories": "{n} row(s) had a category outside the taxonomy and are stored as "
        "'other'; add the word to the taxonomy or its police.uk mapping in settings to keep it.",
        "other_sources": "{n} row(s) had a source outside the sources list and are stored as "
        "'other'.",
        "dropped_hints": "{n} location hint(s) named no street of the loaded network and were "
        "dropped (the coordinates are kept).",
    }
    notes.extend(texts[k].format(n=n) for k, n in counts.items() if n)
    return counts


def _hint_and_lsoa(
    frame: pd.DataFrame, fields: Mapping[str, str], street_names: Iterable[str] | None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The vetted street hint, which hints were dropped, and the LSOA code (valid codes only)."""
    if "location" in fields:
        hint, dropped = vet_hints(frame[fields["location"]], street_names=street_names)
    else:
        hint = pd.Series(pd.NA, index=frame.index, dtype=_STR)
        dropped = pd.Series(False, index=frame.index)
    lsoa = (
        frame[fields["lsoa_code"]].astype(_STR).str.strip().str.upper()
        if "lsoa_code" in fields
        else pd.Series(pd.NA, index=frame.index, dtype=_STR)
    )
    if "lsoa_code" in fields:
        lsoa = lsoa.where(lsoa.str.fullmatch(r"[EW]0\d{7}").fillna(False).astype(bool))
    return hint, dropped, lsoa


def _report_ids(
    frame: pd.DataFrame,
    fields: Mapping[str, str],
    fmt: str,
    values: _Values,
    accepted: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """Report identity: (source, reference) when the file gives one, else content + ordinal."""
    by_ref = "reference" in fields and fmt != "police.uk"
    ref = frame[fields["reference"]].astype(_STR).str.strip() if by_ref else None
    if ref is not None and len(ref) and bool((ref.notna() & (ref != "")).all()):
        # Every row has a reference: no id by content is needed.
        rid = pd.Series("", index=frame.index, dtype=_STR)
        rid, dup_in_file = reference_ids(rid, accepted, values.source, ref)
        return rid.astype(_STR), dup_in_file
    content = pd.DataFrame(
        {
            "kind": "c",
            "t": values.occurred.to_numpy(dtype="datetime64[ns]").view("int64"),
            "category": values.category,
            "source": values.source,
            "lon": micro_degrees(values.lon),
            "lat": micro_degrees(values.lat),
            "hint": values.hint,
            "lsoa": values.lsoa,
            # police.uk reuses a Crime ID for rows at different places, so there the ID is
            # part of the content rather than the identity.
            "ref": (
                frame[fields["reference"]].astype(_STR).str.strip()
                if fmt == "police.uk" and "reference" in fields
                else ""
            ),
        }
    )
    content.loc[~accepted, ["lon", "lat"]] = 0
    rid = content_ids(content, accepted)
    dup_in_file = pd.Series(False, index=frame.index)
    if ref is not None:
        rid, dup_in_file = reference_ids(rid, accepted, values.source, ref)
    return rid.astype(_STR), dup_in_file


def _reports_table(values: _Values, rid: pd.Series, keep: pd.Series) -> pd.DataFrame:
    """The accepted, first-in-file rows as a report table (see ``REPORT_COLUMNS``)."""
    return pd.DataFrame(
        {
            "report_id": rid[keep],
            "occurred_at": values.occurred[keep].astype("datetime64[ns]"),
            "time_known": values.time_known[keep].astype(bool),
            "category": values.category[keep].astype(_STR),
            "source": values.source[keep],
            "lon": values.lon[keep].astype("float64"),
            "lat": values.lat[keep].astype("float64"),
            "segment_id": pd.array([pd.NA] * int(keep.sum()), dtype="Int64"),
            "location_hint": values.hint[keep].astype(_STR),
            "lsoa_code": values.lsoa[keep].astype(_STR),
            "batch_id": pd.Series("", index=rid.index, dtype=_STR)[keep],
        }
    ).reset_index(drop=True)


def _rejected_table(
    frame: pd.DataFrame,
    fields: Mapping[str, str],
    fmt: str,
    reasons: _Reasons,
    row_numbers: np.ndarray,
    bad_rows: pd.DataFrame,
    rej_mask: pd.Series,
) -> pd.DataFrame:
    """The rejected rows' mapped cells (personal data removed) with their line and reason."""
    shown = [c for c in dict.fromkeys(fields.values()) if not c.startswith("__")]
    rejected = frame.loc[rej_mask, shown].copy()
    # Never echo personal data back in the rejects file.
    for col in shown:
        rejected[col] = rejected[col].astype(_STR).mask(contains_personal(rejected[col]), _PERSONAL)
    if fmt == "geojson":
        for fld in ("lon", "lat", "easting", "northing"):
            col = fields.get(fld)
            if col and col.startswith("__"):
                rejected[fld] = frame.loc[rej_mask, col]
    rejected.insert(0, "reason", reasons.text(rej_mask.to_numpy()))
    rejected.insert(0, "row", row_numbers[rej_mask.to_numpy()])
    if len(bad_rows):
        rejected = pd.concat([rejected, bad_rows], ignore_index=True).sort_values("row")
    return rejected.reset_index(drop=True)


def _shown_mapping(fields: Mapping[str, str], fmt: str, coords_bng: bool) -> dict[str, str]:
    """The mapping to show the user: file columns only, GeoJSON coordinates as ``geometry``."""
    shown_map = {f: c for f, c in fields.items() if not c.startswith("__")}
    if fmt == "geojson":
        shown_map.update(
            {"lon": "geometry", "lat": "geometry"}
            if not coords_bng
            else {"easting": "geometry", "northing": "geometry"}
        )
    return shown_map
