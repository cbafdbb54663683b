"""The dispatcher's database side: claiming due outbox rows and writing what became of them.

Every state change is a compare-and-set whose rowcount is checked, so two senders (two instances, or a
sender whose lease ran out and its successor) can never both own a row. On PostgreSQL the candidates
are picked with ``FOR UPDATE SKIP LOCKED`` so concurrent instances take different rows instead of
queueing behind each other; SQLite serialises writers anyway and relies on the compare-and-set alone.
These functions are synchronous; the dispatcher runs them in a worker thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy import ColumnElement, Engine, and_, insert, or_, select, update

from reminder_service.domain.buttons import Buttons
from reminder_service.domain.messages.form import MessageForm
from reminder_service.domain.messages.render import Rendered
from reminder_service.services.db.models import DeliveryAttempt, OutboxMessage, Person, table_of
from reminder_service.services.outbox.text import COLUMNS, UnreadableNamesError, joined, text_of

OUTBOX = table_of(OutboxMessage)
ATTEMPTS = table_of(DeliveryAttempt)
PEOPLE = table_of(Person)

log = structlog.get_logger(__name__)

Kind = Literal["sent", "retry", "dead", "release"]


# One encoder for every row: json.dumps with options builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False)


def buttons_json(buttons: Buttons) -> str:
    """The outbox ``buttons`` column: JSON rows of [label, callback data]; "" for none."""
    rows = [[[label, data] for label, data in row] for row in buttons if row]
    return _JSON.encode(rows) if rows else ""


def parse_buttons(text: str | None) -> Buttons:
    """The inverse of ``buttons_json``. Anything malformed yields no buttons: a message is still worth
    delivering without its keyboard."""
    try:
        rows = json.loads(text) if text else []
    except ValueError:
        return ()
    if not isinstance(rows, list):
        return ()
    parsed: list[tuple[tuple[str, str], ...]] = []
    for row in rows:
        if not isinstance(row, list):
            return ()
        buttons: list[tuple[str, str]] = []
        for button in row:
            if not (isinstance(button, list) and len(button) == 2 and all(isinstance(x, str) for x in button)):
                return ()
            buttons.append((button[0], button[1]))
        if buttons:
            parsed.append(tuple(buttons))
    return tuple(parsed)


@dataclass(frozen=True)
class Claimed:
    """An outbox row this worker owns until ``lease_until``; ``attempts`` as it was when claimed;
    ``created_at`` when the message was written (how long it has been tried)."""

    id: int
    key: str
    channel: str
    address: str
    recipient: str
    subject: str
    text: str
    html: str
    attempts: int
    lease_until: datetime
    buttons: Buttons = ()
    created_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row. ``release`` hands it back unsent (no attempt is recorded);
    ``next_attempt_at`` is when a retried or deferred row becomes due again."""

    row: Claimed
    kind: Kind
    at: datetime
    error: str | None = None
    retry_after: float | None = None
    next_attempt_at: datetime | None = None

    @property
    def attempt(self) -> int:
        return self.row.attempts + 1


def _pending_due(now: datetime) -> ColumnElement[bool]:
    return and_(OUTBOX.c.state == "pending", OUTBOX.c.next_attempt_at <= now)


def _lease_expired(now: datetime) -> ColumnElement[bool]:
    # A row left in "sending" by a sender that crashed or hung past its lease.
    return and_(OUTBOX.c.state == "sending", OUTBOX.c.lease_until < now)


