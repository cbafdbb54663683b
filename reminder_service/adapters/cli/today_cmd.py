"""``reminder-service today``: this year's calendar, where each deadline stands today and, when the
database is initialised, who has submitted and who is overdue."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy.exc import SQLAlchemyError

from calendars.agenda import agenda
from reminder_service.adapters.cli.base import DayType, ViCommand, app_of
from reminder_service.app import App
from reminder_service.domain import clock
from reminder_service.services.db.engine import is_current
from reminder_service.services.present.calendar_view import calendar_table
from reminder_service.services.present.status_view import overdue_table, summary_table
from reminder_service.services.present.today_view import today_text
from reminder_service.services.readside import Filters, overdue_rows, status_rows


def _picture(app: App, today: date) -> str | None:
    """The database's picture of this year, or None when there is no initialised database."""
    # A malformed database URL is the user's to fix (UserError, reported by the CLI); an unreachable or
    # empty database only means there is no picture yet.
    try:
        if not is_current(app.engine):
            return None
    except SQLAlchemyError:
        return None
    due_soon = app.config.status.due_soon_working_days
    with app.session() as session:
        year_rows = status_rows(session, Filters(as_of=today, year=today.year), app.workdays, due_soon)
        # Last year's arrears count too, as in `overdue` and the daily digest: a report still missing
        # in January is still late.
        late_rows = overdue_rows(session, Filters(as_of=today, year=None), app.workdays, due_soon)
    return f"{summary_table(year_rows, today.year, today)}\n{overdue_table(late_rows, today)}"


@click.command(cls=ViCommand)
@click.option("--as-of", "as_of", type=DayType(), help="Xem tình hình tại ngày này thay vì hôm nay (25/11/2026).")
@click.pass_context
def today(ctx: click.Context, as_of: date | None) -> None:
    """Lịch năm nay, tình hình các hạn nộp và các đơn vị quá hạn."""
    app = app_of(ctx)
    day = as_of or clock.today()
    this_year = app.calendar(day.year)
    next_year = app.calendar(day.year + 1)
    click.echo(calendar_table(this_year, None))
    standings = agenda(list(this_year.obligations + next_year.obligations), day, app.workdays)
    picture = _picture(app, day)
    click.echo(today_text(day, standings, this_year.directive.unit_kinds, day.year, with_units=picture is not None),
               nl=False)
    click.echo()
    click.echo(picture or "Chưa có cơ sở dữ liệu đơn vị và báo cáo đã nhận; hãy chạy: reminder-service init --demo "
                          "(dữ liệu mẫu) hoặc reminder-service init rồi reminder-service units import TỆP.\n", nl=False)
