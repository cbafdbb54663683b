"""The demo district behind `make run`: a living picture, loaded idempotently, on both engines."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, Person, Submission, Unit
from reminder_service.services.demo import load_demo, outcome

NOW = datetime(2026, 11, 25, 9, 0)


def test_demo_loads_a_district_with_a_mix_of_submissions(app: App) -> None:
    summary = load_demo(app, Actor("demo", "cli"), NOW)
    assert "26 đơn vị mới" in summary
    with app.session() as session:
        kinds = dict(session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
        assert kinds == {"commune": 20, "monitor": 6}
        roles = dict(session.execute(select(Person.role, func.count()).group_by(Person.role)).all())
        assert roles == {"unit_head": 26, "focal": 26, "receiver": 1, "leadership": 1}
        received = session.scalars(select(Submission).join(Obligation).where(Obligation.year == 2026)).all()
        owed = session.scalar(select(func.count()).select_from(Obligation).where(
            Obligation.year == 2026, Obligation.effective_deadline < date(2026, 11, 25)))
        states = {s.state for s in received}
        waived = session.scalar(select(func.count()).select_from(Obligation).where(
            Obligation.year == 2026, Obligation.waived_reason.is_not(None)))
        late = [s for s in received
                if s.obligation.effective_deadline and s.received_at.date() > s.obligation.effective_deadline]
    assert owed is not None and 0.6 * owed < len(received) < owed  # most sent, some missing
    assert {"accepted", "incomplete"} <= states
    assert waived == 1
    assert late, "some demo units must be late"
    assert all(s.received_at.date() < date(2026, 11, 25) for s in received)


def test_loading_the_demo_twice_adds_nothing(app: App) -> None:
    load_demo(app, Actor("demo", "cli"), NOW)
    with app.session() as session:
        before = session.scalar(select(func.count()).select_from(Submission))
    summary = load_demo(app, Actor("demo", "cli"), NOW)
    assert "0 đơn vị mới, 0 cán bộ" in summary and "0 lần nộp báo cáo mới" in summary
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == before


def test_outcomes_are_fixed_per_unit_and_report() -> None:
    assert outcome("XA_AN_BINH", "q1", 2026) == outcome("XA_AN_BINH", "q1", 2026)
    kinds = {outcome(f"U{i}", "q1", 2026).kind for i in range(200)}
    assert kinds == {"on_time", "late", "missing"}
