"""``reminder-service simulate``: every message the service would send over a period, sending none."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.words import dmy
from reminder_service.adapters.cli.base import (
    ChoiceType,
    DayType,
    ViCommand,
    YearType,
    db_app_of,
    parse_received,
)
from reminder_service.domain.errors import UserError
from reminder_service.services.db.models import Obligation, Submission, Unit
from reminder_service.services.present.table import render
from reminder_service.services.present.words import STAGE_WORDS
from reminder_service.services.reconcile import load_recipients
from reminder_service.services.registry.people import ROLE_LABELS
from reminder_service.services.simulate import SimMessage, SimObligation, SimSubmission, simulate


def _obligations(session: Session, year: int) -> list[SimObligation]:
    rows = session.execute(
        select(Obligation.id, Obligation.unit_id, Unit.code, Obligation.code, Obligation.year,
               Obligation.nominal_deadline, Obligation.effective_deadline, Obligation.waived_reason)
        .join(Unit, Obligation.unit_id == Unit.id)
        .where(Obligation.year == year, Obligation.active.is_(True), Unit.active.is_(True))
    ).all()
    return [SimObligation(oid, uid, ucode, code, y, nominal, effective, waived is not None)
            for oid, uid, ucode, code, y, nominal, effective, waived in rows]


def _db_submissions(session: Session, year: int) -> dict[int, list[SimSubmission]]:
    found: dict[int, list[SimSubmission]] = defaultdict(list)
    for oid, sid, received_at, state, marked_at in session.execute(
        select(Submission.obligation_id, Submission.id, Submission.received_at, Submission.state,
               Submission.marked_at)
        .join(Obligation).where(Obligation.year == year, Submission.state != "reverted")
        .order_by(Submission.received_at)
    ):
        found[oid].append(SimSubmission(received_at, state, sid, marked_at))
    return found


def _file_submissions(path: Path, obligations: list[SimObligation]) -> dict[int, list[SimSubmission]]:
    """CSV ``unit,obligation,year,received``: every line checked, all errors reported together."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"không đọc được tệp {path} ({exc.__class__.__name__}); cần tệp CSV mã UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    needed = {"unit", "obligation", "year", "received"}
    if reader.fieldnames is None or not needed <= {f.strip() for f in reader.fieldnames}:
        raise UserError(f"tệp {path}, dòng 1: cần các cột unit,obligation,year,received")
    by_key = {(o.unit_code.lower(), o.code, o.year): o.obligation_id for o in obligations}
    found: dict[int, list[SimSubmission]] = defaultdict(list)
    problems = []
    for line, row in enumerate(reader, start=2):
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        try:
            received = parse_received(values["received"])
        except click.BadParameter:
            problems.append(f"dòng {line}: ngày nhận \"{values['received']}\" không hợp lệ (ví dụ 12/03/2021)")
            continue
        year = int(values["year"]) if values["year"].isdigit() else None
        key = (values["unit"].lower(), values["obligation"].lower(), year)
        if key not in by_key:
            problems.append(f"dòng {line}: không có nghĩa vụ {values['obligation']} năm {values['year']} của đơn vị "
                            f"{values['unit']} trong cơ sở dữ liệu")
            continue
        found[by_key[key]].append(SimSubmission(received))
    if problems:
        raise UserError(f"tệp {path} có lỗi, chưa mô phỏng:\n  " + "\n  ".join(problems))
    for items in found.values():
        items.sort(key=lambda s: s.received_at)
    return found


def _json(messages: list[SimMessage]) -> str:
    return json.dumps([
        {"at": m.at.isoformat() + "+07:00", "unit": m.unit, "obligation": m.obligation, "year": m.year,
         "stage": m.stage, "role": m.role, "person": m.person, "channel": m.channel, "skipped": m.skipped}
        for m in messages], ensure_ascii=False, indent=1)


@click.command(name="simulate", cls=ViCommand)
@click.option("--year", "-y", type=YearType(), required=True, help="Năm báo cáo cần mô phỏng.")
@click.option("--from", "start", type=DayType(), help="Từ ngày (mặc định: 01/01 của năm).")
@click.option("--to", "end", type=DayType(), help="Đến ngày (mặc định: 31/12 của năm).")
@click.option("--submissions", "file", type=click.Path(path_type=Path, dir_okay=False),
              help="Tệp CSV unit,obligation,year,received: các lần nộp xảy ra trong lúc mô phỏng "
                   "(mặc định: dùng số liệu trong cơ sở dữ liệu).")
@click.option("--format", "-f", "output", type=ChoiceType("table", "json"), default="table", show_default=True)
@click.pass_context
def simulate_cmd(ctx: click.Context, year: int, start: date | None, end: date | None, file: Path | None,
                 output: str) -> None:
    """Mô phỏng từng ngày: liệt kê mọi tin nhắn sẽ được gửi, không gửi tin nào."""
    first, last = start or date(year, 1, 1), end or date(year, 12, 31)
    if first > last:
        raise click.BadParameter(f"ngày bắt đầu {dmy(first)} sau ngày kết thúc {dmy(last)}", param_hint="--from")
    app = db_app_of(ctx)
    with app.session() as session:
        obligations = _obligations(session, year)
        if not obligations:
            raise UserError(f"chưa có nghĩa vụ năm {year}; hãy chạy: reminder-service obligations sync --year {year}")
        submissions = _file_submissions(file, obligations) if file else _db_submissions(session, year)
        by_unit, everyone = load_recipients(session)
    messages = simulate(obligations, submissions, by_unit, everyone, policy=app.config.escalation,
                        workdays=app.workdays, start=first, end=last,
                        due_soon=app.config.status.due_soon_working_days)
    if output == "json":
        click.echo(_json(messages))
        return
    rows = [(f"{m.at:%d/%m/%Y %H:%M}", m.unit, f"{m.obligation} {m.year}", STAGE_WORDS.get(m.stage, m.stage),
             m.person, ROLE_LABELS.get(m.role, m.role), m.channel + (f" (bỏ qua: {m.skipped})" if m.skipped else ""))
            for m in messages]
    click.echo(render(("Thời điểm", "Đơn vị", "Nghĩa vụ", "Bậc nhắc", "Người nhận", "Vai trò", "Kênh"), rows))
    sent = sum(1 for m in messages if not m.skipped)
    click.echo(f"\nTừ {dmy(first)} đến {dmy(last)}: {sent} tin nhắn sẽ được gửi, "
               f"{len(messages) - sent} bị bỏ qua vì người nhận chưa có địa chỉ. Không tin nào được gửi thật.")
