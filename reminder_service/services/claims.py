"""The "Đã gửi" claim: a unit says it has sent the report; the receiver confirms or rejects it with one tap.

A claim is not a submission. It pauses the obligation's ladder (see ``escalation.pause``: through two
working days after the day of the claim) and asks every receiver to check. Confirming records a
submission received at the time of the claim, which settles the ladder as any submission does;
rejecting tells the claimant and lets the ladder resume at once. Deciding is a compare-and-set from
``open``, so a second tap, or two receivers tapping at once, decides once.

Every function works in the caller's session and transaction and is given ``now``; nothing here reads
the clock. Refusals are results, not exceptions: the bot shows ``ClaimResult.reply`` to whoever pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.domain.clock import wall
from reminder_service.domain.escalation.pause import pause_until as pause_end
from reminder_service.domain.escalation.policy import UNIT_ROLES, Policy
from reminder_service.domain.messages.render import render_claim_reply
from reminder_service.domain.status import ObligationFacts, SubmissionFacts, status_of
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.claim_messages import notice, tell_claimant, tell_receivers
from reminder_service.services.db.chat import SubmissionClaim
from reminder_service.services.db.models import Obligation, Person, table_of
from reminder_service.services.registry.people import office_name as stored_office_name
from reminder_service.services.submissions import record_submission

log = structlog.get_logger(__name__)

ClaimOutcome = Literal[
    "claimed", "already_claimed", "settled", "waived", "inactive", "not_allowed",
    "confirmed", "rejected", "already_decided", "not_found",
]
# Outcomes where the press did what was asked (or had already done it).
DONE: frozenset[str] = frozenset({"claimed", "already_claimed", "confirmed", "rejected"})
SETTLED = frozenset({"submitted_on_time", "submitted_late"})
DEFAULT_OFFICE = "Phòng Nội vụ"
CLAIMS = table_of(SubmissionClaim)
OBLIGATIONS = table_of(Obligation)


@dataclass(frozen=True)
class ClaimResult:
    """What a press did. ``state`` is the claim's state afterwards (open, confirmed, rejected), or None
    when there is no claim; ``messages`` the outbox messages written (to receivers, or the claimant);
    ``reply`` a short plain-text answer for whoever pressed (escape it before sending it as HTML)."""

    outcome: ClaimOutcome
    reply: str
    claim_id: int | None = None
    obligation_id: int | None = None
    state: str | None = None
    pause_until: date | None = None
    submission_id: int | None = None
    messages: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome in DONE


def _result(outcome: ClaimOutcome, obligation: Obligation | None, claim: SubmissionClaim | None, office: str,
            *, messages: int = 0) -> ClaimResult:
    reply = render_claim_reply(outcome, {
        "title": obligation.title if obligation is not None else "báo cáo",
        "unit_name": obligation.unit.name if obligation is not None else "đơn vị",
        "office_name": office, "pause_until": claim.pause_until if claim else None,
        "claimed_at": claim.claimed_at if claim else None, "state": claim.state if claim else None,
    })
    return ClaimResult(outcome, reply, claim.id if claim else None, obligation.id if obligation else None,
                       claim.state if claim else None, claim.pause_until if claim else None,
                       claim.submission_id if claim else None, messages)


def _office(session: Session, office_name: str | None) -> str:
    return office_name or stored_office_name(session, DEFAULT_OFFICE)


def _settled(obligation: Obligation, today: date, workdays: WorkCalendar) -> bool:
    facts = [SubmissionFacts(s.received_at, s.state) for s in obligation.submissions]
    status = status_of(ObligationFacts(obligation.nominal_deadline, obligation.effective_deadline), facts, today,
                       workdays, 0)
    return status.code in SETTLED


def _open_claim(session: Session, obligation_id: int) -> SubmissionClaim | None:
    return session.scalar(select(SubmissionClaim).where(SubmissionClaim.obligation_id == obligation_id,
                                                        SubmissionClaim.state == "open")
                          .order_by(SubmissionClaim.id).limit(1))


def make_claim(session: Session, obligation: Obligation, person: Person, now: datetime, workdays: WorkCalendar,
               *, policy: Policy | None = None, office_name: str | None = None) -> ClaimResult:
    """``person`` (the unit head or focal officer of the obligation's unit) says the report was sent.

    Refused (``not_allowed``, ``inactive``, ``waived``, ``settled``) with nothing written; an open claim
    already there is returned as it is (``already_claimed``: no second pause, no second notice, even
    after its pause has ended). Otherwise the claim (``claimed``), its pause and one message per
    receiver and channel are written together."""
    office = _office(session, office_name)
    local = wall(now)
    unit = obligation.unit
    if not (person.active and person.unit_id == obligation.unit_id and person.role in UNIT_ROLES):
        return _result("not_allowed", obligation, None, office)
    if not (obligation.active and unit.active):
        return _result("inactive", obligation, None, office)
    if obligation.waived_reason is not None:
        return _result("waived", obligation, None, office)
    # Claimers of one obligation take turns: this no-op update holds the obligation row's lock on
    # PostgreSQL (the database's write lock on SQLite) until commit, so two presses at once cannot both
    # find no open claim and both add one.
    session.execute(update(OBLIGATIONS).where(OBLIGATIONS.c.id == obligation.id)
                    .values(updated_at=OBLIGATIONS.c.updated_at))
    if _settled(obligation, local.date(), workdays):
        return _result("settled", obligation, None, office)
    existing = _open_claim(session, obligation.id)
    if existing is not None:
        return _result("already_claimed", obligation, existing, office)
    claim = SubmissionClaim(obligation_id=obligation.id, person_id=person.id, claimed_at=local,
                            pause_until=pause_end(local.date(), workdays), state="open")
    session.add(claim)
    session.flush()
    facts = notice(claim, obligation, person, office, workdays)
    messages = tell_receivers(session, claim, facts, now, policy or Policy(), workdays)
    audit.record(session, Actor(person.name, "telegram"), now, "claim_made", _subject(obligation),
                 claim_id=claim.id, person_id=person.id, pause_until=claim.pause_until.isoformat())
    log.info("claim_made", claim_id=claim.id, obligation_id=obligation.id, person_id=person.id,
             pause_until=claim.pause_until.isoformat(), messages=messages)
    return _result("claimed", obligation, claim, office, messages=messages)


def _decide(session: Session, claim_id: int, state: str, actor: Actor, now: datetime, by: Person | None,
            office: str) -> tuple[SubmissionClaim, Obligation] | ClaimResult:
    """Compare-and-set the claim from open to ``state``: the claim and its obligation if this call won,
    else the refusal."""
    claim = session.get(SubmissionClaim, claim_id)
    obligation = session.get(Obligation, claim.obligation_id) if claim is not None else None
    if claim is None or obligation is None:
        return _result("not_found", None, None, office)
    if by is not None and not (by.active and by.role == "receiver"):
        return _result("not_allowed", obligation, None, office)
    result = session.execute(
        update(CLAIMS).where(CLAIMS.c.id == claim_id, CLAIMS.c.state == "open")
        .values(state=state, decided_by=actor.name, decided_at=wall(now))
    )
    won = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    session.refresh(claim)  # the row as the database has it now, whoever decided it
    if not won:
        log.info("claim_already_decided", claim_id=claim.id, obligation_id=obligation.id, state=claim.state)
        return _result("already_decided", obligation, claim, office)
    return claim, obligation


def confirm_claim(session: Session, claim_id: int, actor: Actor, now: datetime, *, by: Person | None = None,
                  office_name: str | None = None) -> ClaimResult:
    """The receiver has the report: the claim becomes ``confirmed`` and a submission is recorded as
    received at the time of the claim (channel telegram), which ends the ladder. ``by``, when given, is
    the person pressing: only an active receiver may decide (``not_allowed`` otherwise). A claim already
    decided, by this press or another, is ``already_decided``; nothing is recorded twice."""
    office = _office(session, office_name)
    decided = _decide(session, claim_id, "confirmed", actor, now, by, office)
    if isinstance(decided, ClaimResult):
        return decided
    claim, obligation = decided
    recorded = record_submission(
        session, obligation, received_at=claim.claimed_at, doc_no=None,
        note=f"Xác nhận báo «Đã gửi» số {claim.id}", actor=Actor(actor.name, "telegram"), now=now,
    )
    claim.submission_id = recorded.submission.id
    session.flush()
    audit.record(session, actor, now, "claim_confirmed", _subject(obligation), claim_id=claim.id,
                 submission_id=claim.submission_id)
    log.info("claim_confirmed", claim_id=claim.id, obligation_id=obligation.id, submission_id=claim.submission_id)
    return _result("confirmed", obligation, claim, office)


def reject_claim(session: Session, claim_id: int, actor: Actor, now: datetime, workdays: WorkCalendar, *,
                 by: Person | None = None, policy: Policy | None = None,
                 office_name: str | None = None) -> ClaimResult:
    """The receiver has not received the report: the claim becomes ``rejected``, the ladder resumes at
    the next tick, and the claimant is told on their channels to check and send it again. Same
    refusals as ``confirm_claim``."""
    office = _office(session, office_name)
    decided = _decide(session, claim_id, "rejected", actor, now, by, office)
    if isinstance(decided, ClaimResult):
        return decided
    claim, obligation = decided
    claimant = session.get(Person, claim.person_id) if claim.person_id is not None else None
    facts = notice(claim, obligation, claimant, office, workdays)
    messages = tell_claimant(session, claim, facts, now, policy or Policy(), workdays)
    audit.record(session, actor, now, "claim_rejected", _subject(obligation), claim_id=claim.id)
    log.info("claim_rejected", claim_id=claim.id, obligation_id=obligation.id, messages=messages)
    return _result("rejected", obligation, claim, office, messages=messages)


def paused_obligations(session: Session, today: date) -> set[int]:
    """Ids of obligations whose ladder an open claim pauses on ``today`` (its ``pause_until`` ≥ today)."""
    return set(session.scalars(select(SubmissionClaim.obligation_id).distinct()
                               .where(SubmissionClaim.state == "open", SubmissionClaim.pause_until >= today)))


def _subject(obligation: Obligation) -> str:
    return f"{obligation.unit.code} / {obligation.code} năm {obligation.year}"
