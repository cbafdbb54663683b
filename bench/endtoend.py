"""End to end: `reminder-service run --once` started as a shell would start it, 1,000 e-mails due, and
an SMTP server in a process of its own noting when the first and the 1,000th message arrive.

Everything a real pass pays is inside the figure: interpreter start-up and imports, the obligations
sync and the tick, the dispatcher, the SMTP sessions, and the server's side of each transaction.
``python -m bench.endtoend`` runs it alone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert

from bench.province import Row
from reminder_service.app import App
from reminder_service.config import CalendarSettings, Config
from reminder_service.services.db.models import OutboxMessage, table_of

EMAILS = 1_000
AT = datetime(2021, 3, 8, 9, 0)
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def _counting_server(port: int, count: int) -> subprocess.Popen[str]:
    """aiosmtpd in its own process; prints the wall time of the first and the ``count``-th message."""
    code = f"""
import asyncio, sys, time
from aiosmtpd.controller import Controller
seen = []
class Counter:
    async def handle_DATA(self, server, session, envelope):
        seen.append(time.time())
        if len(seen) == {count}:
            print(seen[0], seen[-1], flush=True)
        return "250 OK"
controller = Controller(Counter(), hostname="{HOST}", port={port})
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""
    server = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    if server.stdout.readline().strip() != "ready":
        raise RuntimeError("the SMTP server did not start")
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'endtoend.sqlite3'}"
    app = App.from_config(Config(path=None, calendar=CalendarSettings(), database_url=url))
    app.upgrade_schema()
    outbox = table_of(OutboxMessage)
    with app.session() as session:
        session.execute(insert(outbox), [
            {"dedupe_key": f"bench:{n}:email", "stage": "notice", "channel": "email",
             "address": f"don.vi.{n}@bench.example", "subject": f"Thông báo hạn nộp báo cáo CCHC Quý I/2021 ({n})",
             "body_text": "Kính gửi: Chủ tịch UBND xã\n" * 20, "body_html": "<p>Kính gửi: Chủ tịch UBND xã</p>" * 20,
             "state": "pending", "attempts": 0, "next_attempt_at": AT, "created_at": AT}
            for n in range(EMAILS)])
    app.close()
    return url


def run_once_to_smtp(rows: list[Row]) -> None:
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        url = _database(Path(folder))
        config = Path(folder) / "config.toml"
        config.write_text(f'[email]\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\n'
                          'from_address = "noivu@bench.example"\n', encoding="utf-8")
        env = {**os.environ, "REMINDER_SERVICE_CONFIG": str(config), "REMINDER_SERVICE_DATABASE_URL": url}
        env.pop("REMINDER_SERVICE_TELEGRAM_TOKEN", None)
        server = _counting_server(port, EMAILS)
        try:
            started = time.time()
            done = subprocess.run([sys.executable, "-m", "reminder_service", "run", "--once", "--at",
                                   AT.strftime("%d/%m/%Y %H:%M")], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"run --once failed: {done.stderr[-2000:]}")
            assert server.stdout is not None
            first, last = (float(x) for x in server.stdout.readline().split())
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=10)
    rows.append(("run --once start → first e-mail at an SMTP server in its own process (SQLite)",
                 f"{first - started:.2f} s", "< 0.8 s"))
    rows.append((f"run --once start → {EMAILS:,}th e-mail at that server (SQLite)",
                 f"{EMAILS / (last - started):.0f} msg/s", "≥ 300 msg/s"))


def run(rows: list[Row]) -> None:
    run_once_to_smtp(rows)


if __name__ == "__main__":
    measured: list[Row] = []
    run(measured)
    for name, value, target in measured:
        print(f"{name:<90}  {value:>12}  {target}")
