"""Rejected-rows files: written under the data folder (mode 0600), removed with their import."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pandas as pd

from geo.privacy import safe_csv
from geo.settings import DATA_DIR

__all__ = [
    "REJECTS_SUFFIX",
    "purge_rejects",
    "rejects_csv",
    "rejects_dir",
    "remove_rejects",
    "write_rejects",
]

REJECTS_SUFFIX = "-rejected.csv"


def rejects_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of rejected-rows files: ``rejects/`` in the data folder.

    Parameters
    ----------
    data_dir
        The data folder (default ``$BEATPLAN_DATA``, else the project's ``data/``).

    Returns
    -------
    pathlib.Path
    """
    return Path(data_dir or os.environ.get("BEATPLAN_DATA") or DATA_DIR) / "rejects"


def _folder(folder: str | os.PathLike[str] | None) -> Path:
    """The rejects folder given, else :func:`rejects_dir`."""
    return Path(folder) if folder is not None else rejects_dir()


def _delete(paths: Iterable[Path]) -> int:
    """Delete the files among ``paths`` that exist; return how many."""
    n = 0
    for path in paths:
        if path.is_file():
            path.unlink()
            n += 1
    return n


def rejects_csv(rejected: pd.DataFrame) -> bytes:
    """Render rejected rows as a spreadsheet-safe UTF-8 CSV (see :func:`geo.privacy.safe_csv`).

    Parameters
    ----------
    rejected
        The reader's rejected-rows table.

    Returns
    -------
    bytes
    """
    return safe_csv(rejected)


def write_rejects(
    rejected: pd.DataFrame, batch_id: str, *, folder: str | os.PathLike[str] | None = None
) -> Path:
    """Write one import's rejected rows, readable by the owner only (mode 0600).

    The file is named after the import's batch id alone (never the uploaded file's name),
    so it can be found and removed with the import.

    Parameters
    ----------
    rejected
        The rejected rows.
    batch_id
        The import's batch id.
    folder
        Where to write (default :func:`rejects_dir`).

    Returns
    -------
    pathlib.Path
    """
    target = _folder(folder)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = target / f"{batch_id}{REJECTS_SUFFIX}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(rejects_csv(rejected))
    return path


def remove_rejects(
    batch_ids: Iterable[str], *, folder: str | os.PathLike[str] | None = None
) -> int:
    """Delete the rejected-rows files of these imports.

    Parameters
    ----------
    batch_ids
        Batch ids.
    folder
        The rejects folder (default :func:`rejects_dir`).

    Returns
    -------
    int
        Files deleted.
    """
    target = _folder(folder)
    return _delete(target / f"{Path(str(batch_id)).name}{REJECTS_SUFFIX}" for batch_id in batch_ids)


def purge_rejects(
    before: datetime,
    *,
    batch_ids: Iterable[str] = (),
    folder: str | os.PathLike[str] | None = None,
) -> int:
    """Delete rejected-rows files older than the retention cut-off.

    A file goes when its import is in ``batch_ids`` (imports made before the cut-off) or
    when the file itself was last written before the cut-off.

    Parameters
    ----------
    before
        The retention cut-off (local time).
    batch_ids
        Imports made before the cut-off.
    folder
        As for :func:`remove_rejects`.

    Returns
    -------
    int
        Rejected-rows files deleted (by import or by age).
    """
    target = _folder(folder)
    if not target.is_dir():
        return 0
    n = remove_rejects(batch_ids, folder=target)
    limit = before.timestamp()
    old = (
        p for p in target.glob(f"*{REJECTS_SUFFIX}") if p.is_file() and p.stat().st_mtime < limit
    )
    return n + _delete(old)
