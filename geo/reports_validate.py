"""Validate a read table into anonymised reports and rejected rows, one named step at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import ReportFileError
from geo.privacy import DroppedColumn, contains_personal, detect_personal_columns, street_hint
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
from geo.settings import Settings, slugify

_STR = "string[pyarrow]"
_PERSONAL = "[removed: personal data]"


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
) -> ReadResult:
    """Turn a reader's table of strings into accepted reports and rejected rows.

    Parameters
    ----------
    frame
        The file's cells as text, with the readers' ``__row`` line numbers.
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

    Returns
    -------
    ReadResult

    Raises
    ------
    ReportFileError
        When no column holds coordinates, dates or categories, when a mapped column holds
        personal data, or when the dates mix formats.
    """
    frame = frame.reset_index(drop=True)
    row_numbers = frame.pop("__row").to_numpy()
    bad_rows = bad_rows if bad_rows is not None else pd.DataFrame(columns=["row", "reason"])
    rows_read = len(frame) + len(bad_rows)
    columns = list(frame.columns)
    colmap = report_columns(columns, fmt, mapping)
    if fmt == "police.uk":
        source = source or "police"
        notes.append(POLICE_UK_NOTE)
    coords_bng, xs, ys = coordinate_columns(frame, colmap)
    _require_fields(colmap, coords_bng, columns)
    fields, dropped = _anonymise(frame, colmap, columns)

    reasons = _Reasons(len(frame))
    values = _read_values(
        frame, fields, fmt, source, settings, reasons, notes, (coords_bng, xs, ys)
    )
    accepted = pd.Series(reasons.ok, index=frame.index)
    rid, dup_in_file = _report_ids(frame, fields, fmt, values, accepted)
    keep = accepted & ~dup_in_file
    rejected = _rejected_table(frame, fields, fmt, reasons, row_numbers, bad_rows, ~accepted)
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
    )


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
    frame: pd.DataFrame, colmap: Mapping[str, str], columns: list[str]
) -> tuple[dict[str, str], list[DroppedColumn]]:
    """Drop personal columns before anything else looks at the rows; keep only report fields.

    A personal column mapped to a field other than ``location`` is an error; a personal
    location column is dropped. Every column that is not a report field is dropped too.
    """
    kept_fields = dict(colmap.items())
    dropped = detect_personal_columns(frame, keep=tuple(kept_fields.values()))
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


def _read_values(
    frame: pd.DataFrame,
    fields: Mapping[str, str],
    fmt: str,
    source: str | None,
    settings: Settings,
    reasons: _Reasons,
    notes: list[str],
    coords: tuple[bool, pd.Series | None, pd.Series | None],
) -> _Values:
    """Read every field, rejecting rows in order: geometry, date, coordinates, area, category."""
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
    reject_outside_area(lon, lat, settings.area_bbox, reject)

    cats = category_slugs(frame[fields["category"]], settings)
    reject(cats.isna(), "no category")
    reject(contains_personal(frame[fields["category"]]), "category text contains personal data")

    hint, lsoa = _hint_and_lsoa(frame, fields)
    return _Values(
        occurred=occurred,
        time_known=time_known,
        category=cats,
        source=_source_slugs(frame, fields, fmt, source),
        lon=lon,
        lat=lat,
        hint=hint,
        lsoa=lsoa,
    )


def _source_slugs(
    frame: pd.DataFrame, fields: Mapping[str, str], fmt: str, source: str | None
) -> pd.Series:
    """Each row's source slug: the file's source column, else the given source."""
    if "source" in fields:
        src_vals = frame[fields["source"]].astype(_STR).str.strip()
        src_vals = src_vals.mask(src_vals == "", source or "unknown")
        src_slug = src_vals.map({v: slugify(v) for v in pd.unique(src_vals.dropna())})
        if fmt == "police.uk":
            src_slug = pd.Series(source, index=frame.index)
        bad_src = contains_personal(src_vals)
        src_slug = src_slug.mask(bad_src, source or "unknown")
    else:
        src_slug = pd.Series(slugify(source) if source else "unknown", index=frame.index)
    return src_slug.astype(_STR)


def _hint_and_lsoa(frame: pd.DataFrame, fields: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """The street hint (no house numbers) and the LSOA code (valid codes only) of each row."""
    hint = (
        street_hint(frame[fields["location"]])
        if "location" in fields
        else pd.Series(pd.NA, index=frame.index, dtype=_STR)
    )
    lsoa = (
        frame[fields["lsoa_code"]].astype(_STR).str.strip().str.upper()
        if "lsoa_code" in fields
        else pd.Series(pd.NA, index=frame.index, dtype=_STR)
    )
    if "lsoa_code" in fields:
        lsoa = lsoa.where(lsoa.str.fullmatch(r"[EW]0\d{7}").fillna(False).astype(bool))
    return hint, lsoa


def _report_ids(
    frame: pd.DataFrame,
    fields: Mapping[str, str],
    fmt: str,
    values: _Values,
    accepted: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """Report identity: (source, reference) when the file gives one, else content + ordinal."""
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
    if "reference" in fields and fmt != "police.uk":
        ref = frame[fields["reference"]].astype(_STR).str.strip()
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