class OutboxStore:
    def __init__(self, engine: Engine, worker: str) -> None:
        self.engine = engine
        self.worker = worker
        self._skip_locked = engine.dialect.name == "postgresql"

    def claim(self, now: datetime, lease_until: datetime, channels: Iterable[str], limit: int,
              stages: Iterable[str] | None = None) -> list[Claimed]:
        """Take up to ``limit`` due rows of the given channels (and stages, if named), oldest due first."""
        candidates = (
            select(OUTBOX.c.id, OUTBOX.c.state)
            .where(or_(_pending_due(now), _lease_expired(now)), OUTBOX.c.channel.in_(sorted(channels)))
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
        )
        if stages is not None:
            candidates = candidates.where(OUTBOX.c.stage.in_(sorted(stages)))
        if self._skip_locked:
            candidates = candidates.with_for_update(skip_locked=True)
        won: list[int] = []
        with self.engine.begin() as connection:
            for row_id, state in connection.execute(candidates).all():
                still_due = _pending_due(now) if state == "pending" else _lease_expired(now)
                result = connection.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id == row_id, still_due)
                    .values(state="sending", lease_until=lease_until, claimed_by=self.worker)
                )
                if result.rowcount == 1:
                    won.append(row_id)
            if not won:
                return []
            rows = connection.execute(
                select(
                    OUTBOX.c.id, OUTBOX.c.dedupe_key, OUTBOX.c.channel, OUTBOX.c.address, PEOPLE.c.name,
                    *COLUMNS, OUTBOX.c.attempts, OUTBOX.c.buttons, OUTBOX.c.created_at,
                )
                .select_from(joined(OUTBOX.outerjoin(PEOPLE, PEOPLE.c.id == OUTBOX.c.person_id)))
                .where(OUTBOX.c.id.in_(won))
            ).all()
        order = {row_id: i for i, row_id in enumerate(won)}
        claimed: list[Claimed] = []
        unreadable: list[Outcome] = []
        forms: dict[int, MessageForm] = {}
        for r in rows:
            reason = None
            try:
                message = text_of(r, forms)
            except UnreadableNamesError as exc:
                message, reason = Rendered("", "", ""), str(exc)
            row = Claimed(r.id, r.dedupe_key, r.channel, r.address or "", r.name or "", message.subject,
                          message.text, message.html, r.attempts, lease_until, parse_buttons(r.buttons),
                          r.created_at)
            if reason is None:
                claimed.append(row)
            else:
                # Only a hand-edited row gets here: dead at once, with its reason, like any message that
                # can never be sent; the rest of the batch goes on.
                log.warning("outbox_text_unreadable", outbox_id=r.id)
                unreadable.append(Outcome(row, "dead", now, error=reason))
        if unreadable:
            self.write(unreadable)
        return sorted(claimed, key=lambda c: order[c.id])

    def write(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Record outcomes in one transaction; returns those whose row this worker no longer owned
        (another sender re-claimed it after our lease ran out): their attempt is still recorded."""
        lost: list[Outcome] = []
        attempts: list[dict[str, Any]] = []
        with self.engine.begin() as connection:
            for outcome in outcomes:
                owned = update(OUTBOX).where(
                    OUTBOX.c.id == outcome.row.id, OUTBOX.c.state == "sending", OUTBOX.c.claimed_by == self.worker
                )
                result = connection.execute(owned.values(**_values(outcome)))
                if result.rowcount != 1:
                    lost.append(outcome)
                if outcome.kind != "release":
                    attempts.append({
                        "outbox_id": outcome.row.id, "attempt": outcome.attempt, "at": outcome.at,
                        "outcome": outcome.kind, "error": outcome.error, "retry_after": outcome.retry_after,
                        "worker": self.worker,
                    })
                if outcome.retry_after and outcome.kind != "release":
                    # The server asked us to wait before writing to this address again: its other messages
                    # wait too, whichever process claims them next (the limiter's pause lives in one process).
                    until = outcome.at + timedelta(seconds=outcome.retry_after)
                    connection.execute(update(OUTBOX).where(
                        OUTBOX.c.channel == outcome.row.channel, OUTBOX.c.address == outcome.row.address,
                        OUTBOX.c.state == "pending", OUTBOX.c.next_attempt_at < until,
                    ).values(next_attempt_at=until))
            if attempts:
                connection.execute(insert(ATTEMPTS), attempts)
        return lost


def _values(outcome: Outcome) -> dict[str, Any]:
    if outcome.kind == "release":
        values: dict[str, Any] = {"state": "pending", "lease_until": None, "claimed_by": None}
        if outcome.next_attempt_at is not None:
            values["next_attempt_at"] = outcome.next_attempt_at
        return values
    values = {"attempts": outcome.attempt, "lease_until": None}
    if outcome.kind == "sent":
        # claimed_by stays: it tells an operator which instance delivered the message.
        return {**values, "state": "sent", "sent_at": outcome.at, "last_error": None}
    if outcome.kind == "dead":
        return {**values, "state": "dead", "last_error": outcome.error}
    return {
        **values, "state": "pending", "claimed_by": None, "last_error": outcome.error,
        "next_attempt_at": outcome.next_attempt_at,
    }
