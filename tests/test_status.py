"""status_of, the pure rule: literal dates around the 2021 deadlines, no database and no clock.

Q1/2021: nominal Sat 13/03/2021, effective Mon 15/03/2021; "due soon" starts 5 working days before
the nominal date, Mon 08/03/2021.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from calendars.workdays import WorkCalendar
from reminder_service.domain.status import ObligationFacts, Status, SubmissionFacts, status_of

WORKDAYS = WorkCalendar()
Q1 = ObligationFacts(date(2021, 3, 13), date(2021, 3, 15))
PLAN = ObligationFacts(date(2021, 1, 30), date(2021, 2, 1))
H1 = ObligationFacts(date(2021, 6, 13), date(2021, 6, 14))
Q3 = ObligationFacts(date(2021, 9, 13), date(2021, 9, 13))
ON_REQUEST = ObligationFacts(None, None)


def d(text: str) -> date:
    day, month, year = (int(p) for p in text.split("/"))
    return date(year, month, day)


def at(text: str, clock: str = "09:00") -> datetime:
    day = d(text)
    hour, minute = (int(p) for p in clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute)


def ok(text: str, clock: str = "09:00", doc: str | None = None) -> SubmissionFacts:
    return SubmissionFacts(at(text, clock), "accepted", doc)


def short(text: str, missing: str = "Phụ lục 3B mục 7.1") -> SubmissionFacts:
    return SubmissionFacts(at(text), "incomplete", None, missing)


def undone(text: str) -> SubmissionFacts:
    return SubmissionFacts(at(text), "reverted", "9/BC-UBND")


def status(obligation: ObligationFacts, submissions: list[SubmissionFacts], today: str, notice: int = 5) -> Status:
    return status_of(obligation, submissions, d(today), WORKDAYS, notice)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("01/01/2021", Status("not_yet_due")),
        ("05/03/2021", Status("not_yet_due")),  # Friday before the notice week
        ("07/03/2021", Status("not_yet_due")),  # Sunday
        ("08/03/2021", Status("due_soon")),  # 5 working days before Sat 13/03
        ("12/03/2021", Status("due_soon")),
        ("13/03/2021", Status("due_soon")),  # the nominal day is a Saturday: receipt still open
        ("14/03/2021", Status("due_soon")),
        ("15/03/2021", Status("due_soon")),  # the effective deadline, the whole day
        ("16/03/2021", Status("overdue", 1)),
        ("18/03/2021", Status("overdue", 3)),
        ("20/03/2021", Status("overdue", 4)),  # Saturday adds nothing
        ("22/03/2021", Status("overdue", 5)),
    ],
)
def test_q1_without_submissions(today: str, expected: Status) -> None:
    assert status(Q1, [], today) == expected


@pytest.mark.parametrize(
    ("submissions", "today", "expected"),
    [
        ([ok("15/03/2021", "23:59", "12/BC-UBND")], "18/03/2021",
         Status("submitted_on_time", None, d("15/03/2021"), "12/BC-UBND")),
        ([ok("13/03/2021", "10:00")], "18/03/2021", Status("submitted_on_time", None, d("13/03/2021"))),
        ([ok("01/03/2021")], "02/03/2021", Status("submitted_on_time", None, d("01/03/2021"))),
        ([ok("16/03/2021", "00:00", "7/BC-UBND")], "18/03/2021",
         Status("submitted_late", 1, d("16/03/2021"), "7/BC-UBND")),
        ([ok("20/03/2021")], "22/03/2021", Status("submitted_late", 4, d("20/03/2021"))),
        ([ok("22/03/2021")], "25/03/2021", Status("submitted_late", 5, d("22/03/2021"))),
        ([ok("18/03/2021", "23:00")], "18/03/2021", Status("submitted_late", 3, d("18/03/2021"))),
    ],
)
def test_q1_one_submission(submissions: list[SubmissionFacts], today: str, expected: Status) -> None:
    assert status(Q1, submissions, today) == expected


@pytest.mark.parametrize(
    ("submissions", "today", "expected"),
    [
        # Reverted submissions never count.
        ([ok("10/03/2021"), undone("11/03/2021")], "18/03/2021", Status("submitted_on_time", None, d("10/03/2021"))),
        ([undone("11/03/2021")], "18/03/2021", Status("overdue", 3)),
        ([undone("11/03/2021")], "12/03/2021", Status("due_soon")),
        # Incomplete and nothing after it: still owed; past the deadline it counts overdue days.
        ([short("10/03/2021")], "18/03/2021", Status("incomplete", 3, d("10/03/2021"), None, "Phụ lục 3B mục 7.1")),
        ([short("10/03/2021")], "12/03/2021", Status("incomplete", None, d("10/03/2021"), None, "Phụ lục 3B mục 7.1")),
        ([short("10/03/2021")], "15/03/2021", Status("incomplete", None, d("10/03/2021"), None, "Phụ lục 3B mục 7.1")),
        # The complete report after an incomplete one decides, late or not.
        ([short("10/03/2021"), ok("17/03/2021")], "18/03/2021", Status("submitted_late", 2, d("17/03/2021"))),
        ([short("10/03/2021"), ok("12/03/2021")], "18/03/2021", Status("submitted_on_time", None, d("12/03/2021"))),
        # The first accepted one decides; a later copy changes nothing.
        ([ok("09/03/2021", doc="1/BC"), ok("19/03/2021", doc="2/BC")], "22/03/2021",
         Status("submitted_on_time", None, d("09/03/2021"), "1/BC")),
        # Only the latest incomplete mark matters.
        ([ok("09/03/2021"), short("11/03/2021")], "18/03/2021",
         Status("incomplete", 3, d("11/03/2021"), None, "Phụ lục 3B mục 7.1")),
        ([short("09/03/2021", "mục 2"), ok("12/03/2021"), short("16/03/2021", "mục 7.1")], "18/03/2021",
         Status("incomplete", 3, d("16/03/2021"), None, "mục 7.1")),
        ([short("09/03/2021"), ok("12/03/2021"), ok("14/03/2021")], "18/03/2021",
         Status("submitted_on_time", None, d("12/03/2021"))),
        ([short("09/03/2021"), undone("12/03/2021")], "18/03/2021",
         Status("incomplete", 3, d("09/03/2021"), None, "Phụ lục 3B mục 7.1")),
        # Order of the input does not matter.
        ([ok("17/03/2021"), short("10/03/2021")], "18/03/2021", Status("submitted_late", 2, d("17/03/2021"))),
    ],
)
def test_q1_several_submissions(submissions: list[SubmissionFacts], today: str, expected: Status) -> None:
    assert status(Q1, submissions, today) == expected


@pytest.mark.parametrize(
    ("submissions", "today", "expected"),
    [
        # Seen from a day before it arrived, a report is not there yet.
        ([ok("20/03/2021")], "18/03/2021", Status("overdue", 3)),
        ([ok("12/03/2021")], "11/03/2021", Status("due_soon")),
        ([ok("12/03/2021")], "05/03/2021", Status("not_yet_due")),
        ([short("10/03/2021"), ok("19/03/2021")], "18/03/2021",
         Status("incomplete", 3, d("10/03/2021"), None, "Phụ lục 3B mục 7.1")),
    ],
)
def test_as_of_ignores_later_arrivals(submissions: list[SubmissionFacts], today: str, expected: Status) -> None:
    assert status(Q1, submissions, today) == expected


@pytest.mark.parametrize(
    "submissions",
    [[], [ok("10/03/2021")], [ok("20/03/2021")], [short("10/03/2021")], [undone("10/03/2021")]],
)
@pytest.mark.parametrize("today", ["01/03/2021", "15/03/2021", "18/03/2021", "31/12/2021"])
def test_waived_wins_over_everything(submissions: list[SubmissionFacts], today: str) -> None:
    waived = ObligationFacts(Q1.nominal_deadline, Q1.effective_deadline, waived=True)
    assert status(waived, submissions, today) == Status("waived")
    assert status(ObligationFacts(None, None, waived=True), submissions, today) == Status("waived")


@pytest.mark.parametrize(
    ("submissions", "today", "expected"),
    [
        ([], "01/01/2021", Status("not_yet_due")),
        ([], "31/12/2030", Status("not_yet_due")),
        ([ok("10/12/2021", doc="5/BC")], "31/12/2021", Status("submitted_on_time", None, d("10/12/2021"), "5/BC")),
        ([short("10/12/2021", "số liệu mục 5")], "31/12/2021",
         Status("incomplete", None, d("10/12/2021"), None, "số liệu mục 5")),
        ([undone("10/12/2021")], "31/12/2021", Status("not_yet_due")),
    ],
)
def test_on_request_has_no_deadline(submissions: list[SubmissionFacts], today: str, expected: Status) -> None:
    assert status(ON_REQUEST, submissions, today) == expected


@pytest.mark.parametrize(
    ("obligation", "submissions", "today", "expected"),
    [
        (PLAN, [], "29/01/2021", Status("due_soon")),
        (PLAN, [], "01/02/2021", Status("due_soon")),
        (PLAN, [], "02/02/2021", Status("overdue", 1)),
        # Tết 2021 (10–16/02) is no working day: 02–05, 08, 09 and 17/02.
        (PLAN, [ok("17/02/2021")], "18/02/2021", Status("submitted_late", 7, d("17/02/2021"))),
        (PLAN, [], "17/02/2021", Status("overdue", 7)),
        (H1, [], "04/06/2021", Status("not_yet_due")),
        (H1, [], "07/06/2021", Status("due_soon")),
        (H1, [], "14/06/2021", Status("due_soon")),
        (H1, [], "15/06/2021", Status("overdue", 1)),
        (H1, [ok("14/06/2021", "17:30")], "15/06/2021", Status("submitted_on_time", None, d("14/06/2021"))),
        (Q3, [], "03/09/2021", Status("not_yet_due")),
        (Q3, [], "06/09/2021", Status("due_soon")),
        (Q3, [], "13/09/2021", Status("due_soon")),
        (Q3, [], "14/09/2021", Status("overdue", 1)),
    ],
)
def test_other_2021_deadlines(
    obligation: ObligationFacts, submissions: list[SubmissionFacts], today: str, expected: Status
) -> None:
    assert status(obligation, submissions, today) == expected


@pytest.mark.parametrize(
    ("notice", "today", "expected"),
    [
        (2, "10/03/2021", "not_yet_due"),
        (2, "11/03/2021", "due_soon"),
        (0, "12/03/2021", "not_yet_due"),
        (0, "13/03/2021", "due_soon"),
        (10, "01/03/2021", "due_soon"),
        (10, "26/02/2021", "not_yet_due"),
    ],
)
def test_notice_period_follows_configuration(notice: int, today: str, expected: str) -> None:
    assert status(Q1, [], today, notice).code == expected


@pytest.mark.parametrize(
    ("value", "chase"),
    [
        (Status("overdue", 3), True),
        (Status("incomplete", 3, d("10/03/2021")), True),
        (Status("incomplete", None, d("10/03/2021")), False),
        (Status("submitted_late", 1, d("16/03/2021")), False),
        (Status("due_soon"), False),
        (Status("waived"), False),
    ],
)
def test_needs_chasing(value: Status, chase: bool) -> None:
    assert value.needs_chasing is chase
