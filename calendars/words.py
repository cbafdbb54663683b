"""Dates as Vietnamese readers write them: dd/mm/yyyy, weekday names, ranges.

Used by the lint here and by every user-facing view of the service."""

from __future__ import annotations

from datetime import date

from calendars.rules import DateRange

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
NONE_MARK = "—"


def number(value: int) -> str:
    """A count as Vietnamese writes it: "." between thousands (1.434 ngày làm việc), "-" for negatives."""
    return f"{value:,}".replace(",", ".")


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def weekday(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def weekday_dmy(day: date) -> str:
    """"Thứ Bảy, 13/03/2021"."""
    return f"{weekday(day)}, {dmy(day)}"


def range_text(span: DateRange | None) -> str:
    if span is None:
        return NONE_MARK
    return f"{dmy(span.start)} – {dmy(span.end)}"
