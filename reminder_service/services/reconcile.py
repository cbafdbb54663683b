"""The reconcile tick: load what is open, decide what is due now, write rungs and messages together.

The imperative shell around the pure decision. Everything a tick decides is written in one
transaction: the ladder rungs (the ledger) and the outbox rows that the dispatcher will deliver. A
rung is unique per (obligation, series, stage, occurrence), so two instances, or a restart in the
middle of a tick, can never decide the same rung twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.domain.buttons import reminder_buttons
from reminder_service.domain.clock import wall
from reminder_service.domain.escalation.decide import Case, Decision, Delivery, Held, Outcome, Recipient, decide
from reminder_service.domain.escalation.policy import Policy
from reminder_service.domain.messages.form import Formed, MessageForm
from reminder_service.domain.messages.render import Rendered
from reminder_service.domain.status import ObligationFacts, SubmissionFacts, status_of
from reminder_service.services.claims import paused_obligations
from reminder_service.services.db.engine import insert_many
from reminder_service.services.db.models import LadderStep, Obligation, Person, Submission, Unit, table_of
from reminder_service.services.outbox.enqueue import Envelope, enqueue, store_forms
from reminder_service.services.readside import settled

log = structlog.get_logger(__name__)
# Rungs before a deadline start at most this far ahead (5 working days, Tết included, fit easily).
LOOKAHEAD = timedelta(days=31)


# (decision, delivery) -> the message text.
Render = Callable[[Decision, Delivery], Rendered | Formed]
# Given the tick's session and decisions, a Render: lets the renderer load what it needs in bulk.
RenderFactory = Callable[[Session, Sequence[Decision]], Render]


@dataclass(frozen=True)
class TickReport:
    decided: int
    messages: int
    skipped_deliveries: int
    superseded: int
    held: tuple[Held, ...]
    conflicts: int
    # Digests, roll-ups and weekly summaries written in the same pass (the daemon adds them).
    summaries: int = 0


def _open(today: date) -> tuple[ColumnElement[bool], ...]:
    """Obligations whose ladder may have a rung due today: the database prunes the settled majority."""
    return (
        Obligation.active.is_(True), Unit.active.is_(True), Obligation.waived_reason.is_(None),
        Obligation.nominal_deadline.is_not(None), Obligation.nominal_deadline <= today + LOOKAHEAD,
        ~settled(today),
    )


def load_cases(session: Session, today: date, workdays: WorkCalendar, due_soon: int) -> list[Case]:
    """Open obligations with their status: two queries whatever the number of units."""
    conditions = _open(today)
    rows = session.execute(
        select(Obligation.id, Obligation.unit_id, Obligation.nominal_deadline, Obligation.effective_deadline)
        .join(Unit, Obligation.unit_id == Unit.id).where(*conditions)
    ).all()
    received: dict[int, list[tuple[int, SubmissionFacts, datetime | None]]] = defaultdict(list)
    for oid, sid, received_at, state, missing, marked_at in session.execute(
        select(Submission.obligation_id, Submission.id, Submission.received_at, Submission.state,
               Submission.missing, Submission.marked_at)
        .join(Obligation, Submission.obligation_id == Obligation.id).join(Unit, Obligation.unit_id == Unit.id)
        .where(*conditions, Submission.state != "reverted")
        .order_by(Submission.obligation_id, Submission.received_at, Submission.id)
    ):
        received[oid].append((sid, SubmissionFacts(received_at, state, None, missing), marked_at))
    cases = []
    for oid, unit_id, nominal, effective in rows:
        submitted = received.get(oid, [])
        status = status_of(ObligationFacts(nominal, effective), [f for _, f, _ in submitted], today, workdays,
                           due_soon)
        mark = None
        if status.code == "incomplete":
            sid, facts, marked_at = submitted[-1]
            mark = (sid, (marked_at or facts.received_at).date())
        cases.append(Case(oid, unit_id, nominal, effective, status.code, mark))
    return cases


def load_recipients(session: Session, *, office_only: bool = False
                    ) -> tuple[dict[int, list[Recipient]], list[Recipient]]:
    """Everyone who may be messaged, by unit; plain columns, since a province has tens of thousands.
    ``office_only``: just the people of no unit (receivers, leadership), all the summaries need."""
    by_unit: dict[int, list[Recipient]] = defaultdict(list)
    everyone: list[Recipient] = []
    query = (select(Person.id, Person.name, Person.role, Person.unit_id, Person.email, Person.telegram_chat_id,
                    Person.channels).where(Person.active.is_(True)).order_by(Person.id))
    if office_only:
        query = query.where(Person.unit_id.is_(None))
    for person_id, name, role, unit_id, email, telegram, channels in session.execute(query):
        recipient = Recipient(person_id, name, role, unit_id, email, telegram, channels)
        if unit_id is None:
            everyone.append(recipient)
        else:
            by_unit[unit_id].append(recipient)
    return by_unit, everyone


def load_ledger(session: Session, today: date) -> frozenset[tuple[int, str, str, int]]:
    """The rungs already decided for the open obligations (one query; old settled ladders stay out)."""
    rows = session.execute(
        select(LadderStep.obligation_id, LadderStep.series, LadderStep.stage, LadderStep.occurrence)
        .join(Obligation, LadderStep.obligation_id == Obligation.id).join(Unit, Obligation.unit_id == Unit.id)
        .where(*_open(today))
    )
    return frozenset((oid, series, stage, occurrence) for oid, series, stage, occurrence in rows)


def dedupe_key(decision: Decision, delivery: Delivery) -> str:
    return (f"{decision.obligation_id}:{decision.series}:{decision.rung.stage}:{decision.rung.occurrence}:"
            f"{delivery.recipient.person_id}:{delivery.channel}")


def envelope(decision: Decision, delivery: Delivery, render: Render, stamp: datetime) -> Envelope:
    """One reminder as the outbox takes it; Telegram gets the stage's buttons ("Đã gửi" for the unit's own)."""
    sendable = delivery.skip_reason is None
    return Envelope(
        dedupe_key(decision, delivery), decision.rung.stage, delivery.recipient.person_id, delivery.channel,
        delivery.address, render(decision, delivery) if sendable else None, due=stamp,
        obligation_id=decision.obligation_id,
        buttons=reminder_buttons(decision.obligation_id, delivery.recipient.role) if sendable else (),
    )


def _rows(decisions: Sequence[Decision], render: Render, stamp: datetime) -> tuple[list[dict[str, Any]],
                                                                                   list[Envelope]]:
    steps: list[dict[str, Any]] = []
    envelopes: list[Envelope] = []
    for decision in decisions:
        steps.append({"obligation_id": decision.obligation_id, "series": decision.series,
                      "stage": decision.rung.stage, "occurrence": decision.rung.occurrence,
                      "due_on": decision.rung.due_on, "outcome": "sent", "decided_at": stamp})
        steps.extend({"obligation_id": decision.obligation_id, "series": decision.series, "stage": r.stage,
                      "occurrence": r.occurrence, "due_on": r.due_on, "outcome": "skipped", "decided_at": stamp}
                     for r in decision.superseded)
        envelopes.extend(envelope(decision, delivery, render, stamp) for delivery in decision.deliveries)
    return steps, envelopes


def _write(session: Session, steps: list[dict[str, Any]], envelopes: list[Envelope], stamp: datetime,
           forms: dict[MessageForm, int] | None = None) -> None:
    """Rungs and their messages in one savepoint: a rung another decider wrote first takes its messages with it."""
    with session.begin_nested():
        insert_many(session, table_of(LadderStep), steps)
        enqueue(session, envelopes, stamp=stamp, forms=forms)


def write_outcome(session: Session, outcome: Outcome, renderer: RenderFactory, now: datetime) -> int:
    """Write rungs and messages; returns how many decisions lost a race to another decider."""
    stamp = wall(now)
    render = renderer(session, outcome.decisions)
    steps, envelopes = _rows(outcome.decisions, render, stamp)
    if not steps:
        return 0
    try:
        _write(session, steps, envelopes, stamp)
        return 0
    except IntegrityError:
        pass
    # Someone decided some of these rungs meanwhile: write the rest one decision at a time, the message
    # forms once for all of them (outside the savepoints a lost race rolls back).
    forms = store_forms(session, envelopes, stamp)
    conflicts = 0
    for decision in outcome.decisions:
        try:
            _write(session, *_rows([decision], render, stamp), stamp, forms)
        except IntegrityError:
            conflicts += 1
    return conflicts


def tick(session: Session, *, policy: Policy, workdays: WorkCalendar, due_soon: int, now: datetime,
         renderer: RenderFactory, intake_checked_on: date | None = None, intake_guard: bool = False) -> TickReport:
    """One reconcile pass at ``now`` (Vietnamese time)."""
    local = wall(now)
    today = local.date()
    cases = load_cases(session, today, workdays, due_soon)
    by_unit, everyone = load_recipients(session)
    ledger = load_ledger(session, today)
    paused = paused_obligations(session, today)
    outcome = decide(cases, by_unit, everyone, policy, ledger, local, workdays, intake_checked_on, intake_guard,
                     paused=paused)
    conflicts = write_outcome(session, outcome, renderer, now)
    # One line for the expected gaps (a person with no e-mail on record), not one per message: the digest
    # names the people; the log only needs to show that it happened and how often.
    skipped = Counter(d.channel for x in outcome.decisions for d in x.deliveries if d.skip_reason)
    if skipped:
        log.info("deliveries_skipped", reason="no_address", **skipped)
    report = TickReport(
        decided=len(outcome.decisions) - conflicts,
        messages=sum(1 for d in outcome.decisions for x in d.deliveries if x.skip_reason is None),
        skipped_deliveries=sum(1 for d in outcome.decisions for x in d.deliveries if x.skip_reason),
        superseded=sum(len(d.superseded) for d in outcome.decisions),
        held=outcome.held,
        conflicts=conflicts,
    )
    log.info("reconcile_tick", cases=len(cases), paused=len(paused), decided=report.decided, messages=report.messages,
             skipped=report.skipped_deliveries, superseded=report.superseded, held=len(report.held),
             conflicts=conflicts)
    return report
