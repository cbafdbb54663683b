"""sd_notify against a real unix datagram socket, as systemd binds it, and the daemon speaking it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reminder_service import systemd
from tests.conftest import ROOT


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    # AF_UNIX paths are limited to 108 bytes, and pytest's tmp_path can be long.
    path = tmp_path / "notify"
    if len(str(path)) > 100:
        pytest.skip("temporary directory path too long for a unix socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


def _received(sock: socket.socket) -> str:
    return sock.recv(4096).decode("utf-8")


def test_nothing_is_sent_without_notify_socket() -> None:
    assert systemd.ready(environ={}) is False
    assert systemd.watchdog(environ={"WATCHDOG_USEC": "1000000"}) is False
    assert systemd.watchdog_interval({"WATCHDOG_USEC": "1000000"}) is None


def test_ready_status_watchdog_and_stopping_reach_the_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    env = {"NOTIFY_SOCKET": path}
    assert systemd.ready(env)
    assert _received(sock) == "READY=1"
    assert systemd.status("Phiên chính (leader):\nquyết định nhắc hạn", env)
    assert _received(sock) == "STATUS=Phiên chính (leader): quyết định nhắc hạn"  # one field, whatever the text
    assert systemd.watchdog(env)
    assert _received(sock) == "WATCHDOG=1"
    assert systemd.stopping(env)
    assert _received(sock) == "STOPPING=1"


def test_abstract_namespace_socket() -> None:
    name = f"reminder-service-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert systemd.ready({"NOTIFY_SOCKET": "@" + name})
        assert _received(sock) == "READY=1"


def test_an_unreachable_socket_is_logged_not_raised(tmp_path: Path) -> None:
    with capture_logs() as logged:
        assert systemd.ready({"NOTIFY_SOCKET": str(tmp_path / "missing")}) is False
        assert systemd.ready({"NOTIFY_SOCKET": "vsock:2:1234"}) is False
    assert [entry["event"] for entry in logged] == ["sd_notify_failed", "sd_notify_unsupported_socket"]


@pytest.mark.parametrize(("env", "expected"), [
    ({"WATCHDOG_USEC": "60000000"}, 30.0),
    ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
    ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),  # meant for another process
    ({"WATCHDOG_USEC": "soon"}, None),
    ({"WATCHDOG_USEC": "0"}, None),
    ({}, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec(env: dict[str, str], expected: float | None) -> None:
    assert systemd.watchdog_interval({"NOTIFY_SOCKET": "/run/systemd/notify", **env}) == expected


def test_the_daemon_reports_ready_its_role_watchdog_and_stopping(
    listener: tuple[socket.socket, str], tmp_path: Path, sqlite_template: Path
) -> None:
    """As systemd would run it (Type=notify, WatchdogSec=0.4 s): READY once the scheduler runs, STATUS
    with the role, WATCHDOG=1 every 0.2 s, STOPPING=1 on SIGTERM."""
    sock, path = listener
    database = tmp_path / "daemon.sqlite3"
    database.write_bytes(sqlite_template.read_bytes())
    env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": f"sqlite:///{database}", "NOTIFY_SOCKET": path,
           "WATCHDOG_USEC": "400000"}
    env.pop("REMINDER_SERVICE_CONFIG", None)
    process = subprocess.Popen([sys.executable, "-m", "reminder_service", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
                "READY=1" in messages and messages.count("WATCHDOG=1") >= 3
                and any(m.startswith("STATUS=Phiên chính (leader)") for m in messages)):
            messages.append(_received(sock))
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        sock.settimeout(0.5)
        while True:
            try:
                messages.append(_received(sock))
            except TimeoutError:
                break
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "READY=1" in messages and messages.count("WATCHDOG=1") >= 3, messages
    assert any(m.startswith("STATUS=Phiên chính (leader)") for m in messages), messages
    assert "STOPPING=1" in messages, messages
    assert "Traceback" not in err
