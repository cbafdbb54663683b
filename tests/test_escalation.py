"""The escalation decision, pure: plain tables of dates, no database, no clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from calendars.workdays import WorkCalendar
from reminder_service.domain.escalation.decide import Case, Recipient, decide, next_send_time
from reminder_service.domain.escalation.ladder import first_date, rungs
from reminder_service.domain.escalation.pause import is_paused, pause_until
from reminder_service.domain.escalation.policy import Policy
from reminder_service.domain.status import StatusCode

WORKDAYS = WorkCalendar()
POLICY = Policy()
NOMINAL, EFFECTIVE = date(2021, 3, 13), date(2021, 3, 15)  # 2021 Q1: Sat 13/03 rolls to Mon 15/03
HEAD = Recipient(1, "Nguyễn Văn An", "unit_head", 7, "an@songlam.example", "1001", ("telegram", "email"))
FOCAL = Recipient(2, "Trần Thị Bích", "focal", 7, "bich@songlam.example", None, ("telegram", "email"))
RECEIVER = Recipient(3, "Nguyễn Thị Thanh", "receiver", None, "noivu@songlam.example", None, ("email",))
LEADER = Recipient(4, "Lê Văn Quyết", "leadership", None, "chutich@songlam.example", "1004", ("telegram",))
BY_UNIT = {7: (HEAD, FOCAL)}
EVERYONE = (RECEIVER, LEADER)


def at(day: date, hour: int = 8, minute: int = 5) -> datetime:
    return datetime.combine(day, time(hour, minute))


def case(status: StatusCode = "not_yet_due", mark: tuple[int, date] | None = None) -> Case:
    return Case(obligation_id=11, unit_id=7, nominal=NOMINAL, effective=EFFECTIVE, status=status, incomplete_mark=mark)


def test_the_2021_q1_ladder_to_the_day() -> None:
    ladder = sorted(rungs(POLICY.stages, nominal=NOMINAL, effective=EFFECTIVE, marked=None,
                          until=date(2021, 3, 31), workdays=WORKDAYS, max_repeats=40))
    assert [(r.stage, r.occurrence, r.due_on) for r in ladder] == [
        ("notice", 0, date(2021, 3, 8)),       # Mon: 5 working days before Sat 13/03
        ("reminder", 0, date(2021, 3, 11)),    # Thu
        ("due_today", 0, date(2021, 3, 12)),   # Fri: last working day on or before 13/03
        ("overdue", 0, date(2021, 3, 16)),     # Tue: 1 working day after Mon 15/03
        ("escalated", 0, date(2021, 3, 18)),   # Thu
        ("escalated", 1, date(2021, 3, 23)),   # Tue, then every 3 working days
        ("escalated", 2, date(2021, 3, 26)),   # Fri
        ("escalated", 3, date(2021, 3, 31)),   # Wed
    ]


@pytest.mark.parametrize(
    ("day", "stage", "status"),
    [
        (date(2021, 3, 5), None, "not_yet_due"),
        (date(2021, 3, 8), "notice", "due_soon"),
        (date(2021, 3, 11), "reminder", "due_soon"),
        (date(2021, 3, 12), "due_today", "due_soon"),
        (date(2021, 3, 16), "overdue", "overdue"),
        (date(2021, 3, 18), "escalated", "overdue"),
    ],
)
def test_each_day_decides_its_rung(day: date, stage: str | None, status: StatusCode) -> None:
    outcome = decide([case(status)], BY_UNIT, EVERYONE, POLICY, frozenset(), at(day), WORKDAYS)
    assert [d.stage.name for d in outcome.decisions] == ([stage] if stage else [])


def test_audiences_and_channels_follow_the_stage() -> None:
    (notice,) = decide([case("due_soon")], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 8)),
                       WORKDAYS).decisions
    assert {(d.recipient.name, d.channel, d.skip_reason) for d in notice.deliveries} == {
        ("Nguyễn Văn An", "telegram", None), ("Nguyễn Văn An", "email", None),
        ("Trần Thị Bích", "telegram", "chưa liên kết Telegram"), ("Trần Thị Bích", "email", None),
    }
    (escalated,) = decide([case("overdue")], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 18)),
                          WORKDAYS).decisions
    # The unit head is messaged; the office's own people hear of it in the day's roll-up.
    assert {(d.recipient.role, d.channel) for d in escalated.deliveries} == {("unit_head", "telegram"),
                                                                            ("unit_head", "email")}
    assert {(d.recipient.role, d.channel) for d in escalated.rolled_up} == {("receiver", "email"),
                                                                           ("leadership", "telegram")}
    assert escalated.leadership_informed


def test_after_downtime_only_the_latest_rung_goes_out_the_rest_are_superseded() -> None:
    # The service was down from Fri 05/03 to Wed 17/03: notice, reminder, due_today, overdue all passed.
    (decision,) = decide([case("overdue")], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 17)),
                         WORKDAYS).decisions
    assert decision.stage.name == "overdue"
    assert [r.stage for r in decision.superseded] == ["notice", "reminder", "due_today"]


def test_a_decided_rung_is_not_decided_twice() -> None:
    ledger = frozenset({(11, "main", "overdue", 0)})
    outcome = decide([case("overdue")], BY_UNIT, EVERYONE, POLICY, ledger, at(date(2021, 3, 17)), WORKDAYS)
    assert outcome.decisions == ()


@pytest.mark.parametrize("status", ["submitted_on_time", "submitted_late", "waived"])
def test_settled_obligations_stop_their_ladder(status: StatusCode) -> None:
    assert decide([case(status)], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 18)),
                  WORKDAYS).decisions == ()


@pytest.mark.parametrize(
    "moment",
    [at(date(2021, 3, 13), 9), at(date(2021, 3, 16), 7, 59), at(date(2021, 3, 16), 17, 30),
     at(date(2021, 3, 16), 23), at(date(2021, 4, 30), 9)],  # Saturday; before 08:00; after hours; night; holiday
)
def test_nobody_is_messaged_on_a_day_off_or_outside_office_hours(moment: datetime) -> None:
    assert decide([case("overdue")], BY_UNIT, EVERYONE, POLICY, frozenset(), moment, WORKDAYS).decisions == ()


def test_an_incomplete_mark_starts_its_own_short_ladder() -> None:
    marked = date(2021, 3, 17)
    mark = (501, marked)
    (first,) = decide([case("incomplete", mark)], BY_UNIT, EVERYONE, POLICY, frozenset(), at(marked, 14),
                      WORKDAYS).decisions
    assert (first.series, first.stage.name, first.rung.due_on) == ("incomplete-501", "incomplete", marked)
    ledger = frozenset({(11, "incomplete-501", "incomplete", 0)})
    (second,) = decide([case("incomplete", mark)], BY_UNIT, EVERYONE, POLICY, ledger, at(date(2021, 3, 19)),
                       WORKDAYS).decisions
    assert (second.stage.name, second.rung.due_on) == ("incomplete_reminder", date(2021, 3, 19))


def test_intake_guard_holds_late_stages_until_an_import_after_the_deadline() -> None:
    day = at(date(2021, 3, 16))
    stale = decide([case("overdue")], BY_UNIT, EVERYONE, POLICY, frozenset(), day, WORKDAYS,
                   intake_checked_on=date(2021, 3, 15), intake_guard=True)
    assert stale.decisions == () and [h.stage for h in stale.held] == ["overdue"]
    fresh = decide([case("overdue")], BY_UNIT, EVERYONE, POLICY, frozenset(), day, WORKDAYS,
                   intake_checked_on=date(2021, 3, 16), intake_guard=True)
    assert [d.stage.name for d in fresh.decisions] == ["overdue"]
    early = decide([case("due_soon")], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 8)), WORKDAYS,
                   intake_checked_on=None, intake_guard=True)
    assert [d.stage.name for d in early.decisions] == ["notice"]  # reminders before the deadline never wait


def test_tet_moves_rungs_across_the_break() -> None:
    # Plan 2025: nominal Thu 30/01 falls in Tết (25/01–02/02), so receipt closes Mon 03/02.
    notice = POLICY.stage("notice")
    assert first_date(notice, date(2025, 1, 30), date(2025, 2, 3), None, WORKDAYS) == date(2025, 1, 20)
    due_today = POLICY.stage("due_today")
    assert first_date(due_today, date(2025, 1, 30), date(2025, 2, 3), None, WORKDAYS) == date(2025, 1, 24)
    overdue = POLICY.stage("overdue")
    assert first_date(overdue, date(2025, 1, 30), date(2025, 2, 3), None, WORKDAYS) == date(2025, 2, 4)


def test_repeats_stop_after_the_configured_maximum() -> None:
    far = EFFECTIVE + timedelta(days=3650)
    escalations = [r for r in rungs(POLICY.stages, nominal=NOMINAL, effective=EFFECTIVE, marked=None, until=far,
                                    workdays=WORKDAYS, max_repeats=5) if r.stage == "escalated"]
    assert len(escalations) == 6


# --- the "Đã gửi" pause: a claim holds every rung through pause_until, then the usual rule applies ------


@pytest.mark.parametrize(
    ("claimed_on", "until", "resumes"),
    [
        (date(2021, 3, 16), date(2021, 3, 18), date(2021, 3, 19)),  # Tue: the rest of Tue, Wed, Thu
        (date(2021, 3, 19), date(2021, 3, 23), date(2021, 3, 24)),  # Fri: the weekend does not count
        (date(2021, 3, 20), date(2021, 3, 23), date(2021, 3, 24)),  # Sat (a day off): Mon and Tue
        (date(2021, 4, 29), date(2021, 5, 5), date(2021, 5, 6)),    # Thu before 30/04–03/05 (holidays)
    ],
)
def test_a_claim_pauses_through_two_working_days_after_its_day(claimed_on: date, until: date,
                                                                resumes: date) -> None:
    assert pause_until(claimed_on, WORKDAYS) == until
    assert is_paused(until, until) and not is_paused(until, resumes)
    assert WORKDAYS.next_working_day(until) == resumes


def _walk(days: list[date], claimed_on: date, ledger: set[tuple[int, str, str, int]]
          ) -> list[tuple[date, str | None, date | None]]:
    """One tick at 09:00 on each day with the claim still open; (day, stage sent, its due date)."""
    until = pause_until(claimed_on, WORKDAYS)
    seen: list[tuple[date, str | None, date | None]] = []
    for day in days:
        paused = {11} if is_paused(until, day) else set()
        outcome = decide([case("overdue")], BY_UNIT, EVERYONE, POLICY, frozenset(ledger), at(day, 9), WORKDAYS,
                         paused=paused)
        assert outcome.held == ()
        if not outcome.decisions:
            seen.append((day, None, None))
            continue
        (decision,) = outcome.decisions
        ledger |= {(11, "main", r.stage, r.occurrence) for r in (decision.rung, *decision.superseded)}
        seen.append((day, decision.stage.name, decision.rung.due_on))
    return seen


WEEK = [date(2021, 3, d) for d in (16, 17, 18, 19, 22, 23)]


def test_a_claim_on_the_overdue_day_holds_the_escalation_to_the_day_after_the_pause() -> None:
    # Overdue went out at 08:05 on Tue 16/03; the unit pressed "Đã gửi" at 08:30; nobody answered.
    ledger = {(11, "main", stage, 0) for stage in ("notice", "reminder", "due_today", "overdue")}
    assert _walk(WEEK, date(2021, 3, 16), ledger) == [
        (date(2021, 3, 16), None, None),
        (date(2021, 3, 17), None, None),
        (date(2021, 3, 18), None, None),  # escalated#0 falls due on the last paused day: held
        (date(2021, 3, 19), "escalated", date(2021, 3, 18)),  # the pause is over: sent, not lost
        (date(2021, 3, 22), None, None),
        (date(2021, 3, 23), "escalated", date(2021, 3, 23)),  # the ladder keeps its own dates
    ]


def test_rungs_falling_due_during_a_pause_collapse_to_the_latest() -> None:
    # The reminder went out Thu 11/03 08:05; "Đã gửi" at 10:00 pauses through Mon 15/03, so due_today
    # (Fri 12/03) is held. Nobody answers: on Tue 16/03 only the latest due rung goes out.
    ledger = {(11, "main", stage, 0) for stage in ("notice", "reminder")}
    assert pause_until(date(2021, 3, 11), WORKDAYS) == date(2021, 3, 15)
    assert _walk([date(2021, 3, 12), date(2021, 3, 15), date(2021, 3, 16)], date(2021, 3, 11), ledger) == [
        (date(2021, 3, 12), None, None), (date(2021, 3, 15), None, None),
        (date(2021, 3, 16), "overdue", date(2021, 3, 16)),
    ]
    assert (11, "main", "due_today", 0) in ledger  # recorded as superseded (skipped), never sent late


def test_a_paused_obligation_decides_nothing_not_even_a_skip_or_a_hold() -> None:
    other = Case(obligation_id=12, unit_id=7, nominal=NOMINAL, effective=EFFECTIVE, status="overdue")
    outcome = decide([case("overdue"), other], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 17)),
                     WORKDAYS, intake_checked_on=None, intake_guard=True, paused={11})
    assert [h.obligation_id for h in outcome.held] == [12]  # the pause is per obligation
    outcome = decide([case("overdue"), other], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 17)),
                     WORKDAYS, paused={11})
    assert [(d.obligation_id, d.stage.name, len(d.superseded)) for d in outcome.decisions] == [(12, "overdue", 3)]


def test_the_incomplete_ladder_pauses_too() -> None:
    mark = (501, date(2021, 3, 17))
    assert decide([case("incomplete", mark)], BY_UNIT, EVERYONE, POLICY, frozenset(), at(date(2021, 3, 17), 14),
                  WORKDAYS, paused={11}).decisions == ()


@pytest.mark.parametrize(("now", "opens"), [
    (datetime(2021, 3, 15, 10, 0), datetime(2021, 3, 15, 10, 0)),  # Monday, office hours: now
    (datetime(2021, 3, 15, 6, 30), datetime(2021, 3, 15, 8, 0)),  # before the window: today
    (datetime(2021, 3, 15, 17, 30), datetime(2021, 3, 16, 8, 0)),  # after it: the next working day
    (datetime(2021, 3, 19, 20, 0), datetime(2021, 3, 22, 8, 0)),  # Friday night: Monday
    (datetime(2021, 2, 10, 9, 0), datetime(2021, 2, 17, 8, 0)),  # Tết 2021 (10–16/02): after it
])
def test_the_send_window_opens_next_on_a_working_morning(now: datetime, opens: datetime) -> None:
    """Claims made at night wait for it, and `run` names it at start-up."""
    assert next_send_time(now, POLICY, WORKDAYS) == opens
