"""Telegram chats as they change and fill up: a group upgraded to a supergroup is followed to its new id
(saved, and the message resent), a group gets at most 20 messages a minute, and one Bot object serves
the reminders and the chat bot. The real python-telegram-bot client against the local Bot API, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from telegram.error import NetworkError

from reminder_service.adapters.telegram.notifier import TelegramNotifier
from reminder_service.adapters.telegram.wiring import build_chat_bot
from reminder_service.app import App
from reminder_service.channels import build_notifiers, telegram_bot
from reminder_service.config import CalendarSettings, Config, TelegramSettings
from reminder_service.daemon import Daemon
from reminder_service.secrets import TELEGRAM_TOKEN
from reminder_service.services.audit import Actor
from reminder_service.services.chat_migration import ChatMove, follow_chat_migration
from reminder_service.services.db.chat import BotAction, BotGroup
from reminder_service.services.db.models import AuditEntry, OutboxMessage, Person, Unit
from reminder_service.services.outbox import ChannelLimits, Dispatcher, RateLimiter
from reminder_service.services.outbox.notifier import OutgoingMessage
from tests.botchat import running_bot
from tests.fakes.bot_api import (
    TOKEN,
    Failure,
    FakeBotApi,
    bot_api_fixture,  # noqa: F401 - the bot_api fixture
)

AT = datetime(2021, 3, 16, 9, 0)
OLD, NEW = -4001, -1001000004001  # a basic group's id, and the supergroup's it became
PERSON_CHAT = 1001


def _unit_with_group(app: App) -> int:
    """A commune whose head receives reminders in the commune's Telegram group, also registered for
    the bot, with a button still pending there; returns the head's id."""
    with app.session() as session:
        unit = Unit(code="XA_AN_BINH", name="UBND xã An Bình", kind="commune", updated_at=AT)
        session.add(unit)
        session.flush()
        head = Person(name="Nguyễn Văn An", role="unit_head", unit_id=unit.id, telegram_chat_id=str(OLD),
                      channels="telegram")
        session.add_all([head, BotGroup(chat_id=str(OLD), title="CCHC An Bình", registered_at=AT),
                         BotAction(token="t" * 32, kind="page", payload="{}", chat_id=str(OLD), created_at=AT,
                                   expires_at=AT + timedelta(days=1))])
        session.flush()
        return head.id


def _rows(app: App, person_id: int | None, address: str, count: int, *, state: str = "pending",
          prefix: str = "q1-2021") -> None:
    with app.session() as session:
        session.add_all(
            OutboxMessage(dedupe_key=f"{prefix}/overdue/{i}/p{person_id}/{address}", stage="overdue",
                          person_id=person_id, channel="telegram", address=address, subject="",
                          body_text=f"Nhắc lần {i + 1}", body_html=f"<b>Nhắc lần {i + 1}</b>", state=state,
                          attempts=1 if state == "dead" else 0, next_attempt_at=AT, created_at=AT,
                          last_error="Telegram: ChatMigrated" if state == "dead" else None)
            for i in range(count))


def _migrations(app: App) -> list[dict[str, object]]:
    with app.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "telegram_chat_migrated"))
        return [{"subject": row.subject, **json.loads(row.details)} for row in rows]


def test_a_reminder_to_an_upgraded_group_goes_to_its_new_id_and_the_new_id_is_saved(
        app: App, bot_api: FakeBotApi) -> None:
    head = _unit_with_group(app)
    _rows(app, head, str(OLD), 2)
    _rows(app, head, str(OLD), 1, state="dead", prefix="plan-2021")
    _rows(app, None, str(PERSON_CHAT), 1, prefix="digest")
    bot_api.fail_chat(OLD, Failure.migrated(NEW))
    notifier = TelegramNotifier(TOKEN, bot_api.base_url, part_interval=0)
    daemon = Daemon(app, {"telegram": notifier}, clock=lambda: AT + timedelta(minutes=1))

    async def deliver() -> None:
        try:
            await daemon.dispatcher.drain()
        finally:
            await notifier.close()

    asyncio.run(deliver())
    # Both reminders reached the group at its new id; the old id was tried once, not once per message.
    assert [call.params["text"] for call in bot_api.sent(NEW)] == ["<b>Nhắc lần 1</b>", "<b>Nhắc lần 2</b>"]
    assert len([call for call in bot_api.calls("sendMessage") if str(call.chat_id) == str(OLD)]) == 1
    assert len(bot_api.sent(PERSON_CHAT)) == 1
    with app.session() as session:
        assert session.get(Person, head).telegram_chat_id == str(NEW)  # type: ignore[union-attr]
        assert session.scalars(select(BotGroup.chat_id)).all() == [str(NEW)]
        assert session.scalars(select(BotAction.chat_id)).all() == [str(NEW)]
        rows = {row.dedupe_key.split("/")[0] + row.dedupe_key.split("/")[2]: (row.state, row.address)
                for row in session.scalars(select(OutboxMessage))}
    assert rows == {"q1-20210": ("sent", str(NEW)), "q1-20211": ("sent", str(NEW)),
                    # The message given up earlier because of the old id now points at the new one, for
                    # `outbox retry`; the digest to a person was untouched.
                    "plan-20210": ("dead", str(NEW)), "digest0": ("sent", str(PERSON_CHAT))}
    [audit] = _migrations(app)
    assert audit["subject"] == f"nhóm Telegram {OLD}" and audit["new_chat_id"] == str(NEW)
    assert (audit["people"], audit["groups"], audit["actions"]) == (1, 1, 1)


