"""The schema: organisation, obligations, submissions, register imports, review list, audit log.

Times are Vietnamese wall-clock time (Asia/Ho_Chi_Minh has no daylight saving, so a naive local
timestamp is unambiguous); dates are Vietnamese civil dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from itertools import permutations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from reminder_service.domain.escalation.policy import CHANNEL_NAMES

# Stable constraint names, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("receiver", "leadership", "unit_head", "focal")
CHANNELS = CHANNEL_NAMES
# Every value the people.channels column may hold: one or more channels, each once, in order of preference.
CHANNEL_ORDERS = tuple(",".join(order) for n in range(1, len(CHANNELS) + 1) for order in permutations(CHANNELS, n))


class ChannelList(TypeDecorator[tuple[str, ...]]):
    """A person's channels in order of preference: a tuple in Python, "telegram,email" in the database,
    where a check constraint admits only the orders in CHANNEL_ORDERS (migration 0005)."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Sequence[str] | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        names = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
        stored = ",".join(names)
        if stored not in CHANNEL_ORDERS:
            raise ValueError(f"channels {stored!r}: one or more of {', '.join(CHANNELS)}, each once")
        return stored

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...]:
        return tuple(value.split(",")) if value else ()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Office(Base):
    """The receiving office (Phòng Nội vụ, or a provincial Sở Nội vụ): one row."""

    __tablename__ = "offices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))
    # Phụ lục 3B sections a monitoring office supplies, ";"-separated ("7.1" or "1.1;1.2;4;5").
    sections: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    people: Mapped[list[Person]] = relationship(back_populates="unit")

    @property
    def section_list(self) -> list[str]:
        return [s for s in self.sections.split(";") if s]


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(f"channels IN ({', '.join(repr(order) for order in CHANNEL_ORDERS)})", name="channels_known"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channels: Mapped[tuple[str, ...]] = mapped_column(ChannelList, default=CHANNELS)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # "import" rows are owned by `units import` (a unit's head and focal officer); "manual" by `people add`.
    source: Mapped[str] = mapped_column(String(20), default="manual")

    unit: Mapped[Unit | None] = relationship(back_populates="people")

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.telegram_chat_id


class Obligation(Base):
    """What one unit owes for one report of one year, with its dates resolved."""

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("unit_id", "year", "code", name="uq_obligations_unit_year_code"),
        Index("ix_obligations_year_code", "year", "code"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    # "directive" rows follow `obligations sync`; "adhoc" rows were created by the receiver.
    origin: Mapped[str] = mapped_column(String(20), default="directive")
    directive: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(100), default="")
    nominal_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    effective_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    window_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    window_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    estimate_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    estimate_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    projected: Mapped[bool] = mapped_column(Boolean, default=False)
    # False when the unit was deactivated or the directive no longer lists it; history is kept.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    waived_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    waived_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    unit: Mapped[Unit] = relationship()
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="obligation", order_by="Submission.received_at"
    )


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    doc_no: Mapped[str | None] = mapped_column(String(120), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # "accepted", or "incomplete" (reopens the obligation), or "reverted" (undone; kept for history).
    state: Mapped[str] = mapped_column(String(20), default="accepted")
    missing: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When it was marked incomplete: the start of that mark's own reminder ladder.
    marked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    # Identity of the incoming-register row it came from, so a re-import adds nothing.
    register_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    obligation: Mapped[Obligation] = relationship(back_populates="submissions")


class RegisterImport(Base):
    __tablename__ = "register_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[int] = mapped_column(Integer, default=0)
    review: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)


class ReviewItem(Base):
    """An incoming-register row that looks like a CCHC report but could not be matched for sure."""

    __tablename__ = "review_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("register_imports.id"))
    row_no: Mapped[int] = mapped_column(Integer)
    register_key: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    doc_no: Mapped[str | None] = mapped_column(String(120), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # unknown_unit | ambiguous_unit | unknown_obligation | ambiguous_obligation | bad_row
    reason: Mapped[str] = mapped_column(String(40))
    candidates: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="open")
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)


class AuditEntry(Base):
    """Who changed what, when, and through which channel (cli, bot, register, sync)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[str] = mapped_column(Text, default="")


class LadderStep(Base):
    """One rung of one obligation's escalation ladder, once decided: the ledger that makes deciding
    idempotent. Unique per (obligation, stage, occurrence): a second decider's insert fails."""

    __tablename__ = "ladder_steps"
    __table_args__ = (
        UniqueConstraint("obligation_id", "series", "stage", "occurrence", name="uq_ladder_steps_rung"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), index=True)
    # "main" for the deadline ladder; "incomplete-<submission id>" for the ladder an incomplete mark starts.
    series: Mapped[str] = mapped_column(String(60), default="main")
    stage: Mapped[str] = mapped_column(String(40))
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    due_on: Mapped[date] = mapped_column(Date)
    # "sent": messages were written to the outbox; "skipped": superseded by a later rung (downtime).
    outcome: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxForm(Base):
    """A message form (``domain.messages.form``) shared by the outbox rows that name it: the text of a
    reminder with slots for the unit's and the person's names, kept once instead of in every row."""

    __tablename__ = "outbox_forms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """A decided message, written with its rung, then delivered (and retried) by the dispatcher.

    Its text is either in the row (subject, body_text, body_html) or, for a reminder, a form and the
    names that fill it in (``form_id``, ``names``); ``services.outbox.text`` reads either kind."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Null for messages that belong to no obligation (daily digest, weekly summary).
    obligation_id: Mapped[int | None] = mapped_column(ForeignKey("obligations.id"), nullable=True, index=True)
    stage: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The form and the names (JSON: the unit's name after its first two words, its code, the person's name).
    form_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_forms.id"), nullable=True, index=True)
    names: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Telegram inline buttons as JSON rows of [label, callback data]; empty for none and for e-mail.
    buttons: Mapped[str] = mapped_column(Text, default="", server_default="")
    # pending -> sending -> sent | dead; "skipped" when the person has no address for the channel.
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ServiceState(Base):
    """Small facts the daemon keeps between runs (last successful register import, last tick)."""

    __tablename__ = "service_state"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for bulk statements that must stay a single executemany."""
    return Base.metadata.tables[model.__tablename__]


class DeliveryAttempt(Base):
    """One try at delivering one outbox message: the evidence behind its state, kept even when the
    message was delivered twice (a sender whose lease ran out), so a duplicate can be explained."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    # sent | retry | dead
    outcome: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    retry_after: Mapped[float | None] = mapped_column(Float, nullable=True)
    worker: Mapped[str] = mapped_column(String(80), default="")
