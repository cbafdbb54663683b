"""Working days against the official Vietnamese holiday schedules (Tết, 30/4–1/5, 2/9, make-up Saturdays).

Every expected date below comes from the government's published schedule for that year, not from the code.
"""

from __future__ import annotations

from datetime import date

import pytest

from calendars.workdays import WorkCalendar

WORKDAYS = WorkCalendar()


# Each official break, and the working days that bracket it (the break is exactly these days).
BREAKS = [
    pytest.param(date(2021, 2, 9), date(2021, 2, 10), date(2021, 2, 16), date(2021, 2, 17), id="tet-2021"),
    pytest.param(date(2024, 2, 7), date(2024, 2, 8), date(2024, 2, 14), date(2024, 2, 15), id="tet-2024"),
    pytest.param(date(2025, 1, 24), date(2025, 1, 25), date(2025, 2, 2), date(2025, 2, 3), id="tet-2025"),
    pytest.param(date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 22), date(2026, 2, 23), id="tet-2026"),
    pytest.param(date(2024, 4, 26), date(2024, 4, 27), date(2024, 5, 1), date(2024, 5, 2), id="30-4-2024"),
    pytest.param(date(2025, 4, 29), date(2025, 4, 30), date(2025, 5, 4), date(2025, 5, 5), id="30-4-2025"),
    pytest.param(date(2018, 12, 28), date(2018, 12, 29), date(2019, 1, 1), date(2019, 1, 2), id="new-year-2019"),
    pytest.param(date(2021, 9, 1), date(2021, 9, 2), date(2021, 9, 5), date(2021, 9, 6), id="2-9-2021"),
    pytest.param(date(2026, 8, 28), date(2026, 8, 29), date(2026, 9, 2), date(2026, 9, 3), id="2-9-2026"),
]


@pytest.mark.parametrize(("last_before", "first_off", "last_off", "first_after"), BREAKS)
def test_official_breaks(last_before: date, first_off: date, last_off: date, first_after: date) -> None:
    assert WORKDAYS.is_working_day(last_before)
    day = first_off
    while day <= last_off:
        assert not WORKDAYS.is_working_day(day), day
        day = date.fromordinal(day.toordinal() + 1)
    assert WORKDAYS.is_working_day(first_after)
    assert WORKDAYS.next_working_day(last_before) == first_after
    assert WORKDAYS.previous_working_day(first_after) == last_before


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Make-up Saturdays decreed in exchange for a bridge day off.
        pytest.param(date(2019, 1, 5), True, id="sat-05-01-2019-makeup"),
        pytest.param(date(2024, 5, 4), True, id="sat-04-05-2024-makeup"),
        pytest.param(date(2025, 4, 26), True, id="sat-26-04-2025-makeup"),
        pytest.param(date(2026, 8, 22), True, id="sat-22-08-2026-makeup"),
        # The bridge days they pay for.
        pytest.param(date(2018, 12, 31), False, id="mon-31-12-2018-bridge"),
        pytest.param(date(2024, 4, 29), False, id="mon-29-04-2024-bridge"),
        pytest.param(date(2025, 5, 2), False, id="fri-02-05-2025-bridge"),
        pytest.param(date(2026, 8, 31), False, id="mon-31-08-2026-bridge"),
        # Ordinary weekends stay days off, ordinary weekdays stay working days.
        pytest.param(date(2021, 3, 13), False, id="sat-13-03-2021"),
        pytest.param(date(2021, 6, 13), False, id="sun-13-06-2021"),
        pytest.param(date(2024, 5, 11), False, id="sat-11-05-2024"),
        pytest.param(date(2021, 3, 12), True, id="fri-12-03-2021"),
        pytest.param(date(2021, 9, 13), True, id="mon-13-09-2021"),
        # Hùng Kings' Commemoration Day (10th day of the 3rd lunar month) fell on Wed 21/04/2021.
        pytest.param(date(2021, 4, 21), False, id="hung-kings-2021"),
    ],
)
def test_single_days(day: date, working: bool) -> None:
    assert WORKDAYS.is_working_day(day) is working


