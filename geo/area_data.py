"""The data side of areas: default categories and period, and deleting an area with its data."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.areas import Area, area_settings, get_area
from geo.settings import Settings
from geo.store import Store
from geo.store_areas import read_current_area_id, write_current_area_id
from geo.store_scrub import scrub, secure_delete
from geo.store_tables import areas, batches, plans, reports

__all__ = ["default_categories", "default_period", "delete_area", "unmapped_categories"]


def unmapped_categories(categories: Any, settings: Settings) -> list[str]:
    """The categories outside the area's taxonomy (police.uk types kept under their own slug).

    Parameters
    ----------
    categories
        Category slugs (e.g. those present in the area's reports).
    settings
        The area's settings (:func:`area_settings`).

    Returns
    -------
    list of str
        Sorted; these stay out of the default selection, default hotspots and public summary.
    """
    return sorted({str(c) for c in categories} - set(settings.categories))


def default_categories(
    store: Store, area: Area | str, *, settings: Settings | None = None
) -> list[str]:
    """The area's default category selection: its reports' categories that its taxonomy maps.

    When none of them is mapped, every category present (so a page is never empty by
    default).

    Parameters
    ----------
    store
        The store.
    area
        The area, or its id or name.
    settings
        The area's settings (default: :func:`area_settings`).

    Returns
    -------
    list of str
    """
    area = area if isinstance(area, Area) else get_area(store, area)
    settings = settings or area_settings(area)
    present = store.categories(area_id=area.area_id)
    unmapped = set(unmapped_categories(present, settings))
    return [c for c in present if c not in unmapped] or present


def default_period(
    store: Store, area: Area | str, *, days: int = 90
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The area's default period: its newest data (the last ``days`` days up to its newest report).

    Parameters
    ----------
    store, area
        As for :func:`default_categories`.
    days
        Length of the window.

    Returns
    -------
    (pandas.Timestamp, pandas.Timestamp) or None
        First and last day (inclusive, normalised to midnight), or ``None`` when the area
        has no reports.
    """
    area_id = area.area_id if isinstance(area, Area) else get_area(store, area).area_id
    period = store.period(area_id=area_id)
    if period is None:
        return None
    lo, hi = period[0].normalize(), period[1].normalize()
    return max(lo, hi - pd.Timedelta(days=int(days))), hi


def delete_area(
    store: Store,
    area: Area | str,
    *,
    actor: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Delete an area and everything of it; audited with counts (no content), space scrubbed.

    Removes its reports, imports (and their rejected-rows files), street network file,
    plans, patrol logs and published figures. Nothing of another area is touched.

    Parameters
    ----------
    store, area
        As for :func:`default_categories`.
    actor
        Who deleted it.
    data_dir
        The data folder (network and rejects files; default ``$BEATPLAN_DATA`` or ``data/``).

    Returns
    -------
    dict
        ``{"area_id", "name", "reports", "imports", "plans", "patrol_logs",
        "published_releases", "rejects_files", "network_file", "scrubbed"}``.
    """
    from geo.rejects import rejects_dir, remove_rejects
    from geo.workspace import network_path

    area = area if isinstance(area, Area) else get_area(store, area)
    counts: dict[str, Any] = {"area_id": area.area_id, "name": area.name}
    with store.engine.begin() as conn:
        secure_delete(conn)
        batch_ids = list(
            conn.execute(
                sa.select(batches.c.batch_id).where(batches.c.area_id == area.area_id)
            ).scalars()
        )
        counts.update(_delete_rows(conn, area.area_id))
        if read_current_area_id(conn) == area.area_id:
            write_current_area_id(conn, None)
        conn.execute(areas.delete().where(areas.c.area_id == area.area_id))
        from geo.store_bulk import bump_data_version

        bump_data_version(conn)
    counts["rejects_files"] = remove_rejects(batch_ids, folder=rejects_dir(data_dir))
    path = network_path(area.area_id, data_dir=data_dir)
    counts["network_file"] = path.is_file()
    path.unlink(missing_ok=True)
    counts["scrubbed"] = scrub(store.engine, ["reports", "batches", "plans"])
    what = ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("name", "scrubbed"))
    store.audit("area", f"deleted {what}", n_rows=int(counts["reports"]), actor=actor)
    return counts


def _delete_rows(conn: sa.Connection, area_id: str) -> dict[str, int]:
    """Delete an area's rows from every table that keeps them; return counts per kind."""
    out = {
        "reports": int(conn.execute(reports.delete().where(reports.c.area_id == area_id)).rowcount),
        "imports": int(conn.execute(batches.delete().where(batches.c.area_id == area_id)).rowcount),
        "plans": int(conn.execute(plans.delete().where(plans.c.area_id == area_id)).rowcount),
    }
    tables = set(sa.inspect(conn).get_table_names())
    out["patrol_logs"] = 0
    if "patrol_logs" in tables:
        logs = sa.table("patrol_logs", sa.column("area_id"))
        out["patrol_logs"] = int(
            conn.execute(logs.delete().where(logs.c.area_id == area_id)).rowcount
        )
    out["published_releases"] = 0
    if "published_releases" in tables:
        rel = sa.table("published_releases", sa.column("area"))
        figs = sa.table("published_figures", sa.column("area"))
        out["published_releases"] = int(
            conn.execute(rel.delete().where(rel.c.area == area_id)).rowcount
        )
        conn.execute(figs.delete().where(figs.c.area == area_id))
    out["problems"] = 0  # the partnership's log (planning.problems, migration 0006)
    if "problems" in tables:
        for name in ("problem_responses", "problems"):
            t = sa.table(name, sa.column("area_id"))
            out["problems"] = int(conn.execute(t.delete().where(t.c.area_id == area_id)).rowcount)
    return out
