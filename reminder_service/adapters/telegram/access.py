"""Who is asking and what they may see: a chat's person, their role's commands, their scope.

Receiver: everything. Leadership: reads everything. Unit head and focal officer: their own unit only.
Anyone else (an unlinked chat, a person without a role we know) gets the linking instructions only.
In a group, the person is the sender (a linked person's Telegram user id is their private chat id),
and a group answers only once the receiver has registered it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from reminder_service.adapters.telegram.replies import ChatRef
from reminder_service.domain.access import Scope
from reminder_service.services.linking import is_registered_group, person_for_chat

_READ = frozenset({"overdue", "status", "upcoming", "unit", "calendar", "help", "start"})
PERMITTED: dict[str, frozenset[str]] = {
    "receiver": _READ | {"submitted", "undo", "register_group", "mine"},
    "leadership": _READ,
    "unit_head": _READ | {"mine"},
    "focal": _READ | {"mine"},
}


@dataclass(frozen=True)
class Caller:
    person_id: int
    name: str
    role: str
    unit_id: int | None

    def may(self, command: str) -> bool:
        return command in PERMITTED.get(self.role, frozenset())

    @property
    def scope(self) -> Scope:
        return Scope.of(self.role, self.unit_id)

    def sees_unit(self, unit_id: int) -> bool:
        return self.scope.sees(unit_id)


def identify(session: Session, chat: ChatRef) -> Caller | None:
    """The linked, active person writing in this chat, or None."""
    person = person_for_chat(session, chat.user_id if not chat.private else chat.chat_id)
    if person is None or person.role not in PERMITTED:
        return None
    return Caller(person.id, person.name, person.role, person.unit_id)


def group_open(session: Session, chat: ChatRef) -> bool:
    return chat.private or is_registered_group(session, chat.chat_id)
