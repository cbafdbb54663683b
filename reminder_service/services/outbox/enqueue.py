"""Putting messages into the outbox: the one place that writes outbox rows.

Whoever decides that someone should be told something (the reconcile tick, the daily summaries, a
"Đã gửi" claim) describes each message as an ``Envelope``; ``enqueue`` turns envelopes into rows in one
executemany. A channel with no address on record becomes a ``skipped`` row with the channel's reason
(the digest lists these, so the office can fill the gap), every message gets a dedupe key that makes a
second writer's copy fail rather than send twice, and buttons go only where Telegram can show them.
A message given as a form and its names (``messages.form.Formed``, what the reconcile tick makes) is
stored that way: the form once per call, each row with its names (``outbox.text`` reads it back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reminder_service.domain.buttons import Buttons
from reminder_service.domain.escalation.decide import NO_ADDRESS
from reminder_service.domain.messages.form import Formed, MessageForm, names_json
from reminder_service.domain.messages.render import Rendered
from reminder_service.services.db.engine import insert_many
from reminder_service.services.db.models import OutboxForm, OutboxMessage, table_of
from reminder_service.services.outbox.store import buttons_json

# A skipped row says why; it carries no text, since nobody will read it.
_NOTHING = Rendered("", "", "")


@dataclass(frozen=True)
class Envelope:
    """One message to one person on one channel.

    ``key`` is unique for what the message is about (a rung, a day's digest, a claim) and whom it goes
    to on which channel. ``text`` may be None exactly when there is no ``address``: the row is then
    recorded as skipped. ``due`` is when the dispatcher may send it (a claim made at night waits for
    the send window)."""

    key: str
    stage: str
    person_id: int | None
    channel: str
    address: str | None
    text: Rendered | Formed | None
    due: datetime
    obligation_id: int | None = None
    buttons: Buttons = ()

    @property
    def skip_reason(self) -> str | None:
        return None if self.address else NO_ADDRESS[self.channel]


def _row(envelope: Envelope, stamp: datetime, forms: Mapping[MessageForm, int]) -> dict[str, Any]:
    skipped = envelope.skip_reason
    text = _NOTHING if skipped else envelope.text
    if text is None:
        raise ValueError(f"outbox message {envelope.key} has an address but no text")
    buttons = buttons_json(envelope.buttons) if not skipped and envelope.channel == "telegram" else ""
    form_id: int | None = None
    names, whole = "", _NOTHING
    if isinstance(text, Formed):
        form_id, names = forms[text.form], names_json(text.names)
    else:
        whole = text
    return {
        "dedupe_key": envelope.key, "obligation_id": envelope.obligation_id, "stage": envelope.stage,
        "person_id": envelope.person_id, "channel": envelope.channel, "address": envelope.address or "",
        "subject": whole.subject, "body_text": whole.text, "body_html": whole.html, "form_id": form_id,
        "names": names, "buttons": buttons, "state": "skipped" if skipped else "pending", "attempts": 0,
        "next_attempt_at": envelope.due, "last_error": skipped, "created_at": stamp,
    }


def store_forms(session: Session, envelopes: Sequence[Envelope], stamp: datetime,
                known: Mapping[MessageForm, int] | None = None) -> dict[MessageForm, int]:
    """The ids of the forms the sendable envelopes use, each written once (a notice day has a few dozen);
    ``known``: forms stored before, by an earlier call in the same transaction."""
    known = known or {}
    used = dict.fromkeys(e.text.form for e in envelopes
                         if isinstance(e.text, Formed) and not e.skip_reason and e.text.form not in known)
    if not used:  # summaries and claim notices: nothing to write, nothing to flush
        return dict(known)
    # ORM rows and a flush rather than INSERT … RETURNING, which SQLite before 3.35 lacks.
    stored = {form: OutboxForm(subject=form.subject, body_text=form.text, body_html=form.html, created_at=stamp)
              for form in used}
    session.add_all(stored.values())
    session.flush()
    return {**known, **{form: row.id for form, row in stored.items()}}


@dataclass(frozen=True)
class Written:
    pending: int  # to be sent
    skipped: int  # recorded with the reason they cannot be sent

    @property
    def rows(self) -> int:
        return self.pending + self.skipped


NONE_WRITTEN = Written(0, 0)


def enqueue(session: Session, envelopes: Sequence[Envelope], *, stamp: datetime,
            forms: Mapping[MessageForm, int] | None = None) -> Written:
    """Write the envelopes as outbox rows (``stamp``: Vietnamese wall time of the writing). A key already
    in the outbox raises IntegrityError: the caller's transaction decided something another writer
    decided first (see ``enqueue_new`` for the forgiving kind)."""
    if not envelopes:
        return NONE_WRITTEN
    ids = store_forms(session, envelopes, stamp, forms)
    rows = [_row(e, stamp, ids) for e in envelopes]
    insert_many(session, table_of(OutboxMessage), rows)
    pending = sum(1 for row in rows if row["state"] == "pending")
    return Written(pending, len(rows) - pending)


def enqueue_new(session: Session, envelopes: Sequence[Envelope], *, stamp: datetime) -> Written:
    """``enqueue`` for the envelopes whose key is not in the outbox yet: summaries are decided again by
    every tick and every instance, and only the first copy counts."""
    keys = [e.key for e in envelopes]
    taken = set(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))))
    fresh = [e for e in envelopes if e.key not in taken]
    if not fresh:
        return NONE_WRITTEN
    try:
        with session.begin_nested():
            return enqueue(session, fresh, stamp=stamp)
    except IntegrityError:  # another instance wrote them between the look and the write
        return NONE_WRITTEN
