"""The chat bot's tables: invite codes and guesses, registered group chats, pending button actions,
and the "Đã gửi" claims a unit makes from a reminder. Imported by ``models`` so one metadata holds all."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reminder_service.services.db.models import Base


class ChatInvite(Base):
    """A one-time code that links the chat it is sent from to a person. Only its SHA-256 is kept."""

    __tablename__ = "chat_invites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    used_chat: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LinkAttempt(Base):
    """One /start CODE received: failed ones from a chat are counted to slow down guessing."""

    __tablename__ = "link_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class BotGroup(Base):
    """A group chat the receiver registered; in any other group the bot answers nothing but how to register."""

    __tablename__ = "bot_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class BotAction(Base):
    """What an inline button will do when pressed (confirm a submission, turn a page, open a unit):
    the button carries only the unguessable token, so callback data stays under Telegram's 64 bytes
    and a forged press finds nothing."""

    __tablename__ = "bot_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    chat_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    # pending | done | cancelled
    state: Mapped[str] = mapped_column(String(20), default="pending")


class SubmissionClaim(Base):
    """A unit says it has sent the report ("Đã gửi"). The ladder pauses until ``pause_until`` (two
    working days) while the receiver confirms (a submission is recorded) or rejects it; it never closes
    the obligation by itself."""

    __tablename__ = "submission_claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    pause_until: Mapped[date] = mapped_column(Date)
    # open | confirmed | rejected
    state: Mapped[str] = mapped_column(String(20), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
