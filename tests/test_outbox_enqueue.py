"""The one writer of outbox rows: skip reasons, buttons and dedupe keys the same for every caller."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from reminder_service.app import App
from reminder_service.domain.messages.render import Rendered
from reminder_service.services.db.engine import insert_many
from reminder_service.services.db.models import OutboxMessage, table_of
from reminder_service.services.outbox.enqueue import Envelope, enqueue, enqueue_new

STAMP = datetime(2021, 3, 8, 9, 0)
TEXT = Rendered("Tiêu đề", "Nội dung", "<b>Nội dung</b>")
BUTTONS = ((("Đã gửi", "c:1"),),)


def _envelopes(prefix: str) -> list[Envelope]:
    return [
        Envelope(f"{prefix}:email", "notice", None, "email", "a@b.vn", TEXT, due=STAMP, buttons=BUTTONS),
        Envelope(f"{prefix}:telegram", "notice", None, "telegram", "12345", TEXT, due=STAMP, buttons=BUTTONS),
        Envelope(f"{prefix}:no-chat", "notice", None, "telegram", None, None, due=STAMP, buttons=BUTTONS),
        Envelope(f"{prefix}:no-mail", "notice", None, "email", "", None, due=STAMP),
    ]


def _rows(app: App) -> list[tuple[str | None, ...]]:
    with app.session() as session:
        rows = session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.state, OutboxMessage.buttons,
                                      OutboxMessage.last_error, OutboxMessage.subject, OutboxMessage.address)
                               .order_by(OutboxMessage.id)).all()
    return [tuple(r) for r in rows]


def test_rows_say_why_they_cannot_be_sent_and_carry_buttons_only_where_telegram_shows_them(app: App) -> None:
    with app.session() as session:
        written = enqueue(session, _envelopes("k"), stamp=STAMP)
    assert (written.pending, written.skipped) == (2, 2)
    assert _rows(app) == [
        ("k:email", "pending", "", None, "Tiêu đề", "a@b.vn"),
        ("k:telegram", "pending", '[[["Đã gửi", "c:1"]]]', None, "Tiêu đề", "12345"),
        ("k:no-chat", "skipped", "", "chưa liên kết Telegram", "", ""),
        ("k:no-mail", "skipped", "", "chưa có địa chỉ e-mail", "", ""),
    ]


def test_a_key_written_before_fails_the_strict_writer_and_is_passed_over_by_the_forgiving_one(app: App) -> None:
    with app.session() as session:
        enqueue(session, _envelopes("k")[:1], stamp=STAMP)
    with pytest.raises(IntegrityError), app.session() as session:
        enqueue(session, _envelopes("k"), stamp=STAMP)
    with app.session() as session:
        written = enqueue_new(session, _envelopes("k"), stamp=STAMP)
    assert (written.pending, written.skipped) == (1, 2)
    assert [key for key, *_ in _rows(app)] == ["k:email", "k:telegram", "k:no-chat", "k:no-mail"]


def test_an_address_without_text_is_a_programming_error_not_an_empty_message(app: App) -> None:
    with pytest.raises(ValueError, match="has an address but no text"), app.session() as session:
        enqueue(session, [Envelope("k", "notice", None, "email", "a@b.vn", None, due=STAMP)], stamp=STAMP)
    assert _rows(app) == []


def test_postgresql_prepares_the_bulk_insert_only_for_its_duration(app: App) -> None:
    """The read side must keep PostgreSQL's custom plans (see make_engine): preparing stays off afterwards."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL prepares statements on the server")
    with app.session() as session:
        enqueue(session, _envelopes("k"), stamp=STAMP)
        driver = session.connection().connection.driver_connection
        assert getattr(driver, "prepare_threshold", None) is None


def test_the_bulk_insert_keeps_times_and_text_as_written_and_refuses_rows_missing_a_defaulted_column(app: App) -> None:
    """insert_many hands the driver its own SQL: what the ORM reads back must be what was written."""
    later = datetime(2021, 3, 8, 13, 30, 15, 250)
    text = Rendered("Tiêu đề {0} %s", "Nội dung\n\"trích\" 'dẫn'", "<b>A&amp;B</b>")
    with app.session() as session:
        enqueue(session, [Envelope("a", "notice", None, "email", "a@b.vn", text, due=later),
                          Envelope("b", "notice", None, "email", "c@d.vn", TEXT, due=STAMP)], stamp=STAMP)
    with app.session() as session:
        got = session.execute(select(OutboxMessage.next_attempt_at, OutboxMessage.created_at, OutboxMessage.subject,
                                     OutboxMessage.body_text, OutboxMessage.body_html)
                              .order_by(OutboxMessage.id)).all()
    assert [tuple(r) for r in got] == [(later, STAMP, *astuple(text)), (STAMP, STAMP, *astuple(TEXT))]
    with pytest.raises(ValueError, match="attempts"), app.session() as session:
        insert_many(session, table_of(OutboxMessage), [{"dedupe_key": "c", "stage": "notice", "channel": "email",
                                                        "next_attempt_at": STAMP, "created_at": STAMP}])
