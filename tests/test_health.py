"""`reminder-service health`: each check's thresholds, the channel probes against the real fakes (aiosmtpd,
the local Bot API) and exit codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reminder_service.app import App
from reminder_service.services.db.models import DeliveryAttempt, OutboxMessage
from reminder_service.services.watch import LAST_IMPORT, set_state
from tests.conftest import Cli
from tests.district import HEAD, LEADER, RECEIVER, district, person
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.smtp import HOST, smtp_server

TOKEN = "123456:TEST-token-for-the-health-probe"
AT = "16/03/2021 09:05"
NOW = datetime(2021, 3, 16, 9, 5)
CHECKS = ["database", "last_tick", "outbox", "dead_letters", "intake", "channel_telegram", "channel_email"]


def _report(cli: Cli, *args: str, at: str = AT, options: tuple[str, ...] = ()) -> tuple[int, dict[str, Any]]:
    """``args`` go before the command (``--config``), ``options`` after it."""
    result = cli(*args, "health", "--format", "json", "--at", at, *options)
    assert "Traceback" not in result.out + result.err
    return result.code, json.loads(result.out)


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["name"] == name)
    return found


def _ticked(app: App, at: datetime = datetime(2021, 3, 16, 9, 0)) -> None:
    """What the daemon's reconcile writes at the end of each tick."""
    with app.session() as session:
        set_state(session, "last_tick", at.isoformat(), at)


def _outbox(app: App, state: str, due: datetime, *, lease_until: datetime | None = None,
            dead_at: datetime | None = None, error: str | None = None) -> None:
    with app.session() as session:
        row = OutboxMessage(dedupe_key=f"test:{state}:{due.isoformat()}:{error}", stage="notice", channel="email",
                            address="an@songlam.example", state=state, attempts=0, next_attempt_at=due,
                            lease_until=lease_until, last_error=error, created_at=due)
        session.add(row)
        session.flush()
        if dead_at is not None:
            session.add(DeliveryAttempt(outbox_id=row.id, attempt=8, at=dead_at, outcome="dead", error=error,
                                        worker="test"))


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def test_a_fresh_daemon_pass_is_healthy(db_cli: Cli, app: App) -> None:
    district(app, HEAD, RECEIVER, LEADER, person("Trần Thị Bích", "focal", "bich@songlam.example"))
    assert db_cli("run", "--once", "--at", "16/03/2021 09:00").code == 0
    table = db_cli("health", "--at", AT)
    assert table.code == 0, table.out
    assert "Kết luận: ĐẠT — mọi kiểm tra đều đạt." in table.out
    assert "Lúc 16/03/2021 09:00, cách đây 5 phút." in table.out
    code, report = _report(db_cli)
    assert code == 0
    assert report["status"] == "ok" and report["checked_at"] == "2021-03-16T09:05:00+07:00"
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert all(c["state"] == "ok" for c in report["checks"]), report
    assert set(report["checks"][0]) == {"name", "title", "state", "message", "details"}
    assert _check(report, "last_tick")["details"] == {"last_tick": "2021-03-16T09:00:00", "age_minutes": 5.0,
                                                      "max_minutes": 15.0}
    assert _check(report, "channel_email")["details"]["transport"] == "console"


def test_a_stale_tick_is_a_failure_and_the_threshold_is_an_option(db_cli: Cli, app: App) -> None:
    never = db_cli("health", "--at", AT)
    assert never.code == 1 and "Dịch vụ chưa chạy lượt xử lý nào" in never.out
    _ticked(app)
    stale = db_cli("health", "--at", "16/03/2021 09:20")
    assert stale.code == 1
    assert "cách đây 20 phút (quá 15 phút)" in stale.out and "Kết luận: CÓ LỖI — 1 lỗi" in stale.out
    assert db_cli("health", "--at", "16/03/2021 09:20", "--max-tick-age", "30").code == 0
    bad = db_cli("health", "--max-tick-age", "0")
    assert bad.code == 2 and "--max-tick-age" in bad.err and "từ 1 đến" in bad.err


@pytest.mark.parametrize(("waited", "words", "state", "code"),
                         [(5, "5 phút", "ok", 0), (20, "20 phút", "warning", 0), (90, "1 giờ 30 phút", "failure", 1)])
