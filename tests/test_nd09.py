"""Decree 09/2019/NĐ-CP: default data cut-off windows (Art. 12) and submission deadlines (Art. 13)."""

from __future__ import annotations

from datetime import date

import pytest

from calendars.library import BUILTIN_DIRECTIVES, load_library
from calendars.loader import load_directive
from calendars.model import DatedObligation, YearCalendar
from calendars.rules import DateRange
from calendars.workdays import WorkCalendar

WORKDAYS = WorkCalendar()
LIBRARY = load_library([BUILTIN_DIRECTIVES])
ND09_FILE = BUILTIN_DIRECTIVES / "nd09-2019.yaml"
KINDS = ("agency", "government_reporter")


def _calendar(year: int) -> YearCalendar:
    return LIBRARY.calendar("nd09", year, WORKDAYS)


def _windows(year: int) -> dict[str, DateRange | None]:
    by_id: dict[str, DateRange | None] = {}
    for obligation in _calendar(year).obligations:
        # Both unit kinds share the Decree's windows.
        assert by_id.setdefault(obligation.id, obligation.window) == obligation.window
    return by_id


def _find(calendar: YearCalendar, obligation_id: str, kind: str) -> DatedObligation:
    found = [o for o in calendar.obligations if o.id == obligation_id and o.kind == kind]
    assert len(found) == 1
    return found[0]


def test_file_loads_on_its_own() -> None:
    directive = load_directive(ND09_FILE)
    assert directive.id == "nd09"
    assert directive.year == 2019
    assert set(directive.unit_kinds) == set(KINDS)
    assert directive.unit_kinds["agency"] == "Cơ quan, đơn vị thực hiện chế độ báo cáo"
    assert [spec.id for spec in directive.obligations] == ["q1", "q2", "q3", "q4", "h1", "m9", "annual"]


def test_builtin_folder_holds_both_directives() -> None:
    assert LIBRARY.ids == ["cchc", "nd09"]


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        pytest.param(
            2019,
            {
                "q1": DateRange(date(2018, 12, 15), date(2019, 3, 14)),
                "q2": DateRange(date(2019, 3, 15), date(2019, 6, 14)),
                "q3": DateRange(date(2019, 6, 15), date(2019, 9, 14)),
                "q4": DateRange(date(2019, 9, 15), date(2019, 12, 14)),
                "h1": DateRange(date(2018, 12, 15), date(2019, 6, 14)),
                "m9": DateRange(date(2018, 12, 15), date(2019, 9, 14)),
                "annual": DateRange(date(2018, 12, 15), date(2019, 12, 14)),
            },
            id="2019",
        ),
        pytest.param(
            2021,
            {
                "q1": DateRange(date(2020, 12, 15), date(2021, 3, 14)),
                "q2": DateRange(date(2021, 3, 15), date(2021, 6, 14)),
                "q3": DateRange(date(2021, 6, 15), date(2021, 9, 14)),
                "q4": DateRange(date(2021, 9, 15), date(2021, 12, 14)),
                "h1": DateRange(date(2020, 12, 15), date(2021, 6, 14)),
                "m9": DateRange(date(2020, 12, 15), date(2021, 9, 14)),
                "annual": DateRange(date(2020, 12, 15), date(2021, 12, 14)),
            },
            id="2021",
        ),
        pytest.param(
            2024,
            {
                "q1": DateRange(date(2023, 12, 15), date(2024, 3, 14)),
                "q2": DateRange(date(2024, 3, 15), date(2024, 6, 14)),
                "q3": DateRange(date(2024, 6, 15), date(2024, 9, 14)),
                "q4": DateRange(date(2024, 9, 15), date(2024, 12, 14)),
                "h1": DateRange(date(2023, 12, 15), date(2024, 6, 14)),
                "m9": DateRange(date(2023, 12, 15), date(2024, 9, 14)),
                "annual": DateRange(date(2023, 12, 15), date(2024, 12, 14)),
            },
            id="2024-leap",
        ),
        pytest.param(
            2100,
            {
                "q1": DateRange(date(2099, 12, 15), date(2100, 3, 14)),
                "q2": DateRange(date(2100, 3, 15), date(2100, 6, 14)),
                "q3": DateRange(date(2100, 6, 15), date(2100, 9, 14)),
                "q4": DateRange(date(2100, 9, 15), date(2100, 12, 14)),
                "h1": DateRange(date(2099, 12, 15), date(2100, 6, 14)),
                "m9": DateRange(date(2099, 12, 15), date(2100, 9, 14)),
                "annual": DateRange(date(2099, 12, 15), date(2100, 12, 14)),
            },
            id="2100-not-leap",
        ),
    ],
)
def test_windows(year: int, expected: dict[str, DateRange]) -> None:
    assert _windows(year) == expected
    assert _calendar(year).projected is (year != 2019)


