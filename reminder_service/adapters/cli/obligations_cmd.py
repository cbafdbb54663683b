"""``reminder-service obligations sync|add``: what each unit owes, per year."""

from __future__ import annotations

import re
from datetime import date

import click
from sqlalchemy import func, select

from calendars.rules import DateRange
from calendars.words import dmy
from reminder_service.adapters.cli.base import DayType, KindType, ViGroup, YearType, cli_actor, db_app_of
from reminder_service.config import parse_day
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError
from reminder_service.services.db.models import Obligation, Unit
from reminder_service.services.obligations import add_adhoc, next_adhoc_code, sync_obligations

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@click.group(cls=ViGroup)
def obligations() -> None:
    """Nghĩa vụ báo cáo của từng đơn vị theo năm."""


@obligations.command()
@click.option("--year", "-y", "years", type=YearType(), multiple=True,
              help="Năm cần đồng bộ (có thể ghi nhiều lần; mặc định: năm nay).")
@click.pass_context
def sync(ctx: click.Context, years: tuple[int, ...]) -> None:
    """Tạo hoặc cập nhật nghĩa vụ theo lịch văn bản cho mọi đơn vị đang hoạt động.

    Chạy lại bao nhiêu lần cũng được; không bao giờ xóa nghĩa vụ hay lần nộp đã ghi.
    """
    app = db_app_of(ctx)
    now = clock.now()
    for year in years or (now.year,):
        with app.session() as session:
            result = sync_obligations(session, app.calendar(year), cli_actor(), now)
        click.echo(f"Năm {year}: thêm {result.created}, cập nhật {result.updated}, "
                   f"ngừng theo dõi {result.deactivated}, giữ nguyên {result.unchanged} nghĩa vụ.")


def _window(text: str | None) -> DateRange | None:
    if text is None:
        return None
    parts = text.split("..")
    days = [parse_day(p) for p in parts] if len(parts) == 2 else []
    if len(days) != 2 or days[0] is None or days[1] is None:
        raise click.BadParameter(f'"{text}" không hợp lệ; hãy ghi dạng 01/12/2026..14/12/2026', param_hint="--window")
    start, end = days[0], days[1]
    if start > end:
        raise click.BadParameter(f"ngày bắt đầu {dmy(start)} sau ngày kết thúc {dmy(end)}", param_hint="--window")
    return DateRange(start, end)


@obligations.command()
@click.option("--title", required=True, help='Tên báo cáo, ví dụ "Báo cáo bổ sung số liệu CCHC năm 2026".')
@click.option("--units", "unit_codes", help="Mã các đơn vị phải nộp, cách nhau bằng dấu phẩy.")
@click.option("--kind", type=KindType("commune", "monitor"), help="Hoặc: mọi đơn vị đang hoạt động thuộc loại này.")
@click.option("--deadline", required=True, type=DayType(), help="Hạn nộp, ví dụ 20/12/2026.")
@click.option("--window", help="Thời gian chốt số liệu, ví dụ 01/12/2026..14/12/2026.")
@click.option("--id", "code", help="Mã nghĩa vụ (chữ thường không dấu); mặc định adhoc1, adhoc2…")
@click.option("--year", "-y", type=YearType(), help="Năm báo cáo (mặc định: năm của hạn nộp).")
@click.pass_context
def add(ctx: click.Context, title: str, unit_codes: str | None, kind: str | None, deadline: date,
        window: str | None, code: str | None, year: int | None) -> None:
    """Tạo nghĩa vụ báo cáo đột xuất hoặc bổ sung cho các đơn vị được chọn."""
    if (unit_codes is None) == (kind is None):
        raise click.UsageError("hãy chọn đúng một trong --units hoặc --kind", ctx)
    if not title.strip():
        raise click.BadParameter("tên báo cáo không được để trống", param_hint="--title")
    if code is not None and not _CODE.match(code):
        raise click.BadParameter(f'"{code}" không hợp lệ; chỉ dùng chữ thường không dấu, số, dấu gạch dưới',
                                 param_hint="--id")
    span = _window(window)
    app = db_app_of(ctx)
    now = clock.now()
    report_year = year or deadline.year
    with app.session() as session:
        if unit_codes is not None:
            wanted = [c.strip().lower() for c in unit_codes.split(",") if c.strip()]
            found = session.scalars(select(Unit).where(func.lower(Unit.code).in_(wanted))).all()
            missing = sorted(set(wanted) - {u.code.lower() for u in found})
            if missing:
                raise UserError(f"không có đơn vị mã: {', '.join(missing)}; xem: reminder-service units list")
            chosen = list(found)
        else:
            chosen = list(session.scalars(select(Unit).where(Unit.kind == kind, Unit.active.is_(True))).all())
        inactive = [u.code for u in chosen if not u.active]
        if inactive:
            raise UserError(f"đơn vị đã ngừng hoạt động: {', '.join(inactive)}")
        if not chosen:
            raise UserError(f'không có đơn vị nào đang hoạt động thuộc loại "{kind}"')
        obligation_code = code or next_adhoc_code(session, report_year)
        taken = session.scalar(select(func.count()).select_from(Obligation).where(
            Obligation.year == report_year, Obligation.code == obligation_code))
        if taken:
            raise UserError(f'mã nghĩa vụ "{obligation_code}" năm {report_year} đã được dùng; hãy chọn --id khác')
        add_adhoc(session, code=obligation_code, title=title.strip(), units=chosen, year=report_year,
                  deadline=deadline, window=span, workdays=app.workdays, actor=cli_actor(), now=now)
    effective = app.workdays.effective_deadline(deadline)
    click.echo(f'Đã tạo nghĩa vụ "{obligation_code}" năm {report_year} cho {len(chosen)} đơn vị; '
               f"hạn nộp {dmy(deadline)}, hạn thực tế {dmy(effective)}.")
