"""The operator's side of the outbox: look at rows, send dead ones again, purge delivered history.

States (``db.models.OutboxMessage``): pending -> sending -> sent | dead, and skipped (no address). The
dispatcher owns pending and sending; an operator only ever moves a dead row back to pending (compare-and-set
on ``state = 'dead'``, so a row nobody else touches) and deletes rows that are finished for good: sent and
skipped, with their delivery attempts and the message forms no row names any more. Every change is
written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from reminder_service.domain.clock import wall
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import (
    DeliveryAttempt,
    Obligation,
    OutboxForm,
    OutboxMessage,
    Person,
    Unit,
    table_of,
)

STATES = ("pending", "sending", "sent", "dead", "skipped")
# Finished for good: nothing will ever send them again, so their history may go.
PURGEABLE = ("sent", "skipped")
OUTBOX = table_of(OutboxMessage)
ATTEMPTS = table_of(DeliveryAttempt)
FORMS = table_of(OutboxForm)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    state: str
    channel: str
    recipient: str | None
    address: str
    stage: str
    unit_code: str | None
    unit_name: str | None
    obligation: str | None  # the obligation's code
    year: int | None
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _filters(state: str | None, channel: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if state is not None:
        conditions.append(OutboxMessage.state == state)
    if channel is not None:
        conditions.append(OutboxMessage.channel == channel)
    return conditions


def list_rows(session: Session, *, state: str | None = None, channel: str | None = None, limit: int = 50
              ) -> tuple[list[OutboxRow], int]:
    """The newest ``limit`` rows that match, and how many match in all."""
    conditions = _filters(state, channel)
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*conditions)) or 0
    box = OutboxMessage
    query = (
        select(box.id, box.state, box.channel, Person.name, box.address, box.stage, Unit.code, Unit.name,
               Obligation.code, Obligation.year, box.attempts, box.next_attempt_at, box.created_at, box.sent_at,
               box.last_error)
        .outerjoin(Person, box.person_id == Person.id)
        .outerjoin(Obligation, box.obligation_id == Obligation.id)
        .outerjoin(Unit, Obligation.unit_id == Unit.id)
        .where(*conditions).order_by(box.id.desc()).limit(limit)
    )
    return [OutboxRow(*tuple(row)) for row in session.execute(query)], total


def state_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many rows stand in each (state, channel)."""
    query = select(OutboxMessage.state, OutboxMessage.channel, func.count()).group_by(
        OutboxMessage.state, OutboxMessage.channel)
    return {(state, channel): count for state, channel, count in session.execute(query)}


@dataclass(frozen=True)
class DeadLetter:
    """A message that gave up, with whom and which report it was for."""

    id: int
    channel: str
    stage: str
    recipient: str | None
    address: str
    obligation_id: int | None
    unit_name: str | None
    title: str | None  # the obligation's title
    year: int | None
    attempts: int
    created_at: datetime
    died_at: datetime  # its last "dead" attempt; when it was written, for a row dead without one
    last_error: str | None


def dead_letters(session: Session, *, limit: int = 50) -> tuple[list[DeadLetter], int]:
    """The ``limit`` rows that gave up most recently, and how many are dead in all."""
    box = OutboxMessage
    total = session.scalar(select(func.count()).select_from(box).where(box.state == "dead")) or 0
    # Per dead row, through the attempts' outbox_id index: dead rows are few, attempts are many.
    last_dead = (select(func.max(DeliveryAttempt.at))
                 .where(DeliveryAttempt.outbox_id == box.id, DeliveryAttempt.outcome == "dead")
                 .correlate(box).scalar_subquery())
    died = func.coalesce(last_dead, box.created_at).label("died_at")
    query = (
        select(box.id, box.channel, box.stage, Person.name, box.address, box.obligation_id, Unit.name,
               Obligation.title, Obligation.year, box.attempts, box.created_at, died, box.last_error)
        .outerjoin(Person, box.person_id == Person.id)
        .outerjoin(Obligation, box.obligation_id == Obligation.id)
        .outerjoin(Unit, Obligation.unit_id == Unit.id)
        .where(box.state == "dead").order_by(died.desc(), box.id.desc()).limit(limit)
    )
    return [DeadLetter(*tuple(row)) for row in session.execute(query)], total


