"""Columns the app's own tables share: who changed a row and when."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["stamp_columns"]


def stamp_columns(*events: str) -> list[sa.Column]:
    """Required ``<event>_at`` (a time) and ``<event>_by`` (who) columns for each event.

    Parameters
    ----------
    *events
        The events a row records, e.g. ``"created", "updated"``.

    Returns
    -------
    list of sqlalchemy.Column
        New columns, in the order given (``_at`` before ``_by``).
    """
    return [
        sa.Column(
            f"{event}_{what}", sa.DateTime if what == "at" else sa.String(255), nullable=False
        )
        for event in events
        for what in ("at", "by")
    ]
