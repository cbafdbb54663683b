"""Properties that must hold for every year 2000–2100 and both built-in directives."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from calendars.library import BUILTIN_DIRECTIVES, load_library
from calendars.model import DatedObligation, YearCalendar
from calendars.rules import DateRange
from calendars.workdays import WorkCalendar

WORKDAYS = WorkCalendar()
LIBRARY = load_library([BUILTIN_DIRECTIVES])
OWN_YEAR = {"cchc": 2021, "nd09": 2019}

years = st.integers(2000, 2100)
directives = st.sampled_from(sorted(OWN_YEAR))
days = st.dates(date(2000, 1, 1), date(2100, 12, 31))
steps = st.integers(1, 40)
modest = settings(max_examples=200, deadline=None)


def _calendar(directive_id: str, year: int) -> YearCalendar:
    return LIBRARY.calendar(directive_id, year, WORKDAYS)


def _one(calendar: YearCalendar, obligation_id: str, kind: str) -> DatedObligation:
    (found,) = [o for o in calendar.obligations if o.id == obligation_id and o.kind == kind]
    return found


@modest
@given(directive_id=directives, year=years)
def test_effective_deadline_is_the_first_working_day_on_or_after_the_nominal(
    directive_id: str, year: int
) -> None:
    for obligation in _calendar(directive_id, year).obligations:
        nominal, effective = obligation.nominal_deadline, obligation.effective_deadline
        if nominal is None:
            assert effective is None
            assert obligation.on_request
            continue
        assert effective is not None
        assert WORKDAYS.is_working_day(effective)
        assert nominal <= effective
        day = nominal
        while day < effective:
            assert not WORKDAYS.is_working_day(day), (obligation.id, obligation.kind, day)
            day += timedelta(days=1)
        assert obligation.rolled_forward is (nominal != effective)


@modest
@given(directive_id=directives, year=years)
def test_windows_and_periods_are_well_formed(directive_id: str, year: int) -> None:
    calendar = _calendar(directive_id, year)
    assert calendar.projected is (year != OWN_YEAR[directive_id])
    for obligation in calendar.obligations:
        assert obligation.year == year
        assert obligation.projected is calendar.projected
        assert obligation.period_range.start <= obligation.period_range.end
        assert obligation.period_range.start.year == year
        assert obligation.period_range.end.year == year
        for window in (obligation.window, obligation.estimate_window):
            if window is not None:
                assert window.start <= window.end
        assert str(year) in obligation.title
        assert "{" not in obligation.title


@modest
@given(year=years)
def test_cchc_rules_project_unchanged(year: int) -> None:
    calendar = _calendar("cchc", year)
    previous_15_12 = date(year - 1, 12, 15)
    for kind in ("commune", "monitor"):
        assert _one(calendar, "q1", kind).nominal_deadline == date(year, 3, 13)
        assert _one(calendar, "q1", kind).window == DateRange(previous_15_12, date(year, 3, 10))
        assert _one(calendar, "h1", kind).nominal_deadline == date(year, 6, 13)
        assert _one(calendar, "h1", kind).window == DateRange(previous_15_12, date(year, 6, 10))
        assert _one(calendar, "q3", kind).nominal_deadline == date(year, 9, 13)
        assert _one(calendar, "q3", kind).window == DateRange(date(year, 6, 15), date(year, 9, 10))
        assert _one(calendar, "annual", kind).nominal_deadline == date(year, 11, 15)
        supplement = _one(calendar, "supplement", kind)
        assert supplement.nominal_deadline is None
        assert supplement.window == DateRange(date(year, 12, 1), date(year, 12, 14))
    assert _one(calendar, "plan", "commune").nominal_deadline == date(year, 1, 30)
    commune_annual = _one(calendar, "annual", "commune")
    assert commune_annual.window == DateRange(previous_15_12, date(year, 11, 20))
    assert commune_annual.estimate_window == DateRange(date(year, 11, 15), date(year, 12, 14))
    monitor_annual = _one(calendar, "annual", "monitor")
    assert monitor_annual.window == DateRange(previous_15_12, date(year, 12, 14))
    assert monitor_annual.deadline_interpreted is True


@modest
@given(year=years)
def test_nd09_rules_project_unchanged(year: int) -> None:
    calendar = _calendar("nd09", year)
    previous_15_12 = date(year - 1, 12, 15)
    expected = {
        "q1": (DateRange(previous_15_12, date(year, 3, 14)), date(year, 3, 25)),
        "q2": (DateRange(date(year, 3, 15), date(year, 6, 14)), date(year, 6, 25)),
        "q3": (DateRange(date(year, 6, 15), date(year, 9, 14)), date(year, 9, 25)),
        "q4": (DateRange(date(year, 9, 15), date(year, 12, 14)), date(year, 12, 25)),
        "h1": (DateRange(previous_15_12, date(year, 6, 14)), date(year, 6, 25)),
        "m9": (DateRange(previous_15_12, date(year, 9, 14)), date(year, 9, 25)),
        "annual": (DateRange(previous_15_12, date(year, 12, 14)), date(year, 12, 25)),
    }
    for obligation_id, (window, government_deadline) in expected.items():
        agency = _one(calendar, obligation_id, "agency")
        assert agency.window == window
        assert agency.nominal_deadline is None
        assert agency.on_request is True
        government = _one(calendar, obligation_id, "government_reporter")
        assert government.window == window
        assert government.nominal_deadline == government_deadline


@modest
@given(day=days, n=steps)
def test_shift_there_and_back(day: date, n: int) -> None:
    forward = WORKDAYS.shift(day, n)
    backward = WORKDAYS.shift(day, -n)
    assert forward > day
    assert backward < day
    assert WORKDAYS.is_working_day(forward)
    assert WORKDAYS.is_working_day(backward)
    # Going back lands on the day itself only when it is a working day; otherwise on its neighbour.
    assert WORKDAYS.shift(forward, -n) == WORKDAYS.on_or_before(day)
    assert WORKDAYS.shift(backward, n) == WORKDAYS.on_or_after(day)
    # (start, end] counts the steps taken forwards; backwards the start day itself is counted.
    assert WORKDAYS.working_days_between(day, forward) == n
    assert WORKDAYS.working_days_between(backward, day) == n - 1 + WORKDAYS.is_working_day(day)
    assert WORKDAYS.working_days_between(forward, day) == -n


@modest
@given(day=days)
def test_neighbours_and_effective_deadline(day: date) -> None:
    after = WORKDAYS.next_working_day(day)
    before = WORKDAYS.previous_working_day(day)
    assert before < day < after
    assert WORKDAYS.working_days_between(before, after) == 1 + WORKDAYS.is_working_day(day)
    effective = WORKDAYS.effective_deadline(day)
    assert effective == WORKDAYS.on_or_after(day)
    assert (effective == day) is WORKDAYS.is_working_day(day)
    assert WORKDAYS.effective_deadline(effective) == effective
    assert WORKDAYS.on_or_before(day) <= day <= effective
    assert WORKDAYS.shift(day, 1) == after
    assert WORKDAYS.shift(day, -1) == before
    assert WORKDAYS.shift(day, 0) == day


@modest
@given(start=days, span=st.integers(-800, 800))
def test_working_days_between_is_antisymmetric(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    count = WORKDAYS.working_days_between(start, end)
    assert count == -WORKDAYS.working_days_between(end, start)
    assert abs(count) <= abs(span)
    assert (count >= 0) is (span >= 0) or count == 0
