"""``reminder-service calendar``: the reporting calendar of a year, as a table, JSON or iCalendar."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from calendars.library import BUILTIN_DIRECTIVES
from calendars.lint import lint as lint_directive
from calendars.loader import load_directive
from calendars.model import Directive
from reminder_service.adapters.cli.base import ChoiceType, KindType, ViGroup, YearType, app_of
from reminder_service.app import App
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError, os_reason
from reminder_service.services.present.calendar_view import calendar_json, calendar_table

_SEVERITY = {"warning": "cảnh báo", "info": "lưu ý"}


def _check_kind(app: App, year: int, kind: str | None) -> None:
    if kind is None:
        return
    kinds = app.calendar(year).directive.unit_kinds
    if kind not in kinds:
        raise click.BadParameter(
            f'không có loại đơn vị "{kind}"; chọn một trong: {", ".join(kinds)}', param_hint="--kind"
        )


@click.group(cls=ViGroup)
def calendar() -> None:
    """Lịch báo cáo: hạn nộp, hạn thực tế, thời gian chốt số liệu."""


@calendar.command()
@click.option("--year", "-y", type=YearType(), help="Năm báo cáo, ví dụ 2021 (mặc định: năm nay).")
@click.option("--kind", "-k", type=KindType(),
              help="Chỉ loại đơn vị này: commune (hoặc xã, thị trấn) hoặc monitor (hoặc phòng theo dõi).")
@click.option("--format", "-f", "output", type=ChoiceType("table", "json"), default="table", show_default=True,
              help="table: bảng cho người đọc; json: cho máy.")
@click.option("--details", "-d", is_flag=True, help="Kèm nội dung cần gửi và cách gửi của từng báo cáo.")
@click.pass_context
def show(ctx: click.Context, year: int | None, kind: str | None, output: str, details: bool) -> None:
    """Hiện lịch báo cáo của một năm."""
    app = app_of(ctx)
    year = year or clock.today().year
    _check_kind(app, year, kind)
    cal = app.calendar(year)
    if output == "json":
        click.echo(json.dumps(calendar_json(cal, kind), ensure_ascii=False, indent=2))
    else:
        click.echo(calendar_table(cal, kind, details), nl=False)


@calendar.command()
@click.option("--year", "-y", type=YearType(), help="Năm báo cáo, ví dụ 2021 (mặc định: năm nay).")
@click.option("--kind", "-k", type=KindType(), help="Chỉ loại đơn vị này: commune (xã) hoặc monitor (phòng).")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Ghi ra tệp .ics (mặc định: in ra màn hình).")
@click.option("--alarm-days", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Nhắc trước hạn bao nhiêu ngày làm việc.")
@click.pass_context
def ics(ctx: click.Context, year: int | None, kind: str | None, output: Path | None, alarm_days: int) -> None:
    """Xuất lịch ra tệp iCalendar (.ics) để nhập vào Google Calendar, Outlook, Thunderbird."""
    from reminder_service.services.present.ics import calendar_to_ics

    app = app_of(ctx)
    stamp = clock.now()
    year = year or stamp.year
    _check_kind(app, year, kind)
    cal = app.calendar(year)
    data = calendar_to_ics(cal, cal.for_kind(kind), app.workdays, unit_kind_names=cal.directive.unit_kinds,
                           alarm_working_days=alarm_days, stamp=stamp)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise UserError(f"không ghi được tệp {output} ({os_reason(exc)}); hãy chọn thư mục có quyền ghi.") from None
    events = data.count(b"BEGIN:VEVENT")
    click.echo(f"Đã ghi {events} hạn nộp vào {output}.")


@calendar.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def lint(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Kiểm tra tệp văn bản hướng dẫn (YAML) và báo những điểm bất thường của văn bản.

    Không ghi FILES: kiểm tra mọi văn bản đang dùng. Lỗi làm tệp không dùng được: mã thoát 2;
    chỉ có cảnh báo: mã thoát 0.
    """
    app = app_of(ctx)
    directives: list[Directive] = [load_directive(path) for path in files] if files else [
        version for directive_id in app.library.ids for version in app.library.versions(directive_id)
    ]
    for directive in directives:
        findings = lint_directive(directive, app.workdays)
        where = directive.path.relative_to(BUILTIN_DIRECTIVES.parent.parent) if (
            directive.path and directive.path.is_relative_to(BUILTIN_DIRECTIVES.parent.parent)) else directive.path
        warnings = sum(f.severity == "warning" for f in findings)
        click.echo(f"{where}: văn bản \"{directive.id}\" năm {directive.year} — hợp lệ, {warnings} cảnh báo")
        for finding in findings:
            click.echo(f"  dòng {finding.line}: {_SEVERITY[finding.severity]}: {finding.subject}: {finding.message}")
