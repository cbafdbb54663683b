"""What a service that opens its own transactions is given: sessions, the year's calendar, working days.

The composition root (``reminder_service.app.App``) provides it; a service names only this, so it never
depends on the process that wires it (docs/ARCHITECTURE.md, "Layers").
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy.orm import Session

from calendars.model import YearCalendar
from calendars.workdays import WorkCalendar


class Workspace(Protocol):
    @property
    def workdays(self) -> WorkCalendar: ...

    def calendar(self, year: int) -> YearCalendar: ...

    def session(self) -> AbstractContextManager[Session]: ...
