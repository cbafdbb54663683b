"""The "Đã gửi" pause as pure date rules: how long a unit's claim holds its ladder.

A claim made on day D, at any hour and on a day off too, pauses the obligation's ladder through the end
of ``pause_until(D)``: two working days after D, D itself not counted (``WorkCalendar.shift(D, 2)``). The
receiver thus has the rest of D and two whole working days to answer. The ladder resumes on the first
working day after ``pause_until``, unless the claim was decided sooner: confirmed (a submission is
recorded, which settles the ladder) or rejected (the ladder resumes at once).

2021 Q1 (overdue Tue 16/03, escalated Thu 18/03): a claim on Tue 16/03 pauses through Thu 18/03, so the
escalation due that day goes out on Fri 19/03 if nobody answered; a claim on Fri 19/03 pauses through
Tue 23/03 (the weekend does not count).
"""

from __future__ import annotations

from datetime import date

from calendars.workdays import WorkCalendar

PAUSE_WORKING_DAYS = 2


def pause_until(claimed_on: date, workdays: WorkCalendar) -> date:
    """The last day (inclusive) a claim made on ``claimed_on`` pauses the ladder."""
    return workdays.shift(claimed_on, PAUSE_WORKING_DAYS)


def is_paused(until: date, today: date) -> bool:
    """Whether an open claim paused through ``until`` still holds the ladder on ``today``."""
    return today <= until
