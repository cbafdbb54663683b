"""The daemon at provincial scale: reconcile ticks, a year's simulation, e-mail and Telegram dispatch.

10,000 units, each with a unit head and a focal officer reachable by e-mail and Telegram, the 2021
obligations and the demo's mix of on-time, late and missing submissions, on SQLite and PostgreSQL.
Delivery goes through the real notifiers to the test suite's local servers (aiosmtpd, the fake Bot
API with Telegram's flood limits enforced), so the figures include the network round trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import structlog
from sqlalchemy import insert, select

from bench import bot, province
from bench.province import QueryCounter, Row
from reminder_service import logs
from reminder_service.adapters.cli.simulate_cmd import _db_submissions, _obligations
from reminder_service.adapters.email.notifier import EmailNotifier
from reminder_service.adapters.telegram.notifier import TelegramNotifier
from reminder_service.app import App
from reminder_service.config import CalendarSettings, Config, EmailSettings
from reminder_service.domain.escalation.policy import Policy
from reminder_service.services.db.models import Obligation, OutboxMessage, Person, Submission, Unit, table_of
from reminder_service.services.demo import outcome, received_on
from reminder_service.services.outbox import text as outbox_text
from reminder_service.services.outbox.dispatch import Dispatcher, DispatchReport
from reminder_service.services.reconcile import TickReport, load_recipients, tick
from reminder_service.services.reminders import TemplateRenderer
from reminder_service.services.simulate import simulate
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.smtp import HOST, smtp_server

UNITS = province.UNITS
SMALL = 100
YEAR = province.YEAR
STAMP = datetime(2021, 1, 4, 9, 0)
# The ledger catches up at the first tick of the day; the measured tick comes an hour later, as the
# daemon's five-minute ticks do all day long with nothing new to decide.
CATCH_UP = datetime(2021, 3, 2, 8, 0)
ORDINARY = datetime(2021, 3, 2, 9, 0)
# The working days between, ticked as a running daemon would, so the notice day starts from a ledger
# that is up to date rather than from a backlog.
BETWEEN = (datetime(2021, 3, 3, 8, 0), datetime(2021, 3, 4, 8, 0), datetime(2021, 3, 5, 8, 0))
# Q1 2021: nominal deadline Sat 13/03, so the notice (5 working days before) falls on Mon 08/03.
NOTICE = datetime(2021, 3, 8, 9, 0)
EMAILS = 2_000
BATCH = 100  # the dispatcher's default batch size; drain() is bounded in whole batches
CHATS = 200
PER_CHAT = 3
# Before the first tick above: a dispatcher whose clock starts here finds only the rows written for it.
DISPATCH_FROM = datetime(2021, 3, 1, 9, 0)
EARLY = DISPATCH_FROM - timedelta(minutes=1)
BOT_TOKEN = "123456789:AAF-bench-token-never-logged_0123456789"
# Shown after the table: what the Bot API server objected to, if anything.
NOTES: list[str] = []


def build_people(app: App, first: int, count: int) -> None:
    with app.session() as session:
        units = session.execute(select(Unit.id, Unit.code).where(
            Unit.code >= f"U{first:05d}", Unit.code < f"U{first + count:05d}")).all()
        rows = []
        for unit_id, code in units:
            i = int(code[1:])
            rows.append({"name": f"Trần Văn Thủ {i}", "role": "unit_head", "unit_id": unit_id,
                         "email": f"head.{code.lower()}@bench.example", "telegram_chat_id": str(10_000_000 + 2 * i),
                         "channels": "telegram,email", "active": True, "source": "import"})
            rows.append({"name": f"Lê Thị Đầu Mối {i}", "role": "focal", "unit_id": unit_id,
                         "email": f"focal.{code.lower()}@bench.example", "telegram_chat_id": str(10_000_001 + 2 * i),
                         "channels": "telegram,email", "active": True, "source": "import"})
        if first == 0:  # the district's own staff, by e-mail only, as in the demo
            rows.append({"name": "Nguyễn Thị Thanh", "role": "receiver", "unit_id": None,
                         "email": "noivu@bench.example", "telegram_chat_id": None, "channels": "email",
                         "active": True, "source": "manual"})
            rows.append({"name": "Lê Văn Quyết", "role": "leadership", "unit_id": None,
                         "email": "chutich@bench.example", "telegram_chat_id": None, "channels": "email",
                         "active": True, "source": "manual"})
        session.execute(insert(Person), rows)


def build_submissions(app: App, first: int, count: int) -> None:
    """province.build_submissions for a range of units only, so the small province can grow into the big one."""
    with app.session() as session:
        owed = session.execute(
            select(Obligation.id, Obligation.code, Obligation.effective_deadline, Unit.code).join(Unit)
            .where(Obligation.year == YEAR, Unit.code >= f"U{first:05d}", Unit.code < f"U{first + count:05d}")
        ).all()
        rows = []
        for obligation_id, code, effective, unit_code in owed:
            if effective is None:
                continue
            day = received_on(effective, outcome(unit_code, code, YEAR), app.workdays)
            if day is not None and day < province.AS_OF:
                rows.append({"obligation_id": obligation_id, "received_at": datetime.combine(day, clock_time(9)),
                             "state": "accepted", "channel": "cli", "actor": "bench", "created_at": STAMP})
        session.execute(insert(Submission), rows)


def grow(app: App, first: int, count: int) -> None:
    province.build_units(app, first, count)
    build_people(app, first, count)
    province.sync(app)
    build_submissions(app, first, count)


def tick_at(app: App, moment: datetime) -> TickReport:
    """What the daemon's reconcile job does, without the digest and weekly summary around it."""
    renderer = TemplateRenderer(app.calendar, app.config.office_name, app.workdays, moment.date())
    with app.session() as session:
        return tick(session, policy=Policy(), workdays=app.workdays,
                    due_soon=app.config.status.due_soon_working_days, now=moment, renderer=renderer.for_decisions)


