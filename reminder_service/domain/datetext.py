"""Dates as people type them: one grammar for the CLI, the chat bot and register files.

Accepted: dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy (one separator throughout) and yyyy-mm-dd.
Two-digit years (15/03/21) only in register files (``two_digit_years=True``), where office software
writes them; a person typing a command writes the full year. The chat bot also lets a person leave
the year out (``15/03`` is this year): pass ``default_year``.

A time of day may go with a date (``read_moment``): "14:30", "14h30" or "14:30:05", before or after
the date, or ISO's "2021-03-12T14:30". Pure: no clock is read.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time

FIRST_YEAR, LAST_YEAR = 2000, 2100
EXAMPLE = "15/03/2021"
FORMS = "ngày/tháng/năm (15/03/2021, 5/3/2021, 15-03-2021, 15.03.2021) hoặc năm-tháng-ngày (2021-03-15)"

_DMY = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})(?:\2(\d{4}|\d{2}))?")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
CLOCK = r"(\d{1,2})\s*[:hH]\s*(\d{2})(?:\s*:\s*(\d{2}))?"
_CLOCK_ONLY = re.compile(CLOCK)
_CLOCK_FIRST = re.compile(rf"{CLOCK}[\s,]+(\S+)")
_CLOCK_AFTER = re.compile(rf"(\S+?)[\sT,]+{CLOCK}")


@dataclass(frozen=True)
class DateError(ValueError):
    """What is wrong with a typed date, in Vietnamese, ready to show after the place it came from."""

    reason: str

    def __str__(self) -> str:
        return self.reason


def read_date(text: str, *, two_digit_years: bool = False, default_year: int | None = None) -> date:
    """The civil date ``text`` names, or DateError saying what is accepted."""
    written = " ".join(text.split())
    year: int | None
    if found := _YMD.fullmatch(written):
        year, month, day = (int(part) for part in found.groups())
    elif found := _DMY.fullmatch(written):
        day, month = int(found.group(1)), int(found.group(3))
        year_text = found.group(4)
        if year_text is None:
            if default_year is None:
                raise DateError(f"“{written}” thiếu năm; hãy ghi đủ ngày/tháng/năm, ví dụ: {EXAMPLE}.")
            year = default_year
        elif len(year_text) == 2:
            if not two_digit_years:
                raise DateError(f"“{written}” ghi năm bằng hai chữ số; hãy ghi năm đủ bốn chữ số, "
                                f"ví dụ: {EXAMPLE}.")
            year = 2000 + int(year_text)
        else:
            year = int(year_text)
    else:
        short = " (hoặc 15/03 cho năm nay)" if default_year is not None else ""
        raise DateError(f"Không hiểu ngày “{written}”. Hãy ghi theo dạng {FORMS}{short}.")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DateError(f"Năm {year} trong ngày “{written}” không hợp lệ: năm phải từ {FIRST_YEAR} "
                        f"đến {LAST_YEAR}, ví dụ: {EXAMPLE}.")
    if not 1 <= month <= 12:
        raise DateError(f"Không có tháng {month} trong ngày “{written}”: tháng phải từ 1 đến 12, "
                        f"ví dụ: {EXAMPLE}.")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise DateError(f"Không có ngày {day:02d}/{month:02d}/{year}: tháng {month} năm {year} "
                        f"chỉ có {last} ngày.")
    return date(year, month, day)


def read_moment(text: str, *, two_digit_years: bool = False) -> datetime:
    """A date with an optional time of day (midnight when none), as naive wall-clock time."""
    written = " ".join(text.split())
    clock: tuple[str | None, ...] = (None, None, None)
    day_text = written
    if found := _CLOCK_FIRST.fullmatch(written):
        clock, day_text = found.groups()[:3], found.group(4)
    elif found := _CLOCK_AFTER.fullmatch(written):
        day_text, clock = found.group(1), found.groups()[1:]
    day = read_date(day_text, two_digit_years=two_digit_years)
    return datetime.combine(day, read_clock(clock, written))


def read_time(text: str) -> time | None:
    """A bare time of day ("14:30", "14h30"), or None when ``text`` is not one."""
    found = _CLOCK_ONLY.fullmatch(" ".join(text.split()))
    if found is None:
        return None
    try:
        return read_clock(found.groups(), text)
    except DateError:
        return None


def read_clock(parts: tuple[str | None, ...], written: str) -> time:
    hour, minute, second = parts
    if hour is None:
        return time()
    if not (0 <= int(hour) < 24 and 0 <= int(minute or 0) < 60 and 0 <= int(second or 0) < 60):
        raise DateError(f"Giờ trong “{written}” không hợp lệ; hãy ghi giờ dạng 14:30 (từ 00:00 đến 23:59).")
    return time(int(hour), int(minute or 0), int(second or 0))
