"""Calendar subscriptions: a secret address a calendar application (Google Calendar, Outlook) fetches
the reporting calendar from, without signing in. Only a SHA-256 of each secret is kept, so a copy of
the database gives no feed away. Imported by the package ``services.db`` so one metadata holds all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reminder_service.services.db.models import Base


class CalendarFeed(Base):
    """One subscription address: for every unit of a kind (``kind``) or for one unit (``unit_id``),
    never both. Revoked, it answers nothing; the row stays, for the audit trail's ids."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (CheckConstraint("(kind IS NULL) <> (unit_id IS NULL)", name="one_subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str | None] = mapped_column(String(40), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # When a calendar application last fetched it (written at most every few minutes).
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