def test_outbox_backlog_thresholds(db_cli: Cli, app: App, waited: int, words: str, state: str, code: int) -> None:
    _ticked(app, NOW - timedelta(minutes=1))
    _outbox(app, "pending", NOW - timedelta(minutes=waited))
    _outbox(app, "pending", NOW + timedelta(minutes=30))  # a retry not due yet is no backlog
    result, report = _report(db_cli)
    backlog = _check(report, "outbox")
    assert (result, backlog["state"]) == (code, state), backlog
    assert backlog["details"]["due"] == 1 and backlog["details"]["oldest_wait_minutes"] == waited
    assert backlog["message"].startswith(f"1 tin đến hạn chưa gửi; tin chờ lâu nhất đã chờ {words}")


def test_a_sending_row_whose_lease_ran_out_is_reported(db_cli: Cli, app: App) -> None:
    _ticked(app, NOW)
    _outbox(app, "sending", NOW - timedelta(minutes=3), lease_until=NOW - timedelta(minutes=2))
    _outbox(app, "sending", NOW, lease_until=NOW + timedelta(minutes=2))  # a send under way
    code, report = _report(db_cli)
    backlog = _check(report, "outbox")
    assert code == 0 and backlog["state"] == "warning" and backlog["details"]["expired_leases"] == 1
    assert "1 tin đang gửi đã hết thời hạn giữ" in backlog["message"]


def test_dead_letters_of_the_last_seven_days_warn_with_the_latest_error(db_cli: Cli, app: App) -> None:
    _ticked(app, NOW)
    _outbox(app, "dead", datetime(2021, 2, 1, 9), dead_at=datetime(2021, 2, 1, 9), error="quá cũ")
    code, report = _report(db_cli)
    assert _check(report, "dead_letters")["state"] == "ok"
    _outbox(app, "dead", datetime(2021, 3, 12, 9), dead_at=datetime(2021, 3, 12, 9, 30),
            error="Telegram: BadRequest: chat not found")
    _outbox(app, "dead", datetime(2021, 3, 15, 9), dead_at=datetime(2021, 3, 15, 10, 0),
            error="máy chủ SMTP từ chối người nhận an@songlam.example (550 no such user)")
    code, report = _report(db_cli)
    dead = _check(report, "dead_letters")
    assert code == 0 and report["status"] == "warning" and dead["state"] == "warning"
    assert dead["details"]["count"] == 2 and dead["details"]["latest_at"] == "2021-03-15T10:00:00"
    assert "2 tin gửi thất bại trong 7 ngày qua; lỗi gần nhất lúc 15/03/2021 10:00: máy chủ SMTP" in dead["message"]
    assert "outbox retry --all-dead" in dead["message"]


def test_intake_folder_and_freshness(db_cli: Cli, app: App, tmp_path: Path) -> None:
    _ticked(app, NOW)
    config = _config(tmp_path, '[register]\nwatch_dir = "so-van-ban-den"\n')
    code, report = _report(db_cli, "--config", config)
    intake = _check(report, "intake")
    assert code == 1 and intake["state"] == "failure" and "không tồn tại" in intake["message"]
    (tmp_path / "so-van-ban-den").mkdir()
    code, report = _report(db_cli, "--config", config)
    assert code == 1 and _check(report, "intake")["state"] == "warning"
    assert "Chưa có lần nhập sổ văn bản đến nào thành công" in _check(report, "intake")["message"]
    with app.session() as session:  # Thursday 11/03; Friday, Monday and Tuesday have passed since
        set_state(session, LAST_IMPORT, datetime(2021, 3, 11, 16, 0).isoformat(), NOW)
    code, report = _report(db_cli, "--config", config)
    intake = _check(report, "intake")
    assert code == 1 and intake["state"] == "warning" and intake["details"]["working_days_since"] == 3
    assert "đã 3 ngày làm việc (quá 2 ngày)" in intake["message"]
    code, report = _report(db_cli, "--config", config, at="15/03/2021 09:05")
    assert _check(report, "intake")["state"] == "ok"
    # A configured installation (a config file) that has no real channel messages nobody: a failure.
    assert [c["name"] for c in report["checks"] if c["state"] == "failure"] == ["delivery"]
    assert "Chưa cấu hình kênh gửi thật" in _check(report, "delivery")["message"]


