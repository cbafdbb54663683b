"""A Telegram group that became a supergroup: its chat id changed for good, and everything that names
the old id follows it to the new one.

Telegram tells us in two ways: a send to the old id fails with ChatMigrated (the dispatcher), or the
chat bot sees the group's "migrated" service message. Either way the same change is made, each table
by a compare-and-set on the old id, so running it twice, or from two instances at once, changes
nothing the second time and writes one audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, Update, and_, exists, update
from sqlalchemy.orm import Session

from reminder_service.services import audit
from reminder_service.services.db.chat import BotAction, BotGroup
from reminder_service.services.db.models import OutboxMessage, Person, table_of

log = structlog.get_logger(__name__)

PEOPLE = table_of(Person)
GROUPS = table_of(BotGroup)
ACTIONS = table_of(BotAction)
OUTBOX = table_of(OutboxMessage)

# Messages not yet delivered: those waiting, being sent (their sender follows the move itself), and those
# given up because of the old id, so that `outbox retry` sends them to the group's new id.
_UNDELIVERED = ("pending", "sending", "dead")


@dataclass(frozen=True)
class ChatMove:
    people: int = 0
    groups: int = 0
    actions: int = 0
    messages: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.people or self.groups or self.actions or self.messages)


def follow_chat_migration(session: Session, old: str, new: str, now: datetime, actor: audit.Actor) -> ChatMove:
    """Point every person, registered group, pending button and undelivered Telegram message at ``new``."""
    old, new = old.strip(), new.strip()
    if not old or not new or old == new:
        return ChatMove()
    people = _changed(session, update(PEOPLE).where(PEOPLE.c.telegram_chat_id == old).values(telegram_chat_id=new))
    already = exists().where(GROUPS.c.chat_id == new)
    groups = _changed(session, update(GROUPS).where(GROUPS.c.chat_id == old, ~already).values(chat_id=new))
    if not groups:  # the new id was registered already (a /dangkynhom in the supergroup): the old row retires
        groups = _changed(session, update(GROUPS).where(
            GROUPS.c.chat_id == old, GROUPS.c.active.is_(True)).values(active=False))
    actions = _changed(session, update(ACTIONS).where(
        ACTIONS.c.chat_id == old, ACTIONS.c.state == "pending").values(chat_id=new))
    messages = _changed(session, update(OUTBOX).where(and_(
        OUTBOX.c.channel == "telegram", OUTBOX.c.address == old, OUTBOX.c.state.in_(_UNDELIVERED),
    )).values(address=new))
    move = ChatMove(people, groups, actions, messages)
    if move.changed:
        audit.record(session, actor, now, "telegram_chat_migrated", f"nhóm Telegram {old}", new_chat_id=new,
                     people=people, groups=groups, actions=actions, messages=messages)
        log.info("telegram_chat_migrated", old_chat_id=old, new_chat_id=new, people=people, groups=groups,
                 actions=actions, messages=messages)
    return move


def _changed(session: Session, statement: Update) -> int:
    return cast(CursorResult[Any], session.execute(statement)).rowcount

