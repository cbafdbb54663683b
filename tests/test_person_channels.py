"""A person's channels are a typed column: a tuple in code, a checked value in the database (0005)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from reminder_service.app import App
from reminder_service.services.db.engine import _alembic_config
from reminder_service.services.db.models import Person

ROWS = [  # name, channels as an older version or a hand edit left them, e-mail, chat id -> tidied
    ("An", "telegram,email", "an@x.vn", "1", "telegram,email"),
    ("Bình", "Email, telegram", "binh@x.vn", "2", "email,telegram"),
    ("Chi", "email,email", "chi@x.vn", None, "email"),
    ("Dũng", "sms,zalo", None, "4", "telegram"),
    ("Em", "", "em@x.vn", None, "email"),
    ("Giang", " , ", None, None, "telegram,email"),
]


def test_the_migration_tidies_what_was_stored_and_the_database_refuses_the_rest(app: App) -> None:
    config = _alembic_config(app.engine)
    command.downgrade(config, "0004")
    with app.engine.begin() as connection:
        for name, channels, email, chat, _ in ROWS:
            connection.execute(text("INSERT INTO people (name, role, email, telegram_chat_id, channels, active, source)"
                                    " VALUES (:n, 'receiver', :e, :t, :c, :a, 'manual')"),
                               {"n": name, "e": email, "t": chat, "c": channels, "a": True})
    command.upgrade(config, "head")
    with app.engine.connect() as connection:
        stored: dict[str, str] = dict(connection.execute(text("SELECT name, channels FROM people")).all())
    assert stored == {name: tidied for name, *_, tidied in ROWS}
    with app.session() as session:
        assert session.scalars(select(Person.channels).where(Person.name == "Bình")).one() == ("email", "telegram")
    with pytest.raises(IntegrityError), app.engine.begin() as connection:
        connection.execute(text("UPDATE people SET channels = 'telegram,telegram' WHERE name = 'An'"))


def test_code_cannot_store_a_channel_the_service_does_not_know(app: App) -> None:
    with pytest.raises(StatementError, match="channels 'sms'"), app.session() as session:
        session.add(Person(name="Hà", role="receiver", channels=("sms",), source="manual"))
        session.flush()