@pytest.mark.parametrize(
    ("nominal", "effective"),
    [
        # The examples in docs/ARCHITECTURE.md, "Time".
        pytest.param(date(2021, 1, 30), date(2021, 2, 1), id="sat-30-01-2021"),
        pytest.param(date(2021, 3, 13), date(2021, 3, 15), id="sat-13-03-2021"),
        pytest.param(date(2021, 6, 13), date(2021, 6, 14), id="sun-13-06-2021"),
        pytest.param(date(2026, 6, 13), date(2026, 6, 15), id="sat-13-06-2026"),
        # A working day is its own effective deadline.
        pytest.param(date(2021, 9, 13), date(2021, 9, 13), id="mon-13-09-2021"),
        pytest.param(date(2021, 11, 15), date(2021, 11, 15), id="mon-15-11-2021"),
        # A make-up Saturday is a working day: receipt closes that Saturday.
        pytest.param(date(2019, 1, 5), date(2019, 1, 5), id="makeup-05-01-2019"),
        pytest.param(date(2024, 5, 4), date(2024, 5, 4), id="makeup-04-05-2024"),
        pytest.param(date(2025, 4, 26), date(2025, 4, 26), id="makeup-26-04-2025"),
        pytest.param(date(2026, 8, 22), date(2026, 8, 22), id="makeup-22-08-2026"),
        # Deadlines inside Tết roll to the first working day after the whole break.
        pytest.param(date(2021, 2, 10), date(2021, 2, 17), id="tet-2021-first-day"),
        pytest.param(date(2021, 2, 13), date(2021, 2, 17), id="tet-2021-inside"),
        pytest.param(date(2021, 2, 16), date(2021, 2, 17), id="tet-2021-last-day"),
        pytest.param(date(2024, 2, 10), date(2024, 2, 15), id="tet-2024-inside"),
        pytest.param(date(2025, 1, 25), date(2025, 2, 3), id="tet-2025-first-day"),
        pytest.param(date(2025, 1, 31), date(2025, 2, 3), id="tet-2025-inside"),
        pytest.param(date(2026, 2, 14), date(2026, 2, 23), id="tet-2026-first-day"),
        pytest.param(date(2026, 2, 20), date(2026, 2, 23), id="tet-2026-inside"),
        # 30/4–1/5 and 2/9 breaks, bridge days included.
        pytest.param(date(2024, 4, 27), date(2024, 5, 2), id="30-4-2024-first-day"),
        pytest.param(date(2024, 4, 30), date(2024, 5, 2), id="30-4-2024"),
        pytest.param(date(2025, 4, 30), date(2025, 5, 5), id="30-4-2025"),
        pytest.param(date(2025, 5, 2), date(2025, 5, 5), id="30-4-2025-bridge"),
        pytest.param(date(2018, 12, 31), date(2019, 1, 2), id="new-year-2019-bridge"),
        pytest.param(date(2021, 9, 2), date(2021, 9, 6), id="2-9-2021"),
        pytest.param(date(2026, 8, 31), date(2026, 9, 3), id="2-9-2026-bridge"),
    ],
)
def test_effective_deadline(nominal: date, effective: date) -> None:
    assert WORKDAYS.effective_deadline(nominal) == effective


