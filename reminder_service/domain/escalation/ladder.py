"""The dated rungs of a ladder: pure working-day arithmetic from a deadline or a mark."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from calendars.workdays import WorkCalendar
from reminder_service.domain.escalation.policy import Stage


@dataclass(frozen=True, order=True)
class Rung:
    due_on: date
    order: int  # the stage's position in its ladder, so a later stage wins a tie on the same day
    stage: str
    occurrence: int


def first_date(stage: Stage, nominal: date | None, effective: date | None, marked: date | None,
               workdays: WorkCalendar) -> date | None:
    anchor = {"nominal": nominal, "effective": effective, "marked": marked}[stage.anchor]
    if anchor is None:
        return None
    if stage.offset == 0:
        return workdays.on_or_after(anchor) if stage.anchor == "marked" else workdays.on_or_before(anchor)
    return workdays.shift(anchor, stage.offset)


def rungs(stages: Sequence[Stage], *, nominal: date | None, effective: date | None, marked: date | None,
          until: date, workdays: WorkCalendar, max_repeats: int) -> Iterator[Rung]:
    """Every rung of the ladder falling on or before ``until``, in no particular order."""
    for order, stage in enumerate(stages):
        day = first_date(stage, nominal, effective, marked, workdays)
        occurrence = 0
        while day is not None and day <= until and occurrence <= max_repeats:
            yield Rung(day, order, stage.name, occurrence)
            if stage.repeat_every is None:
                break
            day = workdays.shift(day, stage.repeat_every)
            occurrence += 1
