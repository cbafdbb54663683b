"""Where one obligation stands on a given day: a pure function of dates, submissions and working days.

No database and no clock: the read side loads plain facts, the caller says which day "today" is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

StatusCode = Literal[
    "not_yet_due", "due_soon", "submitted_on_time", "submitted_late", "overdue", "incomplete", "waived",
]
# The order views list the counts in: settled first, then what needs chasing, then what is still ahead.
STATUS_CODES: tuple[StatusCode, ...] = (
    "submitted_on_time", "submitted_late", "overdue", "incomplete", "due_soon", "not_yet_due", "waived",
)
SubmissionState = Literal["accepted", "incomplete", "reverted"]


class WorkingDays(Protocol):
    """The two pieces of working-day arithmetic status needs (WorkCalendar, or a memoising wrapper)."""

    def shift(self, day: date, working_days: int) -> date: ...

    def working_days_between(self, start: date, end: date) -> int: ...


@dataclass(frozen=True)
class ObligationFacts:
    nominal_deadline: date | None
    effective_deadline: date | None
    waived: bool = False


@dataclass(frozen=True)
class SubmissionFacts:
    received_at: datetime
    state: str = "accepted"
    doc_no: str | None = None
    missing: str | None = None


@dataclass(frozen=True)
class Status:
    code: StatusCode
    # Working days late (submitted_late) or overdue (overdue, incomplete past the deadline); else None.
    working_days: int | None = None
    received: date | None = None
    doc_no: str | None = None
    missing: str | None = None

    @property
    def needs_chasing(self) -> bool:
        """Past the effective deadline with nothing acceptable received: what `overdue` lists."""
        return self.code == "overdue" or (self.code == "incomplete" and self.working_days is not None)


def status_of(
    obligation: ObligationFacts,
    submissions: Sequence[SubmissionFacts],
    today: date,
    workdays: WorkingDays,
    due_soon_working_days: int,
) -> Status:
    """The obligation's status at the end of ``today``.

    Only submissions received on or before ``today`` count, so a past ``today`` shows the picture as
    it was then. A waiver excuses the obligation as a whole, whenever it was granted.
    """
    if obligation.waived:
        return Status("waived")
    effective = obligation.effective_deadline
    nominal = obligation.nominal_deadline or effective
    arrived = sorted(
        (s for s in submissions if s.state != "reverted" and s.received_at.date() <= today),
        key=lambda s: s.received_at,
    )
    decisive = _decisive(arrived)
    if decisive is not None:
        received = decisive.received_at.date()
        if effective is None or received <= effective:
            return Status("submitted_on_time", None, received, decisive.doc_no)
        return Status("submitted_late", workdays.working_days_between(effective, received), received, decisive.doc_no)
    overdue_days = workdays.working_days_between(effective, today) if effective and today > effective else None
    if arrived and arrived[-1].state == "incomplete":
        latest = arrived[-1]
        return Status("incomplete", overdue_days, latest.received_at.date(), latest.doc_no, latest.missing)
    if effective is None or nominal is None:
        return Status("not_yet_due")
    if overdue_days is not None:
        return Status("overdue", overdue_days)
    if today >= workdays.shift(nominal, -due_soon_working_days):
        return Status("due_soon")
    return Status("not_yet_due")


def _decisive(arrived: Sequence[SubmissionFacts]) -> SubmissionFacts | None:
    """The first accepted submission after the latest one found incomplete: the one that settled it."""
    start = 0
    for index, item in enumerate(arrived):
        if item.state == "incomplete":
            start = index + 1
    return next((s for s in arrived[start:] if s.state == "accepted"), None)


@dataclass(frozen=True)
class StatusRow:
    obligation_id: int
    obligation: str
    title: str
    year: int
    nominal_deadline: date | None
    effective_deadline: date | None
    unit: str
    unit_name: str
    kind: str
    unit_head: str | None
    status: Status
