"""``reminder-service outbox list|retry|purge``: what waits to go out, what failed, and clearing history."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import click

from calendars.words import dmy
from reminder_service.adapters.cli.base import (
    ChoiceType,
    CountType,
    DayType,
    ViGroup,
    cli_actor,
    db_app_of,
    moment,
)
from reminder_service.domain import clock
from reminder_service.domain.escalation.policy import CHANNEL_NAMES
from reminder_service.health import shorten
from reminder_service.services.outbox.admin import STATES, OutboxRow, list_rows, purge, retry_dead
from reminder_service.services.present.table import render
from reminder_service.services.present.words import CHANNEL_WORDS, STAGE_WORDS
from reminder_service.services.present.words import OUTBOX_STATE_WORDS as STATE_WORDS

NONE = "—"


class MessageIdType(click.ParamType[int]):
    name = "SỐ_TIN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip().lstrip("#")
        if not text.isdigit() or int(text) == 0:
            self.fail(f'"{value}" không phải là số của một tin; xem cột "Số" trong reminder-service outbox list',
                      param, ctx)
        return int(text)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%d/%m/%Y %H:%M") if moment is not None else NONE


def _iso(moment: datetime | None) -> str | None:
    return f"{moment.isoformat(timespec='seconds')}+07:00" if moment is not None else None


def _record(row: OutboxRow) -> dict[str, Any]:
    return {
        "id": row.id, "state": row.state, "channel": row.channel, "recipient": row.recipient,
        "address": row.address or None, "stage": row.stage, "unit": row.unit_code, "unit_name": row.unit_name,
        "obligation": row.obligation, "year": row.year, "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at) if row.state in ("pending", "sending") else None,
        "created_at": _iso(row.created_at), "sent_at": _iso(row.sent_at), "last_error": row.last_error,
    }


def _cells(row: OutboxRow) -> tuple[str, ...]:
    who = row.recipient or NONE
    if row.address:
        who = f"{who} ({row.address})"
    about = NONE
    if row.unit_code is not None:
        about = f"{row.unit_code} – {row.obligation}/{row.year}"
    waiting = row.state in ("pending", "sending")
    return (str(row.id), STATE_WORDS.get(row.state, row.state), CHANNEL_WORDS.get(row.channel, row.channel), who,
            STAGE_WORDS.get(row.stage, row.stage), about, str(row.attempts),
            _when(row.next_attempt_at) if waiting else NONE, shorten(row.last_error, 60) or NONE)


@click.group(cls=ViGroup)
def outbox() -> None:
    """Hàng đợi tin gửi đi: xem, gửi lại tin thất bại, dọn tin đã gửi."""


@outbox.command(name="list", short_help="Liệt kê tin trong hàng đợi gửi.")
@click.option("--state", "-s", type=ChoiceType(*STATES),
              help="Chỉ tin ở trạng thái này: pending (chờ gửi), sending (đang gửi), sent (đã gửi), "
                   "dead (thất bại), skipped (bỏ qua vì không có địa chỉ).")
@click.option("--channel", "-c", type=ChoiceType(*CHANNEL_NAMES), help="Chỉ kênh này: telegram hoặc email.")
@click.option("--limit", "-n", type=CountType("số tin"), default=50, metavar="SỐ",
              help="Hiện nhiều nhất chừng này tin, mới nhất trước (mặc định: 50).")
@click.option("--format", "-f", "output_format", type=ChoiceType("table", "json"), default="table",
              help="table: bảng để đọc; json: cho máy (mặc định: table).")
@click.pass_context
def list_cmd(ctx: click.Context, state: str | None, channel: str | None, limit: int, output_format: str) -> None:
    """Liệt kê các tin trong hàng đợi gửi, mới nhất trước."""
    app = db_app_of(ctx)
    with app.session() as session:
        rows, total = list_rows(session, state=state, channel=channel, limit=limit)
    if output_format == "json":
        click.echo(json.dumps([_record(r) for r in rows], ensure_ascii=False, indent=2))
        return
    scope = [f"trạng thái {STATE_WORDS[state]} ({state})"] if state else []
    if channel:
        scope.append(f"kênh {CHANNEL_WORDS[channel]}")
    where = f" ({', '.join(scope)})" if scope else ""
    if not rows:
        click.echo(f"Không có tin nào trong hàng đợi gửi{where}.")
        return
    headers = ("Số", "Trạng thái", "Kênh", "Người nhận", "Loại tin", "Đơn vị – báo cáo", "Lần thử",
               "Lần thử tới", "Lỗi gần nhất")
    shown = f"{len(rows)} tin mới nhất trong {total} tin" if total > len(rows) else f"{total} tin"
    click.echo(f"HÀNG ĐỢI TIN GỬI ĐI{where}: {shown}.\n\n{render(headers, [_cells(r) for r in rows])}")


@outbox.command(short_help="Gửi lại tin thất bại (dead).")
@click.argument("ids", nargs=-1, type=MessageIdType(), metavar="[SỐ_TIN]...")
@click.option("--all-dead", is_flag=True, help="Gửi lại mọi tin thất bại (dead).")
@click.option("--channel", "-c", type=ChoiceType(*CHANNEL_NAMES),
              help="Với --all-dead: chỉ tin thất bại của kênh này (telegram hoặc email).")
@click.option("--at", "at", metavar="NGÀY GIỜ",
              help='Gửi lại như thể lúc này, ví dụ "16/03/2021 09:10" (để thử và trình diễn).')
@click.pass_context
def retry(ctx: click.Context, ids: tuple[int, ...], all_dead: bool, channel: str | None, at: str | None) -> None:
    """Đưa tin thất bại (dead) trở lại hàng đợi để gửi ngay, đặt lại số lần thử.

    Ghi số các tin (xem reminder-service outbox list --state dead), hoặc --all-dead.
    """
    if ids and all_dead:
        raise click.UsageError("hãy ghi số tin hoặc dùng --all-dead, không dùng cả hai", ctx)
    if not ids and not all_dead:
        raise click.UsageError("hãy ghi số các tin cần gửi lại, ví dụ: reminder-service outbox retry 12 15; "
                               "hoặc dùng --all-dead để gửi lại mọi tin thất bại", ctx)
    if channel is not None and not all_dead:
        raise click.UsageError("--channel chỉ dùng cùng --all-dead", ctx)
    now = moment(at)
    app = db_app_of(ctx)
    with app.session() as session:
        result = retry_dead(session, ids=list(ids) if ids else None, channel=channel, actor=cli_actor(), now=now)
    if result.missing or result.refused:
        problems = [f"không có tin số {i}" for i in result.missing]
        problems += [f"tin số {i} đang ở trạng thái {STATE_WORDS.get(s, s)} ({s}), không phải thất bại (dead)"
                     for i, s in result.refused]
        raise click.UsageError("; ".join(problems) + ". Chỉ gửi lại được tin thất bại; chưa thay đổi tin nào", ctx)
    if not result.retried:
        which = f" của kênh {CHANNEL_WORDS[channel]}" if channel else ""
        click.echo(f"Không có tin thất bại nào{which} để gửi lại.")
        return
    listed = ", ".join(str(i) for i in result.retried[:20]) + ("…" if len(result.retried) > 20 else "")
    click.echo(f"Đã đưa {len(result.retried)} tin thất bại trở lại hàng đợi, gửi ngay ở lượt gửi tới "
               f"(số lần thử đặt lại về 0): {listed}.")


@outbox.command(name="purge", short_help="Xóa tin đã gửi trước một ngày.")
@click.option("--sent-before", "before", type=DayType(), required=True,
              help="Xóa tin đã gửi (và tin bỏ qua) trước ngày này, ví dụ 01/01/2021; không quá hôm nay.")
@click.option("--yes", "confirmed", is_flag=True, help="Xóa thật; không có: chỉ cho biết sẽ xóa bao nhiêu tin.")
@click.pass_context
def purge_cmd(ctx: click.Context, before: date, confirmed: bool) -> None:
    """Xóa lịch sử tin đã gửi (sent) và tin bỏ qua (skipped) trước một ngày, cùng các lượt gửi đã ghi.

    Không bao giờ xóa tin chờ gửi, đang gửi hay thất bại.
    """
    today = clock.today()
    if before > today:
        # Today's digest is kept from going twice by its own row: history up to yesterday only.
        raise click.BadParameter(f"{dmy(before)} là ngày sau hôm nay ({dmy(today)}); hãy chọn ngày đến hết hôm nay",
                                 param_hint="--sent-before")
    app = db_app_of(ctx)
    start = datetime(before.year, before.month, before.day)
    with app.session() as session:
        result = purge(session, before=start, actor=cli_actor(), now=clock.now(), dry_run=not confirmed)
    if result.rows == 0:
        click.echo(f"Không có tin đã gửi hoặc bỏ qua nào trước ngày {dmy(before)}; không có gì để xóa.")
        return
    what = (f"{result.rows} tin trước ngày {dmy(before)} ({result.sent} đã gửi, {result.skipped} bỏ qua) "
            f"cùng {result.attempts} lượt gửi đã ghi")
    if result.done:
        click.echo(f"Đã xóa {what}.")
    else:
        click.echo(f"Sẽ xóa {what}. Chưa xóa gì: chạy lại với --yes để xóa. "
                   "Tin chờ gửi, đang gửi và thất bại không bao giờ bị xóa.")
