"""An area's reports held in memory by time, filtered as the store's SQL filters them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

__all__ = ["ReportIndex"]


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and the distinct values of a text column (read-only codes)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int32)
    codes.setflags(write=False)
    return codes, pd.Index(uniques)


def _keep(codes: np.ndarray, uniques: pd.Index, chosen: Iterable[str] | None) -> np.ndarray | None:
    """Which rows hold one of ``chosen`` (``None``: every row)."""
    if chosen is None:
        return None
    wanted = np.flatnonzero(uniques.isin(list(chosen))).astype(np.int32)
    return np.isin(codes, wanted)


@dataclass(frozen=True)
class ReportIndex:
    """An area's stored reports (some columns), sorted by ``occurred_at``, for fast selections.

    One read of the store serves every selection of a page (period, categories, sources):
    :meth:`select` gives the rows the store's SQL filters would give
    (:meth:`geo.store.Store.reports`), in time order, as a new frame. Build it with
    :meth:`build`; the held frame is shared and must not be changed.

    Attributes
    ----------
    frame
        The reports, in time order (stable: equal times keep the order they were read in).
    when
        ``occurred_at`` as ``datetime64[ns]``, ascending.
    category_codes, categories
        Codes of each report's category into the distinct categories.
    source_codes, sources
        Codes of each report's source into the distinct sources.
    """

    frame: pd.DataFrame
    when: np.ndarray
    category_codes: np.ndarray
    categories: pd.Index
    source_codes: np.ndarray
    sources: pd.Index

    @classmethod
    def build(cls, reports: pd.DataFrame) -> ReportIndex:
        """Index a report table that has ``occurred_at``, ``category`` and ``source``.

        Parameters
        ----------
        reports
            Reports as :meth:`geo.store.Store.reports` returns them (any order).

        Returns
        -------
        ReportIndex

        Raises
        ------
        ValueError
            When a needed column is missing or a report has no time.
        """
        missing = {"occurred_at", "category", "source"} - set(reports.columns)
        if missing:
            msg = f"The reports lack column(s) {sorted(missing)}; read them with Store.reports."
            raise ValueError(msg)
        when = pd.to_datetime(reports["occurred_at"]).to_numpy(dtype="datetime64[ns]")
        if np.isnat(when).any():
            msg = "Some reports have no time; stored reports always have one: re-import them."
            raise ValueError(msg)
        order = np.argsort(when, kind="stable")
        frame = reports.iloc[order].reset_index(drop=True)
        when = when[order]
        when.setflags(write=False)
        cat_codes, cats = _codes(frame["category"])
        src_codes, srcs = _codes(frame["source"])
        return cls(frame, when, cat_codes, cats, src_codes, srcs)

    def __len__(self) -> int:
        """The number of reports held."""
        return len(self.frame)

    def select(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        categories: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The reports with ``start <= occurred_at < end`` in the categories and sources.

        Parameters
        ----------
        start, end
            Period bounds (a date means its midnight); ``None`` leaves that side open.
        categories, sources
            Keep only these (``None``: all; an empty list keeps none).
        columns
            Return only these columns, in this order (default: all held).

        Returns
        -------
        pandas.DataFrame
            A new frame with a fresh index, in time order.

        Raises
        ------
        ValueError
            When a column is not held.
        """
        cols = list(self.frame.columns) if columns is None else list(columns)
        unknown = [c for c in cols if c not in self.frame.columns]
        if unknown:
            msg = f"Columns {unknown} are not held; hold them or read them from the store."
            raise ValueError(msg)
        lo = 0 if start is None else int(np.searchsorted(self.when, _stamp(start), side="left"))
        hi = len(self) if end is None else int(np.searchsorted(self.when, _stamp(end), side="left"))
        hi = max(lo, hi)
        mask = np.ones(hi - lo, dtype=bool)
        for keep in (
            _keep(self.category_codes[lo:hi], self.categories, categories),
            _keep(self.source_codes[lo:hi], self.sources, sources),
        ):
            if keep is not None:
                mask &= keep
        rows = lo + np.flatnonzero(mask)
        return self.frame[cols].iloc[rows].reset_index(drop=True)


def _stamp(value: date | datetime | str) -> np.datetime64:
    """A period bound as ``datetime64[ns]`` (a timezone is dropped, as SQLite compares text)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.to_datetime64().astype("datetime64[ns]")
