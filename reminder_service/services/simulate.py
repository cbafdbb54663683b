"""Replay a period day by day through the real decision code, delivering nothing.

Each working day at the send hour, the obligations with a rung due that day are handed to the same
``decide`` the daemon uses, with their status as of that moment and the ledger of what was decided on
earlier days. Precomputing which days can matter keeps a whole year of a province under a minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from calendars.workdays import WorkCalendar
from reminder_service.domain.escalation.decide import Case, Decision, Delivery, Recipient, decide
from reminder_service.domain.escalation.ladder import rungs
from reminder_service.domain.escalation.policy import Policy
from reminder_service.domain.status import ObligationFacts, SubmissionFacts, status_of


@dataclass(frozen=True)
class SimObligation:
    obligation_id: int
    unit_id: int
    unit_code: str
    code: str
    year: int
    nominal: date | None
    effective: date | None
    waived: bool = False


@dataclass(frozen=True)
class SimSubmission:
    received_at: datetime
    state: str = "accepted"
    submission_id: int = 0
    marked_at: datetime | None = None


@dataclass(frozen=True)
class SimMessage:
    at: datetime
    unit: str
    obligation: str
    year: int
    stage: str
    role: str
    person: str
    channel: str
    skipped: str | None


def _candidate_days(item: SimObligation, marks: Iterable[date], policy: Policy, workdays: WorkCalendar,
                    until: date) -> set[date]:
    days = {r.due_on for r in rungs(policy.stages, nominal=item.nominal, effective=item.effective, marked=None,
                                    until=until, workdays=workdays, max_repeats=policy.max_repeats)}
    for mark in marks:
        days |= {r.due_on for r in rungs(policy.incomplete_stages, nominal=None, effective=None, marked=mark,
                                         until=until, workdays=workdays, max_repeats=policy.max_repeats)}
    return days


def _rollups(at: datetime, decisions: Sequence[Decision], policy: Policy) -> list[SimMessage]:
    """The day's roll-up, as the daemon writes it: one message per office person and channel listing
    every unit escalated that day (leadership), or those units inside the daily digest (the receiver)."""
    units: dict[tuple[int, str], set[int]] = defaultdict(set)
    people: dict[tuple[int, str], Delivery] = {}
    for decision in decisions:
        for delivery in decision.rolled_up:
            key = (delivery.recipient.person_id, delivery.channel)
            units[key].add(decision.obligation_id)
            people.setdefault(key, delivery)
    return [SimMessage(at, f"{len(units[key])} báo cáo", "", at.year,
                       "digest" if d.recipient.role in policy.digest_roles else "rollup", d.recipient.role,
                       d.recipient.name, d.channel, d.skip_reason)
            for key, d in people.items()]


def simulate(obligations: Sequence[SimObligation], submissions: Mapping[int, Sequence[SimSubmission]],
             by_unit: Mapping[int, Sequence[Recipient]], everyone: Sequence[Recipient], *, policy: Policy,
             workdays: WorkCalendar, start: date, end: date, due_soon: int) -> list[SimMessage]:
    index: dict[date, list[SimObligation]] = defaultdict(list)
    for item in obligations:
        if item.waived or item.nominal is None:
            continue
        marks = [(s.marked_at or s.received_at).date() for s in submissions.get(item.obligation_id, ())
                 if s.state == "incomplete"]
        for day in _candidate_days(item, marks, policy, workdays, end):
            if start <= day <= end:
                index[day].append(item)
    by_id = {o.obligation_id: o for o in obligations}
    ledger: set[tuple[int, str, str, int]] = set()
    messages: list[SimMessage] = []
    for day in sorted(index):
        at = datetime.combine(day, policy.send_from)
        cases = []
        for item in index[day]:
            known = [s for s in submissions.get(item.obligation_id, ()) if s.received_at < at]
            # An incomplete mark counts from the moment it was made, not from the receipt it concerns.
            facts = [SubmissionFacts(s.received_at, s.state if s.state != "incomplete" or
                                     (s.marked_at or s.received_at) < at else "accepted") for s in known]
            status = status_of(ObligationFacts(item.nominal, item.effective), facts, day, workdays, due_soon)
            mark = None
            if status.code == "incomplete":
                last = known[-1]
                mark = (last.submission_id, (last.marked_at or last.received_at).date())
            cases.append(Case(item.obligation_id, item.unit_id, item.nominal, item.effective, status.code, mark))
        outcome = decide(cases, by_unit, everyone, policy, frozenset(ledger), at, workdays)
        messages.extend(_rollups(at, outcome.decisions, policy))
        for decision in outcome.decisions:
            ledger.add((decision.obligation_id, decision.series, decision.rung.stage, decision.rung.occurrence))
            ledger.update((decision.obligation_id, decision.series, r.stage, r.occurrence)
                          for r in decision.superseded)
            item = by_id[decision.obligation_id]
            messages.extend(
                SimMessage(at, item.unit_code, item.code, item.year, decision.rung.stage, d.recipient.role,
                           d.recipient.name, d.channel, d.skip_reason)
                for d in decision.deliveries
            )
    return messages

