"""Outages of the channels over a working day: e-mail and Telegram down at the same time, several units
and chats, everything delivered once when they come back.

tests/test_daemon.py proves the short versions, one unit and one chat: a single pass with the SMTP server
down, then up (test_smtp_down_through_the_send_window_then_back_delivers_everything_once), and a single
429 honoured (test_telegram_429_is_honoured_then_delivered). Here the outage lasts: the SMTP server is
down from 08:00 and started only at 14:00; Telegram answers 502 to everything until 10:00, then 429 with
a 40-minute retry_after to two chats, and checks Telegram's flood limits on everything it receives.
`run --once --at …` passes follow the outbox through the day: the next one when the next message falls
due, at least 15 minutes later (the daemon looks every 10 s and would try more often, which only spends
each message's attempts sooner), so each message is tried many more times than its attempt budget.
"""

from __future__ import annotations

import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reminder_service.adapters.email.notifier import EmailNotifier
from reminder_service.app import App
from reminder_service.config import EmailSettings
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import DeliveryAttempt, OutboxMessage, Person, Unit
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.outbox import RetryPolicy
from tests.conftest import Cli
from tests.fakes.bot_api import Failure, FakeBotApi
from tests.fakes.smtp import HOST, Recorder, smtp_server

TOKEN = "123456:TEST-token-for-the-local-bot-api"
FROM_ADDRESS = "noivu@songlam.example"
SETUP = datetime(2021, 1, 4, 9, 0)
DAY = datetime(2021, 3, 16)  # Q1 2021 is overdue today for every commune that has not sent it
MORNING = DAY.replace(hour=8)
TELEGRAM_BACK = DAY.replace(hour=10)
SMTP_BACK = DAY.replace(hour=14)
END = DAY + timedelta(days=2)  # everything must have gone out by then
# Seconds: the retry_after Telegram asks of the flooded chats when it comes back; longer than STEP, so a pass
# comes while the wait still runs.
FLOOD = 2400
STEP = timedelta(minutes=15)  # passes are at least this far apart in service time
UNITS = [("XA_AN_BINH", "UBND xã An Bình"), ("XA_TAN_LAP", "UBND xã Tân Lập"),
         ("TT_PHU_LOC", "UBND thị trấn Phú Lộc"), ("XA_BINH_MINH", "UBND xã Bình Minh"),
         ("XA_HOA_BINH", "UBND xã Hòa Bình")]
FLOODED = (7101, 7103)  # two heads' chats
LIMIT = 240  # seconds the test may take (its passes run in this process, with no subprocess timeout to bound them)


@pytest.fixture(autouse=True)
def _bounded() -> Iterator[None]:
    def expire(_signal: int, _frame: object) -> None:
        raise TimeoutError(f"the outage test ran over {LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(LIMIT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _district(app: App) -> None:
    with app.session() as session:
        for n, (code, name) in enumerate(UNITS, start=1):
            unit = Unit(code=code, name=name, kind="commune", updated_at=SETUP)
            session.add(unit)
            session.flush()
            session.add_all([
                Person(name=f"Chủ tịch {n}", role="unit_head", email=f"chutich{n}@songlam.example",
                       telegram_chat_id=str(7100 + n), channels="telegram,email", unit_id=unit.id, source="import"),
                Person(name=f"Đầu mối {n}", role="focal", email=f"daumoi{n}@songlam.example",
                       telegram_chat_id=str(7200 + n), channels="telegram,email", unit_id=unit.id, source="import"),
            ])
        session.add_all([
            Person(name="Nguyễn Thị Thanh", role="receiver", email="noivu@songlam.example", channels="email",
                   source="manual"),
            Person(name="Lê Văn Quyết", role="leadership", email="chutich@songlam.example", channels="email",
                   source="manual"),
        ])
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), Actor("test", "cli"), SETUP)


def _rows(app: App) -> list[OutboxMessage]:
    with app.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _next_pass(app: App, after: datetime, checkpoints: list[datetime]) -> datetime | None:
    """The next pass: when the next message falls due, but not sooner than STEP after this one, or at the
    next checkpoint if that comes first; None when nothing is left to send."""
    with app.session() as session:
        due = session.scalar(select(func.min(OutboxMessage.next_attempt_at))
                             .where(OutboxMessage.state.in_(("pending", "sending"))))
    moments = [c for c in checkpoints if c > after]
    if due is not None:
        minute = due.replace(second=0, microsecond=0)  # `--at` counts minutes
        moments.append(max(minute if minute == due else minute + timedelta(minutes=1), after + STEP))
    return min(moments) if moments else None


