"""The daemon end to end: real SMTP (aiosmtpd), the real Telegram client against the local Bot API,
SQLite and PostgreSQL. `run --once --at …` stands in for the scheduler's ticks at chosen moments."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reminder_service.app import App
from reminder_service.services.db.models import OutboxMessage
from tests.conftest import ROOT, Cli
from tests.district import HEAD, RECEIVER, district
from tests.fakes.bot_api import Failure, FakeBotApi
from tests.fakes.smtp import HOST, smtp_server

TOKEN = "123456:TEST-token-for-the-local-bot-api"
HEAD_CHAT = 7001


def _district(app: App, unit_name: str = "UBND xã An Bình") -> None:
    district(app, {**HEAD, "telegram_chat_id": str(HEAD_CHAT)}, RECEIVER, unit_name=unit_name)


def _config(tmp_path: Path, smtp_port: int, bot_url: str | None) -> Path:
    path = tmp_path / "config.toml"
    telegram = f'[telegram]\nenabled = true\nbase_url = "{bot_url}"\n' if bot_url else ""
    path.write_text(
        f'[email]\nhost = "{HOST}"\nport = {smtp_port}\nsecurity = "none"\nfrom_address = "noivu@songlam.example"\n'
        f"{telegram}", encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _count(app: App, state: str) -> int:
    with app.session() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == state))
                   or 0)


def test_overdue_day_delivers_by_email_and_telegram_exactly_once(
    db_cli: Cli, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _district(app)
    monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
    with smtp_server() as (mailbox, port), FakeBotApi(token=TOKEN) as bot:
        config = _config(tmp_path, port, bot.base_url)
        first = db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 09:00")
        assert first.code == 0, first.err
        again = db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 11:00")
        assert again.code == 0, again.err
    subjects = [m.message["Subject"] for m in mailbox.received]
    overdue = [s for s in subjects if "Quý I/2021" in s]
    assert len(overdue) == 2, subjects  # the head and, as a copy, the receiver
    assert sorted(r for m in mailbox.received if "Quý I/2021" in m.message["Subject"] for r in m.rcpt_tos) == [
        "an@songlam.example", "noivu@songlam.example"]
    telegram = [c.params["text"] for c in bot.sent(chat_id=HEAD_CHAT)]
    assert sum("Quý I/2021" in text for text in telegram) == 1
    assert "0 tin nhắn mới" in again.out  # the second pass found everything already decided
    assert _count(app, "pending") == 0


def test_smtp_down_through_the_send_window_then_back_delivers_everything_once(
    db_cli: Cli, app: App, tmp_path: Path
) -> None:
    _district(app)
    port = _free_port()
    config = _config(tmp_path, port, None)
    down = db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 09:00")
    assert down.code == 0, down.err
    assert "thất bại 0" in down.out
    with app.session() as session:
        waiting = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == "email", OutboxMessage.state == "pending"))
    assert waiting is not None and waiting >= 3
    with smtp_server(port=port) as (mailbox, _):
        back = db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 15:00")
        assert back.code == 0, back.err
        later = db_cli("--config", str(config), "run", "--once", "--at", "17/03/2021 09:00")
        assert later.code == 0
    keys = [m.message["Message-ID"] for m in mailbox.received]
    assert len(keys) == len(set(keys)) >= 3
    assert _count(app, "pending") == 0 and _count(app, "dead") == 0


def test_telegram_429_is_honoured_then_delivered(
    db_cli: Cli, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _district(app)
    monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
    with smtp_server() as (_, port), FakeBotApi(token=TOKEN) as bot:
        bot.fail_chat(HEAD_CHAT, Failure.flood(30), times=1)
        config = _config(tmp_path, port, bot.base_url)
        db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 09:00")
        assert not bot.sent(chat_id=HEAD_CHAT)
        with app.session() as session:
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "telegram",
                                                              OutboxMessage.state == "pending")).first()
            assert row is not None and row.next_attempt_at >= datetime(2021, 3, 16, 9, 0, 29)

        db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 09:05")
        assert len(bot.sent(chat_id=HEAD_CHAT)) >= 1


def test_a_dangerous_unit_name_is_escaped_everywhere(
    db_cli: Cli, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _district(app, unit_name="<b>Xã A&B</b>\nThôn 2")
    monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
    with smtp_server() as (mailbox, port), FakeBotApi(token=TOKEN) as bot:
        config = _config(tmp_path, port, bot.base_url)
        assert db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 09:00").code == 0
    message = next(m.message for m in mailbox.received if "Quý I/2021" in m.message["Subject"])
    assert "\n" not in message["Subject"] and "<b>Xã A&B</b> Thôn 2" in message["Subject"]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<b>Xã" not in html and "&lt;b&gt;Xã A&amp;B&lt;/b&gt;" in html
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<b>Xã A&B</b>" in text
    sent = next(c.params["text"] for c in bot.sent(chat_id=HEAD_CHAT) if "Quý I/2021" in c.params["text"])
    assert "<b>Xã" not in sent and "&lt;b&gt;Xã A&amp;B&lt;/b&gt;" in sent


def test_sigterm_stops_the_daemon_cleanly(tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "daemon.sqlite3"
    database.write_bytes(sqlite_template.read_bytes())
    env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": f"sqlite:///{database}"}
    env.pop("REMINDER_SERVICE_CONFIG", None)
    process = subprocess.Popen([sys.executable, "-m", "reminder_service", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "Dịch vụ đang chạy" in banner
        # Channels in words, never class names.
        assert "e-mail: in ra màn hình" in banner and "Telegram: chưa bật" in banner and "FanOut" not in banner
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Đã dừng dịch vụ." in out
    assert "daemon_stopped" in err and "Traceback" not in err
    # The year's obligations are synced before the first tick decides anything.
    assert "obligations_synced" in err and "reconcile_tick" in err
    assert err.index("obligations_synced") < err.index("reconcile_tick")


@dataclass
class BotSession:
    """What a `reminder-service run` process printed and answered while a receiver asked /quahan."""

    head: list[str]  # the first lines of its standard output
    answers: list[str]
    returncode: int
    out: str
    err: str


def _ask_the_running_bot(app: App, tmp_path: Path, *run_options: str, head_lines: int = 1) -> BotSession:
    """Start `run` with Telegram enabled against the fake Bot API, let the receiver send /quahan from
    the phone, then stop the process with SIGTERM."""
    receiver_chat = 7002
    district(app, {**HEAD, "telegram_chat_id": str(HEAD_CHAT)}, {**RECEIVER, "telegram_chat_id": str(receiver_chat)})
    with FakeBotApi(token=TOKEN) as bot:
        config = _config(tmp_path, _free_port(), bot.base_url)
        env = {**os.environ, "REMINDER_SERVICE_CONFIG": str(config), "REMINDER_SERVICE_TELEGRAM_TOKEN": TOKEN,
               "REMINDER_SERVICE_DATABASE_URL": app.config.database_url}
        process = subprocess.Popen([sys.executable, "-m", "reminder_service", "run", *run_options], cwd=ROOT,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            head = [process.stdout.readline() for _ in range(head_lines)]
            bot.wait_for_calls("getUpdates", timeout=30)
            bot.push_message(receiver_chat, "/quahan")
            deadline = time.monotonic() + 30
            while not bot.sent(chat_id=receiver_chat) and time.monotonic() < deadline:
                time.sleep(0.05)
            answers = [call.params["text"] for call in bot.sent(chat_id=receiver_chat)]
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    return BotSession(head, answers, process.returncode, out, err)


def test_the_running_daemon_answers_chat_commands_then_stops_cleanly(app: App, tmp_path: Path) -> None:
    """`reminder-service run` with Telegram enabled polls for commands: the receiver asks /quahan from
    the phone and gets the district's overdue list; SIGTERM stops the bot with the rest."""
    ran = _ask_the_running_bot(app, tmp_path)
    answers, out, err = ran.answers, ran.out, ran.err
    assert "Dịch vụ đang chạy" in ran.head[0]
    assert answers and "UBND xã An Bình" in answers[0]
    assert ran.returncode == 0, err
    assert "bot_stopped" in err and "daemon_stopped" in err and "Traceback" not in err
    assert TOKEN not in out + err


