"""Which directive file governs a year: its own file exactly, otherwise the projection of the rules in force."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from calendars.library import BUILTIN_DIRECTIVES, DirectiveLibrary, UnknownDirectiveError, load_library
from calendars.model import DatedObligation, YearCalendar
from calendars.rules import DateRange
from calendars.workdays import WorkCalendar

WORKDAYS = WorkCalendar()
SEED = (BUILTIN_DIRECTIVES / "cchc.yaml").read_text(encoding="utf-8")
PLAN_DEADLINE = "          day: 30\n          month: 1\n          wording: Hoàn thành trước ngày 30/01/2021."


@pytest.fixture
def with_2027(tmp_path: Path) -> DirectiveLibrary:
    """The seed copied as an office's 2027 file, with the plan due on 15/02 instead of 30/01."""
    assert SEED.count(PLAN_DEADLINE) == 1
    assert SEED.count("\nyear: 2021\n") == 1
    text = SEED.replace("\nyear: 2021\n", "\nyear: 2027\n").replace(
        PLAN_DEADLINE, "          day: 15\n          month: 2\n          wording: Hoàn thành trước ngày 15/02/2027."
    )
    (tmp_path / "cchc-2027.yaml").write_text(text, encoding="utf-8")
    return load_library([BUILTIN_DIRECTIVES, tmp_path])


def _plan(calendar: YearCalendar) -> DatedObligation:
    (plan,) = [o for o in calendar.obligations if o.id == "plan"]
    return plan


def _q1_window(calendar: YearCalendar) -> DateRange | None:
    (window,) = {o.window for o in calendar.obligations if o.id == "q1"}
    return window


def test_both_files_are_versions_of_one_directive(with_2027: DirectiveLibrary) -> None:
    assert [d.year for d in with_2027.versions("cchc")] == [2021, 2027]
    assert with_2027.ids == ["cchc", "nd09"]


def test_own_file_is_exact(with_2027: DirectiveLibrary) -> None:
    calendar = with_2027.calendar("cchc", 2027, WORKDAYS)
    assert calendar.projected is False
    assert calendar.directive.year == 2027
    plan = _plan(calendar)
    assert plan.projected is False
    # 15/02/2027 is a Monday, a week after Tết (Lunar New Year falls on Saturday 06/02/2027).
    assert plan.nominal_deadline == date(2027, 2, 15)
    assert plan.effective_deadline == date(2027, 2, 15)
    assert plan.deadline_wording == "Hoàn thành trước ngày 15/02/2027."
    assert plan.title == "Kế hoạch CCHC năm 2027"
    assert _q1_window(calendar) == DateRange(date(2026, 12, 15), date(2027, 3, 10))


def test_later_year_projects_from_the_2027_file(with_2027: DirectiveLibrary) -> None:
    calendar = with_2027.calendar("cchc", 2028, WORKDAYS)
    assert calendar.projected is True
    assert calendar.directive.year == 2027
    plan = _plan(calendar)
    assert plan.projected is True
    # 15/02/2028 is a Tuesday.
    assert plan.nominal_deadline == date(2028, 2, 15)
    assert plan.effective_deadline == date(2028, 2, 15)
    assert plan.title == "Kế hoạch CCHC năm 2028"


@pytest.mark.parametrize(
    ("year", "nominal", "effective"),
    [
        # Between the two files the 2021 rules are in force: 30/01/2022 is a Sunday, and Tết
        # 2022 ran from Saturday 29/01 to Sunday 06/02, so receipt closes Monday 07/02.
        pytest.param(2022, date(2022, 1, 30), date(2022, 2, 7), id="2022-from-2021"),
        pytest.param(2026, date(2026, 1, 30), date(2026, 1, 30), id="2026-from-2021"),
        # Before the earliest file, the earliest file's rules apply backwards. 30/01/2015 is a Friday.
        pytest.param(2015, date(2015, 1, 30), date(2015, 1, 30), id="2015-backwards-from-2021"),
    ],
)
def test_years_without_a_file_project_from_2021(
    with_2027: DirectiveLibrary, year: int, nominal: date, effective: date
) -> None:
    calendar = with_2027.calendar("cchc", year, WORKDAYS)
    assert calendar.projected is True
    assert calendar.directive.year == 2021
    plan = _plan(calendar)
    assert plan.nominal_deadline == nominal
    assert plan.effective_deadline == effective
    assert plan.projected is True


def test_2015_windows_reach_back_into_2014(with_2027: DirectiveLibrary) -> None:
    assert _q1_window(with_2027.calendar("cchc", 2015, WORKDAYS)) == DateRange(
        date(2014, 12, 15), date(2015, 3, 10)
    )


def test_a_later_folder_replaces_the_same_year(tmp_path: Path) -> None:
    # An office's own copy of the 2021 file wins over the built-in one.
    (tmp_path / "cchc.yaml").write_text(
        SEED.replace(PLAN_DEADLINE, "          day: 5\n          month: 2\n          wording: Trước 05/02."),
        encoding="utf-8",
    )
    library = load_library([BUILTIN_DIRECTIVES, tmp_path])
    assert [d.year for d in library.versions("cchc")] == [2021]
    plan = _plan(library.calendar("cchc", 2021, WORKDAYS))
    assert plan.nominal_deadline == date(2021, 2, 5)
    assert plan.projected is False


def test_unknown_directive() -> None:
    library = load_library([BUILTIN_DIRECTIVES])
    with pytest.raises(UnknownDirectiveError) as caught:
        library.calendar("nd99", 2021, WORKDAYS)
    assert caught.value.directive_id == "nd99"
    assert caught.value.known == ["cchc", "nd09"]
