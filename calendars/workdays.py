"""Working days in Vietnam: weekends, public holidays (Tết included), make-up working Saturdays.

The public-holiday table comes from the ``holidays`` package; an office may add its own days off
(a provincial holiday, a typhoon closure) or working days (a make-up Saturday the package does not
know yet) through configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TypeVar

import holidays

_ONE_DAY = timedelta(days=1)
# No real gap between working days is anywhere near this long; it only stops a loop on a broken config.
_MAX_GAP_DAYS = 366
_K = TypeVar("_K")
_V = TypeVar("_V")


# Answers kept per calendar; a service running for years asks new questions every day, so the memo is
# emptied when it reaches this size rather than growing for ever.
_MEMO_SIZE = 50_000


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> None:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value


class NoWorkingDayError(ValueError):
    """The configured days off leave no working day within a year of the given date."""


class WorkCalendar:
    """Pure working-day arithmetic; no clock, no I/O."""

    def __init__(
        self,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_working_days = frozenset(extra_working_days)
        clash = self.extra_days_off & self.extra_working_days
        if clash:
            listed = ", ".join(d.isoformat() for d in sorted(clash))
            raise ValueError(f"days both off and working: {listed}")
        # Names in Vietnamese whatever the server's locale.
        self._holidays = holidays.country_holidays("VN", language="vi")
        self._cache: dict[date, bool] = {}
        # A tick asks the same few questions for thousands of obligations that share their deadlines.
        self._shifts: dict[tuple[date, int], date] = {}
        self._spans: dict[tuple[date, date], int] = {}

    def is_working_day(self, day: date) -> bool:
        known = self._cache.get(day)
        if known is None:
            if day in self.extra_working_days:
                known = True
            elif day in self.extra_days_off:
                known = False
            else:
                known = bool(self._holidays.is_working_day(day))
            self._cache[day] = known
        return known

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return None if name is None else str(name)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self._walk(day + _ONE_DAY, _ONE_DAY)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        return self._walk(day - _ONE_DAY, -_ONE_DAY)

    def on_or_after(self, day: date) -> date:
        return self._walk(day, _ONE_DAY)

    def on_or_before(self, day: date) -> date:
        return self._walk(day, -_ONE_DAY)

    def shift(self, day: date, working_days: int) -> date:
        """Step ``working_days`` working days from ``day``, not counting ``day`` itself.

        ``shift(d, -5)`` is "5 working days before d"; ``shift(d, 3)`` is "3 working days after d".
        """
        known = self._shifts.get((day, working_days))
        if known is not None:
            return known
        current = day
        step = self.next_working_day if working_days > 0 else self.previous_working_day
        for _ in range(abs(working_days)):
            current = step(current)
        _remember(self._shifts, (day, working_days), current)
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        known = self._spans.get((start, end))
        if known is not None:
            return known
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        _remember(self._spans, (start, end), count)
        return count

    def effective_deadline(self, nominal: date) -> date:
        """Civil Code 2015 art. 148(5): a period ending on a day off ends on the next working day."""
        return self.on_or_after(nominal)

    def _walk(self, start: date, step: timedelta) -> date:
        day = start
        for _ in range(_MAX_GAP_DAYS):
            if self.is_working_day(day):
                return day
            day += step
        raise NoWorkingDayError(f"no working day within {_MAX_GAP_DAYS} days of {start.isoformat()}")
