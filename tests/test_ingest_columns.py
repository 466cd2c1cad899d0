"""Tests of reading only the report columns of a CSV (dropped columns judged on their first rows)."""

from __future__ import annotations

import pandas as pd
import pytest

import geo.reports_csv
from geo.reports import read_reports


def _csv(n: int, *, email_from: int) -> bytes:
    lines = ["Reference,Date,Incident type,Latitude,Longitude,Contact,Notes,Ward"]
    for i in range(n):
        contact = "someone@example.org" if i >= email_from else "none"
        note = f"seen near the corner with {i} others and left when approached"
        lines.append(
            f"R{i},0{1 + i % 9}/01/2024 1{i % 10}:00,ASB,53.7{i:04d},-0.3{i:04d},{contact},"
            f"{note},Central"
        )
    return ("\n".join(lines) + "\n").encode()


def _read(data: bytes):
    return read_reports(data, file_name="x.csv", source="council")


@pytest.mark.parametrize("email_from", [0, 3])
def test_a_file_read_in_part_gives_what_a_whole_read_gives(monkeypatch, email_from):
    data = _csv(40, email_from=email_from)
    whole = _read(data)
    monkeypatch.setattr(geo.reports_csv, "HEAD_ROWS", 10)  # 40 rows: the report columns only
    part = _read(data)
    pd.testing.assert_frame_equal(part.reports, whole.reports)
    pd.testing.assert_frame_equal(part.rejected, whole.rejected)
    assert part.dropped_columns == whole.dropped_columns
    assert part.mapping == whole.mapping and part.rows_read == whole.rows_read == 40
    reasons = {d.column: d.reason for d in part.dropped_columns}
    assert reasons == {
        "Contact": "it contains e-mail addresses",
        "Notes": "its name suggests free text",
        "Ward": "not a report field",
    }


def test_a_dropped_column_is_named_even_when_its_first_rows_look_clean(monkeypatch):
    monkeypatch.setattr(geo.reports_csv, "HEAD_ROWS", 10)
    part = _read(_csv(40, email_from=30))  # the e-mail addresses start after the first rows
    reasons = {d.column: d.reason for d in part.dropped_columns}
    assert set(reasons) == {"Contact", "Notes", "Ward"}
    assert (
        "example.org" not in part.reports.to_csv() and "example.org" not in part.rejected.to_csv()
    )


def test_only_the_report_columns_are_parsed_in_full(monkeypatch):
    seen: list[list[str] | None] = []
    real = geo.reports_csv._arrow_frame

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append((kwargs.get("include"), None if out is None else len(out)))
        return out

    monkeypatch.setattr(geo.reports_csv, "_arrow_frame", spy)
    monkeypatch.setattr(geo.reports_csv, "HEAD_ROWS", 10)
    _read(_csv(40, email_from=0))
    full = [rows for include, rows in seen if include is None]
    assert seen[0] == (["Reference", "Date", "Incident type", "Latitude", "Longitude"], 40)
    assert full and max(full) <= 11  # every column of the first rows only
