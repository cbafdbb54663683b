"""A person's channels are a typed column: a tuple in code, a checked value in the database (0005)."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from reminder_service.app import App
from reminder_service.domain.errors import UserError
from reminder_service.services.db.engine import _alembic_config, upgrade
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
    """On a database in use: messages refer to the people, so SQLite's rebuild of the table must keep them."""
    config = _alembic_config(app.engine)
    command.downgrade(config, "0004")
    with app.engine.begin() as connection:
        for number, (name, channels, email, chat, _) in enumerate(ROWS, start=1):
            connection.execute(text("INSERT INTO people (id, name, role, email, telegram_chat_id, channels, active,"
                                    " source) VALUES (:i, :n, 'receiver', :e, :t, :c, :a, 'manual')"),
                               {"i": number, "n": name, "e": email, "t": chat, "c": channels, "a": True})
            connection.execute(text("INSERT INTO outbox (dedupe_key, stage, person_id, channel, address, subject,"
                                    " body_text, body_html, buttons, state, attempts, next_attempt_at, created_at)"
                                    " VALUES (:k, 'digest', :i, 'email', '', '', '', '', '', 'sent', 1, :at, :at)"),
                               {"k": f"digest:{number}", "i": number, "at": datetime(2021, 3, 8, 9, 0)})
    upgrade(app.engine)  # as the service does on start
    with app.engine.connect() as connection:
        stored: dict[str, str] = dict(connection.execute(text("SELECT name, channels FROM people")).all())
        messages = connection.execute(text("SELECT p.name FROM outbox o JOIN people p ON p.id = o.person_id"
                                           " ORDER BY o.id")).scalars().all()
    assert stored == {name: tidied for name, *_, tidied in ROWS}
    assert messages == [name for name, *_ in ROWS]
    with app.session() as session:
        assert session.scalars(select(Person.channels).where(Person.name == "Bình")).one() == ("email", "telegram")
    with pytest.raises(IntegrityError), app.engine.begin() as connection:
        connection.execute(text("UPDATE people SET channels = 'telegram,telegram' WHERE name = 'An'"))
    with pytest.raises(IntegrityError), app.engine.begin() as connection:  # foreign keys are enforced again
        connection.execute(text("UPDATE outbox SET person_id = 999 WHERE dedupe_key = 'digest:1'"))


def test_code_cannot_store_a_channel_the_service_does_not_know(app: App) -> None:
    with pytest.raises(StatementError, match="channels 'sms'"), app.session() as session:
        session.add(Person(name="Hà", role="receiver", channels=("sms",), source="manual"))
        session.flush()


def test_rows_pointing_at_nothing_after_an_upgrade_are_reported_in_words(app: App) -> None:
    """SQLite checks foreign keys only when told to; an upgrade that finds a broken reference says so."""
    if app.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL never lets such a row in")
    command.downgrade(_alembic_config(app.engine), "0004")
    with app.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.execute(text("INSERT INTO outbox (dedupe_key, stage, person_id, channel, address, subject,"
                                " body_text, body_html, buttons, state, attempts, next_attempt_at, created_at)"
                                " VALUES ('k', 'digest', 999, 'email', '', '', '', '', '', 'sent', 1, :at, :at)"),
                           {"at": datetime(2021, 3, 8, 9, 0)})
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    with pytest.raises(UserError, match="1 dòng trong bảng outbox trỏ tới dữ liệu không còn"):
        upgrade(app.engine)
