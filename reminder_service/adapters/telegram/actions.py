"""Pending button actions: what a confirmation, a page turn or an undo will do when its button is pressed.

The button's callback data carries only an unguessable token; the action itself (and who may take it)
is stored. Taking one is a compare-and-set from ``pending``, so a double tap, or two people tapping at
once, acts once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reminder_service.domain.clock import wall
from reminder_service.services.db.chat import BotAction

# 12 random bytes: 16 URL-safe characters, small enough for Telegram's 64-byte callback data.
_TOKEN_BYTES = 12


@dataclass(frozen=True)
class Action:
    id: int
    token: str
    kind: str
    payload: dict[str, Any]
    chat_id: str
    person_id: int | None
    expires_at: datetime
    state: str


def _view(row: BotAction) -> Action:
    try:
        payload = json.loads(row.payload or "{}")
    except ValueError:
        payload = {}
    return Action(row.id, row.token, row.kind, payload if isinstance(payload, dict) else {}, row.chat_id,
                  row.person_id, row.expires_at, row.state)


def create(session: Session, kind: str, payload: dict[str, Any], *, chat_id: str, person_id: int | None,
           now: datetime, ttl: timedelta) -> Action:
    row = BotAction(token=secrets.token_urlsafe(_TOKEN_BYTES), kind=kind,
                    payload=json.dumps(payload, ensure_ascii=False, default=str), chat_id=chat_id,
                    person_id=person_id, created_at=wall(now), expires_at=wall(now) + ttl, state="pending")
    session.add(row)
    session.flush()
    return _view(row)


def find(session: Session, token: str) -> Action | None:
    row = session.scalar(select(BotAction).where(BotAction.token == token))
    return _view(row) if row is not None else None


def settle(session: Session, action: Action, state: str) -> bool:
    """Move a pending action to ``state`` (done or cancelled); False if someone settled it first."""
    result = session.execute(
        update(BotAction).where(BotAction.id == action.id, BotAction.state == "pending").values(state=state)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def latest_pending(session: Session, kind: str, person_id: int, now: datetime) -> Action | None:
    """The person's newest pending action of this kind that has not expired (the submission to undo)."""
    row = session.scalar(
        select(BotAction)
        .where(BotAction.kind == kind, BotAction.person_id == person_id, BotAction.state == "pending",
               BotAction.expires_at > wall(now))
        .order_by(BotAction.id.desc())
        .limit(1)
    )
    return _view(row) if row is not None else None
