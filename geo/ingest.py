"""One import, end to end: read, anonymise, snap to streets, store, write the rejects file, audit."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd

from geo.privacy import DroppedColumn
from geo.rejects import rejects_csv as rejects_csv
from geo.rejects import remove_rejects, write_rejects
from geo.reports import ReadResult, read_reports
from geo.settings import Settings, load_settings
from geo.store import Store


class Snapper(Protocol):
    """Anything that snaps lon/lat to street segments (``geo.streets.StreetNetwork``)."""

    def snap(self, lon: Any, lat: Any, *, max_distance_m: float = ...) -> tuple[Any, Any]:
        """Return segment ids (-1 off-network) and distances in metres."""
        ...


@dataclass
class ImportSummary:
    """The outcome of importing one file: every row read is accepted, a duplicate or rejected."""

    file_name: str
    source: str
    format: str
    rows_read: int
    accepted: int
    duplicates: int
    rejected: int
    off_network: int = 0
    snapped: int = 0
    batch_id: str = ""
    rejects_file: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    dropped_columns: list[DroppedColumn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected_rows: pd.DataFrame | None = None
    stored_name: str = ""
    other_categories: int = 0
    other_sources: int = 0
    dropped_hints: int = 0
    area_id: str = ""
    area_name: str = ""
    #: Accepted rows whose category the area's taxonomy does not map (police.uk types kept
    #: under their own slug), by category: out of the default selection and public summary.
    unmapped: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (without the rejected rows themselves)."""
        out = asdict(self)
        out.pop("rejected_rows", None)
        out["dropped_columns"] = [
            {"column": d.column, "reason": d.reason} for d in self.dropped_columns
        ]
        return out


def snap_reports(reports: pd.DataFrame, network: Snapper, *, max_distance_m: float) -> pd.DataFrame:
    """Set ``segment_id`` of each report to its nearest street segment within a distance.

    Parameters
    ----------
    reports
        The report table.
    network
        A street network with a ``snap`` method.
    max_distance_m
        Reports farther than this from every street keep a missing ``segment_id``.

    Returns
    -------
    pandas.DataFrame
        A copy with ``segment_id`` filled.
    """
    out = reports.copy()
    if out.empty:
        return out
    seg, _dist = network.snap(
        out["lon"].to_numpy(), out["lat"].to_numpy(), max_distance_m=max_distance_m
    )
    seg = np.asarray(seg, dtype="int64")
    out["segment_id"] = pd.array(np.where(seg >= 0, seg, 0), dtype="Int64")
    out.loc[seg < 0, "segment_id"] = pd.NA
    return out


#: Fields of the summary that are the read result's own, under the same names.
_FROM_READ = (
    "file_name",
    "source",
    "format",
    "rows_read",
    "mapping",
    "dropped_columns",
    "notes",
    "stored_name",
    "other_categories",
    "other_sources",
    "dropped_hints",
)


def _summary(
    result: Any,
    stored: Mapping[str, Any],
    area: Any,
    unmapped: dict[str, int],
    snapped: int,
    off_network: int,
    rejects_path: Any,
) -> ImportSummary:
    """The :class:`ImportSummary` of one import from its read result and what was stored."""
    return ImportSummary(
        **{name: getattr(result, name) for name in _FROM_READ},
        accepted=stored["accepted"],
        duplicates=stored["duplicates"],
        rejected=result.rejected_count,
        off_network=off_network,
        snapped=snapped,
        batch_id=stored["batch_id"],
        rejects_file=rejects_path,
        rejected_rows=result.rejected,
        area_id=area.area_id,
        area_name=area.name,
        unmapped=unmapped,
    )


