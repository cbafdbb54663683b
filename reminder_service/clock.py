"""The only place below the scheduler that reads the clock; everything else receives ``now``."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pendulum

TIMEZONE = "Asia/Ho_Chi_Minh"


_ZONE = pendulum.timezone(TIMEZONE)  # looked up once: the dispatcher asks for the time per message


def now() -> datetime:
    """The current instant in Vietnam, whatever the server's own time zone."""
    return pendulum.now(_ZONE)


def today() -> date:
    return now().date()


def wall(moment: datetime) -> datetime:
    """Vietnamese wall-clock time without tzinfo, as the database stores it; naive input is taken as such."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(TIMEZONE)).replace(tzinfo=None)