def test_a_database_that_cannot_be_opened_is_a_failure_line_not_a_traceback(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMINDER_SERVICE_DATABASE_URL", f"sqlite:///{tmp_path}")  # a directory
    result = cli("health")
    assert result.code == 1 and "Traceback" not in result.out + result.err
    assert re.search(r"Cơ sở dữ liệu +Lỗi +Không mở được cơ sở dữ liệu sqlite:///", result.out)
    monkeypatch.setenv("REMINDER_SERVICE_DATABASE_URL", "postgresql+psycopg://postgres:secret@127.0.0.1:1/none")
    code, report = _report(cli)
    assert code == 1 and report["status"] == "failure"
    assert [c["name"] for c in report["checks"]] == ["database", "intake", "channel_telegram", "channel_email"]
    assert "OperationalError" in report["checks"][0]["message"] and "secret" not in json.dumps(report)


def test_a_database_without_the_schema_says_to_run_init(cli: Cli) -> None:
    result = cli("health")
    assert result.code == 1 and "hãy chạy: reminder-service init" in result.out


def test_smtp_reachability_against_a_real_server_and_a_closed_port(db_cli: Cli, app: App, tmp_path: Path) -> None:
    _ticked(app, NOW)
    with smtp_server() as (recorder, port):
        config = _config(tmp_path, f'[email]\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\n')
        code, report = _report(db_cli, "--config", config)
        assert len(recorder.connections) == 1 and recorder.quits == 1 and not recorder.received
    email = _check(report, "channel_email")
    assert code == 0 and email["state"] == "ok", email
    assert email["message"] == f"Máy chủ SMTP {HOST}:{port} trả lời (không mã hóa, EHLO 250)."
    closed = _free_port()
    config = _config(tmp_path, f'[email]\nhost = "{HOST}"\nport = {closed}\nsecurity = "none"\n')
    result = db_cli("--config", config, "health", "--at", AT, "--timeout", "2")
    assert result.code == 1 and f"Không kết nối được máy chủ SMTP {HOST}:{closed}" in result.out


def test_smtp_with_a_username_but_no_password_is_a_failure(
    db_cli: Cli, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REMINDER_SERVICE_SMTP_PASSWORD", raising=False)
    _ticked(app, NOW)
    with smtp_server() as (_, port):
        config = _config(tmp_path, f'[email]\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\nusername = "noivu"\n')
        code, report = _report(db_cli, "--config", config)
    assert code == 1 and "REMINDER_SERVICE_SMTP_PASSWORD" in _check(report, "channel_email")["message"]


def test_telegram_reachability_with_the_right_and_a_wrong_token(
    db_cli: Cli, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ticked(app, NOW)
    with FakeBotApi(token=TOKEN) as bot:
        config = _config(tmp_path, f'[telegram]\nenabled = true\nbase_url = "{bot.base_url}"\n')
        monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
        code, report = _report(db_cli, "--config", config)
        telegram = _check(report, "channel_telegram")
        assert code == 0 and telegram["state"] == "ok"
        assert telegram["message"] == f"Bot @cchc_test_bot trả lời (getMe) qua {bot.base_url}."
        assert [c.method for c in bot.calls()] == ["getMe"]
        wrong = "123456:WRONG-token-that-telegram-refuses"
        monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", wrong)
        result = db_cli("--config", config, "health", "--at", AT)
        assert result.code == 1 and "Telegram" in result.out and "từ chối mã bot" in result.out
        assert wrong not in result.out + result.err and TOKEN not in result.out + result.err
        monkeypatch.delenv("REMINDER_SERVICE_TELEGRAM_TOKEN")
        code, report = _report(db_cli, "--config", config)
        assert code == 1 and "chưa có mã bot" in _check(report, "channel_telegram")["message"]
    monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
    code, report = _report(db_cli, "--config", config, options=("--timeout", "2"))  # the server is gone
    telegram = _check(report, "channel_telegram")
    assert code == 1 and "Không gọi được Telegram" in telegram["message"] and TOKEN not in json.dumps(report)


def test_a_ladder_stage_naming_a_role_nobody_holds_is_a_warning(db_cli: Cli, app: App) -> None:
    district(app, HEAD, RECEIVER)  # no leadership person, no focal officer
    _ticked(app)
    code, report = _report(db_cli)
    roles = _check(report, "roles")
    assert code == 0 and roles["state"] == "warning"
    assert "lãnh đạo (leadership) ở bước escalated" in roles["message"]
    assert "công chức đầu mối (focal) ở bước notice, reminder, due_today" in roles["message"]
    assert "escalated:leadership" in roles["details"]["unheld"]
