"""The web console at provincial scale (10,000 units, 2021), served by uvicorn on a local port and asked
over real HTTP: the board's first page, a filtered overdue list, the timeliness workbook."""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import threading
import time
from datetime import datetime

import httpx
from sqlalchemy import select

from bench import province
from bench.daemon import build_people, quiet_service_logs
from bench.province import Row
from reminder_service.app import App
from reminder_service.config import CalendarSettings, Config, WebSettings
from reminder_service.services import signin
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Person
from reminder_service.services.present.timeliness_xlsx import timeliness_xlsx
from reminder_service.services.readside import Filters, load_rows, timeliness
from reminder_service.webserver import WebServer

NOW = datetime(2021, 12, 31, 10, 0)
REPEAT = 40


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _signed_in(app: App, url: str) -> httpx.Client:
    with app.session() as session:
        person = session.scalars(select(Person).where(Person.role == "receiver")).first()
        assert person is not None
        link = signin.issue_link(session, person, NOW, via="cli", actor=Actor("bench", "cli")).url(url)
    client = httpx.Client(base_url=url, timeout=60)
    page = client.get(link)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    client.post(link, data={"csrf": token.group(1)})
    return client


def _samples(client: httpx.Client, path: str, repeat: int = REPEAT) -> tuple[float, list[float], int]:
    """The first request's time (the rows read from the database), then ``repeat`` more; bytes of a page."""
    started = time.perf_counter()
    first = client.get(path)
    cold = time.perf_counter() - started
    assert first.status_code == 200, (path, first.status_code)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        samples.append(time.perf_counter() - started)
    return cold, samples, len(first.content)


def measure(label: str, url: str, rows: list[Row]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = f"http://127.0.0.1:{port}"
    app = App.from_config(Config(path=None, calendar=CalendarSettings(), database_url=url,
                                 web=WebSettings(port=port, public_url=public)))
    app.upgrade_schema()
    province.build_units(app, 0, province.UNITS)
    province.sync(app)
    province.build_submissions(app)
    build_people(app, 0, province.UNITS)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    server = WebServer(app, lambda: NOW, sock)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        client = _signed_in(app, public)
        cold, samples, size = _samples(client, "/?nam=2021")
        rows.append((f"console board, first page of 200 units × 2021, p95 ({label})",
                     f"{_p95(samples) * 1000:.0f} ms", "< 150 ms"))
        rows.append((f"  first view after a change (rows read again) / page size ({label})",
                     f"{cold:.2f} s / {size // 1024} KB", "—"))
        cold, samples, _ = _samples(client, "/qua-han?loai=commune&ten=Th%E1%BB%AD%20Nghi%E1%BB%87m%2012")
        rows.append((f"console overdue list, filtered by name, p95 ({label})", f"{_p95(samples) * 1000:.0f} ms",
                     "< 150 ms"))
        cold, samples, _ = _samples(client, "/qua-han", repeat=10)
        rows.append((f"  unfiltered, first page of 100 of all overdue, p95 ({label})",
                     f"{_p95(samples) * 1000:.0f} ms", "—"))
        client.close()

        def workbook() -> bytes:
            with app.session() as session:
                table = timeliness(load_rows(session, Filters(as_of=NOW.date(), year=2021), app.workdays, 5),
                                   NOW.date())
            return timeliness_xlsx(table, 2021, NOW.date())

        seconds = min(province.timed(workbook) for _ in range(2))
        rows.append((f"timeliness XLSX, 10,000 units, in process ({label})", f"{seconds:.2f} s", "< 3 s"))
    finally:
        server.stop()
        thread.join(timeout=30)
        app.close()


def run(rows: list[Row]) -> None:
    with quiet_service_logs(), province.databases() as engines:
        for label, url in engines:
            measure(label, url, rows)
