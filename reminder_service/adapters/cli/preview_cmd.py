"""``reminder-service preview``: one reminder exactly as its recipient would read it; nothing is sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.words import dmy
from reminder_service.adapters.cli.base import ChoiceType, DayType, ViCommand, YearType, db_app_of
from reminder_service.adapters.cli.lookup import find_person
from reminder_service.app import App
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError
from reminder_service.domain.escalation.decide import leadership_reachable
from reminder_service.domain.escalation.ladder import first_date
from reminder_service.domain.escalation.policy import ROLE_NAMES, Stage
from reminder_service.domain.messages.context import reminder_context
from reminder_service.domain.messages.render import Rendered, render_reminder
from reminder_service.services.db.models import Obligation, Person, Submission, Unit
from reminder_service.services.reconcile import load_recipients
from reminder_service.services.registry.people import ROLE_LABELS
from reminder_service.services.submissions import find_obligation
from reminder_service.services.summaries import preview_summary


def _person(session: Session, unit: Unit, role: str) -> Person | None:
    """The first active person in the role: the unit's own for unit roles, anyone's for the office's."""
    query = select(Person).where(Person.role == role, Person.active.is_(True)).order_by(Person.id).limit(1)
    if role in ("unit_head", "focal"):
        query = query.where(Person.unit_id == unit.id)
    return session.scalar(query)


def _incomplete_mark(session: Session, obligation: Obligation) -> Submission | None:
    return session.scalar(
        select(Submission)
        .where(Submission.obligation_id == obligation.id, Submission.state == "incomplete")
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(1)
    )


def _stage(app: App, name: str) -> Stage:
    """A stage of the configured ladder (a custom [escalation] ladder included)."""
    try:
        return app.config.escalation.stage(name.strip().lower())
    except KeyError:
        policy = app.config.escalation
        known = ", ".join(s.name for s in (*policy.stages, *policy.incomplete_stages))
        raise click.BadParameter(f'"{name}" không hợp lệ; chọn một trong: {known}', param_hint="--stage") from None


def _stage_day(app: App, obligation: Obligation, stage: Stage, marked: date | None) -> date:
    """The day the stage first falls for this obligation, so the preview reads as it will then."""
    day = first_date(stage, obligation.nominal_deadline, obligation.effective_deadline, marked, app.workdays)
    return day or clock.today()


SUMMARIES = {"digest": "tổng hợp hằng ngày", "weekly": "tổng hợp hằng tuần", "rollup": "báo cáo lãnh đạo trong ngày"}


@click.command(cls=ViCommand)
@click.option("--unit", "unit_code", metavar="MÃ", help="Mã đơn vị, ví dụ XA_AN_BINH.")
@click.option("--obligation", "obligation_id", metavar="MÃ",
              help="Mã báo cáo (plan, q1, h1, q3, annual, adhoc1…) hoặc số hiệu của nghĩa vụ.")
@click.option("--year", type=YearType(), help="Năm báo cáo (mặc định: năm của --as-of, hoặc năm nay).")
@click.option("--stage", "stage_name",
              help="Bước nhắc theo cấu hình; mặc định có: notice, reminder, due_today, overdue, escalated, "
                   "incomplete, incomplete_reminder.")
@click.option("--channel", type=ChoiceType("email", "telegram"), default="email", show_default=True,
              help="Kênh gửi.")
@click.option("--as-of", type=DayType(),
              help="Ngày gửi giả định, ví dụ 16/03/2021 (mặc định: ngày bước nhắc này đến lượt theo lịch).")
@click.option("--role", type=ChoiceType(*ROLE_NAMES), default="unit_head", show_default=True,
              help="Người nhận: unit_head (thủ trưởng), focal (đầu mối), receiver (Phòng Nội vụ), leadership.")
@click.option("--html", "show_html", is_flag=True,
              help="In phần HTML (e-mail) hoặc bản có định dạng (Telegram) thay cho phần văn bản thường.")
@click.option("--digest", "summary", flag_value="digest",
              help="Xem bản tổng hợp hằng ngày (gửi cán bộ tiếp nhận) thay cho một tin nhắc.")
@click.option("--weekly", "summary", flag_value="weekly", help="Xem bản tổng hợp hằng tuần (gửi lãnh đạo).")
@click.option("--rollup", "summary", flag_value="rollup",
              help="Xem báo cáo lãnh đạo trong ngày: mọi đơn vị bị đôn đốc hôm đó, trong một tin.")
@click.option("--person", metavar="NGƯỜI",
              help="Với --digest/--weekly/--rollup: người nhận (số, thư điện tử hoặc họ tên; mặc định: người "
                   "đầu tiên có vai trò phù hợp).")
