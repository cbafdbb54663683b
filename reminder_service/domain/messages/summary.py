"""The plain data the receiver's daily digest and leadership's weekly summary report.

The daemon gathers it (status rows from the read side, dead outbox rows, skipped deliveries, the intake
guard's held rungs); the templates only word it. The two helpers turn read-side status rows into the
per-obligation counts and the overdue list, so the digest and `status` never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from reminder_service.domain.status import StatusRow


@dataclass(frozen=True)
class EscalatedUnit:
    """A unit escalated today: one line of the day's roll-up to leadership and the receiver."""

    unit_name: str
    title: str
    stage: str
    working_days: int
    # Messages of this report's ladder the unit was sent, today's included ("đã nhắc N lần").
    times_reminded: int
    unit_head: str | None


@dataclass(frozen=True)
class ObligationCount:
    """How the units owing one report of one year stand."""

    code: str
    year: int
    title: str
    nominal_deadline: date | None
    effective_deadline: date | None
    units: int
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    incomplete: int = 0
    due_soon: int = 0
    not_yet_due: int = 0
    waived: int = 0

    @property
    def submitted(self) -> int:
        return self.on_time + self.late

    @property
    def needs_attention(self) -> int:
        """Late, incomplete, or inside the notice period: what keeps the daily digest going."""
        return self.overdue + self.incomplete + self.due_soon


@dataclass(frozen=True)
class OverdueUnit:
    unit_code: str
    unit_name: str
    title: str
    year: int
    effective_deadline: date | None
    working_days: int
    # Received but marked incomplete, past the deadline: what is missing, if recorded.
    incomplete: bool = False
    missing: str | None = None


@dataclass(frozen=True)
class DeliveryFailure:
    """An outbox row that gave up (state dead)."""

    recipient: str
    channel: str
    stage: str
    unit_name: str | None
    error: str
    at: datetime | None = None


@dataclass(frozen=True)
class SkippedPerson:
    """Somebody a message was meant for who has no address on that channel."""

    recipient: str
    unit_name: str | None
    channel: str
    reason: str


@dataclass(frozen=True)
class HeldStage:
    """A late-stage rung the intake guard holds back until the incoming register has been imported."""

    unit_name: str
    title: str
    stage: str
    due_on: date


@dataclass(frozen=True)
class IntakeState:
    # False when no incoming-register folder is configured: submissions are recorded by hand only.
    watched: bool
    last_import: datetime | None = None
    held: tuple[HeldStage, ...] = ()


def counts_by_obligation(rows: Iterable[StatusRow]) -> list[ObligationCount]:
    """One count per (year, obligation code), in deadline order."""
    tally: dict[tuple[int, str], dict[str, int]] = {}
    first: dict[tuple[int, str], StatusRow] = {}
    for row in rows:
        key = (row.year, row.obligation)
        first.setdefault(key, row)
        counts = tally.setdefault(key, dict.fromkeys(
            ("units", "on_time", "late", "overdue", "incomplete", "due_soon", "not_yet_due", "waived"), 0))
        counts["units"] += 1
        code = row.status.code
        if code == "submitted_on_time":
            counts["on_time"] += 1
        elif code == "submitted_late":
            counts["late"] += 1
        else:
            counts[code] += 1
    result = [
        ObligationCount(code=key[1], year=key[0], title=first[key].title,
                        nominal_deadline=first[key].nominal_deadline,
                        effective_deadline=first[key].effective_deadline, **counts)
        for key, counts in tally.items()
    ]
    return sorted(result, key=lambda c: (c.year, c.effective_deadline or date.max, c.code))


def overdue_units(rows: Iterable[StatusRow]) -> list[OverdueUnit]:
    """What needs chasing, the most overdue first."""
    chased = [
        OverdueUnit(row.unit, row.unit_name, row.title, row.year, row.effective_deadline,
                    row.status.working_days or 0, row.status.code == "incomplete", row.status.missing)
        for row in rows if row.status.needs_chasing
    ]
    return sorted(chased, key=lambda u: (-u.working_days, u.year, u.title, u.unit_code))


def digest_due(counts: Iterable[ObligationCount]) -> bool:
    """The daily digest goes out while some report is overdue, incomplete, or due soon."""
    return any(c.needs_attention for c in counts)
