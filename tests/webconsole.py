"""The web console served for real: uvicorn on a free port of 127.0.0.1 in a thread, the demo district
in the test database, a clock the test sets, and an HTTP client that signs in the way a person does."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from reminder_service.app import App
from reminder_service.config import CalendarSettings, Config, TelegramSettings, WebSettings
from reminder_service.services import signin
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Person
from reminder_service.services.demo import load_demo
from reminder_service.webserver import WebServer

# A Monday in December 2026: the demo's year has on-time, late, overdue, incomplete and waived reports.
NOW = datetime(2026, 12, 7, 10, 0)
RECEIVER = "noivu@songlam.example"
LEADER = "chutich.huyen@songlam.example"
HEAD = "chutich.phuloc@songlam.example"  # head of TT_PHU_LOC
FOCAL = "cchc.phuloc@songlam.example"  # focal officer of TT_PHU_LOC
OWN_UNIT = "TT_PHU_LOC"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Served:
    app: App
    url: str
    clock: Clock
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        self.clients.append(client)
        return client

    def person_id(self, email: str) -> int:
        with self.app.session() as session:
            found = session.scalar(select(Person.id).where(Person.email == email))
        assert found is not None, email
        return found

    def link(self, email: str) -> str:
        with self.app.session() as session:
            person = session.scalars(select(Person).where(Person.email == email)).one()
            return signin.issue_link(session, person, self.clock(), via="cli", actor=Actor("test", "cli")).url(self.url)

    def signed_in(self, email: str) -> httpx.Client:
        client = self.client()
        spend(client, self.link(email))
        return client


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


def spend(client: httpx.Client, link: str, **extra: str) -> httpx.Response:
    """Open a sign-in link and press its button, as a person does."""
    page = client.get(link)
    assert page.status_code == 200, page.text[:500]
    return client.post(link, data={"csrf": form_token(page.text), **extra})


def page_token(client: httpx.Client, path: str = "/") -> str:
    """The form token of the signed-in session, read off a page."""
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return form_token(response.text)


@contextmanager
def served(db_url: str, *, public_url: str | None = None, demo: bool = True,
           telegram: TelegramSettings | None = None, watch_dir: Path | None = None) -> Iterator[Served]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    config = Config(path=None, calendar=CalendarSettings(), database_url=db_url,
                    web=WebSettings(port=port, public_url=public_url or url), telegram=telegram or TelegramSettings(),
                    watch_dir=watch_dir)
    app = App.from_config(config)
    clock = Clock()
    if demo:
        load_demo(app, Actor("test", "cli"), NOW)
    server = WebServer(app, clock, sock)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    result = Served(app, url, clock)
    try:
        _wait_until_up(url)
        yield result
    finally:
        for client in result.clients:
            client.close()
        server.stop()
        thread.join(timeout=10)
        app.engine.dispose()


def _wait_until_up(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(f"{url}/static/console.css", timeout=1)
            return
        except httpx.TransportError:
            threading.Event().wait(0.02)
    raise AssertionError(f"the console did not start at {url}")


def cells(html: str) -> dict[tuple[str, str], str]:
    """Every board cell's (unit, report) → status code, read off its data attributes."""
    found = re.findall(r'<td class="[^"]*" data-unit="([^"]+)" data-obligation="([^"]+)" data-status="([^"]+)"', html)
    return {(unit, code): status for unit, code, status in found}

