"""The audit log: every change, with who made it, when, and through which channel."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from reminder_service.domain.clock import wall
from reminder_service.services.db.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting and through which channel: ("thanh.nv", "cli"), ("sổ văn bản đến", "register")."""

    name: str
    channel: str


def entry(actor: Actor, now: datetime, action: str, subject: str, **details: Any) -> dict[str, Any]:
    """One audit row as column values, for a single insert or a bulk one."""
    return {
        "at": wall(now),
        "actor": actor.name,
        "channel": actor.channel,
        "action": action,
        "subject": subject,
        "details": json.dumps(details, ensure_ascii=False, default=str, sort_keys=True),
    }


def record(session: Session, actor: Actor, now: datetime, action: str, subject: str, **details: Any) -> None:
    session.add(AuditEntry(**entry(actor, now, action, subject, **details)))


def record_many(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """Many entries in one statement: an import touching thousands of units stays one round trip."""
    if entries:
        session.execute(insert(AuditEntry), list(entries))