@pytest.mark.parametrize(
    ("start", "steps", "expected"),
    [
        # The project's worked example: Q1/2021 nominal Sat 13/03, effective Mon 15/03.
        pytest.param(date(2021, 3, 13), -5, date(2021, 3, 8), id="notice-5wd-before-13-03-2021"),
        pytest.param(date(2021, 3, 13), -2, date(2021, 3, 11), id="reminder-2wd-before-13-03-2021"),
        pytest.param(date(2021, 3, 15), 1, date(2021, 3, 16), id="overdue-1wd-after-15-03-2021"),
        pytest.param(date(2021, 3, 15), 3, date(2021, 3, 18), id="escalated-3wd-after-15-03-2021"),
        pytest.param(date(2021, 3, 15), 0, date(2021, 3, 15), id="zero-steps"),
        # Across Tết, forwards and backwards.
        pytest.param(date(2021, 2, 9), 1, date(2021, 2, 17), id="tet-2021-forward-1"),
        pytest.param(date(2021, 2, 5), 5, date(2021, 2, 19), id="tet-2021-forward-5"),
        pytest.param(date(2021, 2, 19), -5, date(2021, 2, 5), id="tet-2021-backward-5"),
        pytest.param(date(2021, 2, 17), -1, date(2021, 2, 9), id="tet-2021-backward-1"),
        pytest.param(date(2021, 2, 12), 1, date(2021, 2, 17), id="tet-2021-from-inside"),
        pytest.param(date(2021, 2, 12), -1, date(2021, 2, 9), id="tet-2021-back-from-inside"),
        pytest.param(date(2024, 2, 7), 1, date(2024, 2, 15), id="tet-2024-forward-1"),
        pytest.param(date(2024, 2, 16), -3, date(2024, 2, 6), id="tet-2024-backward-3"),
        pytest.param(date(2025, 1, 24), 1, date(2025, 2, 3), id="tet-2025-forward-1"),
        pytest.param(date(2025, 2, 3), -2, date(2025, 1, 23), id="tet-2025-backward-2"),
        pytest.param(date(2026, 2, 13), 3, date(2026, 2, 25), id="tet-2026-forward-3"),
        pytest.param(date(2026, 2, 23), -1, date(2026, 2, 13), id="tet-2026-backward-1"),
        # A make-up Saturday counts as a step.
        pytest.param(date(2024, 5, 3), 1, date(2024, 5, 4), id="makeup-2024-forward"),
        pytest.param(date(2024, 5, 6), -1, date(2024, 5, 4), id="makeup-2024-backward"),
        pytest.param(date(2024, 4, 26), 2, date(2024, 5, 3), id="30-4-2024-forward-2"),
        pytest.param(date(2025, 4, 25), 1, date(2025, 4, 26), id="makeup-2025-forward"),
        pytest.param(date(2025, 4, 29), 1, date(2025, 5, 5), id="30-4-2025-forward"),
        pytest.param(date(2019, 1, 4), 1, date(2019, 1, 5), id="makeup-2019-forward"),
        pytest.param(date(2018, 12, 28), 1, date(2019, 1, 2), id="new-year-2019-forward"),
        pytest.param(date(2026, 8, 21), 1, date(2026, 8, 22), id="makeup-2026-forward"),
        pytest.param(date(2026, 8, 28), 1, date(2026, 9, 3), id="2-9-2026-forward"),
    ],
)
def test_shift(start: date, steps: int, expected: date) -> None:
    assert WORKDAYS.shift(start, steps) == expected


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        pytest.param(date(2021, 3, 15), date(2021, 3, 15), 0, id="same-day"),
        pytest.param(date(2021, 3, 12), date(2021, 3, 15), 1, id="over-a-weekend"),
        pytest.param(date(2021, 3, 8), date(2021, 3, 15), 5, id="one-week"),
        pytest.param(date(2021, 3, 15), date(2021, 3, 8), -5, id="one-week-reversed"),
        pytest.param(date(2021, 2, 9), date(2021, 2, 17), 1, id="tet-2021"),
        pytest.param(date(2021, 2, 5), date(2021, 2, 19), 5, id="around-tet-2021"),
        pytest.param(date(2021, 2, 19), date(2021, 2, 5), -5, id="around-tet-2021-reversed"),
        pytest.param(date(2025, 1, 24), date(2025, 2, 3), 1, id="tet-2025"),
        pytest.param(date(2026, 2, 13), date(2026, 2, 23), 1, id="tet-2026"),
        pytest.param(date(2026, 2, 14), date(2026, 2, 22), 0, id="inside-tet-2026"),
        # 02/05, 03/05 and the make-up Saturday 04/05, then Monday 06/05.
        pytest.param(date(2024, 4, 26), date(2024, 5, 6), 4, id="30-4-2024-with-makeup"),
        # 02/01, 03/01, 04/01, the make-up Saturday 05/01, then Monday 07/01.
        pytest.param(date(2018, 12, 31), date(2019, 1, 7), 5, id="new-year-2019-with-makeup"),
        # 261 weekdays in 2021 less 11 weekday holidays: 01/01, five Tết days, 21/04, 30/04, 03/05 (for
        # Saturday 01/05), 02/09, 03/09.
        pytest.param(date(2020, 12, 31), date(2021, 12, 31), 250, id="whole-2021"),
    ],
)
def test_working_days_between(start: date, end: date, count: int) -> None:
    assert WORKDAYS.working_days_between(start, end) == count


