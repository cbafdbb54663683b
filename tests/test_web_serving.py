"""`reminder-service run` serves the console in its own process and stops it with the daemon; a port
already taken is a warning in words and the reminders go on; `reminder-service web` serves it alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from reminder_service.app import App
from reminder_service.config import CalendarSettings, Config
from reminder_service.services.db.models import OutboxMessage
from tests.conftest import ROOT
from tests.district import RECEIVER, district
from tests.fakes.smtp import HOST, smtp_server
from tests.webconsole import form_token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(tmp_path: Path, sqlite_template: Path, port: int, *command: str, config_more: str = "",
           seed: Callable[[str], None] | None = None) -> subprocess.Popen[str]:
    database = tmp_path / "web.sqlite3"
    database.write_bytes(sqlite_template.read_bytes())
    if seed is not None:
        seed(f"sqlite:///{database}")
    config = tmp_path / "config.toml"
    config.write_text(f'[web]\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n{config_more}', encoding="utf-8")
    env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": f"sqlite:///{database}",
           "REMINDER_SERVICE_CONFIG": str(config)}
    return subprocess.Popen([sys.executable, "-m", "reminder_service", *command], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _get(url: str) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def test_run_serves_the_console_and_stops_it_with_the_daemon(tmp_path: Path, sqlite_template: Path) -> None:
    port = _free_port()
    process = _start(tmp_path, sqlite_template, port, "run")
    assert process.stdout is not None
    banner, console_line = process.stdout.readline(), process.stdout.readline()
    assert "Dịch vụ đang chạy" in banner
    assert console_line.startswith(f"Bảng điều khiển web: http://127.0.0.1:{port}")
    page = _get(f"http://127.0.0.1:{port}/dang-nhap")
    assert page.status_code == 200 and "Đăng nhập" in page.text
    out, err = _stop(process)
    assert process.returncode == 0, err
    assert "Đã dừng dịch vụ." in out and "Traceback" not in err
    assert "web_stopped" in err
    with socket.socket() as probe:  # the port is free again: the console stopped with the daemon
        probe.bind(("127.0.0.1", port))


def test_a_taken_port_is_a_warning_and_the_reminders_go_on(tmp_path: Path, sqlite_template: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        process = _start(tmp_path, sqlite_template, port, "run")
        assert process.stdout is not None
        assert "Dịch vụ đang chạy" in process.stdout.readline()
        time.sleep(1.0)  # the daemon's signal handlers are installed just after its banner
        out, err = _stop(process)
    assert process.returncode == 0, err
    assert f"Cảnh báo: không mở được Bảng điều khiển web tại 127.0.0.1:{port}" in err
    assert "đang được một chương trình khác" in err and "[web].port" in err and "Traceback" not in err
    assert "Bảng điều khiển web:" not in out


def test_web_alone_serves_the_console_and_a_taken_port_is_an_error(tmp_path: Path, sqlite_template: Path) -> None:
    port = _free_port()
    process = _start(tmp_path, sqlite_template, port, "web")
    assert process.stdout is not None
    assert f"http://127.0.0.1:{port}" in process.stdout.readline()
    assert _get(f"http://127.0.0.1:{port}/dang-nhap").status_code == 200
    out, err = _stop(process)
    assert process.returncode == 0 and "Đã dừng bảng điều khiển web." in out, err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        second = _start(tmp_path, sqlite_template, port, "web")
        out, err = second.communicate(timeout=30)
    assert second.returncode == 2 and "không mở được Bảng điều khiển web" in err and "Traceback" not in err


@contextmanager
def _workspace(url: str) -> Iterator[App]:
    app = App.from_config(Config(path=None, calendar=CalendarSettings(), database_url=url))
    try:
        yield app
    finally:
        app.engine.dispose()


def _receiver_and_a_waiting_reminder(url: str) -> None:
    with _workspace(url) as app:
        district(app, RECEIVER)
        with app.session() as session:
            session.add(OutboxMessage(dedupe_key="reminder-waiting", stage="notice", channel="email",
                                      address="an@songlam.example", subject="Nhắc", body_text="Nhắc",
                                      next_attempt_at=datetime(2021, 1, 1), created_at=datetime(2021, 1, 1)))


def _outbox(tmp_path: Path) -> dict[str, str]:
    with _workspace(f"sqlite:///{tmp_path / 'web.sqlite3'}") as app, app.session() as session:
        return {stage: state for stage, state in session.execute(select(OutboxMessage.stage, OutboxMessage.state))}


def test_web_alone_sends_the_sign_in_link_asked_for_and_no_reminder(tmp_path: Path, sqlite_template: Path) -> None:
    """With no daemon running, a link asked for on the sign-in page still arrives, within seconds; a
    reminder waiting in the outbox stays there for the daemon."""
    port = _free_port()
    with smtp_server() as (mailbox, smtp_port):
        process = _start(tmp_path, sqlite_template, port, "web", seed=_receiver_and_a_waiting_reminder,
                         config_more=f'[email]\nhost = "{HOST}"\nport = {smtp_port}\nsecurity = "none"\n'
                                     'from_address = "noivu@songlam.example"\n')
        try:
            page = _get(f"http://127.0.0.1:{port}/dang-nhap")
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies=page.cookies) as client:
                asked = client.post("/dang-nhap", data={"csrf": form_token(page.text), "who": "noivu@songlam.example"})
            assert asked.status_code == 200 and "liên kết đăng nhập đã" in asked.text
            deadline = time.monotonic() + 15
            while not mailbox.received and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            _, err = _stop(process)
    assert [m.rcpt_tos for m in mailbox.received] == [["noivu@songlam.example"]], err
    body = mailbox.received[0].message.get_body(("plain",))
    assert body is not None and f"http://127.0.0.1:{port}/dang-nhap/lien-ket/" in body.get_content()
    assert process.returncode == 0 and "Traceback" not in err
    assert _outbox(tmp_path) == {"signin": "sent", "notice": "pending"}
