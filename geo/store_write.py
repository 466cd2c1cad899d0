"""Writing to the report store: import batches, street segments, plans, the audit log and purges."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.rejects import remove_rejects
from geo.store_areas import resolve_area_id
from geo.store_audit import current_user
from geo.store_bulk import bump_data_version, insert_reports, update_segments
from geo.store_engine import StoreConnection
from geo.store_scrub import scrub, secure_delete
from geo.store_tables import AUDIT_ACTIONS, audit, batches, plans, reports

__all__ = ["StoreWriter", "current_user"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class StoreWriter(StoreConnection):
    """The writing half of :class:`geo.store.Store` (every write is audited)."""

    def add_batch(
        self,
        frame: pd.DataFrame,
        *,
        file_name: str,
        source: str,
        fmt: str,
        rows_read: int,
        rejected: int,
        duplicates_in_file: int = 0,
        off_network: int = 0,
        actor: str | None = None,
        area_id: str | None = None,
    ) -> dict[str, Any]:
        """Store one import into an area: its new reports, the batch record and an audit event.

        Parameters
        ----------
        frame
            Accepted reports (the report table of DESIGN section 3).
        file_name, source, fmt
            Where the batch came from.
        rows_read, rejected, duplicates_in_file
            The reader's counts, recorded with the batch.
        off_network
            Reports kept in point mode because no street was close enough.
        actor
            Who imported it (for the audit log).
        area_id
            The area it goes into (default: the current one, else the only one).

        Returns
        -------
        dict
            ``batch_id``, ``area_id``, ``accepted`` (new reports stored), ``duplicates``
            (rows merged into reports already stored, plus repeated references inside the
            file), ``rejected``.
        """
        actor = actor or current_user()
        batch_id = uuid.uuid4().hex[:16]
        with self.engine.begin() as conn:
            area_id = resolve_area_id(conn, area_id, create_default=True)
            fixed = {"batch_id": batch_id, "area_id": area_id}
            inserted = insert_reports(conn, frame, fixed=fixed)
            dup = len(frame) - inserted + duplicates_in_file
            conn.execute(
                batches.insert().values(
                    batch_id=batch_id,
                    file_name=file_name[:255],
                    source=source[:64],
                    format=fmt,
                    imported_at=_now(),
                    imported_by=actor,
                    rows_read=rows_read,
                    accepted=inserted,
                    duplicates=dup,
                    rejected=rejected,
                    off_network=off_network,
                    area_id=area_id,
                    purged=0,
                )
            )
            self._audit(conn, "import", f"{file_name} ({source})", inserted, actor)
            if inserted:
                bump_data_version(conn)
        return {
            "batch_id": batch_id,
            "area_id": area_id,
            "accepted": inserted,
            "duplicates": dup,
            "rejected": rejected,
        }

    def set_segments(self, report_ids: Sequence[str], segment_ids: Sequence[int | None]) -> int:
        """Record the street segment of stored reports (after a network is loaded).

        Parameters
        ----------
        report_ids
            Reports to update.
        segment_ids
            Their segments (``None`` or a negative number for off-network).

        Returns
        -------
        int
            Rows updated.
        """
        with self.engine.begin() as conn:
            n = update_segments(conn, report_ids, segment_ids)
            if n:
                bump_data_version(conn)
        return n

    def audit(self, action: str, what: str, *, n_rows: int = 0, actor: str | None = None) -> None:
        """Append an event to the audit log (never report content).

        Parameters
        ----------
        action
            One of ``import, export, purge, delete, view, plan, network, demo, role``.
        what
            A short description, e.g. the file name or the export type.
        n_rows
            How many rows the event touched.
        actor
            Who did it.
        """
        with self.engine.begin() as conn:
            self._audit(conn, action, what, n_rows, actor or current_user())

    @staticmethod
    def _audit(conn: sa.Connection, action: str, what: str, n_rows: int, actor: str) -> None:
        if action not in AUDIT_ACTIONS:
            msg = f"Unknown audit action {action!r}; use one of {', '.join(AUDIT_ACTIONS)}."
            raise ValueError(msg)
        conn.execute(
            audit.insert().values(
                at=_now(), actor=actor[:255], action=action, what=what[:500], n_rows=int(n_rows)
            )
        )

    def purge(
        self,
        *,
        older_than_months: int,
        now: datetime | None = None,
        actor: str | None = None,
        area_id: str | None = None,
    ) -> dict[str, Any]:
        """Delete an area's reports older than the retention period, and audit the deletion.

        The import list stays true: each import counts the reports purged from it
        (``batches.purged``), and an import whose reports are all gone is removed with
        its rejected-rows file. Other areas are not touched.

        Parameters
        ----------
        older_than_months
            Reports that occurred before ``now`` minus this many months are deleted.
        now
            The reference time (default: now).
        actor
            Who ran the purge.
        area_id
            The area (default: the current one, else the only one).

        Returns
        -------
        dict
            ``{"purged", "cutoff", "area_id", "imports_removed", "rejects_files",
            "scrubbed"}``: rejected-rows files of the area's imports made before the
            cut-off or fully purged are deleted, and the deleted rows are scrubbed from the
            database files (:func:`geo.store_scrub.scrub`).
        """
        if older_than_months < 1:
            msg = "--older-than must be a whole number of months, at least 1."
            raise ValueError(msg)
        ref = pd.Timestamp(now or datetime.now()).normalize()
        cutoff = (ref - pd.DateOffset(months=int(older_than_months))).to_pydatetime()
        with self.engine.begin() as conn:
            area_id = resolve_area_id(conn, area_id, required=False)
            secure_delete(conn)
            n, emptied = _purge_area(conn, area_id, cutoff)
            old = conn.execute(
                sa.select(batches.c.batch_id).where(
                    batches.c.imported_at < cutoff, batches.c.area_id == area_id
                )
            )
            old_batches = sorted({*old.scalars(), *emptied})
            self._audit(
                conn,
                "purge",
                f"reports before {cutoff:%Y-%m-%d} in area {area_id}",
                n,
                actor or current_user(),
            )
            if n:
                bump_data_version(conn)
        files = remove_rejects(old_batches)
        scrubbed = scrub(self.engine, ["reports", "batches"])
        return {
            "purged": n,
            "cutoff": f"{cutoff:%Y-%m-%d}",
            "area_id": area_id,
            "imports_removed": len(emptied),
            "rejects_files": files,
            "scrubbed": scrubbed,
        }

    def delete_batch(
        self, batch_id: str, *, actor: str | None = None, area_id: str | None = None
    ) -> dict[str, Any]:
        """Delete one import's reports and batch record, audit it and scrub the files.

        Parameters
        ----------
        batch_id
            The import (``beatplan imports list``).
        actor
            Who deleted it.
        area_id
            When given, the import must belong to this area.

        Returns
        -------
        dict
            ``{"batch_id", "area_id", "reports", "scrubbed"}``.

        Raises
        ------
        ValueError
            When no import has that batch id (in that area).
        """
        with self.engine.begin() as conn:
            secure_delete(conn)
            q = sa.select(batches.c.area_id).where(batches.c.batch_id == str(batch_id))
            if area_id is not None:
                q = q.where(batches.c.area_id == area_id)
            found = conn.execute(q).first()
            if found is None:
                shown = str(batch_id)[:40]
                msg = f"No import has batch id {shown!r} here; see `beatplan imports list`."
                raise ValueError(msg)
            n = int(conn.execute(reports.delete().where(reports.c.batch_id == batch_id)).rowcount)
            conn.execute(batches.delete().where(batches.c.batch_id == batch_id))
            self._audit(conn, "delete", f"import {batch_id}", n, actor or current_user())
            bump_data_version(conn)
        scrubbed = scrub(self.engine, ["reports", "batches"])
        return {"batch_id": batch_id, "area_id": found[0], "reports": n, "scrubbed": scrubbed}

    def save_plan(
        self, plan_date: str, body: str, *, actor: str | None = None, area_id: str | None = None
    ) -> str:
        """Store an area's patrol plan (JSON text) and audit its creation.

        Parameters
        ----------
        plan_date
            The plan's date, ``YYYY-MM-DD``.
        body
            The plan as JSON text.
        actor
            Who made it.
        area_id
            The area (default: the current one, else the only one).

        Returns
        -------
        str
            The plan id.
        """
        plan_id = uuid.uuid4().hex[:16]
        with self.engine.begin() as conn:
            area_id = resolve_area_id(conn, area_id, create_default=True)
            conn.execute(
                plans.insert().values(
                    plan_id=plan_id,
                    created_at=_now(),
                    created_by=actor or current_user(),
                    plan_date=plan_date,
                    body=body,
                    area_id=area_id,
                )
            )
            self._audit(conn, "plan", f"patrol plan for {plan_date}", 1, actor or current_user())
        return plan_id


def _purge_area(conn: sa.Connection, area_id: str, cutoff: datetime) -> tuple[int, list[str]]:
    """Delete an area's reports before ``cutoff``; count them on their imports.

    Returns the number deleted and the imports left with no report (removed).
    """
    old = sa.and_(reports.c.area_id == area_id, reports.c.occurred_at < cutoff)
    per_batch = conn.execute(
        sa.select(reports.c.batch_id, sa.func.count()).where(old).group_by(reports.c.batch_id)
    ).all()
    n = int(conn.execute(reports.delete().where(old)).rowcount or 0)
    if per_batch:
        conn.execute(
            batches.update()
            .where(batches.c.batch_id == sa.bindparam("bid"))
            .values(purged=sa.func.coalesce(batches.c.purged, 0) + sa.bindparam("n")),
            [{"bid": b, "n": int(k)} for b, k in per_batch],
        )
    left = sa.select(reports.c.batch_id).where(reports.c.batch_id == batches.c.batch_id)
    emptied = list(
        conn.execute(
            sa.select(batches.c.batch_id).where(
                batches.c.area_id == area_id,
                batches.c.batch_id.in_([b for b, _ in per_batch]),
                ~sa.exists(left),
            )
        ).scalars()
    )
    if emptied:
        conn.execute(batches.delete().where(batches.c.batch_id.in_(emptied)))
    return n, emptied
