"""``reminder-service status``, ``overdue`` and ``report timeliness``: who sent what, who is late."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.adapters.cli.base import (
    ChoiceType,
    DayType,
    KindType,
    ViCommand,
    ViGroup,
    YearType,
    csv_headers_option,
    db_app_of,
)
from reminder_service.adapters.cli.lookup import find_report
from reminder_service.app import App
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError, os_reason
from reminder_service.domain.status import StatusRow
from reminder_service.services.present import status_view as view
from reminder_service.services.readside import (
    Filters,
    known_kinds,
    load_rows,
    overdue_rows,
    status_rows,
    timeliness,
)

F = TypeVar("F", bound=Callable[..., Any])
Loader = Callable[[Session, Filters, WorkCalendar, int], list[StatusRow]]


def _as_of_option(function: F) -> F:
    return click.option(
        "--as-of", type=DayType(),
        help="Xem tình hình tính đến hết ngày này, ví dụ 18/03/2021 (mặc định: hôm nay).",
    )(function)


def _filter_options(function: F) -> F:
    function = _kind_option(function)
    return click.option("--obligation", metavar="MÃ",
                        help="Chỉ báo cáo này: mã (plan, q1, h1, q3, annual, adhoc1…) hoặc tên kỳ, "
                             'ví dụ "quý I", "6 tháng".')(function)


def _kind_option(function: F) -> F:
    return click.option("--kind", "-k", type=KindType(),
                        help="Chỉ đơn vị loại này: commune (hoặc xã, thị trấn) hoặc monitor (hoặc phòng).")(function)


def _format_option(*choices: str) -> Callable[[F], F]:
    described = "table: bảng để đọc; json: cho máy; csv: mở bằng Excel"
    if "xlsx" in choices:
        described += "; xlsx: bảng tính Excel, cần -o"
    def decorate(function: F) -> F:
        function = csv_headers_option(function)
        return click.option("--format", "-f", "output_format", type=ChoiceType(*choices), default="table",
                            help=described + " (mặc định: table).")(function)

    return decorate


def _check_filters(session: Session, app: App, filters: Filters) -> Filters:
    """Refuse a filter that names nothing, rather than print an empty table that looks like good news;
    a report may be named by its code or as people write it ("quý I", "6 tháng")."""
    if filters.kind is not None:
        kinds = set(known_kinds(session))
        for directive in app.directive_versions():
            kinds.update(directive.unit_kinds)
        if filters.kind not in kinds:
            raise click.BadParameter(
                f'không có loại đơn vị "{filters.kind}"; chọn một trong: {", ".join(sorted(kinds))}',
                param_hint="--kind",
            )
    if filters.obligation is not None:
        filters = replace(filters, obligation=find_report(session, filters.obligation, filters.year, filters.as_of))
    return filters


def _filters(as_of: date | None, year: int | None, obligation: str | None, kind: str | None, *,
             one_year: bool = True) -> Filters:
    """``one_year``: without --year, the as-of day's year; otherwise every year up to it."""
    day = as_of or clock.today()
    return Filters(
        as_of=day, year=year if year is not None or not one_year else day.year,
        obligation=obligation.strip().lower() if obligation is not None else None,
        kind=kind.strip().lower() if kind is not None else None,
    )


def _load(ctx: click.Context, filters: Filters, loader: Loader) -> list[StatusRow]:
    app = db_app_of(ctx)
    with app.session() as session:
        filters = _check_filters(session, app, filters)
        return loader(session, filters, app.workdays, app.config.status.due_soon_working_days)


def _emit(output_format: str, rows: Sequence[StatusRow], table: Callable[[], str], headers: str) -> None:
    if output_format == "json":
        click.echo(view.to_json([view.row_json(r) for r in rows]))
    elif output_format == "csv":
        click.echo(view.headed_csv(view.ROW_FIELDS, [view.row_json(r) for r in rows], view.ROW_HEADERS, headers),
                   nl=False)
    else:
        click.echo(table(), nl=False)


