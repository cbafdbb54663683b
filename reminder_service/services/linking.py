"""Linking a Telegram chat to a person with a one-time code, and the group chats the office registered.

Phòng Nội vụ gives a person a code (``people invite``); the person sends ``/start CODE`` to the bot in a
private chat, which makes that chat theirs. For a private chat the chat id is the user's Telegram id, so
the same person is recognised in a registered group by the sender's id. Pure functions over a Session:
``now`` is Vietnamese wall time handed in, and the caller's unit of work commits.

What the bot does is logged as well as audited, for the service's journal; what only the command line
does (``create_invite``, ``unlink``) is audited and printed by the command, not logged, because the
command line does not set up logging and a log line would land in the office user's output.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reminder_service.domain.clock import wall
from reminder_service.domain.errors import UserError
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.chat import BotGroup, ChatInvite, LinkAttempt
from reminder_service.services.db.models import Person

log = structlog.get_logger(__name__)

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives; 12 of its
# 32 letters are 60 bits, and every character is allowed in a t.me deep link's start parameter.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
# What people type instead of the letters left out.
_TYPED_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
INVITE_TTL = timedelta(hours=48)
THROTTLE_LIMIT = 5
THROTTLE_WINDOW = timedelta(minutes=15)

Outcome = Literal["linked", "invalid", "expired", "used", "throttled", "group"]


@dataclass(frozen=True)
class LinkResult:
    """What ``/start CODE`` did. ``person`` and ``person_name`` are set only when linked; ``taken_from``
    lists the ids of people who held this chat before and lost it."""

    outcome: Outcome
    person: Person | None = None
    person_name: str | None = None
    taken_from: tuple[int, ...] = ()


@dataclass(frozen=True)
class Unlinked:
    """What ``unlink`` changed: the chat id it cleared (None if there was none) and invites revoked."""

    chat_id: str | None
    revoked: int

    @property
    def changed(self) -> bool:
        return self.chat_id is not None or self.revoked > 0


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str | None:
    """The code as issued, from what a person typed (any case, spaces, hyphens, O for 0), or None."""
    if len(typed) > 64:
        return None
    code = "".join(typed.split()).replace("-", "").upper().translate(_TYPED_AS)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    """The link that opens the bot and sends ``/start CODE`` with one tap."""
    return f"https://t.me/{bot_username.strip().lstrip('@')}?start={code}"


def _revoke_unused(session: Session, person_id: int, stamp: datetime) -> int:
    result = session.execute(
        update(ChatInvite)
        .where(ChatInvite.person_id == person_id, ChatInvite.used_at.is_(None), ChatInvite.revoked_at.is_(None))
        .values(revoked_at=stamp)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def create_invite(session: Session, person: Person, now: datetime, *, actor: Actor,
                  ttl: timedelta = INVITE_TTL) -> str:
    """A fresh one-time code for ``person``; only its hash is stored, and their earlier unused codes
    stop working so that only the latest one handed out can link."""
    if not person.active:
        raise UserError(f'"{person.name}" (số {person.id}) đã ngừng nhận thông báo nên không được cấp mã liên kết '
                        "Telegram; hãy kiểm tra lại danh sách: reminder-service people list --all")
    if ttl <= timedelta(0):
        raise UserError("thời hạn của mã liên kết phải lớn hơn 0 giờ")
    stamp = wall(now)
    revoked = _revoke_unused(session, person.id, stamp)
    code = new_code()
    invite = ChatInvite(person_id=person.id, code_hash=code_hash(code), created_at=stamp, expires_at=stamp + ttl)
    session.add(invite)
    session.flush()
    audit.record(session, actor, now, "telegram_invite_created", person.name, person_id=person.id,
                 invite_id=invite.id, expires_at=invite.expires_at, revoked=revoked)
    return code


def _lock_chat(session: Session, chat_id: str) -> None:
    """Serialise this chat's ``/start CODE`` attempts until the transaction ends. PostgreSQL needs an
    advisory lock: its rows lock nothing that does not exist yet. SQLite needs none: the attempt
    inserted next takes the database's one write lock, held to commit, before anything is counted."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"reminder-service:link:{chat_id}".encode(), digest_size=8).digest()
        session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))


def _failures(session: Session, chat_id: str, stamp: datetime, *, besides: int) -> int:
    """Failures within the window, not counting those before the chat's last success nor ``besides``."""
    since = stamp - THROTTLE_WINDOW
    last_ok = session.scalar(select(func.max(LinkAttempt.at)).where(LinkAttempt.chat_id == chat_id,
                                                                    LinkAttempt.ok.is_(True)))
    if last_ok is not None and last_ok > since:
        since = last_ok
    return session.scalar(select(func.count()).select_from(LinkAttempt).where(
        LinkAttempt.chat_id == chat_id, LinkAttempt.ok.is_(False), LinkAttempt.at > since,
        LinkAttempt.id != besides)) or 0