@click.pass_context
def preview(ctx: click.Context, unit_code: str | None, obligation_id: str | None, year: int | None,
            stage_name: str | None, channel: str, as_of: date | None, role: str, show_html: bool,
            summary: str | None, person: str | None) -> None:
    """Xem trước một tin nhắn đúng như người nhận sẽ đọc; không gửi gì cả.

    \b
    Một tin nhắc:     --unit MÃ --obligation MÃ --stage BƯỚC [--as-of NGÀY]
    Một bản tổng hợp: --digest | --weekly | --rollup [--person NGƯỜI] [--as-of NGÀY]
    """
    app = db_app_of(ctx)
    if summary is not None:
        _show(_summary_preview(ctx, app, summary, person, as_of or clock.today(), channel), channel, show_html)
        return
    missing = [name for name, value in (("--unit", unit_code), ("--obligation", obligation_id),
                                        ("--stage", stage_name)) if not value]
    if missing:
        raise click.UsageError(f"thiếu {', '.join(missing)}: để xem một tin nhắc cần --unit, --obligation và "
                               "--stage; để xem bản tổng hợp dùng --digest, --weekly hoặc --rollup", ctx)
    assert unit_code is not None and obligation_id is not None and stage_name is not None
    stage = _stage(app, stage_name)
    report_year = year or (as_of or clock.today()).year
    with app.session() as session:
        obligation = find_obligation(session, unit_code, obligation_id, report_year)
        unit = obligation.unit
        recipient = _person(session, unit, role)
        mark = _incomplete_mark(session, obligation) if stage.anchor == "marked" else None
        marked = mark.marked_at.date() if mark is not None and mark.marked_at is not None else None
        today = as_of or _stage_day(app, obligation, stage, marked or clock.today())
        context = replace(reminder_context(
            obligation, unit, recipient, calendar=app.calendar(obligation.year), office_name=app.config.office_name,
            today=today, workdays=app.workdays, role=role, missing=mark.missing if mark is not None else None,
        ), leadership_informed="leadership" in stage.roles and leadership_reachable(
            load_recipients(session, office_only=True)[1], stage.channels))
    rendered = render_reminder(context, stage.template_name, channel)
    if recipient is None:
        whose = f" của đơn vị {unit.code}" if role in ("unit_head", "focal") else ""
        placeholder = ' "Ông/Bà Thủ trưởng đơn vị"' if role == "unit_head" else ""
        click.echo(f"Lưu ý: chưa có {ROLE_LABELS[role].lower()}{whose} trong danh bạ; tin nhắn dùng lời chào chung"
                   f"{placeholder}.", err=True)
    _show(rendered, channel, show_html)


def _show(rendered: Rendered, channel: str, show_html: bool) -> None:
    if show_html:
        click.echo(rendered.html)
    elif channel == "email":
        click.echo(f"Tiêu đề: {rendered.subject}\n\n{rendered.text}")
    else:
        click.echo(rendered.text)


def _summary_preview(ctx: click.Context, app: App, kind: str, person_key: str | None, day: date,
                     channel: str) -> Rendered:
    policy = app.config.escalation
    roles = policy.digest_roles if kind == "digest" else policy.weekly_roles if kind == "weekly" else ("leadership",)
    with app.session() as session:
        _, office = load_recipients(session, office_only=True)
        if person_key is not None:
            wanted = find_person(session, person_key, ctx)
            chosen = next((r for r in office if r.person_id == wanted.id), None)
            if chosen is None:
                raise click.BadParameter(f"{wanted.name} không thuộc Phòng Nội vụ hay lãnh đạo; bản tổng hợp chỉ gửi "
                                         "cán bộ tiếp nhận và lãnh đạo", param_hint="--person")
        else:
            chosen = next((r for r in office if r.role in roles), None)
            if chosen is None:
                raise click.UsageError(f"chưa có ai nhận {SUMMARIES[kind]} trong danh bạ; thêm bằng: reminder-service "
                                       "people add", ctx)
        rendered = preview_summary(
            session, kind, chosen, channel, policy=policy, workdays=app.workdays,
            due_soon=app.config.status.due_soon_working_days, today=day, office_name=app.config.office_name,
            issuer=app.calendar(day.year).directive.issued_by, everyone=office)
    if rendered is None:
        raise UserError(f"ngày {dmy(day)} không có đơn vị nào bị đôn đốc nên không có {SUMMARIES[kind]}; "
                        "hãy chọn ngày khác bằng --as-of")
    return rendered