def import_file(
    src: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    store: Store,
    file_name: str | None = None,
    source: str | None = None,
    mapping: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    network: Snapper | None = None,
    rejects_dir: str | os.PathLike[str] | None = None,
    actor: str | None = None,
    area: Any = None,
) -> ImportSummary:
    """Import one partner file into an area of the store.

    Rows outside the area's box or boundary are rejected with the reason
    ``"outside <area name>"``; categories come from the area's taxonomy and police.uk
    mapping (:func:`geo.areas.area_settings`).

    Parameters
    ----------
    src
        A path, bytes or binary file object.
    store
        Where the reports go.
    file_name
        The file's name (defaults to the path's name).
    source
        The partner, where the file has no source column.
    mapping
        Column mapping overrides (see :func:`geo.reports.read_reports`).
    settings
        Settings; by default the project's.
    network
        A street network to snap reports to; without one, reports stay in point mode.
    rejects_dir
        Folder for the rejected-rows CSV (default ``rejects/`` in the data folder,
        ``$BEATPLAN_DATA``, where :func:`delete_import` and the purge find it); the file is
        named after the batch, never after the uploaded file, and only its owner can read it.
    actor
        Who is importing, for the audit log.
    area
        The area (an :class:`geo.areas.Area`, or its id or name); by default the current
        (or only) area, and on a store with no area yet a new "Default area"
        (:func:`geo.areas.ensure_import_area`).

    Returns
    -------
    ImportSummary
    """
    from geo.areas import Area, area_settings, ensure_import_area

    settings = settings or load_settings()
    if not isinstance(area, Area):
        area = ensure_import_area(store, area, settings=settings)
    settings = area_settings(area, settings)
    result = read_reports(
        src,
        file_name=file_name,
        source=source,
        mapping=mapping,
        settings=settings,
        street_names=_street_names(network),
    )
    frame, snapped, off_network = _snap(result.reports, network, settings)
    unmapped = _unmapped(frame, settings)
    result.reports = result.reports.iloc[:0]  # the frame below is the one copy kept
    stored = store.add_batch(
        frame,
        file_name=result.stored_name,
        source=result.source,
        fmt=result.format,
        rows_read=result.rows_read,
        rejected=result.rejected_count,
        duplicates_in_file=result.duplicates_in_file,
        off_network=off_network,
        actor=actor,
        area_id=area.area_id,
    )
    rejects_path = _write_rejects(result, stored["batch_id"], rejects_dir)
    del frame
    summary = _summary(result, stored, area, unmapped, snapped, off_network, rejects_path)
    _check_accounting(summary)
    return summary


def delete_import(
    store: Store,
    batch_id: str,
    *,
    actor: str | None = None,
    rejects_dir: str | os.PathLike[str] | None = None,
    area_id: str | None = None,
) -> dict[str, Any]:
    """Delete one import: its reports, its batch record and its rejected-rows file.

    Parameters
    ----------
    store
        The report store (the deletion is audited and the freed space scrubbed).
    batch_id
        The import to delete.
    actor
        Who is deleting it.
    rejects_dir
        The rejects folder (default: ``rejects/`` in the data folder).
    area_id
        When given, the import must belong to this area.

    Returns
    -------
    dict
        ``{"batch_id", "area_id", "reports", "rejects_files", "scrubbed"}``.
    """
    out = store.delete_batch(batch_id, actor=actor, area_id=area_id)
    out["rejects_files"] = remove_rejects([batch_id], folder=rejects_dir)
    return out


def _unmapped(frame: pd.DataFrame, settings: Settings) -> dict[str, int]:
    """Accepted rows per category that the area's taxonomy does not hold."""
    if frame.empty:
        return {}
    cats = frame["category"].astype(str)
    counts = cats[~cats.isin(list(settings.categories))].value_counts()
    return {str(k): int(v) for k, v in counts.sort_index().items()}


def _street_names(network: Snapper | None) -> list[str] | None:
    """The distinct street names of a network (``None`` without one)."""
    segments = getattr(network, "segments", None) if network is not None else None
    if segments is None or "name" not in segments:
        return None
    return [str(n) for n in pd.unique(segments["name"].astype(str)) if n]


def _snap(
    frame: pd.DataFrame, network: Snapper | None, settings: Settings
) -> tuple[pd.DataFrame, int, int]:
    """Snap the reports to the network if there is one; return them, snapped and off-network."""
    off_network = snapped = 0
    if network is not None and not frame.empty:
        max_d = float(settings.snapping.get("max_distance_m", 50))
        frame = snap_reports(frame, network, max_distance_m=max_d)
        snapped = int(frame["segment_id"].notna().sum())
        off_network = len(frame) - snapped
    return frame, snapped, off_network


def _write_rejects(
    result: ReadResult, batch_id: str, rejects_dir: str | os.PathLike[str] | None
) -> str | None:
    """Write the rejected rows' CSV for the batch, if any rows were rejected; return its path."""
    if not result.rejected_count:
        return None
    return str(write_rejects(result.rejected, batch_id, folder=rejects_dir))


def _check_accounting(summary: ImportSummary) -> None:
    """Raise if a row read is not exactly one of accepted, duplicate or rejected."""
    if summary.accepted + summary.duplicates + summary.rejected != summary.rows_read:
        msg = (
            f"Internal accounting error for {summary.file_name}: {summary.rows_read} rows read "
            f"but {summary.accepted} + {summary.duplicates} + {summary.rejected} accounted for."
        )
        raise RuntimeError(msg)