def _take_turn(session: Session, chat_id: str, stamp: datetime) -> LinkAttempt | None:
    """The attempt, recorded (as a failure until it succeeds) before its code is looked at; None when
    the chat has used up its tries. Counted under the chat's lock, so of forty codes sent at once at
    most THROTTLE_LIMIT are checked: counting first and recording after let every one of them pass."""
    _lock_chat(session, chat_id)
    attempt = LinkAttempt(chat_id=chat_id, at=stamp, ok=False)
    session.add(attempt)
    session.flush()
    if _failures(session, chat_id, stamp, besides=attempt.id) < THROTTLE_LIMIT:
        return attempt
    # Not kept: an unchecked attempt teaches nothing, and counting it would keep a person who retries a
    # little early locked out for good.
    session.delete(attempt)
    session.flush()
    return None


def redeem(session: Session, chat_id: str, code: str, now: datetime, *, chat_type: str = "private") -> LinkResult:
    """``/start CODE`` from ``chat_id``: link the chat to the code's person, or say why not."""
    chat_id = str(chat_id)
    if chat_type != "private":
        # In a group the code was just shown to everyone there: it is not looked at, let alone used.
        log.info("link_refused", chat_id=chat_id, outcome="group")
        return LinkResult("group")
    stamp = wall(now)
    attempt = _take_turn(session, chat_id, stamp)
    if attempt is None:
        log.warning("link_throttled", chat_id=chat_id)
        return LinkResult("throttled")
    result = _check(session, chat_id, code, stamp)
    attempt.ok = result.outcome == "linked"
    if result.outcome != "linked":
        log.info("link_refused", chat_id=chat_id, outcome=result.outcome)
    return result


def _check(session: Session, chat_id: str, typed: str, stamp: datetime) -> LinkResult:
    code = normalise_code(typed)
    if code is None:
        return LinkResult("invalid")
    invite = session.scalar(select(ChatInvite).where(ChatInvite.code_hash == code_hash(code)))
    if invite is None:
        return LinkResult("invalid")
    if invite.used_at is not None:
        return LinkResult("used")
    person = session.get(Person, invite.person_id)
    if invite.revoked_at is not None or stamp >= invite.expires_at or person is None or not person.active:
        return LinkResult("expired")
    if not _spend(session, invite.id, chat_id, stamp):
        # Sent from another chat at the same moment, and that one was first.
        return LinkResult("used" if _used(session, invite.id) else "expired")
    actor = Actor(f"chat {chat_id}", "telegram")
    taken = _take_chat(session, chat_id, person, actor, stamp)
    previous = person.telegram_chat_id
    person.telegram_chat_id = chat_id
    if "telegram" not in person.channels:  # someone who links a chat wants to be reached there
        person.channels = (*person.channels, "telegram")
    audit.record(session, actor, stamp, "telegram_linked", person.name, person_id=person.id, invite_id=invite.id,
                 chat_id=chat_id, previous_chat_id=previous)
    log.info("chat_linked", person_id=person.id, invite_id=invite.id, chat_id=chat_id)
    return LinkResult("linked", person=person, person_name=person.name, taken_from=taken)


