"""The only place below the scheduler that reads the clock; everything else receives ``now``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum

TIMEZONE = "Asia/Ho_Chi_Minh"


_ZONE = pendulum.timezone(TIMEZONE)  # looked up once: the dispatcher asks for the time per message


def now() -> datetime:
    """The current instant in Vietnam, whatever the server's own time zone."""
    return pendulum.now(_ZONE)


def today() -> date:
    return now().date()


def shifted(day: date, *, real: Callable[[], datetime] = now) -> Callable[[], datetime]:
    """A clock that starts on ``day`` at the current time of day (Vietnam) and runs on from there:
    `run --as-of`, for training and demonstrations."""
    started = real()
    there = datetime.combine(day, started.astimezone(ZoneInfo(TIMEZONE)).time(), tzinfo=ZoneInfo(TIMEZONE))
    # In seconds, not a pendulum interval: adding one of those steps by calendar months and days.
    offset = timedelta(seconds=there.timestamp() - started.timestamp())

    def current() -> datetime:
        return real() + offset

    return current


def wall(moment: datetime) -> datetime:
    """Vietnamese wall-clock time without tzinfo, as the database stores it; naive input is taken as such."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(TIMEZONE)).replace(tzinfo=None)
