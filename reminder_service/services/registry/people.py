"""The people who receive messages, and the read side of the registry (units and people lists)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from reminder_service.domain.errors import UserError
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import ROLES, Office, Person, Unit

ROLE_LABELS = {
    "receiver": "Cán bộ nhận báo cáo",
    "leadership": "Lãnh đạo",
    "unit_head": "Thủ trưởng đơn vị",
    "focal": "Công chức đầu mối",
}
MANUAL_ROLES = ("receiver", "leadership")


class ChatTaken(UserError):
    """A Telegram chat id that already belongs to someone else."""


def chat_taken(chat_id: str, *, person_id: int, name: str, role: str, unit: str | None, active: bool) -> str:
    """Why a chat cannot be given: whose it is and how to free it. One chat, one person, or that person's
    reminders (and their replies to the bot) would cross with another's."""
    details = f"số {person_id}" + (f", đơn vị {unit}" if unit else "") + ("" if active else ", đã ngừng nhận thông báo")
    return (f"mã trò chuyện Telegram {chat_id} đã thuộc về {ROLE_LABELS[role].lower()} {name} ({details}); "
            "mỗi mã trò chuyện chỉ thuộc về một người: hãy kiểm tra lại mã, hoặc nếu người đó không còn dùng mã "
            f"này thì hủy liên kết trước bằng: reminder-service people unlink {person_id}")


@dataclass(frozen=True)
class PersonView:
    id: int
    name: str
    role: str
    unit: str | None
    email: str | None
    telegram_chat_id: str | None
    channels: list[str]
    active: bool
    source: str


@dataclass(frozen=True)
class UnitView:
    code: str
    name: str
    kind: str
    sections: list[str]
    active: bool
    head: PersonView | None
    focal: PersonView | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def add_person(session: Session, *, name: str, role: str, email: str | None, telegram: str | None,
               channels: Sequence[str], office_name: str, actor: Actor, now: datetime) -> Person:
    """A receiver or leadership person; the inputs are already checked by the fields helpers."""
    if role not in MANUAL_ROLES:
        raise UserError(f'vai trò "{role}" được lấy từ danh sách đơn vị; hãy dùng reminder-service units import')
    same = session.scalar(
        select(Person).where(Person.role == role, Person.active.is_(True), Person.unit_id.is_(None),
                             func.lower(Person.name) == name.lower())
    )
    if same is not None:
        raise UserError(f'đã có {ROLE_LABELS[role].lower()} "{same.name}" (số {same.id}) trong danh sách; '
                        "xem: reminder-service people list")
    if telegram is not None:
        # Retired people count too: their chat is theirs until unlinked, and a re-import may bring them back.
        holder = session.execute(
            select(Person.id, Person.name, Person.role, Person.active, Unit.code)
            .outerjoin(Unit, Person.unit_id == Unit.id)
            .where(Person.telegram_chat_id == telegram).order_by(Person.id).limit(1)
        ).first()
        if holder is not None:
            raise ChatTaken(chat_taken(telegram, person_id=holder.id, name=holder.name, role=holder.role,
                                       unit=holder.code, active=holder.active))
    # The receiving office is the one every report goes to; record its name the first time it matters.
    if session.scalar(select(func.count()).select_from(Office)) == 0:
        session.add(Office(name=office_name))
    person = Person(name=name, role=role, unit_id=None, email=email, telegram_chat_id=telegram,
                    channels=tuple(channels), active=True, source="manual")
    session.add(person)
    session.flush()
    audit.record(session, actor, now, "person_added", name, id=person.id, role=role, email=email,
                 telegram_chat_id=telegram, channels=list(channels))
    return person


def office_name(session: Session, default: str) -> str:
    stored = session.scalar(select(Office.name).order_by(Office.id).limit(1))
    return stored or default


def _view(person: Person, unit_code: str | None) -> PersonView:
    return PersonView(id=person.id, name=person.name, role=person.role, unit=unit_code, email=person.email,
                      telegram_chat_id=person.telegram_chat_id,
                      channels=list(person.channels), active=person.active,
                      source=person.source)


def list_people(session: Session, include_inactive: bool) -> list[PersonView]:
    order = case({role: i for i, role in enumerate(ROLES)}, value=Person.role)
    query = (select(Person, Unit.code).outerjoin(Unit, Person.unit_id == Unit.id)
             .order_by(order, Unit.code, Person.name, Person.id))
    if not include_inactive:
        query = query.where(Person.active.is_(True))
    return [_view(person, code) for person, code in session.execute(query)]


def list_units(session: Session, include_inactive: bool) -> list[UnitView]:
    """Units with their current head and focal officer: two queries whatever the number of units."""
    query = select(Unit).order_by(Unit.kind, Unit.code)
    if not include_inactive:
        query = query.where(Unit.active.is_(True))
    units = session.scalars(query).all()
    contacts: dict[tuple[int, str], PersonView] = {}
    for person, code in session.execute(
        select(Person, Unit.code).join(Unit, Person.unit_id == Unit.id)
        .where(Person.active.is_(True), Person.role.in_(("unit_head", "focal"))).order_by(Person.id)
    ):
        assert person.unit_id is not None  # the inner join guarantees it
        contacts.setdefault((person.unit_id, person.role), _view(person, code))
    return [UnitView(code=u.code, name=u.name, kind=u.kind, sections=u.section_list, active=u.active,
                     head=contacts.get((u.id, "unit_head")), focal=contacts.get((u.id, "focal")))
            for u in units]