def test_run_as_of_a_date_answers_the_bot_as_of_that_day(app: App, tmp_path: Path) -> None:
    """Trainers run the service as of 18/03/2021: the clock starts there and the bot answers for that day."""
    ran = _ask_the_running_bot(app, tmp_path, "--as-of", "18/03/2021", head_lines=2)
    (banner, started), answers, err = ran.head, ran.answers, ran.err
    assert banner.startswith("CHẾ ĐỘ MÔ PHỎNG: dịch vụ và bot chat chạy như thể hôm nay là Thứ Năm, 18/03/2021")
    assert "Dịch vụ đang chạy" in started and "Telegram: gửi qua bot" in started
    assert answers and "Tính đến hết Thứ Năm, ngày 18/03/2021" in answers[0]
    assert ran.returncode == 0, err


def test_as_of_and_once_do_not_mix(db_cli: Cli) -> None:
    result = db_cli("run", "--once", "--as-of", "18/03/2021")
    assert result.code == 2 and "--at" in result.err


def test_a_shifted_clock_starts_on_the_day_at_the_time_of_day_and_runs_on() -> None:
    from datetime import UTC, date, datetime, timedelta

    from reminder_service.domain.clock import shifted, wall

    real = iter(datetime(2026, 12, 5, 2, 0, tzinfo=UTC) + timedelta(minutes=m) for m in (0, 0, 90))
    now = shifted(date(2021, 3, 18), real=lambda: next(real))
    assert wall(now()) == datetime(2021, 3, 18, 9, 0)  # 02:00 UTC is 09:00 in Vietnam
    assert wall(now()) == datetime(2021, 3, 18, 10, 30)


def test_a_failing_job_is_logged_with_its_traceback_and_runs_again(app: App) -> None:
    """A tick that fails (the database away for a moment) costs one run: the error and where it happened
    reach the log, and the scheduler runs the job again at its next time."""
    import asyncio

    from structlog.testing import capture_logs

    from reminder_service.daemon import Daemon, Intervals

    class FlakyDaemon(Daemon):
        ticks = 0

        def reconcile(self):  # type: ignore[no-untyped-def]
            FlakyDaemon.ticks += 1
            if FlakyDaemon.ticks == 1:
                raise RuntimeError("cơ sở dữ liệu tạm thời không trả lời")
            if FlakyDaemon.ticks >= 2:
                self.stop()
            return super().reconcile()

    daemon = FlakyDaemon(app, {}, clock=lambda: datetime(2021, 3, 16, 9, 0),
                         intervals=Intervals(tick_seconds=1, dispatch_seconds=3600, watch_seconds=3600))
    with capture_logs() as logged:
        asyncio.run(asyncio.wait_for(daemon.run(), 30))
    [failed] = [e for e in logged if e["event"] == "job_failed"]
    assert failed["job"] == "reconcile"
    assert failed["error"] == "RuntimeError: cơ sở dữ liệu tạm thời không trả lời"
    assert "in reconcile" in failed["traceback"] and "RuntimeError" in failed["traceback"]
    assert FlakyDaemon.ticks >= 2  # ran again a second later
