"""Where each obligation stands on a given day, before anyone's submission is known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from calendars.model import DatedObligation
from calendars.workdays import WorkCalendar

Phase = Literal["upcoming", "due_today", "closed", "on_request"]


@dataclass(frozen=True)
class Standing:
    obligation: DatedObligation
    phase: Phase
    # Working days left before receipt closes (upcoming), or since it closed (closed).
    working_days: int


def standing(obligation: DatedObligation, today: date, workdays: WorkCalendar) -> Standing:
    effective = obligation.effective_deadline
    if effective is None:
        return Standing(obligation, "on_request", 0)
    if today == effective:
        return Standing(obligation, "due_today", 0)
    if today < effective:
        return Standing(obligation, "upcoming", workdays.working_days_between(today, effective))
    return Standing(obligation, "closed", workdays.working_days_between(effective, today))


def agenda(obligations: list[DatedObligation], today: date, workdays: WorkCalendar) -> list[Standing]:
    """Every obligation's standing, the nearest receipt date first, on-request ones last."""
    standings = [standing(o, today, workdays) for o in obligations]
    return sorted(
        standings,
        key=lambda s: (s.obligation.effective_deadline or date.max, s.obligation.id, s.obligation.kind),
    )
