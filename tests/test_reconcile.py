"""The reconcile tick on a real database (SQLite and PostgreSQL): ladders, downtime, restarts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, func, select

from reminder_service.app import App
from reminder_service.domain.escalation.decide import Decision, Delivery
from reminder_service.domain.escalation.policy import Policy
from reminder_service.domain.messages.render import Rendered
from reminder_service.services import reconcile
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import LadderStep, Obligation, OutboxMessage, Person
from reminder_service.services.outbox import text as outbox_text
from reminder_service.services.reconcile import TickReport, tick
from reminder_service.services.reminders import TemplateRenderer
from reminder_service.services.submissions import find_obligation, mark_incomplete, record_submission
from tests.district import HEAD, RECEIVER, SETUP, district, person

ACTOR = Actor("test", "cli")


def render(decision: Decision, delivery: Delivery) -> Rendered:
    return Rendered(f"{decision.rung.stage} {decision.obligation_id}", "text", "<b>html</b>")


def _district(app: App) -> None:
    district(app, {**HEAD, "telegram_chat_id": "1001"}, person("Trần Thị Bích", "focal", "bich@songlam.example"),
             RECEIVER)


def _tick(app: App, moment: datetime) -> None:
    with app.session() as session:
        tick(session, policy=Policy(), workdays=app.workdays, due_soon=5, now=moment,
             renderer=lambda _session, _decisions: render)


def _q1_steps(app: App) -> list[tuple[str, int, date, str]]:
    with app.session() as session:
        q1 = find_obligation(session, "XA_AN_BINH", "q1", 2021)
        return [(s.stage, s.occurrence, s.due_on, s.outcome) for s in session.scalars(
            select(LadderStep).where(LadderStep.obligation_id == q1.id).order_by(LadderStep.due_on,
                                                                                 LadderStep.id))]


def test_daily_ticks_walk_the_2021_q1_ladder(app: App) -> None:
    _district(app)
    day = date(2021, 3, 1)
    while day <= date(2021, 3, 26):
        for hour in (8, 11, 16):  # several ticks a day decide each rung once
            _tick(app, datetime.combine(day, time(hour, 5)))
        day += timedelta(days=1)
    assert [(stage, occ, due) for stage, occ, due, outcome in _q1_steps(app) if outcome == "sent"] == [
        ("notice", 0, date(2021, 3, 8)), ("reminder", 0, date(2021, 3, 11)), ("due_today", 0, date(2021, 3, 12)),
        ("overdue", 0, date(2021, 3, 16)), ("escalated", 0, date(2021, 3, 18)), ("escalated", 1, date(2021, 3, 23)),
        ("escalated", 2, date(2021, 3, 26)),
    ]
    with app.session() as session:
        q1 = find_obligation(session, "XA_AN_BINH", "q1", 2021)
        overdue = session.scalars(select(OutboxMessage).where(OutboxMessage.obligation_id == q1.id,
                                                              OutboxMessage.stage == "overdue")).all()
    # Overdue goes to the head (Telegram and e-mail) and a copy to the receiver (e-mail only).
    assert sorted((m.channel, m.address, m.state) for m in overdue) == [
        ("email", "an@songlam.example", "pending"), ("email", "noivu@songlam.example", "pending"),
        ("telegram", "1001", "pending")]


def test_ten_days_of_downtime_send_one_message_per_ladder(app: App) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 5, 9))  # the last tick before the outage: nothing due yet for Q1
    _tick(app, datetime(2021, 3, 17, 9))  # back after ten days
    steps = _q1_steps(app)
    assert [(stage, outcome) for stage, _, _, outcome in steps] == [
        ("notice", "skipped"), ("reminder", "skipped"), ("due_today", "skipped"), ("overdue", "sent")]
    with app.session() as session:
        stages = set(session.scalars(select(OutboxMessage.stage).where(OutboxMessage.stage != "overdue",
                                                                       OutboxMessage.created_at > SETUP)))
    assert not {"notice", "reminder", "due_today"} & stages


def test_a_second_tick_at_the_same_moment_decides_nothing_new(app: App) -> None:
    _district(app)
    moment = datetime(2021, 3, 16, 9)
    _tick(app, moment)
    with app.session() as session:
        before = session.scalar(select(func.count()).select_from(OutboxMessage))
    _tick(app, moment)
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == before


def test_a_person_without_an_address_is_skipped_with_the_reason(app: App) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 8, 9))
    with app.session() as session:
        skipped = session.execute(select(Person.name, OutboxMessage.channel, OutboxMessage.last_error)
                                  .join(Person, OutboxMessage.person_id == Person.id)
                                  .where(OutboxMessage.state == "skipped")).all()
    assert ("Trần Thị Bích", "telegram", "chưa liên kết Telegram") in skipped


def test_a_submission_stops_the_ladder_and_an_incomplete_mark_starts_its_own(app: App) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 8, 9))
    with app.session() as session:
        q1 = find_obligation(session, "XA_AN_BINH", "q1", 2021)
        record_submission(session, q1, received_at=datetime(2021, 3, 9, 10), doc_no="12/BC-UBND", note=None,
                          actor=ACTOR, now=datetime(2021, 3, 9, 10))
    for day in (11, 12, 16, 18):
        _tick(app, datetime(2021, 3, day, 9))
    assert [stage for stage, *_ in _q1_steps(app)] == ["notice"]
    with app.session() as session:
        q1 = find_obligation(session, "XA_AN_BINH", "q1", 2021)
        mark_incomplete(session, q1, "Phụ lục 3B", ACTOR, datetime(2021, 3, 18, 14))
    _tick(app, datetime(2021, 3, 18, 15))
    assert [stage for stage, *_ in _q1_steps(app)] == ["notice", "incomplete"]


def test_inactive_units_and_waived_obligations_are_left_alone(app: App) -> None:
    _district(app)
    with app.session() as session:
        for obligation in session.scalars(select(Obligation)):
            obligation.waived_reason = "Sáp nhập"
    _tick(app, datetime(2021, 3, 16, 9))
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(LadderStep)) == 0


def test_a_decider_that_lost_the_race_writes_nothing_twice(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another instance (or a tick before a crash) decided the same rungs after we read the ledger."""
    _district(app)
    moment = datetime(2021, 3, 16, 9)
    _tick(app, moment)
    with app.session() as session:
        before = session.scalar(select(func.count()).select_from(OutboxMessage))
    # Make this decider blind to what is already decided, as if it had read the ledger a moment earlier.
    monkeypatch.setattr(reconcile, "load_ledger", lambda _session, _today: frozenset())
    with app.session() as session:
        report = tick(session, policy=Policy(), workdays=app.workdays, due_soon=5, now=moment,
                      renderer=lambda _session, _decisions: render)
    assert report.decided == 0 and report.conflicts > 0
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == before


