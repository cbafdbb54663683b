"""Correcting mistakes: ``submissions list|correct|delete`` and ``waivers list|undo``.

Every change is compare-and-set and kept in the audit log; a report's status is computed from what
remains, so deleting a wrong submission makes the unit late again and its reminders resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from sqlalchemy.orm import Session

from calendars.words import NONE_MARK, dmy
from reminder_service.adapters.cli.base import (
    ChoiceType,
    ViCommand,
    ViGroup,
    YearType,
    cli_actor,
    csv_headers_option,
    db_app_of,
    parse_received,
)
from reminder_service.adapters.cli.lookup import find_report
from reminder_service.domain import clock
from reminder_service.services.present.status_view import headed_csv, to_json
from reminder_service.services.present.table import render
from reminder_service.services.submissions import (
    STATE_NAMES,
    SubmissionLine,
    WaiverLine,
    correct_submission,
    delete_submission,
    find_unit,
    list_submissions,
    list_waivers,
    undo_waiver,
)

SUBMISSION_HEADERS = {
    "id": "Số", "unit": "Mã đơn vị", "unit_name": "Đơn vị", "obligation": "Mã báo cáo", "title": "Báo cáo",
    "year": "Năm", "received_at": "Ngày nhận", "doc_no": "Số ký hiệu", "state": "Tình trạng",
    "channel": "Nguồn", "actor": "Người ghi",
}
WAIVER_HEADERS = {
    "obligation_id": "Số", "unit": "Mã đơn vị", "unit_name": "Đơn vị", "obligation": "Mã báo cáo",
    "title": "Báo cáo", "year": "Năm", "reason": "Lý do miễn", "waived_at": "Ngày miễn",
}
SOURCES = {"cli": "dòng lệnh", "telegram": "Telegram", "register": "sổ văn bản đến"}


def _submission_record(line: SubmissionLine) -> dict[str, Any]:
    return {"id": line.id, "unit": line.unit, "unit_name": line.unit_name, "obligation": line.obligation,
            "title": line.title, "year": line.year, "received_at": line.received_at.isoformat(timespec="minutes"),
            "doc_no": line.doc_no, "state": line.state, "channel": line.channel, "actor": line.actor}


def _waiver_record(line: WaiverLine) -> dict[str, Any]:
    return {"obligation_id": line.obligation_id, "unit": line.unit, "unit_name": line.unit_name,
            "obligation": line.obligation, "title": line.title, "year": line.year, "reason": line.reason,
            "waived_at": line.waived_at.isoformat(timespec="minutes") if line.waived_at else None}


def _listing(output_format: str, headers: str, names: dict[str, str], records: Sequence[dict[str, Any]],
             table: tuple[Sequence[str], Sequence[Sequence[str]]], footer: str, empty: str) -> None:
    """A list as a table (with a footer saying what to do next), JSON, or CSV for Excel."""
    if output_format == "json":
        click.echo(to_json(records))
    elif output_format == "csv":
        if headers == "vi":
            # For people: the values in words too; --headers en keeps the codes for machines.
            words = {"state": STATE_NAMES, "channel": SOURCES}
            records = [{k: words[k].get(v, v) if k in words and isinstance(v, str) else v for k, v in r.items()}
                       for r in records]
        click.echo(headed_csv(list(names), records, names, headers), nl=False)
    else:
        heads, body = table
        click.echo(f"{render(heads, body)}\n\n{footer}" if body else empty)


def _format_options(function: Any) -> Any:
    function = csv_headers_option(function)
    return click.option("--format", "-f", "output_format", type=ChoiceType("table", "json", "csv"), default="table",
                        show_default=True, help="Dạng in ra: bảng, JSON hoặc CSV (mở bằng Excel).")(function)


@click.command(name="list", cls=ViCommand)
@click.option("--unit", "-u", metavar="MÃ", help="Chỉ đơn vị này, ví dụ XA_AN_BINH.")
@click.option("--obligation", "-o", metavar="MÃ",
              help='Chỉ báo cáo này: mã (plan, q1, h1, q3, annual…) hoặc tên kỳ, ví dụ "quý I".')
@click.option("--year", "-y", type=YearType(), help="Chỉ năm báo cáo này, ví dụ 2021.")
@click.option("--all", "with_deleted", is_flag=True, help="Kể cả các lần nộp đã xóa.")
@_format_options
@click.pass_context
def list_cmd(ctx: click.Context, unit: str | None, obligation: str | None, year: int | None, with_deleted: bool,
             output_format: str, headers: str) -> None:
    """Danh sách các lần nộp đã ghi nhận, kèm số để sửa hoặc xóa."""
    app = db_app_of(ctx)
    with app.session() as session:
        obligation = _check_filters(session, unit, obligation, year)
        lines = list_submissions(session, unit=unit, obligation=obligation, year=year, with_deleted=with_deleted)
    body = [(str(x.id), x.unit, x.title, x.received_at.strftime("%d/%m/%Y %H:%M"), x.doc_no or NONE_MARK,
             STATE_NAMES.get(x.state, x.state), SOURCES.get(x.channel, x.channel)) for x in lines]
    _listing(output_format, headers, SUBMISSION_HEADERS, [_submission_record(x) for x in lines],
             (("Số", "Mã đơn vị", "Báo cáo", "Ngày nhận", "Số ký hiệu", "Tình trạng", "Nguồn"), body),
             f"{len(lines)} lần nộp. Sửa: reminder-service submissions correct SỐ --received NGÀY; "
             "xóa: reminder-service submissions delete SỐ --reason LÝ_DO",
             "Không có lần nộp nào khớp điều kiện.")


def _check_filters(session: Session, unit: str | None, obligation: str | None, year: int | None) -> str | None:
    """An unknown unit or report is a typo to point out, not an empty list that looks like news. Returns
    the report's code, which may be named as people write it ("quý I")."""
    if unit:
        find_unit(session, unit)
    return find_report(session, obligation, year, clock.today()) if obligation else None


