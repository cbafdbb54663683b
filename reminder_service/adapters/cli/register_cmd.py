"""``reminder-service submissions import|review``: the incoming register (sổ văn bản đến)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import IntegrityError

from reminder_service.adapters.cli.base import (
    ChoiceType,
    ViCommand,
    ViGroup,
    YearType,
    cli_actor,
    config_option,
    db_app_of,
    parse_received,
)
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError
from reminder_service.services.audit import Actor
from reminder_service.services.present.table import render
from reminder_service.services.register.apply import ImportSummary, RecordedRow, import_register
from reminder_service.services.register.read import read_register
from reminder_service.services.register.review import (
    REASON_TEXTS,
    STATE_TEXTS,
    Option,
    ReviewView,
    dismiss_item,
    list_items,
    resolve_item,
)

REGISTER_ACTOR = Actor("sổ văn bản đến", "register")
_SUMMARY_WIDTH = 60
_HOW_TO = (
    "Xử lý từng mục: reminder-service submissions review resolve ID --unit MÃ_ĐƠN_VỊ --obligation MÃ_NGHĨA_VỤ "
    "[--year NĂM]\n"
    "hoặc bỏ qua:    reminder-service submissions review dismiss ID --reason \"…\""
)


class ItemIdType(click.ParamType[int]):
    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip().lstrip("#")
        if not text.isdigit() or int(text) == 0:
            self.fail(f'"{value}" không phải là số thứ tự mục hợp lệ; xem danh sách: '
                      "reminder-service submissions review", param, ctx)
        return int(text)


def _moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y %H:%M") if (value.hour, value.minute) != (0, 0) else value.strftime("%d/%m/%Y")


def _short(text: str, size: int = _SUMMARY_WIDTH) -> str:
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


def review_text(items: Sequence[ReviewView], *, with_state: bool = False) -> str:
    """The review list for a terminal: a table, then each item's explanation and candidates."""
    headers = ["ID", "Tệp, dòng", "Ngày đến", "Nơi gửi", "Trích yếu", "Lý do"]
    if with_state:
        headers.append("Trạng thái")
    rows = []
    for item in items:
        cells = [str(item.id), f"{item.file_name}, dòng {item.row_no}", _moment(item.received_at),
                 _short(item.sender, 40), _short(item.summary), REASON_TEXTS.get(item.reason, item.reason)]
        if with_state:
            cells.append(STATE_TEXTS.get(item.state, item.state))
        rows.append(cells)
    lines = [render(headers, rows), "", "Chi tiết:"]
    for item in items:
        note = item.note or REASON_TEXTS.get(item.reason, item.reason)
        lines.append(f"  {item.id}. {note[:1].upper()}{note[1:]}.")
        if item.options:
            lines.append(f"     {_options_text(item.options)}.")
    return "\n".join(lines)


def _options_text(options: Sequence[Option]) -> str:
    units = {(o.unit, o.unit_name) for o in options}
    if len(options) > 1 and len(units) == 1 and all(o.obligation for o in options):
        # One unit, several obligations: name the unit once.
        unit, name = units.pop()
        if unit is not None:
            alone = [Option(obligation=o.obligation, year=o.year, title=o.title).text() for o in options]
            return f"Gợi ý cho {unit} ({name}): " + "; ".join(alone)
    return "Gợi ý: " + "; ".join(option.text() for option in options)


def _recorded_text(rows: Sequence[RecordedRow]) -> str:
    return render(
        ["Dòng", "Đơn vị", "Báo cáo", "Ngày nhận", "Số ký hiệu"],
        [[str(r.row_no), f"{r.unit_name} ({r.unit_code})", r.title, _moment(r.received_at), r.doc_no or "—"]
         for r in rows],
    )


def summary_text(summary: ImportSummary) -> str:
    counts = (
        ("Số dòng đọc được", summary.rows),
        ("Đã ghi nhận báo cáo", len(summary.recorded)),
        ("Đã nhập từ trước (bỏ qua)", summary.already),
        ("Không phải báo cáo CCHC (bỏ qua)", summary.ignored),
        ("Cần xem xét", len(summary.review)),
    )
    label_width = max(len(label) for label, _ in counts) + 1
    lines = [f"Đã nhập sổ văn bản đến từ tệp {summary.file_name} (lần nhập số {summary.import_id})."]
    lines += [f"  {label + ':':<{label_width}} {number}" for label, number in counts]
    if summary.previous_import is not None:
        lines.append(f"Lưu ý: tệp này đã được nhập lúc {_moment(summary.previous_import)}; "
                     "các dòng đã nhập không được ghi lại.")
    if summary.recorded:
        lines += ["", "Báo cáo đã ghi nhận:", _recorded_text(summary.recorded)]
    if summary.review:
        lines += ["", "Các dòng cần xem xét:", review_text(summary.review), "", _HOW_TO]
    return "\n".join(lines)


