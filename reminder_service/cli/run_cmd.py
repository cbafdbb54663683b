"""``reminder-service run``: the service's main job.

Until the daemon exists, it prints this year's calendar and where each obligation stands today.
"""

from __future__ import annotations

from datetime import date

import click

from calendars.agenda import agenda
from reminder_service import clock
from reminder_service.cli.base import DayType, app_of
from reminder_service.present.calendar_view import calendar_table
from reminder_service.present.today_view import today_text


@click.command()
@click.option("--as-of", "as_of", type=DayType(), help="Xem tình hình tại ngày này thay vì hôm nay (25/11/2026).")
@click.pass_context
def run(ctx: click.Context, as_of: date | None) -> None:
    """Chạy dịch vụ: in lịch năm nay và tình hình các hạn nộp hôm nay."""
    app = app_of(ctx)
    today = as_of or clock.today()
    this_year = app.calendar(today.year)
    next_year = app.calendar(today.year + 1)
    click.echo(calendar_table(this_year, None))
    standings = agenda(list(this_year.obligations + next_year.obligations), today, app.workdays)
    click.echo(today_text(today, standings, this_year.directive.unit_kinds, today.year), nl=False)