def _spend(session: Session, invite_id: int, chat_id: str, stamp: datetime) -> bool:
    """Use the invite up, compare-and-set: of several chats sending one code at once exactly one wins,
    on SQLite too, where a row lock taken when reading does not exist."""
    result = session.execute(
        update(ChatInvite)
        .where(ChatInvite.id == invite_id, ChatInvite.used_at.is_(None), ChatInvite.revoked_at.is_(None),
               ChatInvite.expires_at > stamp)
        .values(used_at=stamp, used_chat=chat_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _used(session: Session, invite_id: int) -> bool:
    # A column, not the entity: the entity in the session still shows the invite as it was read.
    return session.scalar(select(ChatInvite.used_at).where(ChatInvite.id == invite_id)) is not None


def _take_chat(session: Session, chat_id: str, person: Person, actor: Actor, stamp: datetime) -> tuple[int, ...]:
    """One chat, one person: whoever held this chat id loses it, or their reminders would arrive here."""
    holders = session.scalars(select(Person).where(Person.telegram_chat_id == chat_id, Person.id != person.id)
                              .order_by(Person.id)).all()
    for holder in holders:
        holder.telegram_chat_id = None
        audit.record(session, actor, stamp, "telegram_chat_moved", holder.name, from_person_id=holder.id,
                     to_person_id=person.id, chat_id=chat_id)
        log.info("chat_moved", chat_id=chat_id, from_person_id=holder.id, to_person_id=person.id)
    return tuple(holder.id for holder in holders)


def unlink(session: Session, person: Person, actor: Actor, now: datetime) -> Unlinked:
    """Forget the person's chat and revoke their unused codes; nothing is recorded if nothing changed."""
    stamp = wall(now)
    previous = person.telegram_chat_id
    person.telegram_chat_id = None
    revoked = _revoke_unused(session, person.id, stamp)
    result = Unlinked(chat_id=previous, revoked=revoked)
    if result.changed:
        audit.record(session, actor, now, "telegram_unlinked", person.name, person_id=person.id, chat_id=previous,
                     revoked=revoked)
    return result


def person_for_chat(session: Session, user_id: str) -> Person | None:
    """The active person whose linked chat is this Telegram user's private chat."""
    return session.scalars(select(Person).where(Person.telegram_chat_id == str(user_id), Person.active.is_(True))
                           .order_by(Person.id).limit(1)).first()


def _check_registrar(person: Person) -> None:
    # Groups receive the office's answers about every unit, so only the receiving office decides which.
    if not person.active or person.role != "receiver":
        raise UserError("chỉ cán bộ Phòng Nội vụ (đang nhận thông báo) mới đăng ký hoặc hủy đăng ký nhóm với bot")


def register_group(session: Session, chat_id: str, title: str, by: Person, now: datetime) -> BotGroup:
    """Register (or re-register, with its current title) a group chat; the bot answers there from now on."""
    _check_registrar(by)
    chat_id = str(chat_id)
    stamp = wall(now)
    group = session.scalar(select(BotGroup).where(BotGroup.chat_id == chat_id).with_for_update())
    if group is None:
        group = BotGroup(chat_id=chat_id, title=title, registered_by=by.id, registered_at=stamp, active=True)
        session.add(group)
    elif group.active and group.title == title:
        return group
    else:
        group.title, group.registered_by, group.registered_at, group.active = title, by.id, stamp, True
    session.flush()
    audit.record(session, Actor(by.name, "telegram"), now, "bot_group_registered", title or chat_id,
                 chat_id=chat_id, group_id=group.id, by_person_id=by.id)
    log.info("group_registered", chat_id=chat_id, group_id=group.id, by_person_id=by.id)
    return group


def unregister_group(session: Session, chat_id: str, by: Person | None, now: datetime) -> bool:
    """Stop answering in a group; ``by`` is None when the bot was removed from it. False if it was not
    registered."""
    if by is not None:
        _check_registrar(by)
    chat_id = str(chat_id)
    group = session.scalar(select(BotGroup).where(BotGroup.chat_id == chat_id, BotGroup.active.is_(True)))
    if group is None:
        return False
    group.active = False
    actor = Actor(by.name, "telegram") if by is not None else Actor("telegram", "telegram")
    audit.record(session, actor, now, "bot_group_unregistered", group.title or chat_id, chat_id=chat_id,
                 group_id=group.id, by_person_id=by.id if by is not None else None)
    log.info("group_unregistered", chat_id=chat_id, group_id=group.id,
             by_person_id=by.id if by is not None else None)
    return True


def is_registered_group(session: Session, chat_id: str) -> bool:
    found = session.scalar(select(BotGroup.id).where(BotGroup.chat_id == str(chat_id), BotGroup.active.is_(True)))
    return found is not None


def link_reply(result: LinkResult, office: str = "Phòng Nội vụ") -> str:
    """What the bot answers to ``/start CODE``, in the office's formal register."""
    if result.outcome == "linked":
        return (f"Đã liên kết tài khoản Telegram này với Ông/Bà {result.person_name}. Từ nay, thông báo nhắc hạn "
                "báo cáo cải cách hành chính sẽ được gửi đến cuộc trò chuyện này.")
    if result.outcome == "invalid":
        return (f"Mã không đúng. Vui lòng kiểm tra lại mã gồm {CODE_LENGTH} ký tự do {office} cấp và gửi lại "
                "theo dạng: /start MÃ")
    if result.outcome == "expired":
        return f"Mã đã hết hạn hoặc không còn hiệu lực; đề nghị {office} cấp mã mới."
    if result.outcome == "used":
        return (f"Mã này đã được sử dụng; mỗi mã chỉ dùng được một lần. Nếu cần liên kết lại, đề nghị {office} "
                "cấp mã mới.")
    if result.outcome == "throttled":
        return ("Tài khoản này đã gửi mã không đúng nhiều lần liên tiếp. Đề nghị Ông/Bà chờ "
                f"{THROTTLE_WINDOW.seconds // 60} phút rồi gửi lại mã, hoặc liên hệ {office} để được hỗ trợ.")
    return "Vui lòng gửi mã trong cuộc trò chuyện riêng với bot."
