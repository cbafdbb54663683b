"""The database URL's password is never printed: not by a typo in the URL, not by a driver's error, not
in the journal (``db upgrade`` is the unit's ExecStartPre, so whatever it prints is kept there)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import structlog

from tests.conftest import ROOT, Cli

PASSWORD = "Kin9Cobra"
# Pieces of the password that a misreading parser could move into the host or the database name.
PIECES = ("Kin9", "Cobra", "Co:bra", "Co/bra")


def _leaks(text: str) -> list[str]:
    return [piece for piece in PIECES if piece in text]


@pytest.mark.parametrize(("written", "expected"), [
    ("postgresql+psycopg://cchc:Kin9Cobra@127.0.0.1:5432/cchc", "postgresql+psycopg://cchc:***@127.0.0.1:5432/cchc"),
    # An unencoded "@" in the password: the last "@" is the host's.
    ("postgresql+psycopg://cchc:Kin9@Cobra@db.huyen.vn/cchc", "postgresql+psycopg://cchc:***@db.huyen.vn/cchc"),
    ("postgresql+psycopg://cchc:Kin9/Co:bra@127.0.0.1/cchc", "postgresql+psycopg://cchc:***@127.0.0.1/cchc"),
    ("postgresql+psycopg:cchc:Kin9Cobra@127.0.0.1/cchc", "postgresql+psycopg:cchc:***@127.0.0.1/cchc"),
    ("postgresql+psycopg ://cchc:Kin9Cobra@127.0.0.1/cchc", "postgresql+psycopg ://cchc:***@127.0.0.1/cchc"),
    ("postgresql+psycopg:///cchc:Kin9Cobra@127.0.0.1/cchc", "postgresql+psycopg:///cchc:***@127.0.0.1/cchc"),
    ("cchc:Kin9Cobra@127.0.0.1/cchc", "cchc:***@127.0.0.1/cchc"),  # no scheme at all
    # The host forgotten: the password stands where the port should; what follows may be part of it.
    ("postgresql+psycopg://cchc:Kin9Cobra/cchc", "postgresql+psycopg://cchc:***"),
    ("postgresql+psycopg://cchc@127.0.0.1/cchc?sslmode=require&password=Kin9@Cobra",
     "postgresql+psycopg://cchc@127.0.0.1/cchc?sslmode=require&password=***"),
    ("postgresql+psycopg://cchc:Kin9Cobra@[::1]:5432/cchc", "postgresql+psycopg://cchc:***@[::1]:5432/cchc"),
    # Nothing to hide: shown as written, so the user recognises the URL.
    ("postgresql+psycopg://cchc@127.0.0.1:54x32/cchc", "postgresql+psycopg://cchc@127.0.0.1:54x32/cchc"),
    ("postgresql+psycopg:///cchc?host=/var/run/postgresql", "postgresql+psycopg:///cchc?host=/var/run/postgresql"),
    ("postgresql+psycopg://[::1]/cchc", "postgresql+psycopg://[::1]/cchc"),
    ("postgresql+psycopg://[::1]:5432/cchc", "postgresql+psycopg://[::1]:5432/cchc"),
    ("sqlite:////var/lib/reminder-service/a@b.sqlite3", "sqlite:////var/lib/reminder-service/a@b.sqlite3"),
    ("sqlite:///file:var/cchc.sqlite3?mode=rwc&uri=true", "sqlite:///file:var/cchc.sqlite3?mode=rwc&uri=true"),
])
def test_a_url_is_shown_without_its_password_whatever_its_shape(written: str, expected: str) -> None:
    from reminder_service.services.db.urls import shown

    assert shown(written) == expected


# (URL, what the message says): each either unparseable, or parsed by SQLAlchemy with part of the
# password as the host or the database name, or naming a driver that does not exist.
MALFORMED = [
    pytest.param("postgresql+psycopg3://cchc:Kin9Cobra@127.0.0.1:5432/cchc",
                 'không có trình điều khiển cơ sở dữ liệu "postgresql+psycopg3"', id="unknown-driver"),
    pytest.param("postgresql+psycopg://cchc:Kin9Cobra@127.0.0.1:54x32/cchc",
                 '"postgresql+psycopg://cchc:***@127.0.0.1:54x32/cchc" không hợp lệ', id="bad-port"),
    pytest.param("postgresql+psycopg://cchc:Kin9@Cobra@127.0.0.1:5432/cchc",
                 "hãy viết @ thành %40", id="unencoded-at-in-password"),
    pytest.param("postgresql+psycopg:cchc:Kin9Cobra@127.0.0.1/cchc",
                 '"postgresql+psycopg:cchc:***@127.0.0.1/cchc" không hợp lệ', id="missing-slashes"),
    pytest.param("postgresql+psycopg ://cchc:Kin9Cobra@127.0.0.1/cchc", "không hợp lệ", id="space-in-scheme"),
    pytest.param("postgresql+psycopg://cchc:Kin9Cobra/cchc",
                 '"postgresql+psycopg://cchc:***" không hợp lệ', id="host-forgotten"),
    pytest.param("postgresql+psycopg:///cchc:Kin9Cobra@127.0.0.1/cchc",
                 "có ký tự đặc biệt chưa được mã hóa", id="three-slashes"),
    pytest.param("postgresql+psycopg://cc/hc:Kin9Cobra@127.0.0.1/cchc",
                 "có ký tự đặc biệt chưa được mã hóa", id="slash-in-user-name"),
    pytest.param("postgresql+psycopg://cchc@127.0.0.1:1/cchc?password=Kin9Cobra",
                 "postgresql+psycopg://cchc@127.0.0.1:1/cchc?password=***", id="password-as-query-parameter"),
    pytest.param("postgresql+psycopg://cchc:Kin9Cobra@[::1/cchc", "không hợp lệ", id="unclosed-ipv6-bracket"),
    pytest.param("sqlite://cchc:Kin9Cobra@/var/cchc.sqlite3", "không dùng tên người dùng, mật khẩu hay máy chủ",
                 id="sqlite-with-a-password"),
]


@pytest.mark.parametrize(("url", "says"), MALFORMED)
def test_a_malformed_database_url_is_refused_without_printing_its_password(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("REMINDER_SERVICE_DATABASE_URL", url)
    # health reports for monitors (1: a check failed); the others exit 2, a mistake to fix.
    for args, code in ((["db", "upgrade"], 2), (["init"], 2), (["health"], 1), (["status"], 2)):
        result = cli(*args)
        said = result.out + result.err
        assert result.code == code, (args, said)
        assert not _leaks(said), (args, said)
        assert "Traceback" not in said
        if args != ["health"]:
            assert result.err.startswith("Lỗi: ") and says in result.err, (args, result.err)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_log_lines_hide_the_database_password_even_inside_an_error(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from reminder_service import logs
    from reminder_service.services.db.urls import secrets

    logs.configure(environ={"JOURNAL_STREAM": "8:1"}, also_hide=secrets("postgresql+psycopg://cchc:Kin9%40Cobra@db/cchc"))
    try:
        raise ConnectionError("server said: password Kin9@Cobra rejected")
    except ConnectionError as exc:
        structlog.get_logger("test").error("job_failed", job="reconcile", error=str(exc), exc_info=True)
    err = capsys.readouterr().err
    assert "job_failed" in err and "Kin9" not in err


def test_the_daemons_journal_never_shows_the_password(pg_url: str) -> None:
    """The daemon logs which database it leads; a password given as a query parameter stays hidden.
    (The test server trusts local connections, so the password is accepted and ignored.)"""
    url = f"{pg_url}?password={PASSWORD}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMINDER_SERVICE_")}
    env["REMINDER_SERVICE_DATABASE_URL"] = url
    daemon = subprocess.Popen([sys.executable, "-m", "reminder_service", "run"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert daemon.stderr is not None
        seen: list[str] = []
        for line in daemon.stderr:
            seen.append(line)
            if '"leadership_acquired"' in line:
                break
        daemon.send_signal(signal.SIGTERM)
        out, rest = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    journal = "".join(seen) + rest + out
    acquired = next(json.loads(line) for line in seen if '"leadership_acquired"' in line)
    assert acquired["database"].endswith("?password=***")
    assert not _leaks(journal), journal
