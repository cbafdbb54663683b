"""Cells a spreadsheet shows as written, never evaluates: unit names and document numbers come from files
anyone can edit, and Excel or LibreOffice runs a cell such as ``=HYPERLINK(…)`` or ``@SUM(…)`` as a formula."""

from __future__ import annotations

from typing import TypeVar

V = TypeVar("V")

# OWASP's list for CSV injection, plus the full-width signs that Excel in East Asian locales also evaluates.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def formula_like(text: str) -> bool:
    return text[:1] in FORMULA_STARTS


def csv_cell(value: V) -> V | str:
    """Text a spreadsheet would evaluate gets a leading apostrophe (it then reads it as text); numbers are
    left alone, so a negative number in a numeric column is still a number."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value