def test_a_partly_lost_race_with_message_forms_writes_the_rest_with_the_same_text(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry writes one decision at a time, naming forms written once for all of them."""
    _district(app)
    moment = datetime(2021, 3, 16, 9)
    renderer = TemplateRenderer(app.calendar, app.config.office_name, app.workdays, moment.date())

    def real_tick() -> TickReport:
        with app.session() as session:
            return tick(session, policy=Policy(), workdays=app.workdays, due_soon=5, now=moment,
                        renderer=renderer.for_decisions)

    def texts(obligations: list[int]) -> dict[str, Rendered]:
        with app.session() as session:
            rows = session.execute(select(OutboxMessage.dedupe_key, *outbox_text.COLUMNS)
                                   .select_from(outbox_text.joined())
                                   .where(OutboxMessage.obligation_id.in_(obligations))).all()
        return {row.dedupe_key: outbox_text.text_of(row) for row in rows}

    first = real_tick()
    with app.session() as session:
        decided = sorted(session.scalars(select(LadderStep.obligation_id).distinct()))
    # One rung is undone, as if never decided; the others another instance has already written.
    undone, written = decided[:1], texts(decided[:1])
    assert first.decided >= 2 and written
    with app.session() as session:
        session.execute(delete(OutboxMessage).where(OutboxMessage.obligation_id.in_(undone)))
        session.execute(delete(LadderStep).where(LadderStep.obligation_id.in_(undone)))
    monkeypatch.setattr(reconcile, "load_ledger", lambda _session, _today: frozenset())
    report = real_tick()
    assert (report.decided, report.conflicts) == (1, first.decided - 1)
    assert texts(undone) == written