def counted(counter: QueryCounter, action: Callable[[], object]) -> int:
    before = counter.count
    action()
    return counter.count - before


def ticks(label: str, app: App, counter: QueryCounter, rows: list[Row]) -> None:
    grow(app, 0, SMALL)
    tick_at(app, CATCH_UP)
    small = counted(counter, lambda: tick_at(app, ORDINARY))
    grow(app, SMALL, UNITS - SMALL)
    tick_at(app, CATCH_UP)
    big = counted(counter, lambda: tick_at(app, ORDINARY))
    # Nothing is decided on these ticks, so each one finds the same work: the best is the least disturbed.
    reports: list[TickReport] = []
    seconds = min(province.timed(lambda: reports.append(tick_at(app, ORDINARY))) for _ in range(3))
    rows.append((f"reconcile tick, ordinary day, {UNITS:,} units ({label})", f"{seconds:.2f} s", "< 1 s"))
    rows.append((f"  statements: {SMALL} units / {UNITS:,} units ({label})", f"{small} / {big}", "equal"))
    if any(r.decided for r in reports):
        rows.append((f"  rungs decided on the ordinary tick ({label})", str(reports[-1].decided), "0"))
    for moment in BETWEEN:
        tick_at(app, moment)
    before = counter.count
    seconds = province.timed(lambda: reports.append(tick_at(app, NOTICE)))
    statements, notice = counter.count - before, reports[-1]
    rows.append((f"reconcile tick, Q1 notice day, {UNITS:,} units ({label})", f"{seconds:.2f} s", "< 3 s"))
    rows.append((f"  rungs / messages written / statements ({label})",
                 f"{notice.decided:,} / {notice.messages:,} / {statements}", "—"))


def year_simulation(label: str, app: App, rows: list[Row]) -> None:
    """What `simulate --year 2021` does, with the command's own loaders, short of printing the table."""
    started = time.perf_counter()
    with app.session() as session:
        obligations = _obligations(session, YEAR)
        submissions = _db_submissions(session, YEAR)
        by_unit, everyone = load_recipients(session)
    loaded = time.perf_counter()
    messages = simulate(obligations, submissions, by_unit, everyone, policy=Policy(), workdays=app.workdays,
                        start=date(YEAR, 1, 1), end=date(YEAR, 12, 31),
                        due_soon=app.config.status.due_soon_working_days)
    finished = time.perf_counter()
    sent = sum(1 for m in messages if not m.skipped)
    rows.append((f"simulate {YEAR}, {UNITS:,} units ({label})", f"{finished - started:.1f} s", "< 60 s"))
    rows.append((f"  of which loading from the database ({label})", f"{loaded - started:.1f} s", "—"))
    rows.append((f"  messages simulated (sent / skipped) ({label})", f"{sent:,} / {len(messages) - sent:,}", "—"))


