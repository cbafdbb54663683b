"""The messages a "Đã gửi" claim sends: to every receiver when a unit claims (with the buttons to confirm
or reject), and to the claimant when the receiver rejects. Written to the outbox in the caller's
transaction, so the claim and its messages are committed together or not at all.

Nobody is messaged on a day off or at night: a row written outside the send window is due when the next
one opens (the dispatcher honours ``next_attempt_at``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.domain.buttons import claim_decision_buttons
from reminder_service.domain.clock import wall
from reminder_service.domain.escalation.decide import next_send_time
from reminder_service.domain.escalation.policy import Policy
from reminder_service.domain.messages.render import render_claim
from reminder_service.services.db.chat import SubmissionClaim
from reminder_service.services.db.models import Obligation, Person
from reminder_service.services.outbox.enqueue import Envelope, enqueue

# The outbox ``stage`` of each kind of message, as the digest's delivery failures name them.
CLAIM_STAGE = "claim"
REJECTED_STAGE = "claim_rejected"


@dataclass(frozen=True)
class ClaimNotice:
    """Everything a claim message says. The field names shared with ReminderContext let the templates
    use the reminders' salutation and deadline phrases."""

    office_name: str
    recipient_name: str | None
    recipient_role: str
    unit_name: str
    unit_kind: str
    title: str
    period: str
    nominal_deadline: date | None
    effective_deadline: date | None
    claimant_name: str | None
    claimant_role: str
    claimed_at: datetime
    pause_until: date
    resume_on: date
    # Named by the reminders' salutation for leadership only, who never receive these messages.
    issuer: str = ""


def notice(claim: SubmissionClaim, obligation: Obligation, claimant: Person | None, office_name: str,
           workdays: WorkCalendar) -> ClaimNotice:
    """The facts of one claim, addressed to nobody yet (``recipient_*`` set per person)."""
    return ClaimNotice(
        office_name=office_name, recipient_name=None, recipient_role="receiver", unit_name=obligation.unit.name,
        unit_kind=obligation.unit.kind, title=obligation.title, period=obligation.period,
        nominal_deadline=obligation.nominal_deadline, effective_deadline=obligation.effective_deadline,
        claimant_name=claimant.name if claimant is not None else None,
        claimant_role=claimant.role if claimant is not None else "",
        claimed_at=claim.claimed_at, pause_until=claim.pause_until,
        resume_on=workdays.next_working_day(claim.pause_until),
    )


def _envelopes(people: Sequence[Person], facts: ClaimNotice, kind: str, key: str, claim: SubmissionClaim,
               stage: str, due: datetime) -> list[Envelope]:
    envelopes = []
    for person in people:
        addressed = replace(facts, recipient_name=person.name, recipient_role=person.role)
        for channel in person.channels:
            address = person.address(channel)
            envelopes.append(Envelope(
                f"{key}:{claim.id}:p{person.id}:{channel}", stage, person.id, channel, address,
                render_claim(kind, channel, addressed) if address else None, due=due,
                obligation_id=claim.obligation_id,
                buttons=claim_decision_buttons(claim.id) if kind == "claimed" else (),
            ))
    return envelopes


def tell_receivers(session: Session, claim: SubmissionClaim, facts: ClaimNotice, now: datetime, policy: Policy,
                   workdays: WorkCalendar) -> int:
    """Every active receiver hears of the claim on each of their channels; returns the messages to send
    (a channel without an address is recorded as skipped, as for reminders, so the digest lists it)."""
    receivers = session.scalars(select(Person).where(Person.role == "receiver", Person.active.is_(True))
                                .order_by(Person.id)).all()
    due = next_send_time(now, policy, workdays)
    envelopes = _envelopes(receivers, facts, "claimed", "claim", claim, CLAIM_STAGE, due)
    return enqueue(session, envelopes, stamp=wall(now)).pending


def tell_claimant(session: Session, claim: SubmissionClaim, facts: ClaimNotice, now: datetime, policy: Policy,
                  workdays: WorkCalendar) -> int:
    """The person who claimed hears that the report has not arrived (nobody, if they left meanwhile)."""
    claimant = session.get(Person, claim.person_id) if claim.person_id is not None else None
    if claimant is None or not claimant.active:
        return 0
    due = next_send_time(now, policy, workdays)
    envelopes = _envelopes([claimant], facts, "rejected", "claimno", claim, REJECTED_STAGE, due)
    return enqueue(session, envelopes, stamp=wall(now)).pending
