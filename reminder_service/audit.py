"""The audit log: every change, with who made it, when, and through which channel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from reminder_service.clock import wall
from reminder_service.db.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting and through which channel: ("thanh.nv", "cli"), ("register", "register")."""

    name: str
    channel: str


def record(session: Session, actor: Actor, now: datetime, action: str, subject: str, **details: Any) -> None:
    session.add(
        AuditEntry(
            at=wall(now),
            actor=actor.name,
            channel=actor.channel,
            action=action,
            subject=subject,
            details=json.dumps(details, ensure_ascii=False, default=str, sort_keys=True),
        )
    )
