"""Dates and times as registers write them: 12/03/2021, 2/3/2021, 2021-03-12T14:30, "14h30 12/03/2021",
Excel date cells, and Excel day numbers left unformatted.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from reminder_service.domain.datetext import DateError, read_moment, read_time
from reminder_service.domain.textfold import clean


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
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        return _excel_serial(float(text))
    try:
        return read_moment(text, two_digit_years=True)
    except DateError:
        return None


def time_of_day(value: object) -> time | None:
    if isinstance(value, time):
        return value
    if isinstance(value, datetime):
        return value.time()
    return read_time(clean(str(value))) if value is not None else None


def _excel_serial(serial: float) -> datetime | None:
    """An Excel day number left unformatted (44267 is 12/03/2021); only plausible register dates."""
    from openpyxl.utils.datetime import from_excel

    if not 32874 <= serial <= 73415:  # 1990-01-01 .. 2100-12-31
        return None
    moment = from_excel(serial)
    return moment if isinstance(moment, datetime) else None
