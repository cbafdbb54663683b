"""``reminder-service people add|list|invite|unlink``: the receiving office's staff and the leadership,
and everyone's Telegram link."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import click

from reminder_service.adapters.cli.base import ChoiceType, ViGroup, cli_actor, db_app_of, listing_options
from reminder_service.adapters.cli.lookup import find_person
from reminder_service.domain import clock
from reminder_service.services.db.models import CHANNELS, ROLES
from reminder_service.services.linking import create_invite, deep_link, unlink
from reminder_service.services.present.table import render
from reminder_service.services.registry import (
    ROLE_LABELS,
    ChatTaken,
    add_person,
    email_problem,
    list_people,
    office_name,
    parse_channels,
    telegram_problem,
)
from reminder_service.services.registry.fields import control_problem, text_problem

MAX_INVITE_HOURS = 720


@click.group(cls=ViGroup)
def people() -> None:
    """Người nhận thông báo: Phòng Nội vụ, lãnh đạo."""


def _checked(value: str | None, problem: str | None, hint: str) -> str | None:
    if problem is not None:
        raise click.BadParameter(problem, param_hint=hint)
    return value


@people.command()
@click.option("--name", required=True, help='Họ và tên, ví dụ "Nguyễn Thị Hạnh".')
@click.option("--role", required=True, type=ChoiceType(*ROLES, listed=("receiver", "leadership")),
              help="receiver: cán bộ Phòng Nội vụ nhận báo cáo; leadership: lãnh đạo UBND.")
@click.option("--email", help="Địa chỉ thư điện tử, ví dụ hanh.nt@phuloc.gov.vn.")
@click.option("--telegram", help="Mã trò chuyện Telegram (chat id), ví dụ 123456789.")
@click.option("--channels", help="Kênh nhận thông báo theo thứ tự ưu tiên, ví dụ telegram,email "
                                 "(mặc định: các kênh đã có địa chỉ).")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, email: str | None, telegram: str | None,
        channels: str | None) -> None:
    """Thêm người nhận thông báo: cán bộ Phòng Nội vụ (receiver) hoặc lãnh đạo (leadership).

    Thủ trưởng và công chức đầu mối của đơn vị được nhập cùng danh sách đơn vị (units import).
    """
    if role not in ("receiver", "leadership"):
        raise click.BadParameter(
            f"{ROLE_LABELS[role].lower()} được lấy từ danh sách đơn vị, không thêm bằng lệnh này; hãy ghi vào "
            "các cột head_name, head_email, head_telegram (thủ trưởng) hoặc focal_name, focal_email, "
            "focal_telegram (đầu mối) của tệp danh sách rồi chạy: reminder-service units import TỆP",
            param_hint="--role",
        )
    # Checked before spaces are evened out, which would silently turn an inner line break into a space.
    name = name.strip()
    _checked(name, control_problem(name, "họ tên"), "--name")
    name = " ".join(name.split())
    _checked(name, text_problem(name, "họ tên"), "--name")
    email = _checked(email.strip(), email_problem(email.strip()), "--email") if email is not None else None
    telegram = (_checked(telegram.strip(), telegram_problem(telegram.strip()), "--telegram")
                if telegram is not None else None)
    addresses = {"telegram": telegram, "email": email}
    if channels is None:
        chosen = tuple(c for c in CHANNELS if addresses[c])
        if not chosen:
            raise click.UsageError("hãy ghi ít nhất --email hoặc --telegram để người này nhận được thông báo", ctx)
    else:
        chosen, problem = parse_channels(channels)
        _checked(channels, problem, "--channels")
        lacking = [c for c in chosen if not addresses[c]]
        if lacking:
            raise click.BadParameter(f"kênh {lacking[0]} cần địa chỉ; hãy ghi thêm --{lacking[0]}",
                                     param_hint="--channels")
    app = db_app_of(ctx)
    try:
        with app.session() as session:
            person = add_person(session, name=name, role=role, email=email, telegram=telegram, channels=chosen,
                                office_name=app.config.office_name, actor=cli_actor(), now=clock.now())
            number = person.id
    except ChatTaken as exc:
        raise click.BadParameter(str(exc), param_hint="--telegram") from None
    click.echo(f'Đã thêm {ROLE_LABELS[role].lower()} "{name}" (số {number}), nhận thông báo qua: '
               f"{', '.join(chosen)}.")


@people.command(name="list")
@listing_options("Kể cả người đã ngừng nhận thông báo.")
@click.pass_context
def list_cmd(ctx: click.Context, show_all: bool, output_format: str) -> None:
    """Danh sách người nhận thông báo: Phòng Nội vụ, lãnh đạo, thủ trưởng và đầu mối các đơn vị."""
    app = db_app_of(ctx)
    with app.session() as session:
        found = list_people(session, include_inactive=show_all)
        office = office_name(session, app.config.office_name)
    if output_format == "json":
        click.echo(json.dumps([asdict(p) for p in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("Chưa có người nhận thông báo nào. Thêm bằng: reminder-service people add --name … --role "
                   "receiver|leadership; thủ trưởng và đầu mối đơn vị được nhập bằng: reminder-service units import")
        return
    # Receivers belong to the receiving office, which has no unit code of its own.
    rows = [[str(p.id), p.name, ROLE_LABELS[p.role], p.unit or (office if p.role == "receiver" else "—"),
             p.email or "—", p.telegram_chat_id or "—", ", ".join(p.channels),
             "đang nhận" if p.active else "ngừng"] for p in found]
    click.echo(render(["Số", "Họ tên", "Vai trò", "Đơn vị", "Thư điện tử", "Telegram", "Kênh", "Trạng thái"], rows))
    click.echo(f"\nTổng cộng {len(found)} người.")


class HoursType(click.ParamType[int]):
    name = "SỐ_GIỜ"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_INVITE_HOURS:
            self.fail(f'"{value}" không hợp lệ; hãy ghi số giờ từ 1 đến {MAX_INVITE_HOURS}, ví dụ 48', param, ctx)
        return int(text)


@people.command()
@click.argument("person_key", metavar="NGƯỜI")
@click.option("--hours", type=HoursType(), default=48, show_default=True,
              help=f"Thời hạn của mã, tính bằng giờ (từ 1 đến {MAX_INVITE_HOURS}).")
@click.pass_context
def invite(ctx: click.Context, person_key: str, hours: int) -> None:
    """Cấp mã dùng một lần để người này liên kết Telegram với bot.

    NGƯỜI là số (xem people list), địa chỉ thư điện tử hoặc họ tên đầy đủ. Mã cấp trước đó
    mà chưa dùng sẽ hết hiệu lực.
    """
    app = db_app_of(ctx)
    now = clock.now()
    ttl = timedelta(hours=hours)
    with app.session() as session:
        person = find_person(session, person_key, ctx)
        code = create_invite(session, person, now, actor=cli_actor(), ttl=ttl)
        name, number = person.name, person.id
    expires = clock.wall(now) + ttl
    click.echo(f"Mã liên kết Telegram của Ông/Bà {name} (số {number}): {code}")
    click.echo(f"Hiệu lực đến {expires:%d/%m/%Y %H:%M} (giờ Việt Nam), chỉ dùng được một lần; "
               "mã cấp trước đó (nếu chưa dùng) không còn hiệu lực.")
    username = app.config.telegram.bot_username
    if username:
        click.echo(f"Gửi cho người nhận đường dẫn sau để mở bot và liên kết: {deep_link(username, code)}")
    else:
        click.echo(f"Người nhận mở cuộc trò chuyện riêng với bot trên Telegram và gửi /start {code} cho bot.")
    if not app.config.telegram.enabled:
        # The code is kept, but nobody can redeem it until the bot runs: say so before it is handed out.
        click.echo("Lưu ý: Telegram chưa được bật trong cấu hình ([telegram] enabled = true và mã bot), nên bot chưa "
                   "chạy và chưa nhận được mã này; hãy bật Telegram trước khi gửi mã cho người nhận.", err=True)


@people.command(name="unlink")
@click.argument("person_key", metavar="NGƯỜI")
@click.pass_context
def unlink_cmd(ctx: click.Context, person_key: str) -> None:
    """Hủy liên kết Telegram của một người và thu hồi các mã chưa dùng của người đó.

    NGƯỜI là số (xem people list), địa chỉ thư điện tử hoặc họ tên đầy đủ.
    """
    app = db_app_of(ctx)
    with app.session() as session:
        person = find_person(session, person_key, ctx)
        result = unlink(session, person, cli_actor(), clock.now())
        name, number = person.name, person.id
    if not result.changed:
        click.echo(f"Ông/Bà {name} (số {number}) chưa liên kết Telegram và không có mã đang chờ; không có gì thay đổi.")
        return
    parts = []
    if result.chat_id is not None:
        parts.append(f"Đã hủy liên kết Telegram (mã trò chuyện {result.chat_id}) của Ông/Bà {name} (số {number}).")
    if result.revoked:
        parts.append(f"Đã thu hồi {result.revoked} mã liên kết chưa dùng.")
    click.echo(" ".join(parts))
    click.echo(f"Để liên kết lại, cấp mã mới bằng: reminder-service people invite {number}")
