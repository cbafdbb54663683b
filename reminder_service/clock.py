"""The only place below the scheduler that reads the clock; everything else receives ``now``."""

from __future__ import annotations

from datetime import date, datetime

import pendulum

TIMEZONE = "Asia/Ho_Chi_Minh"


def now() -> datetime:
    """The current instant in Vietnam, whatever the server's own time zone."""
    return pendulum.now(TIMEZONE)


def today() -> date:
    return now().date()
