"""The escalation decision, pure: plain tables of dates, no database, no clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from calendars.workdays import WorkCalendar
from reminder_service.escalation.decide import Case, Recipient, decide
from reminder_service.escalation.ladder import first_date, rungs
from reminder_service.escalation.policy import Policy
from reminder_service.status import StatusCode

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
    assert {(d.recipient.role, d.channel) for d in escalated.deliveries} == {
        ("unit_head", "telegram"), ("unit_head", "email"), ("receiver", "email"), ("leadership", "telegram"),
    }


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