@dataclass(frozen=True)
class RetryResult:
    retried: tuple[int, ...]
    # Asked for by id but not dead (id -> state), or not there at all: nothing is changed then.
    refused: tuple[tuple[int, str], ...] = ()
    missing: tuple[int, ...] = ()


def retry_dead(session: Session, *, ids: Sequence[int] | None, channel: str | None, actor: Actor,
               now: datetime) -> RetryResult:
    """Put dead rows back to pending, due now, with their attempts reset: the ``ids`` given (all of them
    or none, if any is missing or not dead), or every dead row (of ``channel``) when ``ids`` is None."""
    stamp = wall(now)
    target: list[ColumnElement[bool]] = [OUTBOX.c.state == "dead"]
    if ids is not None:
        wanted = sorted(set(ids))
        found = dict(session.execute(select(OUTBOX.c.id, OUTBOX.c.state).where(OUTBOX.c.id.in_(wanted))).all())
        missing = tuple(i for i in wanted if i not in found)
        refused = tuple((i, s) for i, s in sorted(found.items()) if s != "dead")
        if missing or refused:
            return RetryResult((), refused, missing)
        target.append(OUTBOX.c.id.in_(wanted))
    elif channel is not None:
        target.append(OUTBOX.c.channel == channel)
    # Compare-and-set: only rows still dead change; RETURNING names exactly those (SQLite ≥ 3.35, PostgreSQL).
    changed = session.execute(
        update(OUTBOX).where(*target)
        .values(state="pending", attempts=0, next_attempt_at=stamp, lease_until=None, claimed_by=None)
        .returning(OUTBOX.c.id)
    ).scalars().all()
    retried = tuple(sorted(changed))
    if retried:
        audit.record(session, actor, now, "outbox_retried", f"{len(retried)} tin gửi lại",
                     ids=list(retried), channel=channel, all_dead=ids is None)
    return RetryResult(retried)


@dataclass(frozen=True)
class PurgeResult:
    sent: int
    skipped: int
    attempts: int
    done: bool  # False: a dry run, nothing deleted

    @property
    def rows(self) -> int:
        return self.sent + self.skipped


def _purgeable(before: datetime) -> ColumnElement[bool]:
    # A skipped row was never sent: its age is when it was written.
    return or_(
        and_(OUTBOX.c.state == "sent", func.coalesce(OUTBOX.c.sent_at, OUTBOX.c.created_at) < before),
        and_(OUTBOX.c.state == "skipped", OUTBOX.c.created_at < before),
    )


def purge(session: Session, *, before: datetime, actor: Actor, now: datetime, dry_run: bool) -> PurgeResult:
    """Delete sent and skipped rows from before ``before`` (Vietnamese wall time) with their attempts;
    pending, sending and dead rows are never touched. ``dry_run`` only counts."""
    condition = _purgeable(before)
    counts: dict[str, Any] = dict(session.execute(
        select(OUTBOX.c.state, func.count()).where(condition).group_by(OUTBOX.c.state)).all())
    doomed = select(OUTBOX.c.id).where(condition)
    attempts = session.scalar(
        select(func.count()).select_from(ATTEMPTS).where(ATTEMPTS.c.outbox_id.in_(doomed))) or 0
    result = PurgeResult(int(counts.get("sent", 0)), int(counts.get("skipped", 0)), attempts, not dry_run)
    if dry_run or result.rows == 0:
        return result
    session.execute(delete(ATTEMPTS).where(ATTEMPTS.c.outbox_id.in_(doomed)))
    deleted = cast(CursorResult[Any], session.execute(delete(OUTBOX).where(condition))).rowcount
    # A form goes with the last row that names it; rows still waiting keep theirs.
    session.execute(delete(FORMS).where(~select(OUTBOX.c.id).where(OUTBOX.c.form_id == FORMS.c.id).exists()))
    audit.record(session, actor, now, "outbox_purged", f"{deleted} tin đã gửi trước {before:%d/%m/%Y}",
                 before=before.isoformat(), sent=result.sent, skipped=result.skipped, attempts=attempts)
    return result
