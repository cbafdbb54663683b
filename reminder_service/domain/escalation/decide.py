"""What is due now: a pure function of (cases, recipients, policy, ledger, now).

Level-triggered: each call compares "what should have been decided by now" with the ledger of rungs
already decided, so a restart after downtime catches up by itself. Only the latest due rung of each
ladder is sent; earlier undecided rungs are returned as superseded, to be recorded as skipped.

A paused obligation (the unit pressed "Đã gửi" and the receiver has not yet answered) decides nothing at
all while paused: no rung of any of its ladders is sent, skipped or held, so none is lost. When the
pause ends with the claim still open, or the claim is rejected, the next call sees those rungs again
and the usual rule applies: the latest due rung goes out, the earlier ones are recorded as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from calendars.workdays import WorkCalendar
from reminder_service.domain.clock import wall
from reminder_service.domain.escalation.ladder import Rung, rungs
from reminder_service.domain.escalation.policy import (
    CHANNEL_NAMES,
    LATE_STAGES,
    ROLLUP_ROLES,
    ROLLUP_STAGES,
    Policy,
    Stage,
)
from reminder_service.domain.status import StatusCode

# Statuses whose ladder still runs; anything settled (sent, waived) stops it at once.
OPEN = frozenset({"not_yet_due", "due_soon", "overdue"})
MAIN = "main"
NO_ADDRESS = {"email": "chưa có địa chỉ e-mail", "telegram": "chưa liên kết Telegram"}


@dataclass(frozen=True)
class Case:
    """One active obligation of an active unit, as the decision needs it."""

    obligation_id: int
    unit_id: int
    nominal: date | None
    effective: date | None
    status: StatusCode
    # (submission id, day marked) of the latest incomplete mark, when the status is "incomplete".
    incomplete_mark: tuple[int, date] | None = None


@dataclass(frozen=True)
class Recipient:
    person_id: int
    name: str
    role: str
    unit_id: int | None
    email: str | None
    telegram: str | None
    channels: tuple[str, ...]

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.telegram


@dataclass(frozen=True)
class Delivery:
    recipient: Recipient
    channel: str
    address: str | None
    skip_reason: str | None = None


@dataclass(frozen=True)
class Decision:
    obligation_id: int
    series: str
    rung: Rung
    stage: Stage
    deliveries: tuple[Delivery, ...]
    superseded: tuple[Rung, ...]
    # Deliveries to the office's own people that the day's roll-up carries instead of a message each.
    rolled_up: tuple[Delivery, ...] = ()

    @cached_property  # read for every message of the decision
    def leadership_informed(self) -> bool:
        """Whether a message to at least one leadership person goes out (alone or in the roll-up) on a
        channel that person has: only then may a message say the delay "đã được báo cáo Lãnh đạo"."""
        return any(d.recipient.role == "leadership" and d.skip_reason is None
                   for d in (*self.deliveries, *self.rolled_up))


@dataclass(frozen=True)
class Held:
    """A late-stage rung held back by the intake guard; the digest says why."""

    obligation_id: int
    stage: str
    due_on: date


@dataclass(frozen=True)
class Outcome:
    decisions: tuple[Decision, ...]
    held: tuple[Held, ...]


def in_send_window(now: datetime, policy: Policy, workdays: WorkCalendar) -> bool:
    """Nobody is messaged on a day off or outside office hours (``now`` in Vietnamese time)."""
    return workdays.is_working_day(now.date()) and policy.send_from <= now.time() < policy.send_until


def next_send_time(now: datetime, policy: Policy, workdays: WorkCalendar) -> datetime:
    """``now`` inside the send window; otherwise when the window next opens (Vietnamese wall time)."""
    local = wall(now)
    if in_send_window(local, policy, workdays):
        return local
    day = local.date()
    if not (workdays.is_working_day(day) and local.time() < policy.send_from):
        day = workdays.next_working_day(day)
    return datetime.combine(day, policy.send_from)


def leadership_reachable(people: Iterable[Recipient], channels: Iterable[str] = CHANNEL_NAMES) -> bool:
    """Whether some leadership person can be messaged on one of ``channels``: a channel they chose and have
    an address for. The same rule as ``recipients_for`` and ``Decision.leadership_informed``."""
    allowed = set(channels)
    return any(p.role == "leadership" and any(c in allowed and p.address(c) for c in p.channels) for p in people)


def recipients_for(stage: Stage, unit_id: int, by_unit: Mapping[int, Sequence[Recipient]],
                   everyone: Sequence[Recipient]) -> tuple[Delivery, ...]:
    people: dict[int, Recipient] = {}
    for recipient in (*by_unit.get(unit_id, ()), *everyone):
        if recipient.role in stage.roles and recipient.person_id not in people:
            people[recipient.person_id] = recipient
    deliveries = []
    for recipient in people.values():
        for channel in stage.channels:
            if channel not in recipient.channels:
                continue  # the person asked not to be reached this way
            address = recipient.address(channel)
            deliveries.append(Delivery(recipient, channel, address, None if address else NO_ADDRESS[channel]))
    return tuple(deliveries)


def _ladder(case: Case, policy: Policy) -> tuple[str, tuple[Stage, ...], date | None] | None:
    if case.status in OPEN:
        return MAIN, policy.stages, None
    if case.status == "incomplete" and case.incomplete_mark is not None:
        submission_id, marked = case.incomplete_mark
        return f"incomplete-{submission_id}", policy.incomplete_stages, marked
    return None


def decide(
    cases: Iterable[Case],
    by_unit: Mapping[int, Sequence[Recipient]],
    everyone: Sequence[Recipient],
    policy: Policy,
    ledger: frozenset[tuple[int, str, str, int]],
    now: datetime,
    workdays: WorkCalendar,
    intake_checked_on: date | None = None,
    intake_guard: bool = False,
    paused: Set[int] = frozenset(),
) -> Outcome:
    """The rungs to decide now. ``ledger`` holds (obligation id, series, stage, occurrence) of every
    rung already decided; ``intake_checked_on`` is the day of the last successful register import,
    and with ``intake_guard`` late stages wait until an import has run after the effective deadline.
    ``paused``: ids of obligations whose ladder is paused today by an open "Đã gửi" claim (the caller
    works out which pauses still cover today): nothing is decided for them."""
    if not in_send_window(now, policy, workdays):
        return Outcome((), ())
    today = now.date()
    decisions: list[Decision] = []
    held: list[Held] = []
    for case in cases:
        if case.obligation_id in paused:
            continue
        ladder = _ladder(case, policy)
        if ladder is None:
            continue
        series, stages, marked = ladder
        due = list(rungs(stages, nominal=case.nominal, effective=case.effective, marked=marked, until=today,
                         workdays=workdays, max_repeats=policy.max_repeats))
        if not due:
            continue
        latest = max(due)
        if (case.obligation_id, series, latest.stage, latest.occurrence) in ledger:
            continue
        stage = next(s for s in stages if s.name == latest.stage)
        effective = case.effective
        if intake_guard and stage.name in LATE_STAGES and effective is not None and (
            intake_checked_on is None or intake_checked_on <= effective
        ):
            held.append(Held(case.obligation_id, stage.name, latest.due_on))
            continue
        superseded = tuple(sorted(
            r for r in due
            if r != latest and (case.obligation_id, series, r.stage, r.occurrence) not in ledger
        ))
        deliveries = recipients_for(stage, case.unit_id, by_unit, everyone)
        rolled = stage.name in ROLLUP_STAGES
        decisions.append(Decision(
            case.obligation_id, series, latest, stage,
            tuple(d for d in deliveries if not (rolled and d.recipient.role in ROLLUP_ROLES)), superseded,
            tuple(d for d in deliveries if rolled and d.recipient.role in ROLLUP_ROLES)))
    return Outcome(tuple(decisions), tuple(held))
