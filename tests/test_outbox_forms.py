"""Reminders stored as a shared form and their names: kept once, sent as the whole text, purged with the last row."""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import func, select, text

from reminder_service.app import App
from reminder_service.domain.messages.form import PERSON, UNIT_CODE, UNIT_REST, Formed, MessageForm
from reminder_service.services.audit import Actor
from reminder_service.services.db.engine import _alembic_config, upgrade
from reminder_service.services.db.models import DeliveryAttempt, OutboxForm, OutboxMessage
from reminder_service.services.outbox import text as outbox_text
from reminder_service.services.outbox.admin import purge
from reminder_service.services.outbox.enqueue import Envelope, enqueue
from reminder_service.services.outbox.store import OutboxStore

STAMP = datetime(2021, 3, 8, 9, 0)
FORM = MessageForm(
    f"Thông báo hạn nộp – UBND xã {UNIT_REST}",
    f"Kính gửi: Chủ tịch UBND xã {UNIT_REST} ({UNIT_CODE}), Ông/Bà {PERSON}.",
    f"<p>Kính gửi: Chủ tịch UBND xã <b>{UNIT_REST}</b> ({UNIT_CODE}), Ông/Bà {PERSON}.</p>",
)
NAMES = [("An Bình", "XA_AN_BINH", "Nguyễn Văn An"), ("A&B <Thôn 2>", "XA_AB", "Lê Thị \"Bích\"")]


def _envelopes() -> list[Envelope]:
    envelopes = [Envelope(f"n:{i}:{channel}", "notice", None, channel, address, Formed(FORM, names), due=STAMP)
                 for i, names in enumerate(NAMES)
                 for channel, address in (("email", f"{i}@x.vn"), ("telegram", str(i)))]
    # No address: a skipped row, which needs neither text nor form.
    envelopes.append(Envelope("n:9:email", "notice", None, "email", None, None, due=STAMP))
    return envelopes


def _claim(app: App) -> dict[str, tuple[str, str, str]]:
    claimed = OutboxStore(app.engine, "w1").claim(STAMP, STAMP + timedelta(minutes=5), ["email", "telegram"], 100)
    return {c.key: (c.subject, c.text, c.html) for c in claimed}


def test_the_form_is_kept_once_and_every_message_is_sent_as_its_whole_text(app: App) -> None:
    with app.session() as session:
        enqueue(session, _envelopes(), stamp=STAMP)
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxForm)) == 1
        bodies = session.execute(select(OutboxMessage.body_text, OutboxMessage.names)
                                 .where(OutboxMessage.dedupe_key == "n:1:email")).one()
        assert bodies == ("", '["A&B <Thôn 2>", "XA_AB", "Lê Thị \\"Bích\\""]')
    sent = _claim(app)
    assert sorted(sent) == ["n:0:email", "n:0:telegram", "n:1:email", "n:1:telegram"]
    assert sent["n:0:email"] == (
        "Thông báo hạn nộp – UBND xã An Bình",
        "Kính gửi: Chủ tịch UBND xã An Bình (XA_AN_BINH), Ông/Bà Nguyễn Văn An.",
        "<p>Kính gửi: Chủ tịch UBND xã <b>An Bình</b> (XA_AN_BINH), Ông/Bà Nguyễn Văn An.</p>",
    )
    # Plain parts carry the names as they are; HTML gets them escaped.
    assert sent["n:1:telegram"][1] == "Kính gửi: Chủ tịch UBND xã A&B <Thôn 2> (XA_AB), Ông/Bà Lê Thị \"Bích\"."
    assert sent["n:1:telegram"][2] == ("<p>Kính gửi: Chủ tịch UBND xã <b>A&amp;B &lt;Thôn 2&gt;</b> (XA_AB), "
                                       "Ông/Bà Lê Thị &#34;Bích&#34;.</p>")


def test_a_row_whose_names_were_edited_by_hand_is_set_aside_in_words_and_the_rest_still_go(app: App) -> None:
    with app.session() as session:
        enqueue(session, _envelopes(), stamp=STAMP)
    with app.engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET names = 'An Bình' WHERE dedupe_key = 'n:0:email'"))
    assert sorted(_claim(app)) == ["n:0:telegram", "n:1:email", "n:1:telegram"]
    with app.session() as session:
        state, error = session.execute(select(OutboxMessage.state, OutboxMessage.last_error)
                                       .where(OutboxMessage.dedupe_key == "n:0:email")).one()
        attempts = session.scalars(select(DeliveryAttempt.outcome).join(OutboxMessage)
                                   .where(OutboxMessage.dedupe_key == "n:0:email")).all()
    assert state == "dead"
    assert error is not None and "không đọc được tên đơn vị và người nhận" in error
    assert attempts == ["dead"]  # recorded like any message that can never be sent


def test_purging_sent_rows_takes_their_form_only_when_no_waiting_row_names_it(app: App) -> None:
    with app.session() as session:
        enqueue(session, _envelopes()[:2], stamp=STAMP)
        enqueue(session, [Envelope("later", "notice", None, "email", "a@x.vn",
                                   Formed(MessageForm("Khác", f"Khác {UNIT_REST}", "<p>Khác</p>"), NAMES[0]),
                                   due=STAMP)], stamp=STAMP)
    with app.engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET state = 'sent', sent_at = :at WHERE dedupe_key LIKE 'n:%'"),
                           {"at": STAMP})
    actor = Actor("thanh.nv", "cli")
    with app.session() as session:
        purge(session, before=STAMP + timedelta(days=1), actor=actor, now=STAMP + timedelta(days=1), dry_run=False)
    with app.session() as session:
        kept = session.scalars(select(OutboxForm.subject)).all()
        waiting = outbox_text.text_of(session.execute(select(*outbox_text.COLUMNS).select_from(outbox_text.joined())
                                                      .where(OutboxMessage.dedupe_key == "later")).one())
    assert kept == ["Khác"]
    assert waiting.text == "Khác An Bình"


def test_messages_written_before_the_upgrade_keep_their_own_text(app: App) -> None:
    command.downgrade(_alembic_config(app.engine), "0005")
    with app.engine.begin() as connection:
        connection.execute(text("INSERT INTO outbox (dedupe_key, stage, channel, address, subject, body_text,"
                                " body_html, buttons, state, attempts, next_attempt_at, created_at) VALUES"
                                " ('old', 'notice', 'email', 'a@x.vn', 'Cũ', 'Nội dung cũ', '<p>Nội dung cũ</p>',"
                                " '', 'pending', 0, :at, :at)"), {"at": STAMP})
    upgrade(app.engine)
    assert _claim(app) == {"old": ("Cũ", "Nội dung cũ", "<p>Nội dung cũ</p>")}
