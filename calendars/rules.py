"""The rule vocabulary of a directive: reporting periods and date rules, resolved for a year.

Every rule is data; ``resolve`` turns it into a civil date for one report year. Nothing here knows
about working days: rolling a nominal date forward is the working-day calendar's job.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Literal

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

PeriodKind = Literal["year", "quarter", "half", "first_months"]


@dataclass(frozen=True)
class Period:
    """A reporting period inside the report year: the whole year, a quarter, a half, the first N months."""

    kind: PeriodKind
    number: int = 0

    @property
    def first_month(self) -> int:
        if self.kind == "quarter":
            return 3 * (self.number - 1) + 1
        if self.kind == "half":
            return 6 * (self.number - 1) + 1
        return 1

    @property
    def last_month(self) -> int:
        if self.kind == "quarter":
            return 3 * self.number
        if self.kind == "half":
            return 6 * self.number
        if self.kind == "first_months":
            return self.number
        return 12

    def label(self, year: int) -> str:
        """The period as Vietnamese reports name it: "Quý I/2021", "6 tháng đầu năm 2021"."""
        if self.kind == "quarter":
            return f"Quý {ROMAN[self.number]}/{year}"
        if self.kind == "half":
            return f"6 tháng {'đầu' if self.number == 1 else 'cuối'} năm {year}"
        if self.kind == "first_months":
            return f"{self.number} tháng đầu năm {year}"
        return f"Năm {year}"

    def bounds(self, year: int) -> tuple[date, date]:
        last_day = calendar.monthrange(year, self.last_month)[1]
        return date(year, self.first_month, 1), date(year, self.last_month, last_day)


Day = int | Literal["last"]


@dataclass(frozen=True)
class FixedDate:
    """Day and month as written ("15/11"), in the report year shifted by ``year_offset`` (-1: năm trước)."""

    day: Day
    month: int
    year_offset: int = 0

    def resolve(self, year: int, period: Period) -> date:
        return _make(year + self.year_offset, self.month, self.day)


@dataclass(frozen=True)
class PeriodMonthDate:
    """Day N of the period's first or last month, optionally shifted by whole months.

    "ngày 13 của tháng cuối kỳ báo cáo" is ``PeriodMonthDate(13, "last")``; Decree 09/2019's "ngày 15
    của tháng trước kỳ báo cáo" is ``PeriodMonthDate(15, "first", -1)``, which for Q1 lands in December
    of the previous year.
    """

    day: Day
    anchor: Literal["first", "last"]
    month_shift: int = 0

    def resolve(self, year: int, period: Period) -> date:
        month = period.first_month if self.anchor == "first" else period.last_month
        index = year * 12 + (month - 1) + self.month_shift
        return _make(index // 12, index % 12 + 1, self.day)


DateRule = FixedDate | PeriodMonthDate


def _make(year: int, month: int, day: Day) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == "last" else day)


def max_day(month: int) -> int:
    """The largest day number valid for ``month`` in every year (29/02 is not)."""
    return 28 if month == 2 else calendar.monthrange(2021, month)[1]


@dataclass(frozen=True)
class Window:
    """A data cut-off window (thời gian chốt số liệu), both ends inclusive."""

    start: DateRule
    end: DateRule


@dataclass(frozen=True)
class Deadline:
    """When receipt closes, as written. ``rule`` is None when the deadline is set by each request."""

    rule: DateRule | None
    wording: str = ""
    interpreted: bool = False

    @property
    def set_by_request(self) -> bool:
        return self.rule is None


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end
