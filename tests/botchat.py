"""A running chat bot for the tests: the real python-telegram-bot Application polling the fake Bot API
from its own event loop in a thread, and a small district of two communes with people in every role.

``Talk.say`` writes as a user and returns what the bot answered; ``Talk.press`` taps a button.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reminder_service.adapters.telegram.commands import menu
from reminder_service.adapters.telegram.router import Router
from reminder_service.adapters.telegram.service import ChatBot, Webhook
from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, Person, Submission, Unit
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.outbox.ratelimit import RateLimiter
from tests.fakes.bot_api import TOKEN, FakeBotApi

SETUP = datetime(2021, 1, 4, 9, 0)
# Q1 2021: nominal deadline Sat 13/03, effective Mon 15/03; on Thu 18/03 a missing report is 3 wd late.
NOW = datetime(2021, 3, 18, 9, 0)
USERNAME = "cchc_test_bot"

RECEIVER, LEADER, HEAD_AN_BINH, FOCAL_AN_BINH, HEAD_PHU_LOC = 1001, 1002, 2001, 2002, 3001
STRANGER = 9999
GROUP = -100500


def build_district(app: App, extra_units: int = 0) -> None:
    """XA_AN_BINH (Q1 sent on time) and XA_PHU_LOC (Q1 missing), plus ``extra_units`` communes that are
    all missing Q1, with people in every role linked to the chats above; every 2021 plan was sent."""
    with app.session() as session:
        an_binh = Unit(code="XA_AN_BINH", name="UBND xã An Bình", kind="commune", updated_at=SETUP)
        phu_loc = Unit(code="XA_PHU_LOC", name="UBND xã Phú Lộc", kind="commune", updated_at=SETUP)
        extra = [Unit(code=f"XA_{n:03d}", name=f"UBND xã Thử Nghiệm {n}", kind="commune", updated_at=SETUP)
                 for n in range(extra_units)]
        session.add_all([an_binh, phu_loc, *extra])
        session.flush()
        people = [
            ("Nguyễn Thị Thanh", "receiver", None, RECEIVER), ("Lê Văn Quyết", "leadership", None, LEADER),
            ("Nguyễn Văn An", "unit_head", an_binh.id, HEAD_AN_BINH),
            ("Trần Thị Bình", "focal", an_binh.id, FOCAL_AN_BINH),
            ("Phạm Văn Lộc", "unit_head", phu_loc.id, HEAD_PHU_LOC),
        ]
        session.add_all(Person(name=name, role=role, unit_id=unit, telegram_chat_id=str(chat), channels="telegram")
                        for name, role, unit, chat in people)
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), Actor("test", "cli"), SETUP)
    with app.session() as session:
        # Every plan arrived in January; An Bình's Q1 report on time.
        sent = [(o.id, datetime(2021, 1, 20, 9, 0), f"{o.id}/KH-UBND")
                for o in session.query(Obligation).filter_by(code="plan", year=2021)]
        q1 = session.query(Obligation).filter_by(unit_id=an_binh.id, code="q1", year=2021).one()
        sent.append((q1.id, datetime(2021, 3, 10, 9, 0), "12/BC-UBND"))
        session.add_all(Submission(obligation_id=oid, received_at=at, doc_no=doc, state="accepted", channel="cli",
                                   actor="test", created_at=SETUP) for oid, at, doc in sent)


@dataclass
class Pressed:
    notice: str
    edits: list[str]
    messages: list[str]


class Talk:
    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    def say(self, chat_id: int, text: str, *, user_id: int | None = None, replies: int = 1) -> list[str]:
        before = len(self.api.sent(chat_id))
        self.api.push_message(chat_id, text, user_id=user_id)
        return [call.params["text"] for call in self._await(lambda: self.api.sent(chat_id), before, replies)]

    def last_markup(self, chat_id: int) -> Any:
        return self.api.sent(chat_id)[-1].params.get("reply_markup")

    def press(self, chat_id: int, data: str, *, user_id: int | None = None, messages: int = 0) -> Pressed:
        """Tap the button with ``data`` under the bot's latest message in the chat."""
        message_id = self._latest_message_id(chat_id)
        answers_before = len(self.api.calls("answerCallbackQuery"))
        edits_before = len(self.api.calls("editMessageText"))
        sent_before = len(self.api.sent(chat_id))
        self.api.push_callback_query(chat_id, data, message_id=message_id, user_id=user_id)
        answer = self._await(lambda: self.api.calls("answerCallbackQuery"), answers_before, 1)[0]
        if messages:
            self._await(lambda: self.api.sent(chat_id), sent_before, messages)
        time.sleep(0.2)  # an edit follows the answer to the press
        edits = [c.params.get("text", "") for c in self.api.calls("editMessageText")[edits_before:]]
        new = [c.params["text"] for c in self.api.sent(chat_id)[sent_before:]]
        return Pressed(str(answer.params.get("text") or ""), edits, new)

    def _latest_message_id(self, chat_id: int) -> int:
        with self.api._cond:  # the fake keeps (chat, message id) of what it delivered
            ids = [mid for (chat, mid) in self.api._messages if chat == str(chat_id)]
        return max(ids)

    @staticmethod
    def _await(calls: Any, before: int, count: int, timeout: float = 10.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(found := calls()) < before + count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} new call(s), got {len(found) - before}")
            time.sleep(0.01)
        return list(found[before:])


@contextmanager
def running_bot(app: App, api: FakeBotApi, now: datetime = NOW, webhook: Webhook | None = None,
                limiter: RateLimiter | None = None) -> Iterator[Talk]:
    bot = ChatBot(TOKEN, Router(app, USERNAME), lambda: now, base_url=api.base_url, commands=menu(),
                  poll_timeout=timedelta(seconds=1), webhook=webhook, limiter=limiter)
    loop = asyncio.new_event_loop()
    started, failed = threading.Event(), []
    stop = asyncio.Event()

    async def main() -> None:
        try:
            await bot.start()
        except BaseException as exc:
            failed.append(exc)
            started.set()
            raise
        started.set()
        await stop.wait()
        await bot.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(15)
    if failed:
        raise failed[0]
    try:
        yield Talk(api)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        loop.close()
