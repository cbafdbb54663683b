"""``reminder-service web``: serve the console alone; ``web link|sessions|token``: sign-in links, the
sessions signed in, and personal API tokens for the province's systems."""

from __future__ import annotations

import asyncio
import json
import signal

import click
from sqlalchemy.orm import Session

from reminder_service import logs
from reminder_service.adapters.cli.base import (
    ChoiceType,
    CountType,
    ViGroup,
    cli_actor,
    db_app_of,
)
from reminder_service.adapters.cli.lookup import find_person
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError
from reminder_service.services import signin
from reminder_service.services.db.models import Person
from reminder_service.services.db.urls import secrets
from reminder_service.services.present.table import render


@click.group(cls=ViGroup, invoke_without_command=True)
@click.pass_context
def web(ctx: click.Context) -> None:
    """Bảng điều khiển web: chạy riêng (không kèm lệnh con), cấp liên kết đăng nhập, phiên, mã API.

    Thường không cần chạy riêng: reminder-service run đã phục vụ bảng điều khiển khi [web] enabled = true.
    """
    if ctx.invoked_subcommand is not None:
        return
    from reminder_service.channels import build_notifiers
    from reminder_service.services.outbox.dispatch import Dispatcher
    from reminder_service.webserver import WebServer, bind, serve_until

    app = db_app_of(ctx)
    logs.configure(also_hide=secrets(app.config.database_url))
    # No daemon runs here to dispatch the outbox: the sign-in links people ask for are sent by this
    # process, and only they (the reminders wait for the daemon, which may run elsewhere or not yet).
    notifiers = build_notifiers(app.config)
    links = Dispatcher(app, notifiers, clock.now, stages={signin.SIGNIN_STAGE})
    server = WebServer(app, clock.now, bind(app.config.web), send_links=links.drain)
    click.echo(f"Bảng điều khiển web đang chạy tại {app.config.web.public_url}. Nhấn Ctrl+C để dừng.")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await serve_until(server, stop)
        finally:
            links.request_stop()
            for notifier in notifiers.values():
                await notifier.close()

    asyncio.run(main())
    click.echo("Đã dừng bảng điều khiển web.")


def _signable(session: Session, key: str, ctx: click.Context) -> Person:
    person = find_person(session, key, ctx)
    if not signin.may_sign_in(person):
        raise UserError(f"{person.name} (số {person.id}) đã ngừng hoặc không có vai trò được đăng nhập; "
                        "không cấp liên kết, mã cho người này.")
    return person


@web.command()
@click.argument("person_key", metavar="NGƯỜI")
@click.pass_context
def link(ctx: click.Context, person_key: str) -> None:
    """In một liên kết đăng nhập dùng một lần (hiệu lực 15 phút) cho NGƯỜI.

    NGƯỜI là số (xem people list), địa chỉ thư điện tử hoặc họ tên đầy đủ. Hãy chuyển liên kết cho
    đúng người đó: ai mở liên kết sẽ đăng nhập với tư cách người đó.
    """
    app = db_app_of(ctx)
    now = clock.now()
    with app.session() as session:
        person = _signable(session, person_key, ctx)
        name = person.name
        issued = signin.issue_link(session, person, now, via="cli", actor=cli_actor())
    click.echo(f"Liên kết đăng nhập Bảng điều khiển cho {name} (dùng một lần, hết hạn lúc "
               f"{issued.expires_at:%H:%M} ngày {issued.expires_at:%d/%m/%Y}):\n"
               f"{issued.url(app.config.web.public_url)}")


@web.command()
@click.option("--person", "person_key", metavar="NGƯỜI", help="Chỉ các phiên của người này.")
@click.option("--revoke", "revoke_ids", multiple=True, type=CountType("số phiên", 1, 10**9), metavar="SỐ",
              help="Đăng xuất phiên số này (lặp lại để đăng xuất nhiều phiên).")
@click.option("--revoke-all", is_flag=True, help="Đăng xuất mọi phiên (của --person nếu có, nếu không: của mọi người).")
@click.option("--format", "-f", "output_format", type=ChoiceType("table", "json"), default="table",
              show_default=True, help="table: bảng để đọc; json: cho máy.")
