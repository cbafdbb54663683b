"""``reminder-service run``: the daemon (reminders, digest, register folder), or one pass with --once.

Instances (leader.claim): on PostgreSQL any number of daemons, one of them leading; ``--once`` takes no
lock there, since every decision is unique in the database. On SQLite one process per database file,
``--once`` included: a pass beside a running daemon would race the daemon's own tick on a database
that serialises writers and has no row locks for the outbox, so it is refused with the same message
(exit 2) rather than left to fail on "database is locked" halfway through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from calendars.words import weekday_dmy
from calendars.workdays import WorkCalendar
from reminder_service import logs
from reminder_service.adapters.cli.base import DayType, ViCommand, db_app_of, parse_received
from reminder_service.app import App
from reminder_service.channels import build_notifiers, channel_words, chat_bot
from reminder_service.daemon import Daemon
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError
from reminder_service.domain.escalation.decide import next_send_time
from reminder_service.domain.escalation.policy import Policy
from reminder_service.leader import Elector, claim
from reminder_service.services.db.urls import secrets
from reminder_service.services.outbox.dispatch import DispatchReport
from reminder_service.services.reconcile import TickReport

if TYPE_CHECKING:  # uvicorn and Starlette load only when the console is served
    from reminder_service.webserver import WebServer


def _next_window(now: datetime, policy: Policy, workdays: WorkCalendar) -> str:
    opens = next_send_time(now, policy, workdays)
    if opens == clock.wall(now):
        return "đang trong giờ gửi"
    return f"giờ gửi tiếp theo: {opens:%H:%M} {weekday_dmy(opens.date())}"


@click.command(cls=ViCommand)
@click.option("--once", is_flag=True, help="Chạy một lượt (đồng bộ nghĩa vụ, nhập sổ, quyết định, gửi) rồi thoát.")
@click.option("--at", "at", metavar="NGÀY GIỜ",
              help='Với --once: chạy như thể lúc này, ví dụ "16/03/2021 09:00" (để thử và trình diễn).')
@click.option("--as-of", "as_of", type=DayType(),
              help="Chạy liên tục như thể hôm nay là ngày này (để tập huấn, trình diễn): đồng hồ bắt đầu từ ngày "
                   "này, giờ hiện tại, rồi chạy tiếp. Dịch vụ và bot chat trả lời theo ngày đó.")
@click.pass_context
def run(ctx: click.Context, once: bool, at: str | None, as_of: date | None) -> None:
    """Chạy dịch vụ: nhắc hạn, báo quá hạn, báo cáo tổng hợp hằng ngày và hằng tuần.

    Với PostgreSQL có thể chạy nhiều phiên trên cùng một cơ sở dữ liệu: một phiên chính quyết định nhắc
    hạn và trả lời bot chat, mọi phiên cùng gửi tin. Với SQLite, mỗi tệp cơ sở dữ liệu chỉ cho phép một
    phiên chạy (kể cả --once).
    """
    if at is not None and not once:
        raise click.UsageError("--at chỉ dùng cùng --once; để chạy liên tục như thể hôm nay là một ngày khác, "
                               "dùng --as-of NGÀY", ctx)
    if as_of is not None and once:
        raise click.UsageError('--as-of dùng khi chạy liên tục; với --once hãy dùng --at "NGÀY GIỜ"', ctx)
    moment = parse_received(at, "--at").replace(tzinfo=None) if at else None
    app = db_app_of(ctx)
    logs.configure(also_hide=secrets(app.config.database_url))
    elector = claim(app.engine.url, once=once)  # a second instance on SQLite stops here, with exit 2
    try:
        _serve(app, elector, once, moment, as_of)
    finally:
        elector.release()  # the daemon has released it already as it stopped; a second time is harmless


def _console(app: App, now: Callable[[], datetime]) -> WebServer | None:
    """The web console when the configuration wants it; a port already taken is said, and the reminders
    run on without it (they matter more than the page)."""
    if not app.config.web.enabled:
        return None
    from reminder_service.webserver import WebServer, bind

    try:
        sock = bind(app.config.web)
    except UserError as error:
        click.echo(f"Cảnh báo: {error}", err=True)
        return None
    return WebServer(app, now, sock)


def _serve(app: App, elector: Elector, once: bool, moment: datetime | None, as_of: date | None) -> None:
    notifiers = build_notifiers(app.config)
    now = clock.shifted(as_of) if as_of is not None else (lambda: moment) if moment is not None else clock.now

    web = None if once else _console(app, now)
    daemon = Daemon(app, notifiers, clock=now, elector=elector, web=web,
                    bot=None if once else (lambda limiter: chat_bot(app, now, limiter, notifiers)))
    if once:
        async def one_pass() -> tuple[TickReport, DispatchReport]:
            try:
                return await daemon.once()
            finally:
                for notifier in notifiers.values():
                    await notifier.close()

        tick, sent = asyncio.run(one_pass())
        click.echo(f"Một lượt xong: {tick.decided} bậc nhắc mới; {tick.messages + tick.summaries} tin nhắn mới "
                   f"({tick.messages} tin nhắc, {tick.summaries} tin tổng hợp); đã gửi {sent.sent}, "
                   f"thử lại sau {sent.retried}, thất bại {sent.dead}.")
        return
    if as_of is not None:
        click.echo(f"CHẾ ĐỘ MÔ PHỎNG: dịch vụ và bot chat chạy như thể hôm nay là {weekday_dmy(as_of)}; đồng hồ "
                   "bắt đầu từ giờ hiện tại của ngày đó rồi chạy tiếp. Tin nhắn vẫn được gửi qua các kênh đã cấu "
                   "hình: chỉ dùng để tập huấn, trình diễn.")
    click.echo(f"Dịch vụ đang chạy ({channel_words(app.config)}); "
               f"{_next_window(now(), daemon.policy, app.workdays)}. Nhấn Ctrl+C để dừng.")
    if web is not None:
        click.echo(f"Bảng điều khiển web: {app.config.web.public_url} (liên kết đăng nhập: "
                   "reminder-service web link <số, thư điện tử hoặc họ tên>)")
    asyncio.run(daemon.run())
    click.echo("Đã dừng dịch vụ.")
