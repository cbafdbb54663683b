"""``reminder-service db upgrade`` and ``reminder-service init [--demo]``."""

from __future__ import annotations

from datetime import date, datetime, time

import click
from sqlalchemy.exc import DBAPIError

from reminder_service.adapters.cli.base import DayType, ViCommand, ViGroup, app_of, cli_actor
from reminder_service.domain import clock
from reminder_service.services.db.engine import is_current
from reminder_service.services.db.urls import shown


@click.group(cls=ViGroup)
def db() -> None:
    """Cơ sở dữ liệu: tạo và nâng cấp cấu trúc."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Tạo hoặc nâng cấp cấu trúc cơ sở dữ liệu lên phiên bản mới nhất."""
    app = app_of(ctx)
    try:
        current = is_current(app.engine)
    except DBAPIError:  # unreachable: the upgrade below says so in words
        current = False
    app.upgrade_schema()
    if current:
        click.echo(f"Cơ sở dữ liệu đã ở phiên bản mới nhất, không cần nâng cấp: {shown(app.config.database_url)}")
    else:
        click.echo(f"Đã tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất: {shown(app.config.database_url)}")


@click.command(cls=ViCommand)
@click.option("--demo", is_flag=True, help="Nạp thêm tổ chức mẫu (một huyện giả định) và số liệu nộp báo cáo mẫu.")
@click.option("--as-of", type=DayType(), help="Dữ liệu mẫu tính đến ngày này (mặc định: hôm nay).")
@click.pass_context
def init(ctx: click.Context, demo: bool, as_of: date | None) -> None:
    """Khởi tạo cơ sở dữ liệu (tạo hoặc nâng cấp), tùy chọn nạp dữ liệu mẫu."""
    app = app_of(ctx)
    app.upgrade_schema()
    click.echo(f"Cơ sở dữ liệu sẵn sàng: {shown(app.config.database_url)}")
    if demo:
        from reminder_service.services.demo import load_demo

        now = clock.now()
        if as_of is not None:
            now = datetime.combine(as_of, time(8, 0))
        summary = load_demo(app, cli_actor(), now)
        click.echo(summary)