@click.pass_context
def sessions(ctx: click.Context, person_key: str | None, revoke_ids: tuple[int, ...], revoke_all: bool,
             output_format: str) -> None:
    """Các phiên đang đăng nhập Bảng điều khiển; đăng xuất từ xa một phiên, một người hoặc tất cả."""
    app = db_app_of(ctx)
    now = clock.now()
    person_id = None
    if person_key:
        with app.session() as session:
            person_id = find_person(session, person_key, ctx).id
    if revoke_ids or revoke_all:
        with app.session() as session:
            ended = signin.revoke_sessions(session, now, cli_actor(), person_id=person_id,
                                           ids=list(revoke_ids) if revoke_ids else None)
        click.echo(f"Đã đăng xuất {ended} phiên.")
        return
    with app.session() as session:
        lines = signin.live_sessions(session, now, person_id)
    if output_format == "json":
        click.echo(json.dumps([{"id": x.id, "person_id": x.person_id, "person": x.person_name, "role": x.role,
                                "signed_in": x.created_at.isoformat(), "last_seen": x.last_seen_at.isoformat(),
                                "user_agent": x.user_agent} for x in lines], ensure_ascii=False, indent=2))
        return
    if not lines:
        click.echo("Không có phiên nào đang đăng nhập.")
        return
    rows = [(str(x.id), x.person_name, f"{x.created_at:%H:%M %d/%m/%Y}", f"{x.last_seen_at:%H:%M %d/%m/%Y}",
             (x.user_agent or "—")[:40]) for x in lines]
    click.echo(render(("Số", "Người", "Đăng nhập lúc", "Dùng lần cuối", "Trình duyệt"), rows))


@web.command()
@click.argument("person_key", metavar="NGƯỜI", required=False)
@click.option("--label", default="", help='Ghi chú mã dùng cho hệ thống nào, ví dụ "Hệ thống báo cáo của tỉnh".')
@click.option("--revoke", "revoke_id", type=CountType("số mã", 1, 10**9), metavar="SỐ", help="Thu hồi mã số này.")
@click.option("--list", "list_only", is_flag=True, help="Liệt kê các mã đang dùng được.")
@click.pass_context
def token(ctx: click.Context, person_key: str | None, label: str, revoke_id: int | None, list_only: bool) -> None:
    """Cấp mã truy cập API cá nhân cho NGƯỜI (hệ thống của tỉnh đọc GET /api/status với mã này).

    Mã chỉ hiện một lần; hệ thống chỉ lưu dấu băm của mã. Mã xem được đúng phạm vi của người đó.
    """
    app = db_app_of(ctx)
    now = clock.now()
    if revoke_id is not None:
        with app.session() as session:
            done = signin.revoke_api_token(session, revoke_id, now, cli_actor())
        if not done:
            raise UserError(f"không có mã số {revoke_id} đang dùng được; xem các mã bằng: "
                            "reminder-service web token --list")
        click.echo(f"Đã thu hồi mã số {revoke_id}.")
        return
    if list_only:
        with app.session() as session:
            lines = signin.live_tokens(session)
        if not lines:
            click.echo("Chưa có mã API nào đang dùng được.")
            return
        rows = [(str(x.id), x.person_name, x.label or "—", f"{x.created_at:%d/%m/%Y}",
                 f"{x.last_used_at:%H:%M %d/%m/%Y}" if x.last_used_at else "chưa dùng") for x in lines]
        click.echo(render(("Số", "Người", "Ghi chú", "Cấp ngày", "Dùng lần cuối"), rows))
        return
    if person_key is None:
        raise click.UsageError("hãy cho biết NGƯỜI được cấp mã, ví dụ: reminder-service web token 3", ctx)
    with app.session() as session:
        person = _signable(session, person_key, ctx)
        name = person.name
        secret = signin.issue_api_token(session, person, now, label=label.strip()[:120], actor=cli_actor())
    click.echo(f"Mã truy cập API của {name} (chỉ hiện một lần này; hãy lưu vào hệ thống dùng nó):\n{secret}\n"
               f"Dùng: curl -H \"Authorization: Bearer <mã>\" {app.config.web.public_url}/api/status?year={now.year}")
