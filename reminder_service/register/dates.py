"""Dates and times as registers write them: 12/03/2021, 2/3/2021, 2021-03-12T14:30, "14h30 12/03/2021",
Excel date cells, and Excel day numbers left unformatted.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from reminder_service.register.text import clean

_CLOCK = r"(\d{1,2})\s*[:hH]\s*(\d{2})(?:\s*:\s*(\d{2}))?"
_DMY = re.compile(rf"^(?:{_CLOCK}[\s,]+)?(\d{{1,2}})[/.\-](\d{{1,2}})[/.\-](\d{{4}}|\d{{2}})(?:[\sT,]+{_CLOCK})?$")
_YMD = re.compile(rf"^(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})(?:[\sT]+{_CLOCK})?$")


def parse_moment(value: object) -> datetime | None:
    """A date (with its time, if given) from a sheet cell or CSV text; None when it cannot be read."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float):
        return _excel_serial(float(value))
    text = clean(str(value))
    try:
        if found := _DMY.match(text):
            h1, m1, s1, day, month, year, h2, m2, s2 = found.groups()
            full_year = int(year) + 2000 if len(year) == 2 else int(year)
            return datetime.combine(date(full_year, int(month), int(day)), _clock(h1 or h2, m1 or m2, s1 or s2))
        if found := _YMD.match(text):
            year, month, day, hour, minute, second = found.groups()
            return datetime.combine(date(int(year), int(month), int(day)), _clock(hour, minute, second))
        if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
            return _excel_serial(float(text))
    except ValueError:
        return None
    return None


def _clock(hour: str | None, minute: str | None, second: str | None) -> time:
    if hour is None:
        return time()
    return time(int(hour), int(minute or 0), int(second or 0))


def time_of_day(value: object) -> time | None:
    if isinstance(value, time):
        return value
    if isinstance(value, datetime):
        return value.time()
    found = re.fullmatch(_CLOCK, clean(str(value))) if value is not None else None
    try:
        return _clock(*found.groups()) if found else None
    except ValueError:
        return None


def _excel_serial(serial: float) -> datetime | None:
    """An Excel day number left unformatted (44267 is 12/03/2021); only plausible register dates."""
    from openpyxl.utils.datetime import from_excel

    if not 32874 <= serial <= 73415:  # 1990-01-01 .. 2100-12-31
        return None
    moment = from_excel(serial)
    return moment if isinstance(moment, datetime) else None