@click.command(cls=ViCommand)
@click.option("--year", "-y", type=YearType(), help="Năm báo cáo, ví dụ 2021 (mặc định: năm của ngày xem).")
@_filter_options
@_format_option("table", "json", "csv")
@_as_of_option
@click.pass_context
def status(ctx: click.Context, year: int | None, obligation: str | None, kind: str | None, output_format: str,
           headers: str, as_of: date | None) -> None:
    """Tình hình nộp báo cáo của mọi đơn vị trong một năm: đúng hạn, muộn, quá hạn, còn thiếu."""
    filters = _filters(as_of, year, obligation, kind)
    rows = _load(ctx, filters, status_rows)
    _emit(output_format, rows, lambda: view.status_table(rows, filters.year or filters.as_of.year, filters.as_of),
          headers)


@click.command(cls=ViCommand)
@click.option("--year", "-y", type=YearType(), help="Chỉ năm này (mặc định: mọi năm đến ngày xem).")
@_filter_options
@_format_option("table", "json", "csv")
@_as_of_option
@click.pass_context
def overdue(ctx: click.Context, year: int | None, obligation: str | None, kind: str | None, output_format: str,
            headers: str, as_of: date | None) -> None:
    """Các báo cáo đã quá hạn mà chưa nộp hoặc còn thiếu, quá hạn lâu nhất lên đầu."""
    filters = _filters(as_of, year, obligation, kind, one_year=False)
    rows = _load(ctx, filters, overdue_rows)
    _emit(output_format, rows, lambda: view.overdue_table(rows, filters.as_of), headers)


@click.group(cls=ViGroup)
def report() -> None:
    """Báo cáo tổng hợp cho Phòng Nội vụ."""


@report.command(name="timeliness")
@click.option("--year", "-y", type=YearType(), help="Năm báo cáo, ví dụ 2021 (mặc định: năm của ngày xem).")
@_kind_option
@_format_option("table", "json", "csv", "xlsx")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), metavar="TỆP",
              help="Ghi ra tệp này (bắt buộc với xlsx), ví dụ tong-hop-cchc-2021.xlsx.")
@_as_of_option
@click.pass_context
def timeliness_cmd(ctx: click.Context, year: int | None, kind: str | None, output_format: str, headers: str,
                   output: Path | None, as_of: date | None) -> None:
    """Tổng hợp tình hình nộp báo cáo CCHC của từng đơn vị trong năm, phục vụ bình xét thi đua khen thưởng."""
    if output_format == "xlsx" and output is None:
        raise click.UsageError(
            "định dạng xlsx là tệp bảng tính, không in ra màn hình được; hãy ghi ra tệp bằng -o, "
            f"ví dụ -o tong-hop-cchc-{year or 'nam'}.xlsx", ctx,
        )
    filters = _filters(as_of, year, None, kind)
    report_year = filters.year or filters.as_of.year
    table = timeliness(_load(ctx, filters, load_rows), filters.as_of)
    data: bytes
    if output_format == "xlsx":
        from reminder_service.services.present.timeliness_xlsx import timeliness_xlsx

        data = timeliness_xlsx(table, report_year, filters.as_of)
    elif output_format == "json":
        data = (view.to_json(view.timeliness_records(table)) + "\n").encode()
    elif output_format == "csv":
        data = view.headed_csv(view.TIMELINESS_FIELDS, view.timeliness_records(table), view.TIMELINESS_CSV_HEADERS,
                               headers).encode()
    else:
        data = view.timeliness_table(table, report_year, filters.as_of).encode()
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise UserError(f"không ghi được tệp {output} ({os_reason(exc)}); hãy chọn thư mục có quyền ghi.") from None
    click.echo(f"Đã ghi bảng tổng hợp năm {report_year} của {len(table)} đơn vị vào {output}.")