def test_email_and_telegram_down_for_the_morning_everything_delivered_once(
    db_cli: Cli, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _district(app)
    monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
    smtp_port = _free_port()
    passes: list[tuple[datetime, int, int]] = []  # (--at, index of its first Bot API call, of the next pass's)
    started = time.monotonic()
    with FakeBotApi(token=TOKEN, enforce_limits=True) as bot, ExitStack() as smtp:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[email]\nhost = "{HOST}"\nport = {smtp_port}\nsecurity = "none"\nfrom_address = "{FROM_ADDRESS}"\n'
            f'[telegram]\nenabled = true\nbase_url = "{bot.base_url}"\n', encoding="utf-8")
        bot.fail_next(Failure.server_error(502), times=1_000_000)  # Telegram fails everything until 10:00
        mailbox: Recorder | None = None
        at: datetime | None = MORNING
        while at is not None:
            assert at < END, f"still undelivered at {at:%d/%m %H:%M}"
            if at >= TELEGRAM_BACK and passes[-1][0] < TELEGRAM_BACK:
                bot.clear_failures()
                for chat in FLOODED:
                    bot.fail_chat(chat, Failure.flood(FLOOD), times=1)
            if at >= SMTP_BACK and mailbox is None:
                mailbox, _ = smtp.enter_context(smtp_server(port=smtp_port))
            so_far = bot.calls("sendMessage")
            if so_far:  # the daemon's passes are 10 s apart, ours follow at once: keep to 1 s per chat
                time.sleep(max(0.0, so_far[-1].at + 1.05 - time.monotonic()))
            first = len(bot.calls())
            result = db_cli("--config", str(config), "run", "--once", "--at", at.strftime("%d/%m/%Y %H:%M"))
            assert result.code == 0, result.err
            passes.append((at, first, len(bot.calls())))
            at = _next_pass(app, at, [TELEGRAM_BACK, SMTP_BACK])
        calls = bot.calls()
        violations = bot.violations
        assert mailbox is not None
        received = list(mailbox.received)
    elapsed = time.monotonic() - started

    rows = _rows(app)
    email_rows = [row for row in rows if row.channel == "email"]
    telegram_rows = [row for row in rows if row.channel == "telegram"]
    with app.session() as session:
        attempts = Counter(session.scalars(select(DeliveryAttempt.outcome)))
    ids = Counter(m.message["Message-ID"] for m in received)
    sends = [(when, call) for when, first, end in passes for call in calls[first:end] if call.method == "sendMessage"]
    most = max(row.attempts for row in rows)
    print(f"\n[outage, {app.engine.dialect.name}] {len(UNITS)} units; {len(email_rows)} e-mails, "
          f"{len(telegram_rows)} Telegram messages to {len({r.address for r in telegram_rows})} chats; "
          f"{len(passes)} passes {passes[0][0]:%d/%m %H:%M} → {passes[-1][0]:%d/%m %H:%M}; "
          f"outbox {dict(Counter(row.state for row in rows))}; attempts {dict(attempts)}, "
          f"at most {most} on one message; e-mails received {len(received)}; sendMessage answers "
          f"{dict(Counter(call.status for _, call in sends))}; flood-limit violations {len(violations)}; "
          f"{elapsed:.1f} s")

    assert email_rows and telegram_rows
    assert {row.state for row in rows} == {"sent"}, Counter((row.channel, row.state) for row in rows)
    # The outage outlasted the attempt budget without killing anything.
    assert most > RetryPolicy().max_attempts
    # E-mail: every message once.
    assert len(received) == len(ids) == len(email_rows)
    message_id = EmailNotifier(EmailSettings(host=HOST, from_address=FROM_ADDRESS, security="none")).message_id
    assert set(ids) == {message_id(row.dedupe_key) for row in email_rows}
    # Telegram: each chat got its messages, each once.
    delivered = Counter(str(call.chat_id) for _, call in sends if call.status == 200)
    assert delivered == Counter(row.address for row in telegram_rows)
    assert violations == []
    # retry_after honoured: after a 429 nothing reaches that chat before the wait is over, neither later in
    # the same pass (real time) nor in a later pass (service time).
    floods = [(when, call) for when, call in sends if call.status == 429]
    assert {str(call.chat_id) for _, call in floods} == {str(chat) for chat in FLOODED}
    for when, flood in floods:
        later = [w for w, call in sends if call.chat_id == flood.chat_id and call.at > flood.at]
        assert later, "the flooded chat never got its messages"
        assert min(later) >= when + timedelta(seconds=FLOOD), (when, later)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
