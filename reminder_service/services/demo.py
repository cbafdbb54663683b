"""The demo organisation for `make run`: a fictional district with a living year of submissions.

Huyện Sông Lam is invented: twenty communes and towns, the six monitoring offices of the directive,
their heads and focal officers, a Phòng Nội vụ receiver and a leader. Submissions for the current year
are a deterministic mix — mostly on time, some late, some missing, one incomplete, one waived — so that
`status`, `overdue` and the timeliness report show something worth reading. Loading it twice changes
nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, Office, Person, Unit
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.submissions import mark_incomplete, record_submission, waive
from reminder_service.services.workspace import Workspace

UNITS_FILE = Path(__file__).resolve().parent / "demo_data" / "units.csv"
OFFICE = "Phòng Nội vụ huyện Sông Lam"
STAFF = (
    ("Nguyễn Thị Thanh", "receiver", "noivu@songlam.example"),
    ("Lê Văn Quyết", "leadership", "chutich.huyen@songlam.example"),
)
INCOMPLETE = ("VHTT", "q3", "Phụ lục 3B mục 7.1 (Ứng dụng công nghệ thông tin)")
WAIVED = ("XA_VINH_LOI", "h1", "Xã đang thực hiện sắp xếp đơn vị hành chính; được miễn nộp theo chỉ đạo của UBND huyện")


@dataclass(frozen=True)
class Outcome:
    """What the demo unit did about one obligation: on time, late by N working days, or nothing."""

    kind: str
    working_days: int = 0


def outcome(unit_code: str, obligation_code: str, year: int) -> Outcome:
    """A fixed, varied choice per (unit, obligation): about 70% on time, 20% late, 10% missing."""
    digest = hashlib.sha256(f"{unit_code}/{obligation_code}/{year}".encode()).digest()
    roll = digest[0] % 20
    if roll < 14:
        return Outcome("on_time", digest[1] % 4)
    if roll < 18:
        return Outcome("late", 1 + digest[1] % 6)
    return Outcome("missing")


def received_on(effective: date, result: Outcome, workdays: WorkCalendar) -> date | None:
    if result.kind == "on_time":
        return workdays.shift(effective, -result.working_days) if result.working_days else effective
    if result.kind == "late":
        return workdays.shift(effective, result.working_days)
    return None


def _staff(session: Session) -> int:
    added = 0
    if session.scalar(select(Office.id)) is None:
        session.add(Office(name=OFFICE))
    for name, role, email in STAFF:
        if session.scalar(select(Person.id).where(Person.name == name, Person.role == role)) is None:
            session.add(Person(name=name, role=role, email=email, channels=("email",), source="manual"))
            added += 1
    return added


def _submissions(session: Session, year: int, today: date, workdays: WorkCalendar, actor: Actor,
                 now: datetime) -> int:
    rows = session.execute(
        select(Unit.code, Obligation).join(Unit).where(Obligation.year == year, Obligation.active.is_(True))
    ).all()
    recorded = 0
    for unit_code, obligation in rows:
        effective = obligation.effective_deadline
        if effective is None:
            continue
        result = outcome(unit_code, obligation.code, year)
        day = received_on(effective, result, workdays)
        if day is None or day >= today:
            continue  # not sent yet, or the demo would be inventing the future
        doc_no = f"{10 + sum(map(ord, unit_code + obligation.code)) % 80}/BC-{unit_code.split('_')[0]}"
        hour = 8 + sum(map(ord, obligation.code)) % 9
        done = record_submission(session, obligation, received_at=datetime.combine(day, time(hour, 15)),
                                 doc_no=doc_no, note=None, actor=actor, now=now)
        recorded += done.created
    return recorded


def _special_cases(session: Session, year: int, today: date, actor: Actor, now: datetime) -> None:
    for (unit_code, code, text), mark in ((INCOMPLETE, "incomplete"), (WAIVED, "waive")):
        obligation = session.scalar(select(Obligation).join(Unit).where(
            Unit.code == unit_code, Obligation.code == code, Obligation.year == year))
        if obligation is None or obligation.effective_deadline is None or obligation.effective_deadline >= today:
            continue
        if mark == "waive" and obligation.waived_reason is None:
            waive(session, obligation, text, actor, now)
        accepted = [s for s in obligation.submissions if s.state == "accepted"]
        if mark == "incomplete" and accepted and not any(s.state == "incomplete" for s in obligation.submissions):
            mark_incomplete(session, obligation, text, actor, now)


def load_demo(app: Workspace, actor: Actor, now: datetime) -> str:
    """Load (or top up) the demo district; returns a one-paragraph Vietnamese summary."""
    from reminder_service.services.registry import import_units_file

    today = now.date()
    imported = import_units_file(app, UNITS_FILE, actor, now)
    with app.session() as session:
        staff = _staff(session)
    recorded = 0
    for year in (today.year - 1, today.year):
        with app.session() as session:
            sync_obligations(session, app.calendar(year), actor, now)
        with app.session() as session:
            recorded += _submissions(session, year, today, app.workdays, actor, now)
            _special_cases(session, year, today, actor, now)
    return (
        f"Dữ liệu mẫu ({OFFICE}): {imported} đơn vị mới, {staff} cán bộ Phòng Nội vụ và lãnh đạo mới, "
        f"{recorded} lần nộp báo cáo mới (năm {today.year - 1} và {today.year})."
    )
