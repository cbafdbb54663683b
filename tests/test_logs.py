"""Logs under systemd: JSON lines on stderr, and the bot token and SMTP password never in any of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from reminder_service import logs
from reminder_service.domain.redaction import REDACTED

TOKEN = "7312345678:AAHfakeTokenForTheRedactionTest_0123456"
# Quotes and a backslash: a repr would escape them, JSON of a nested value would not.
PASSWORD = "smtp-Pa55word-'never\\logged\""
JOURNAL = {"JOURNAL_STREAM": "8:123456"}  # what systemd sets for a service's stdout/stderr


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


class _Leaky(Exception):
    """An error whose repr, not only its message, carries a secret."""


def _fail(token: str, password: str) -> None:
    try:
        raise ConnectionError(f"login as noivu with {password} refused")
    except ConnectionError as exc:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/sendMessage failed") from exc


def _lines(err: str) -> list[dict[str, object]]:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [str(value)]


def test_json_lines_under_systemd(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(environ=JOURNAL)
    log = structlog.get_logger("test")
    log.info("outbox.sent", outbox_id=65, key="digest:2021-03-16:53:email", channel="email", text="Đã gửi")
    (line,) = _lines(capsys.readouterr().err)
    assert line["event"] == "outbox.sent"
    assert line["outbox_id"] == 65 and line["level"] == "info" and line["text"] == "Đã gửi"
    assert str(line["timestamp"]).endswith("Z")


def test_key_value_in_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(json=False, environ={})
    structlog.get_logger("test").info("obligations_synced", year=2021, created=3)
    err = capsys.readouterr().err
    assert "obligations_synced" in err and "year=2021" in err and "created=3" in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err)


def test_secrets_never_logged_even_in_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    env = {**JOURNAL, "REMINDER_SERVICE_TELEGRAM_TOKEN": TOKEN, "REMINDER_SERVICE_SMTP_PASSWORD": PASSWORD}
    logs.configure(environ=env)
    log = structlog.get_logger("test")
    try:
        _fail(TOKEN, PASSWORD)
    except RuntimeError as exc:
        # The same secrets in the exception's message, its cause's, the traceback, and in values of
        # every shape a call site might pass: a string, an exception object, a nested structure.
        log.exception("outbox.dispatch_error", outbox_id=7, error=f"{exc}", cause=exc.__cause__,
                      request={"url": f"https://api.telegram.org/bot{TOKEN}/getMe", "auth": [PASSWORD]})
    log.error("job_failed", job="dispatch", error=_Leaky(TOKEN))
    err = capsys.readouterr().err
    first, second = _lines(err)
    # The raw output, and every value as a JSON reader gets it back (JSON escapes quotes and backslashes).
    for text in (err, *_strings(first), *_strings(second)):
        assert TOKEN not in text and PASSWORD not in text
        # Not even a recognisable piece of them, escaped or not (the redactor replaces whole occurrences).
        assert "AAHfakeToken" not in text and "Pa55word" not in text
    assert first["event"] == "outbox.dispatch_error" and first["outbox_id"] == 7
    traceback = str(first["exception"])
    assert "Traceback" in traceback and "RuntimeError" in traceback and "ConnectionError" in traceback
    assert f"bot{REDACTED}/sendMessage" in traceback and f"with {REDACTED} refused" in traceback
    assert second["event"] == "job_failed" and REDACTED in str(second["error"])


def test_secrets_from_files_are_redacted_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The systemd unit passes them as credentials: REMINDER_SERVICE_*_FILE=%d/…"""
    folder = tmp_path
    (folder / "telegram-token").write_text(TOKEN + "\n", encoding="utf-8")
    (folder / "smtp-password").write_text(PASSWORD, encoding="utf-8")
    env = {**JOURNAL, "REMINDER_SERVICE_TELEGRAM_TOKEN_FILE": str(folder / "telegram-token"),
           "REMINDER_SERVICE_SMTP_PASSWORD_FILE": str(folder / "smtp-password")}
    logs.configure(environ=env)
    structlog.get_logger("test").warning("outbox.notifier_error", error=f"{TOKEN} {PASSWORD}")
    err = capsys.readouterr().err
    assert TOKEN not in err and PASSWORD not in err and REDACTED in err


def test_a_secret_is_hidden_in_any_case_and_any_bot_token_by_its_shape(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(environ={**JOURNAL, "REMINDER_SERVICE_TELEGRAM_TOKEN": TOKEN,
                            "REMINDER_SERVICE_SMTP_PASSWORD": PASSWORD})
    other = "5550001112:AAGsomeOtherBotsTokenThatLeaked_xyz012"
    log = structlog.get_logger("test")
    log.warning("outbox.retry", error=f"Wrong url https://api.telegram.org/bot{TOKEN.lower()}/sendmessage")
    log.warning("outbox.retry", error=f"535 auth failed for {PASSWORD.upper()}", cause=f"bot{other}/getMe")
    err = capsys.readouterr().err
    for secret in (TOKEN, PASSWORD, other):
        assert secret.lower() not in err.lower()
    assert err.count(REDACTED) == 3


def test_library_log_records_become_redacted_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """python-telegram-bot and httpx log through the standard library, URLs with the token included."""
    import logging

    logs.configure(environ={**JOURNAL, "REMINDER_SERVICE_TELEGRAM_TOKEN": TOKEN})
    try:
        logging.getLogger("telegram.ext.Application").warning("POST https://api.telegram.org/bot%s/getMe failed",
                                                              TOKEN)
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
        try:
            _fail(TOKEN, PASSWORD)
        except RuntimeError:
            logging.getLogger("apscheduler.executors").exception("job raised")
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers if type(h).__name__ != "_StderrHandler"]
    err = capsys.readouterr().err
    lines = _lines(err)
    assert [line["logger"] for line in lines] == ["telegram.ext.Application", "apscheduler.executors"]  # httpx: quiet
    assert lines[0]["level"] == "warning" and "[đã ẩn]" in str(lines[0]["event"])
    assert "Traceback" in str(lines[1].get("exception", ""))
    assert TOKEN not in err


def test_a_terminal_shows_vietnam_time_whatever_the_servers_zone(capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import time

    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        logs.configure(json=False, environ={})
        structlog.get_logger("test").info("obligations_synced", year=2021)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    line = capsys.readouterr().err
    assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+07:00 ", line), line