@pytest.mark.parametrize("year", [2019, 2021, 2024, 2100])
def test_agency_deadlines_are_set_by_each_regime(year: int) -> None:
    agency = _calendar(year).for_kind("agency")
    assert len(agency) == 7
    for obligation in agency:
        assert obligation.nominal_deadline is None
        assert obligation.effective_deadline is None
        assert obligation.on_request is True
        assert obligation.deadline_interpreted is False
        assert "khoản 2 Điều 13" in obligation.deadline_wording
        assert obligation.estimate_window is None


@pytest.mark.parametrize(
    ("year", "obligation_id", "nominal", "effective"),
    [
        pytest.param(2019, "q1", date(2019, 3, 25), date(2019, 3, 25), id="2019-q1-mon"),
        pytest.param(2019, "annual", date(2019, 12, 25), date(2019, 12, 25), id="2019-annual-wed"),
        pytest.param(2021, "q3", date(2021, 9, 25), date(2021, 9, 27), id="2021-q3-sat"),
        pytest.param(2021, "m9", date(2021, 9, 25), date(2021, 9, 27), id="2021-m9-sat"),
        pytest.param(2021, "annual", date(2021, 12, 25), date(2021, 12, 27), id="2021-annual-sat"),
        pytest.param(2024, "q2", date(2024, 6, 25), date(2024, 6, 25), id="2024-q2-tue"),
        pytest.param(2024, "h1", date(2024, 6, 25), date(2024, 6, 25), id="2024-h1-tue"),
        pytest.param(2100, "q4", date(2100, 12, 25), date(2100, 12, 27), id="2100-q4-sat"),
    ],
)
def test_reports_to_the_government_are_due_on_the_25th(
    year: int, obligation_id: str, nominal: date, effective: date
) -> None:
    got = _find(_calendar(year), obligation_id, "government_reporter")
    assert got.nominal_deadline == nominal
    assert got.effective_deadline == effective
    assert got.on_request is False
    assert "ngày 25 của tháng cuối kỳ báo cáo" in got.deadline_wording


@pytest.mark.parametrize(
    ("obligation_id", "title", "period"),
    [
        ("q1", "Báo cáo định kỳ Quý I/2024", "Quý I/2024"),
        ("q2", "Báo cáo định kỳ Quý II/2024", "Quý II/2024"),
        ("q3", "Báo cáo định kỳ Quý III/2024", "Quý III/2024"),
        ("q4", "Báo cáo định kỳ Quý IV/2024", "Quý IV/2024"),
        ("h1", "Báo cáo định kỳ 6 tháng đầu năm 2024", "6 tháng đầu năm 2024"),
        ("m9", "Báo cáo định kỳ 9 tháng đầu năm 2024", "9 tháng đầu năm 2024"),
        ("annual", "Báo cáo định kỳ năm 2024", "Năm 2024"),
    ],
)
def test_titles(obligation_id: str, title: str, period: str) -> None:
    for kind in KINDS:
        got = _find(_calendar(2024), obligation_id, kind)
        assert got.title == title
        assert got.period == period


def test_nine_month_window_is_flagged_as_a_reading() -> None:
    m9 = next(spec for spec in load_directive(ND09_FILE).obligations if spec.id == "m9")
    assert all(any(note.oddity for note in terms.notes) for terms in m9.terms)
