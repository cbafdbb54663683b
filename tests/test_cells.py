"""Cells a spreadsheet will not evaluate: what every CSV export writes for text and for numbers."""

from __future__ import annotations

from typing import Any

import pytest

from reminder_service.services.present.cells import csv_cell


@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+84 912 345 678", "'+84 912 345 678"),
    ("-1+2", "'-1+2"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    # Full-width signs: Excel in East Asian locales reads them as the ASCII ones.
    ("＝1+1", "'＝1+1"),
    ("＋1", "'＋1"),
    ("－1", "'－1"),
    ("＠SUM(1)", "'＠SUM(1)"),
])
def test_text_a_spreadsheet_would_evaluate_gets_an_apostrophe(value: str, written: str) -> None:
    assert csv_cell(value) == written


@pytest.mark.parametrize("value", [
    "12/BC-UBND", "UBND xã An Bình", "2021-03-18", "Nộp muộn 1 ngày làm việc", "", " =1", "a=b", "'=1",
    -3, 0, 2021, 1.5,
])
def test_plain_text_numbers_and_dates_are_written_as_they_are(value: Any) -> None:
    written = csv_cell(value)
    assert written == value and type(written) is type(value)