@pytest.mark.parametrize(
    ("day", "next_day", "previous_day", "on_or_after", "on_or_before"),
    [
        pytest.param(
            date(2021, 3, 13), date(2021, 3, 15), date(2021, 3, 12), date(2021, 3, 15), date(2021, 3, 12),
            id="sat-13-03-2021",
        ),
        # On a working day, next/previous are strict while on_or_after/on_or_before keep the day.
        pytest.param(
            date(2021, 3, 15), date(2021, 3, 16), date(2021, 3, 12), date(2021, 3, 15), date(2021, 3, 15),
            id="mon-15-03-2021",
        ),
        pytest.param(
            date(2021, 2, 17), date(2021, 2, 18), date(2021, 2, 9), date(2021, 2, 17), date(2021, 2, 17),
            id="first-day-after-tet-2021",
        ),
        pytest.param(
            date(2025, 1, 29), date(2025, 2, 3), date(2025, 1, 24), date(2025, 2, 3), date(2025, 1, 24),
            id="inside-tet-2025",
        ),
        pytest.param(
            date(2026, 2, 17), date(2026, 2, 23), date(2026, 2, 13), date(2026, 2, 23), date(2026, 2, 13),
            id="inside-tet-2026",
        ),
        pytest.param(
            date(2024, 5, 4), date(2024, 5, 6), date(2024, 5, 3), date(2024, 5, 4), date(2024, 5, 4),
            id="makeup-04-05-2024",
        ),
        pytest.param(
            date(2024, 5, 5), date(2024, 5, 6), date(2024, 5, 4), date(2024, 5, 6), date(2024, 5, 4),
            id="sun-after-makeup-2024",
        ),
        pytest.param(
            date(2019, 1, 1), date(2019, 1, 2), date(2018, 12, 28), date(2019, 1, 2), date(2018, 12, 28),
            id="new-year-2019",
        ),
    ],
)
def test_neighbouring_working_days(
    day: date, next_day: date, previous_day: date, on_or_after: date, on_or_before: date
) -> None:
    assert WORKDAYS.next_working_day(day) == next_day
    assert WORKDAYS.previous_working_day(day) == previous_day
    assert WORKDAYS.on_or_after(day) == on_or_after
    assert WORKDAYS.on_or_before(day) == on_or_before


def test_worked_example_due_today() -> None:
    # "due_today" is the last working day on or before the nominal Saturday deadline.
    assert WORKDAYS.on_or_before(date(2021, 3, 13)) == date(2021, 3, 12)


def test_extra_day_off_pushes_the_deadline() -> None:
    # A typhoon closure on Monday 15/03/2021 moves the Q1 deadline to Tuesday.
    closed = WorkCalendar(extra_days_off=[date(2021, 3, 15)])
    assert not closed.is_working_day(date(2021, 3, 15))
    assert closed.effective_deadline(date(2021, 3, 13)) == date(2021, 3, 16)
    assert closed.shift(date(2021, 3, 12), 1) == date(2021, 3, 16)
    assert closed.working_days_between(date(2021, 3, 12), date(2021, 3, 19)) == 4
    # The shared default calendar is not affected.
    assert WORKDAYS.effective_deadline(date(2021, 3, 13)) == date(2021, 3, 15)


def test_extra_day_off_on_a_makeup_saturday() -> None:
    cancelled = WorkCalendar(extra_days_off=[date(2024, 5, 4)])
    assert cancelled.next_working_day(date(2024, 5, 3)) == date(2024, 5, 6)
    assert cancelled.effective_deadline(date(2024, 5, 4)) == date(2024, 5, 6)


def test_extra_working_day_on_a_weekend() -> None:
    # A make-up Saturday the holidays package does not know yet.
    makeup = WorkCalendar(extra_working_days=[date(2021, 3, 13)])
    assert makeup.is_working_day(date(2021, 3, 13))
    assert makeup.effective_deadline(date(2021, 3, 13)) == date(2021, 3, 13)
    assert makeup.shift(date(2021, 3, 15), -1) == date(2021, 3, 13)


def test_extra_working_day_inside_tet() -> None:
    opened = WorkCalendar(extra_working_days=[date(2021, 2, 16)])
    assert opened.next_working_day(date(2021, 2, 9)) == date(2021, 2, 16)
    assert opened.effective_deadline(date(2021, 2, 13)) == date(2021, 2, 16)
    assert opened.working_days_between(date(2021, 2, 9), date(2021, 2, 17)) == 2


def test_day_both_off_and_working_is_refused() -> None:
    with pytest.raises(ValueError, match="2021-03-15"):
        WorkCalendar(extra_days_off=[date(2021, 3, 15)], extra_working_days=[date(2021, 3, 15), date(2021, 3, 13)])


def test_holiday_names_are_vietnamese_whatever_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "en_US")
    assert WorkCalendar().holiday_name(date(2024, 2, 10)) == "Tết Nguyên Đán"
