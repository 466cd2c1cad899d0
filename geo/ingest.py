"""One import, end to end: read, anonymise, snap to streets, store, write the rejects file, audit."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd

from geo.privacy import DroppedColumn, neutralise_cells
from geo.reports import ReadResult, read_reports
from geo.settings import DATA_DIR, Settings, load_settings
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

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (without the rejected rows themselves)."""
        out = asdict(self)
        out.pop("rejected_rows", None)
        out["dropped_columns"] = [
            {"column": d.column, "reason": d.reason} for d in self.dropped_columns
        ]
        return out


def rejects_csv(rejected: pd.DataFrame) -> bytes:
    """Render rejected rows as a spreadsheet-safe UTF-8 CSV (formula cells neutralised).

    Parameters
    ----------
    rejected
        The reader's rejected-rows table.

    Returns
    -------
    bytes
    """
    return neutralise_cells(rejected).to_csv(index=False).encode("utf-8-sig")


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
) -> ImportSummary:
    """Import one partner file into the store.

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
        Folder for the rejected-rows CSV (default ``data/rejects``); ``None`` rows, no file.
    actor
        Who is importing, for the audit log.

    Returns
    -------
    ImportSummary
    """
    settings = settings or load_settings()
    result = read_reports(
        src, file_name=file_name, source=source, mapping=mapping, settings=settings
    )
    frame, snapped, off_network = _snap(result.reports, network, settings)
    stored = store.add_batch(
        frame,
        file_name=result.file_name,
        source=result.source,
        fmt=result.format,
        rows_read=result.rows_read,
        rejected=result.rejected_count,
        duplicates_in_file=result.duplicates_in_file,
        off_network=off_network,
        actor=actor,
    )
    rejects_path = _write_rejects(result, stored["batch_id"], rejects_dir)
    summary = ImportSummary(
        file_name=result.file_name,
        source=result.source,
        format=result.format,
        rows_read=result.rows_read,
        accepted=stored["accepted"],
        duplicates=stored["duplicates"],
        rejected=result.rejected_count,
        off_network=off_network,
        snapped=snapped,
        batch_id=stored["batch_id"],
        rejects_file=rejects_path,
        mapping=result.mapping,
        dropped_columns=result.dropped_columns,
        notes=result.notes,
        rejected_rows=result.rejected,
    )
    _check_accounting(summary)
    return summary


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
    folder = Path(rejects_dir) if rejects_dir is not None else DATA_DIR / "rejects"
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(result.file_name).stem or "upload"
    path = folder / f"{stem}-{batch_id}-rejected.csv"
    path.write_bytes(rejects_csv(result.rejected))
    return str(path)


def _check_accounting(summary: ImportSummary) -> None:
    """Raise if a row read is not exactly one of accepted, duplicate or rejected."""
    if summary.accepted + summary.duplicates + summary.rejected != summary.rows_read:
        msg = (
            f"Internal accounting error for {summary.file_name}: {summary.rows_read} rows read "
            f"but {summary.accepted} + {summary.duplicates} + {summary.rejected} accounted for."
        )
        raise RuntimeError(msg)