def wall_clock(start: datetime) -> Callable[[], datetime]:
    """Vietnamese wall time that starts at ``start`` and runs at the real pace (leases, limiter budgets)."""
    origin = time.perf_counter()
    return lambda: start + timedelta(seconds=time.perf_counter() - origin)


def email_dispatch(app: App, port: int) -> tuple[DispatchReport, float]:
    """The oldest pending e-mails (the notice day's and the days' before), through the real notifier."""
    notifier = EmailNotifier(EmailSettings(host=HOST, port=port, security="none",
                                           from_address="noivu@bench.example"), None)
    dispatcher = Dispatcher(app, {"email": notifier}, wall_clock(NOTICE + timedelta(minutes=1)))

    async def deliver() -> DispatchReport:
        try:
            return await dispatcher.drain(max_batches=EMAILS // BATCH)
        finally:
            await notifier.close()

    started = time.perf_counter()
    report = asyncio.run(deliver())
    return report, time.perf_counter() - started


@contextlib.contextmanager
def sink_server() -> Iterator[int]:
    """aiosmtpd in a process of its own, discarding what it receives: a local relay's share of the
    work leaves this process, so the figure is the dispatcher's own."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{port}",
                               "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the aiosmtpd process did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def email_to_servers(label: str, app: App, rows: list[Row], *, compare: bool) -> None:
    """To a local SMTP server in its own process (the figure that counts: a relay's work is not the
    dispatcher's) and, with ``compare``, to the test suite's aiosmtpd, which runs in a thread of this
    process, parses every message and shares the interpreter with the dispatcher."""
    with sink_server() as port:
        report, seconds = email_dispatch(app, port)
    rows.append((f"e-mail dispatch, {report.claimed:,} messages, SMTP server in its own process ({label})",
                 f"{report.sent / seconds:.0f} msg/s", "≥ 200 msg/s"))
    if report.sent != report.claimed:
        rows.append((f"  claimed / sent ({label})", f"{report.claimed} / {report.sent}", "equal"))
    if not compare:
        return
    with smtp_server() as (mailbox, port):
        report, seconds = email_dispatch(app, port)
        received = len(mailbox.received)
    rows.append((f"  same, aiosmtpd in this process ({label})", f"{report.sent / seconds:.0f} msg/s", "—"))
    if report.sent != report.claimed or received != report.sent:
        rows.append((f"  claimed / sent / received by the server ({label})",
                     f"{report.claimed} / {report.sent} / {received}", "equal"))


def telegram_rows(app: App, tag: str) -> int:
    """PER_CHAT messages for each of CHATS unit heads, in a shuffled order, with a real notice's text.

    The notice day gives each chat one message, which never tests the per-chat limit; several
    messages per chat (a unit late on one report and reminded of another) do, and their order in the
    outbox decides how often a batch must wait for a chat's next turn, hence the shuffle.
    """
    with app.session() as session:
        heads = session.execute(select(Person.id, Person.telegram_chat_id).where(Person.role == "unit_head")
                                .order_by(Person.id).limit(CHATS)).all()
        notice = outbox_text.text_of(session.execute(
            select(*outbox_text.COLUMNS).select_from(outbox_text.joined())
            .where(OutboxMessage.channel == "telegram", OutboxMessage.stage == "notice")
            .order_by(OutboxMessage.id).limit(1)).one())
        wanted = [(person_id, chat) for person_id, chat in heads for _ in range(PER_CHAT)]
        random.Random(2021).shuffle(wanted)
        session.execute(insert(table_of(OutboxMessage)), [
            {"dedupe_key": f"bench-telegram-{tag}-{n}", "obligation_id": None, "stage": "notice",
             "person_id": person_id,
             "channel": "telegram", "address": chat, "subject": notice.subject, "body_text": notice.text,
             "body_html": notice.html,
             "state": "pending", "attempts": 0, "next_attempt_at": EARLY + timedelta(microseconds=n),
             "created_at": EARLY}
            for n, (person_id, chat) in enumerate(wanted)])
    return len(wanted)


def telegram_send(app: App, base_url: str, tag: str) -> tuple[int, DispatchReport, float]:
    count = telegram_rows(app, tag)
    notifier = TelegramNotifier(BOT_TOKEN, base_url)
    dispatcher = Dispatcher(app, {"telegram": notifier}, wall_clock(DISPATCH_FROM))

    async def deliver() -> DispatchReport:
        try:
            # Room for the batches that retry what a 429 sent back, if it falls due meanwhile.
            return await dispatcher.drain(max_batches=count // BATCH + 5)
        finally:
            await notifier.close()

    started = time.perf_counter()
    report = asyncio.run(deliver())
    return count, report, time.perf_counter() - started


@contextlib.contextmanager
def bot_api_process() -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
    """The fake Bot API in a process of its own, as Telegram is on another machine; yields its base
    URL and a function that stops it and returns what it saw (sends and flood-limit violations)."""
    server = subprocess.Popen([sys.executable, "-m", "tests.fakes.bot_api", BOT_TOKEN], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdin is not None and server.stdout is not None
    seen: dict[str, Any] = {}

    def finish() -> dict[str, Any]:
        if not seen:
            out, _ = server.communicate(timeout=30)
            seen.update(json.loads(out.strip().splitlines()[-1]))
        return seen

    try:
        yield server.stdout.readline().strip(), finish
    finally:
        if server.poll() is None and not seen:
            server.kill()
        server.wait(timeout=10)


def telegram_rows_out(label: str, where: str, count: int, report: DispatchReport, seconds: float,
                      sends: list[tuple[object, int]], violations: list[str], rows: list[Row]) -> None:
    chats = len({chat for chat, _ in sends})
    floods = sum(1 for _, status in sends if status == 429)
    rows.append((f"Telegram dispatch, {count} messages to {chats} chats, {where} ({label})",
                 f"{report.sent / seconds:.1f} msg/s", "≥ 27 msg/s"))
    rows.append((f"  429 answers / flood-limit violations ({label})", f"{floods} / {len(violations)}", "0 / 0"))
    if report.sent != count:
        rows.append((f"  delivered in this drain / written ({label})", f"{report.sent} / {count}", "—"))
    NOTES.extend(f"{label}: {violation}" for violation in violations[:5])


def telegram_dispatch(label: str, app: App, rows: list[Row], *, compare: bool) -> None:
    """Against the fake Bot API in its own process (the figure that counts: the server's work is not
    the dispatcher's) and, with ``compare``, in a thread of this process, as in the tests."""
    with bot_api_process() as (base_url, finish):
        count, report, seconds = telegram_send(app, base_url, "process")
        seen = finish()
    sends = [(chat, int(status)) for chat, status in seen["sends"]]
    telegram_rows_out(label, "Bot API in its own process", count, report, seconds, sends,
                      [str(v) for v in seen["violations"]], rows)
    if not compare:
        return
    with FakeBotApi(token=BOT_TOKEN, enforce_limits=True) as bot:
        count, report, seconds = telegram_send(app, bot.base_url, "thread")
        calls = bot.calls("sendMessage")
        violations = bot.violations
    telegram_rows_out(label, "Bot API in this process", count, report, seconds,
                      [(c.chat_id, c.status) for c in calls], violations, rows)


@contextlib.contextmanager
def quiet_service_logs() -> Iterator[None]:
    """The daemon's JSON log lines, rendered as in production (their cost is part of every send),
    but written to /dev/null rather than across the table; the loggers look sys.stderr up per call."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stderr(sink):
        logs.configure(json=True, level=logging.INFO)
        try:
            yield
        finally:
            structlog.reset_defaults()
            # The later benchmarks upgrade schemas too: Alembic's lines must not land above the table.
            root.handlers[:] = handlers
            root.setLevel(level)


def measure(label: str, url: str, rows: list[Row], *, compare: bool) -> None:
    app = App.from_config(Config(path=None, calendar=CalendarSettings(), database_url=url))
    app.upgrade_schema()
    counter = QueryCounter(app.engine)
    try:
        ticks(label, app, counter, rows)
        bot.answers(label, app, rows)
        year_simulation(label, app, rows)
        email_to_servers(label, app, rows, compare=compare)
        telegram_dispatch(label, app, rows, compare=compare)
    finally:
        app.close()


def run(rows: list[Row]) -> None:
    NOTES.clear()
    with quiet_service_logs(), province.databases() as engines:
        for n, (label, url) in enumerate(engines):
            # The comparison with servers inside this process is the same on either database: once is enough.
            measure(label, url, rows, compare=n == 0)
    for note in NOTES:
        print(f"flood-limit violation, {note}", file=sys.stderr)