@click.command(name="import", cls=ViCommand)
@click.argument("file", metavar="TỆP", type=click.Path(path_type=Path))
@click.pass_context
def import_cmd(ctx: click.Context, file: Path) -> None:
    """Nhập sổ văn bản đến (CSV hoặc Excel .xlsx) xuất từ hệ thống quản lý văn bản.

    Dòng nào là báo cáo CCHC của một đơn vị được ghi nhận là đã nộp (ngày nhận là Ngày đến, số
    ký hiệu là Số ký hiệu); dòng chưa khớp chắc chắn được đưa vào danh sách cần xem xét. Nhập lại
    cùng một tệp không ghi thêm gì.
    """
    register = read_register(file)  # every file error surfaces before the database is touched
    app = db_app_of(ctx)
    try:
        with app.session() as session:
            summary = import_register(session, register, REGISTER_ACTOR, clock.now())
    except IntegrityError:
        # Only a concurrent import of the same rows can collide on register_key; nothing was written.
        raise UserError("một lần nhập sổ văn bản đến khác đang ghi cùng các dòng này; không có gì được ghi. "
                        "Hãy chạy lại lệnh sau ít phút") from None
    click.echo(summary_text(summary))


@click.group(cls=ViGroup, invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Hiện cả các mục đã xử lý hoặc đã bỏ qua.")
@click.option("--format", "fmt", type=ChoiceType("table", "json"), default="table",
              help="Dạng kết quả: table (bảng, mặc định) hoặc json.")
@click.pass_context
def review(ctx: click.Context, show_all: bool, fmt: str) -> None:
    """Các dòng sổ văn bản đến cần xem xét (chưa khớp chắc chắn với đơn vị hoặc nghĩa vụ).

    Không kèm lệnh con: hiện danh sách. Xử lý từng mục bằng resolve hoặc dismiss.
    """
    if ctx.invoked_subcommand is not None:
        return
    app = db_app_of(ctx)
    with app.session() as session:
        items = list_items(session, include_closed=show_all)
    if fmt == "json":
        click.echo(json.dumps([item.as_json() for item in items], ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("Không có dòng nào cần xem xét." if not show_all else "Chưa có dòng nào được đưa vào xem xét.")
        return
    open_count = sum(item.state == "open" for item in items)
    click.echo(f"{open_count} dòng sổ văn bản đến đang chờ xem xét.")
    click.echo(review_text(items, with_state=show_all))
    if open_count:
        click.echo("\n" + _HOW_TO)


review.params.append(config_option())


@review.command()
@click.argument("item_id", metavar="ID", type=ItemIdType())
@click.option("--unit", "-u", required=True, help="Mã đơn vị đã gửi, ví dụ XA_AN_BINH.")
@click.option("--obligation", "-o", required=True, help="Mã nghĩa vụ (plan, q1, h1, q3, annual, adhoc1…) hoặc số id.")
@click.option("--year", "-y", type=YearType(), help="Năm báo cáo (mặc định: năm ghi trong trích yếu, nếu rõ).")
@click.option("--received", "-r", help="Ngày nhận, nếu dòng không có Ngày đến đọc được: 12/03/2021.")
@click.pass_context
def resolve(ctx: click.Context, item_id: int, unit: str, obligation: str, year: int | None,
            received: str | None) -> None:
    """Ghi nhận dòng cần xem xét là báo cáo của đơn vị và nghĩa vụ đã chọn."""
    received_at = parse_received(received) if received else None
    app = db_app_of(ctx)
    with app.session() as session:
        done = resolve_item(session, item_id, unit_code=unit, obligation=obligation, year=year,
                            received_at=received_at, actor=cli_actor(), now=clock.now())
        subject = f"{done.obligation.title} của {done.obligation.unit.name}"
        when = _moment(done.recorded.submission.received_at)
    if done.recorded.created:
        click.echo(f"Đã ghi nhận {subject}, nhận ngày {when}. Mục {item_id} đã được xử lý.")
    else:
        click.echo(f"{subject} đã được ghi nhận trước đó (cùng số ký hiệu và ngày nhận); "
                   f"mục {item_id} được gắn với lần nộp đó và đã được xử lý.")


@review.command()
@click.argument("item_id", metavar="ID", type=ItemIdType())
@click.option("--reason", help='Lý do bỏ qua, ví dụ "Văn bản của Sở Nội vụ, không phải báo cáo của đơn vị".')
@click.pass_context
def dismiss(ctx: click.Context, item_id: int, reason: str | None) -> None:
    """Bỏ qua một dòng cần xem xét (không phải báo cáo cần ghi nhận)."""
    app = db_app_of(ctx)
    with app.session() as session:
        item = dismiss_item(session, item_id, reason, cli_actor(), clock.now())
    why = f" Lý do: {reason.strip()}." if reason and reason.strip() else ""
    click.echo(f"Đã bỏ qua mục {item.id} ({item.sender}: {_short(item.summary)}).{why}")


# Attached to the `submissions` group by the root (cli/__init__.py).
SUBMISSION_COMMANDS = (import_cmd, review)
