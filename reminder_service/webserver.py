"""Serving the web console: inside `run` (one process, one systemd unit) or alone (`reminder-service web`).

uvicorn serves the ASGI app on a socket bound here first, so a port already taken is a sentence for the
operator, not uvicorn's exit of the whole process; inside `run` the reminders go on without the console.
The daemon owns the signals: uvicorn's own handlers are left out and the server stops when told.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import math
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

import structlog
import uvicorn

from reminder_service.adapters.web.app import build
from reminder_service.adapters.web.context import Console
from reminder_service.app import App
from reminder_service.config import WebSettings
from reminder_service.domain.errors import UserError, os_reason
from reminder_service.health import Check, evaluate, gather
from reminder_service.services.registry.people import office_name

log = structlog.get_logger(__name__)


def console_for(app: App, clock: Callable[[], datetime],
                send_links: Callable[[], Awaitable[object]] | None = None) -> Console:
    kinds: dict[str, str] = {}
    for directive in app.directive_versions():
        kinds.update(directive.unit_kinds)
    with app.session() as session:
        office = office_name(session, app.config.office_name)
    return Console(workspace=app, clock=clock, public_url=app.config.web.public_url, office_name=office,
                   due_soon_working_days=app.config.status.due_soon_working_days,
                   policy=app.config.escalation, kinds=kinds, bot_username=app.config.telegram.bot_username,
                   telegram_enabled=app.config.telegram.enabled, settle=settle, health=health_of(app),
                   watch_dir=app.config.watch_dir, send_links=send_links)


# «Vận hành» waits for the channel probes at most this long (the command line's default is 5 s): a page, not
# a monitoring job, and a mail server that does not answer in 3 s is already worth the failure it reports.
PROBE_SECONDS = 3.0
PROBES_KEPT_SECONDS = 60.0


def health_of(app: App) -> Callable[[datetime, bool], list[Check]]:
    """The checks of `reminder-service health` (same facts, same thresholds) at a moment; blocking.

    Probing the mail server and Telegram takes up to PROBE_SECONDS each time, and «Vận hành» is opened
    again after every «Gửi lại»: the probes are kept a minute unless the page asks for fresh ones."""
    from reminder_service.probes import probe_channels

    kept: tuple[Check, ...] = ()
    kept_at = -math.inf
    lock = threading.Lock()

    def probed(fresh: bool) -> tuple[Check, ...]:
        nonlocal kept, kept_at
        with lock:
            if not fresh and time.monotonic() - kept_at < PROBES_KEPT_SECONDS:
                return kept
        found = probe_channels(app.config, wait=PROBE_SECONDS)
        with lock:
            kept, kept_at = found, time.monotonic()
        return found

    def checks(now: datetime, fresh: bool) -> list[Check]:
        return evaluate(gather(app, now, channels=probed(fresh)), now, app.workdays)

    return checks


_settling = threading.Lock()


def settle() -> None:
    """Make what is alive now the collector's permanent generation, after collecting what is garbage.

    The console keeps a province's rows (100,000 objects) between changes; every full collection walked
    them all, a 100 ms stall on one page in twenty. Frozen, they are skipped. Unfreezing first gives
    the collector back whatever a previous freeze caught that has since become cyclic garbage, so
    nothing is kept for ever; the collection costs about 0.1 s once per read of the rows, which itself
    takes a second. The daemon froze its start-up objects the same way (Daemon.run)."""
    with _settling:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def bind(settings: WebSettings) -> socket.socket:
    """The listening socket, or a UserError that says what to change."""
    family = socket.AF_INET6 if ":" in settings.listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.listen, settings.port))
    except OSError as exc:
        sock.close()
        where = f"{settings.listen}:{settings.port}"
        if exc.errno == errno.EADDRINUSE:
            reason = ("cổng này đang được một chương trình khác (hoặc một phiên reminder-service khác) dùng; hãy "
                      "đổi [web].port trong tệp cấu hình hoặc dừng chương trình kia")
        elif exc.errno == errno.EACCES:
            reason = "không có quyền mở cổng này (cổng dưới 1024 cần quyền quản trị); hãy dùng cổng từ 1024 trở lên"
        elif exc.errno == errno.EADDRNOTAVAIL:
            reason = "máy chủ không có địa chỉ này; hãy sửa [web].listen, thường là 127.0.0.1"
        else:
            reason = f"{os_reason(exc)}; hãy kiểm tra [web].listen và [web].port"
        raise UserError(f"không mở được Bảng điều khiển web tại {where}: {reason}. Nếu không cần bảng điều khiển, "
                        "tắt nó bằng [web] enabled = false.") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon (or `web`) handles SIGTERM and SIGINT and calls stop(); uvicorn must not replace them.
        yield


class WebServer:
    def __init__(self, app: App, clock: Callable[[], datetime], sock: socket.socket,
                 send_links: Callable[[], Awaitable[object]] | None = None) -> None:
        self.sock = sock
        config = uvicorn.Config(build(console_for(app, clock, send_links)), log_level="warning", access_log=False,
                                lifespan="off", server_header=False, proxy_headers=True,
                                forwarded_allow_ips="127.0.0.1")
        self.server = _Server(config)

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"

    async def serve(self) -> None:
        log.info("web_started", address=self.address)
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            self.sock.close()
            log.info("web_stopped")

    def stop(self) -> None:
        self.server.should_exit = True


async def serve_until(server: WebServer, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set (the daemon's stop, or a signal for `web` alone)."""
    task = asyncio.ensure_future(server.serve())
    await stop.wait()
    server.stop()
    await task