def test_following_a_move_twice_changes_nothing_the_second_time(app: App) -> None:
    _unit_with_group(app)
    actor = Actor("reminder-service", "daemon")
    with app.session() as session:
        first = follow_chat_migration(session, str(OLD), str(NEW), AT, actor)
    with app.session() as session:
        again = follow_chat_migration(session, str(OLD), str(NEW), AT, actor)
    assert first == ChatMove(people=1, groups=1, actions=1, messages=0) and not again.changed
    assert len(_migrations(app)) == 1


def test_a_group_registered_again_in_the_supergroup_retires_the_old_registration(app: App) -> None:
    _unit_with_group(app)
    with app.session() as session:
        session.add(BotGroup(chat_id=str(NEW), title="CCHC An Bình", registered_at=AT))
    with app.session() as session:
        follow_chat_migration(session, str(OLD), str(NEW), AT, Actor("Telegram", "telegram"))
    with app.session() as session:
        groups = {g.chat_id: g.active for g in session.scalars(select(BotGroup))}
    assert groups == {str(OLD): False, str(NEW): True}


def test_the_chat_bot_follows_the_groups_upgrade_message(app: App, bot_api: FakeBotApi) -> None:
    head = _unit_with_group(app)
    with running_bot(app, bot_api):
        bot_api.push_migration(OLD, NEW)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with app.session() as session:
                if session.get(Person, head).telegram_chat_id == str(NEW):  # type: ignore[union-attr]
                    break
            time.sleep(0.05)
    with app.session() as session:
        assert session.get(Person, head).telegram_chat_id == str(NEW)  # type: ignore[union-attr]
        assert session.scalars(select(BotGroup.chat_id)).all() == [str(NEW)]
    # Told twice (the old group's message and the supergroup's), recorded once.
    assert len(_migrations(app)) == 1
    assert bot_api.sent() == []  # a service message gets no answer


def test_one_bot_object_serves_the_reminders_and_the_chat_bot_whatever_leadership_does(
        app: App, bot_api: FakeBotApi) -> None:
    config = Config(path=None, calendar=CalendarSettings(), database_url=app.config.database_url,
                    telegram=TelegramSettings(enabled=True, base_url=bot_api.base_url, bot_username="cchc_test_bot"))
    wired = App.from_config(config)
    environ = {TELEGRAM_TOKEN: TOKEN}

    def reminder(n: int) -> OutgoingMessage:
        return OutgoingMessage(f"k{n}", "telegram", str(PERSON_CHAT + n), "Nguyễn Văn An", "", "", f"<b>Nhắc {n}</b>")

    async def scenario() -> None:
        notifiers = build_notifiers(config, environ)
        chat = build_chat_bot(wired, lambda: AT, RateLimiter(), environ, bot=telegram_bot(notifiers))
        assert chat is not None
        try:
            await chat.start()
            await notifiers["telegram"].send(reminder(1))
            await chat.stop()  # this instance lost leadership: the chat bot stops, reminders go on
            await notifiers["telegram"].send(reminder(2))
            await chat.start()  # leading again
            await chat.stop()
            await notifiers["telegram"].send(reminder(3))
        finally:
            for notifier in notifiers.values():
                await notifier.close()
        with pytest.raises(NetworkError, match="not initialized"):  # the daemon's end released the connections
            await chat.application.bot.send_message(PERSON_CHAT, "sau khi dừng")

    try:
        asyncio.run(scenario())
    finally:
        wired.close()
    assert [call.params["text"] for call in bot_api.sent()] == ["<b>Nhắc 1</b>", "<b>Nhắc 2</b>", "<b>Nhắc 3</b>"]
    assert len(bot_api.calls("getMe")) == 1  # one Bot object: it asked Telegram who it is once


def _burst_to_a_group(app: App, limits: ChannelLimits) -> FakeBotApi:
    """Twelve reminders to one group through the dispatcher, against a server whose group rule is
    scaled down to 5 messages a second (and one per 50 ms in a chat), so the test takes seconds."""
    _rows(app, None, str(OLD), 12)
    with FakeBotApi(chat_interval=0.05, group_limit=5, group_period=1.0) as api:
        notifier = TelegramNotifier(TOKEN, api.base_url, part_interval=0)
        dispatcher = Dispatcher(app, {"telegram": notifier}, lambda: AT + timedelta(minutes=1),
                                limiter=RateLimiter({"telegram": limits}))

        async def deliver() -> None:
            try:
                await dispatcher.drain()
            finally:
                await notifier.close()

        asyncio.run(deliver())
    return api


def test_a_group_gets_no_more_messages_a_minute_than_telegram_allows(app: App) -> None:
    api = _burst_to_a_group(app, ChannelLimits(max_per_period=30, per_address_interval=0.05,
                                               group_max_per_period=5, group_period=1.0))
    assert len(api.sent(OLD)) == 12
    assert api.violations == []
    times = [call.at for call in api.sent(OLD)]
    assert times[-1] - times[0] >= 2.0  # 12 messages at 5 a second: three windows


def test_without_the_group_rule_the_server_flags_the_burst(app: App) -> None:
    api = _burst_to_a_group(app, ChannelLimits(max_per_period=30, per_address_interval=0.05))
    assert any(v.startswith(f"group {OLD}:") for v in api.violations)