@click.command(name="correct", cls=ViCommand)
@click.argument("submission_id", metavar="SỐ", type=click.IntRange(min=1))
@click.option("--received", "-r", help="Ngày (giờ) nhận đúng: 12/03/2021 hoặc 12/03/2021 14:30.")
@click.option("--doc-number", "--doc-no", "doc_no", help='Số ký hiệu đúng, ví dụ "45/BC-UBND".')
@click.pass_context
def correct_cmd(ctx: click.Context, submission_id: int, received: str | None, doc_no: str | None) -> None:
    """Sửa ngày nhận hoặc số ký hiệu của một lần nộp đã ghi (số lấy từ submissions list)."""
    received_at = parse_received(received) if received is not None else None
    app = db_app_of(ctx)
    with app.session() as session:
        fixed = correct_submission(session, submission_id, received_at=received_at, doc_no=doc_no,
                                   actor=cli_actor(), now=clock.now())
        what = f"{fixed.obligation.title} của {fixed.obligation.unit.name}"
        line = f"nhận ngày {fixed.received_at:%d/%m/%Y %H:%M}, số ký hiệu {fixed.doc_no or NONE_MARK}"
    click.echo(f"Đã sửa lần nộp số {submission_id} ({what}): {line}.")


@click.command(name="delete", cls=ViCommand)
@click.argument("submission_id", metavar="SỐ", type=click.IntRange(min=1))
@click.option("--reason", required=True, help='Lý do xóa, ví dụ "Ghi nhầm đơn vị".')
@click.pass_context
def delete_cmd(ctx: click.Context, submission_id: int, reason: str) -> None:
    """Xóa một lần nộp ghi nhầm; lịch sử vẫn được lưu, việc nhắc hạn tiếp tục nếu báo cáo lại thiếu."""
    app = db_app_of(ctx)
    with app.session() as session:
        gone = delete_submission(session, submission_id, reason, cli_actor(), clock.now())
        what = f"{gone.obligation.title} của {gone.obligation.unit.name}"
    click.echo(f"Đã xóa lần nộp số {submission_id} ({what}). Lý do: {reason.strip()}. Tình trạng báo cáo được "
               "tính lại; nếu báo cáo còn thiếu, việc nhắc hạn sẽ tiếp tục.")


# Attached to the `submissions` group by the root (cli/__init__.py).
SUBMISSION_COMMANDS = (list_cmd, correct_cmd, delete_cmd)


@click.group(cls=ViGroup)
def waivers() -> None:
    """Các báo cáo được miễn nộp: xem danh sách, hủy miễn nộp khi miễn nhầm."""


@waivers.command(name="list")
@click.option("--unit", "-u", metavar="MÃ", help="Chỉ đơn vị này.")
@click.option("--year", "-y", type=YearType(), help="Chỉ năm báo cáo này.")
@_format_options
@click.pass_context
def waivers_list(ctx: click.Context, unit: str | None, year: int | None, output_format: str, headers: str) -> None:
    """Danh sách các báo cáo được miễn nộp, kèm số để hủy."""
    app = db_app_of(ctx)
    with app.session() as session:
        _check_filters(session, unit, None, year)
        lines = list_waivers(session, unit=unit, year=year)
    body = [(str(x.obligation_id), x.unit, x.title, x.reason, dmy(x.waived_at.date()) if x.waived_at else NONE_MARK)
            for x in lines]
    _listing(output_format, headers, WAIVER_HEADERS, [_waiver_record(x) for x in lines],
             (("Số", "Mã đơn vị", "Báo cáo", "Lý do miễn", "Ngày miễn"), body),
             f"{len(lines)} báo cáo được miễn. Hủy: reminder-service waivers undo SỐ --reason LÝ_DO",
             "Không có báo cáo nào được miễn nộp.")


@waivers.command(name="undo")
@click.argument("obligation_id", metavar="SỐ", type=click.IntRange(min=1))
@click.option("--reason", required=True, help='Lý do hủy miễn nộp, ví dụ "Miễn nhầm đơn vị".')
@click.pass_context
def waivers_undo(ctx: click.Context, obligation_id: int, reason: str) -> None:
    """Hủy miễn nộp: đơn vị lại phải nộp báo cáo, việc nhắc hạn tiếp tục."""
    app = db_app_of(ctx)
    with app.session() as session:
        back = undo_waiver(session, obligation_id, reason, cli_actor(), clock.now())
        what = f"{back.title} của {back.unit.name}"
    click.echo(f"Đã hủy miễn nộp {what}. Đơn vị lại phải nộp báo cáo này; việc nhắc hạn tiếp tục.")
