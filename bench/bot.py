"""The chat bot at provincial scale: how long the router takes to answer a command (handler time: the
database reads, the rendering and the paging, not Telegram's round trip), at 10,000 units."""

from __future__ import annotations

import gc
import statistics
import time
from datetime import datetime

from sqlalchemy import text, update

from bench.province import Row
from reminder_service.adapters.telegram.replies import ChatRef
from reminder_service.adapters.telegram.router import Router
from reminder_service.app import App
from reminder_service.services.db.models import Person

# Three working days after Q1's effective deadline (Mon 15/03/2021): the plan and Q1 overdue lists are long.
AT = datetime(2021, 3, 18, 9, 0)
RECEIVER_CHAT = "900001"
HEAD_CHAT = str(10_000_000 + 2 * 123)  # the head of U00123, as bench.daemon.build_people numbers chats
REPEAT = 30


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def analyze(app: App) -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) keeps them in a running office's database:
    the province was bulk-loaded a moment ago, and stale statistics triple the read side's queries."""
    with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def answers(label: str, app: App, rows: list[Row]) -> None:
    analyze(app)
    with app.session() as session:
        session.execute(update(Person).where(Person.role == "receiver").values(telegram_chat_id=RECEIVER_CHAT))
    router = Router(app, "bench_bot")
    # The daemon freezes what start-up loaded (reminder_service.daemon); here the province's build is
    # what would otherwise make every full collection slow, and a service process does not hold it.
    gc.collect()
    gc.freeze()
    receiver = ChatRef(RECEIVER_CHAT, "private", RECEIVER_CHAT)
    head = ChatRef(HEAD_CHAT, "private", HEAD_CHAT)
    for who, chat, command, target in (("receiver", receiver, "/quahan", "< 200 ms"),
                                       ("receiver", receiver, "/tinhhinh q1 2021", "—"),
                                       ("unit head", head, "/cuatoi", "—")):
        samples, replies = [], []
        for _ in range(REPEAT):
            started = time.perf_counter()
            replies = router.on_text(chat, command, AT)
            samples.append(time.perf_counter() - started)
        if not replies or "Traceback" in replies[0].text:
            raise RuntimeError(f"{command} gave no answer")
        rows.append((f"bot {command} p95, {who} ({label})", f"{_p95(samples) * 1000:.0f} ms", target))
    gc.unfreeze()
