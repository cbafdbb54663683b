"""``reminder-service submissions record|incomplete|waive``: what Home Affairs received."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click
from sqlalchemy.orm import Session

from reminder_service.adapters.cli.base import ViGroup, YearType, cli_actor, db_app_of, parse_received
from reminder_service.domain import clock
from reminder_service.services.db.models import Obligation
from reminder_service.services.submissions import find_obligation, mark_incomplete, record_submission, waive


def _target() -> list[click.Option]:
    return [
        click.Option(["--unit", "-u"], required=True, help="Mã đơn vị, ví dụ XA_AN_BINH."),
        click.Option(["--obligation", "-o"], required=True,
                     help="Mã nghĩa vụ (plan, q1, h1, q3, annual, …) hoặc số id."),
        click.Option(["--year", "-y"], type=YearType(), help="Năm báo cáo (mặc định: năm nay)."),
    ]


def _change(ctx: click.Context, unit: str, obligation: str, year: int | None,
            action: Callable[[Session, Obligation, datetime], object]) -> str:
    """Find the unit's obligation, apply ``action`` in one transaction; returns how to name it."""
    app = db_app_of(ctx)
    now = clock.now()
    with app.session() as session:
        target = find_obligation(session, unit, obligation, year or now.year)
        action(session, target, now)
        return f"{target.title} của {target.unit.name}"


@click.group(cls=ViGroup)
def submissions() -> None:
    """Báo cáo đã nhận: ghi nhận, đánh dấu thiếu, miễn nộp, nhập sổ văn bản đến."""


# The group's other commands live with their own concern (corrections_cmd, register_cmd); the root
# (cli/__init__.py) attaches them, so that no command module imports another.


@submissions.command(params=_target())
@click.option("--received", "-r", required=True, help="Ngày (giờ) Phòng Nội vụ nhận: 12/03/2021 hoặc 2021-03-12T14:30.")
@click.option("--doc-no", help='Số ký hiệu văn bản, ví dụ "45/BC-UBND".')
@click.option("--note", help="Ghi chú.")
@click.pass_context
def record(ctx: click.Context, unit: str, obligation: str, year: int | None, received: str,
           doc_no: str | None, note: str | None) -> None:
    """Ghi nhận một báo cáo đã nhận."""
    received_at = parse_received(received)
    app = db_app_of(ctx)
    now = clock.now()
    with app.session() as session:
        target = find_obligation(session, unit, obligation, year or now.year)
        result = record_submission(session, target, received_at=received_at, doc_no=doc_no, note=note,
                                   actor=cli_actor(), now=now)
        subject = f"{target.title} của {target.unit.name}"
    if result.created:
        click.echo(f"Đã ghi nhận {subject}, nhận ngày {received_at:%d/%m/%Y %H:%M}.")
    else:
        click.echo(f"{subject} đã được ghi nhận trước đó (cùng số ký hiệu và ngày nhận); không ghi thêm.")


@submissions.command(params=_target())
@click.option("--missing", "-m", required=True, help='Còn thiếu gì, ví dụ "Phụ lục 3B mục 7.1".')
@click.pass_context
def incomplete(ctx: click.Context, unit: str, obligation: str, year: int | None, missing: str) -> None:
    """Đánh dấu lần nộp gần nhất là còn thiếu; nghĩa vụ mở lại cho đến khi nộp đủ."""
    subject = _change(ctx, unit, obligation, year, lambda s, o, now: mark_incomplete(s, o, missing, cli_actor(), now))
    click.echo(f"Đã đánh dấu {subject} còn thiếu: {missing.strip()}. Nghĩa vụ được mở lại.")


@submissions.command(name="waive", params=_target())
@click.option("--reason", required=True, help="Lý do miễn nộp.")
@click.pass_context
def waive_cmd(ctx: click.Context, unit: str, obligation: str, year: int | None, reason: str) -> None:
    """Miễn nộp một nghĩa vụ cho một đơn vị (kèm lý do)."""
    subject = _change(ctx, unit, obligation, year, lambda s, o, now: waive(s, o, reason, cli_actor(), now))
    click.echo(f"Đã miễn nộp {subject}. Lý do: {reason.strip()}.")

