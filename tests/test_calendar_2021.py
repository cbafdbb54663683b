"""The 2021 calendar of cchc.yaml, exactly as the seed directive (shared/seed) reads, and its projection to 2026."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from calendars.library import BUILTIN_DIRECTIVES, load_library
from calendars.model import DatedObligation, YearCalendar
from calendars.rules import DateRange
from calendars.workdays import WorkCalendar

WORKDAYS = WorkCalendar()
LIBRARY = load_library([BUILTIN_DIRECTIVES])


@dataclass(frozen=True)
class Expected:
    title: str
    period: str
    nominal: date | None
    effective: date | None
    window: DateRange | None
    estimate_window: DateRange | None = None
    on_request: bool = False
    interpreted: bool = False


def _span(start: date, end: date) -> DateRange:
    return DateRange(start, end)


Q1 = Expected(
    "Báo cáo CCHC Quý I/2021",
    "Quý I/2021",
    date(2021, 3, 13),
    date(2021, 3, 15),
    _span(date(2020, 12, 15), date(2021, 3, 10)),
)
H1 = Expected(
    "Báo cáo CCHC 6 tháng đầu năm 2021",
    "6 tháng đầu năm 2021",
    date(2021, 6, 13),
    date(2021, 6, 14),
    _span(date(2020, 12, 15), date(2021, 6, 10)),
)
Q3 = Expected(
    "Báo cáo CCHC Quý III/2021",
    "Quý III/2021",
    date(2021, 9, 13),
    date(2021, 9, 13),
    _span(date(2021, 6, 15), date(2021, 9, 10)),
)
SUPPLEMENT = Expected(
    "Báo cáo bổ sung số liệu năm 2021",
    "Năm 2021",
    None,
    None,
    _span(date(2021, 12, 1), date(2021, 12, 14)),
    on_request=True,
)

TABLE_2021 = {
    ("plan", "commune"): Expected(
        "Kế hoạch CCHC năm 2021", "Năm 2021", date(2021, 1, 30), date(2021, 2, 1), None
    ),
    ("q1", "commune"): Q1,
    ("q1", "monitor"): Q1,
    ("h1", "commune"): H1,
    ("h1", "monitor"): H1,
    ("q3", "commune"): Q3,
    ("q3", "monitor"): Q3,
    # The commune cut-off (20/11) ends after the deadline (15/11): reproduced as written, not fixed.
    ("annual", "commune"): Expected(
        "Báo cáo CCHC năm 2021",
        "Năm 2021",
        date(2021, 11, 15),
        date(2021, 11, 15),
        _span(date(2020, 12, 15), date(2021, 11, 20)),
        estimate_window=_span(date(2021, 11, 15), date(2021, 12, 14)),
    ),
    # The text gives monitors no annual deadline; 15/11 is our reading and is flagged as such.
    ("annual", "monitor"): Expected(
        "Báo cáo CCHC năm 2021",
        "Năm 2021",
        date(2021, 11, 15),
        date(2021, 11, 15),
        _span(date(2020, 12, 15), date(2021, 12, 14)),
        interpreted=True,
    ),
    ("supplement", "commune"): SUPPLEMENT,
    ("supplement", "monitor"): SUPPLEMENT,
}


def _calendar(year: int) -> YearCalendar:
    return LIBRARY.calendar("cchc", year, WORKDAYS)


def _find(calendar: YearCalendar, obligation_id: str, kind: str) -> DatedObligation:
    found = [o for o in calendar.obligations if o.id == obligation_id and o.kind == kind]
    assert len(found) == 1, (obligation_id, kind, found)
    return found[0]


def test_2021_has_exactly_the_obligations_of_the_design_table() -> None:
    pairs = [(o.id, o.kind) for o in _calendar(2021).obligations]
    assert sorted(pairs) == sorted(TABLE_2021)
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize(("obligation_id", "kind"), list(TABLE_2021), ids=lambda v: str(v))
def test_2021_obligation(obligation_id: str, kind: str) -> None:
    expected = TABLE_2021[(obligation_id, kind)]
    got = _find(_calendar(2021), obligation_id, kind)
    assert got.directive == "cchc"
    assert got.year == 2021
    assert got.title == expected.title
    assert got.period == expected.period
    assert got.nominal_deadline == expected.nominal
    assert got.effective_deadline == expected.effective
    assert got.rolled_forward is (expected.nominal != expected.effective)
    assert got.window == expected.window
    assert got.estimate_window == expected.estimate_window
    assert got.on_request is expected.on_request
    assert got.deadline_interpreted is expected.interpreted
    assert got.projected is False
    assert got.content, "every obligation says what to send"
    assert got.how_to_send.startswith("Báo cáo do ")
    assert "Phòng Nội vụ" in got.how_to_send


@pytest.mark.parametrize(
    ("obligation_id", "start", "end"),
    [
        ("plan", date(2021, 1, 1), date(2021, 12, 31)),
        ("q1", date(2021, 1, 1), date(2021, 3, 31)),
        ("h1", date(2021, 1, 1), date(2021, 6, 30)),
        ("q3", date(2021, 7, 1), date(2021, 9, 30)),
        ("annual", date(2021, 1, 1), date(2021, 12, 31)),
    ],
)
def test_2021_period_ranges(obligation_id: str, start: date, end: date) -> None:
    ranges = {o.period_range for o in _calendar(2021).obligations if o.id == obligation_id}
    assert ranges == {DateRange(start, end)}


def test_2021_periodic_deadline_quotes_the_text() -> None:
    q1 = _find(_calendar(2021), "q1", "commune")
    assert q1.deadline_wording == (
        "Thời hạn nhận báo cáo chậm nhất là ngày 13 của tháng cuối kỳ báo cáo (không tính báo cáo năm)."
    )


def test_2021_commune_annual_estimate_content_names_the_year() -> None:
    annual = _find(_calendar(2021), "annual", "commune")
    assert "Báo cáo riêng số liệu ước đạt từ ngày 15/11/2021 đến ngày 14/12/2021." in annual.content


def test_2021_calendar_is_exact() -> None:
    calendar = _calendar(2021)
    assert calendar.projected is False
    assert calendar.year == 2021
    assert calendar.directive.year == 2021


def test_for_kind_filters() -> None:
    calendar = _calendar(2021)
    assert sorted(o.id for o in calendar.for_kind("monitor")) == ["annual", "h1", "q1", "q3", "supplement"]
    assert sorted(o.id for o in calendar.for_kind("commune")) == [
        "annual", "h1", "plan", "q1", "q3", "supplement",
    ]
    assert len(calendar.for_kind(None)) == 11


@pytest.mark.parametrize(
    ("obligation_id", "title", "nominal", "effective", "window"),
    [
        # 30/01/2026 is a Friday.
        ("plan", "Kế hoạch CCHC năm 2026", date(2026, 1, 30), date(2026, 1, 30), None),
        ("q1", "Báo cáo CCHC Quý I/2026", date(2026, 3, 13), date(2026, 3, 13),
         _span(date(2025, 12, 15), date(2026, 3, 10))),
        # docs/ARCHITECTURE.md, "Time": Saturday 13/06/2026 rolls to Monday 15/06.
        ("h1", "Báo cáo CCHC 6 tháng đầu năm 2026", date(2026, 6, 13), date(2026, 6, 15),
         _span(date(2025, 12, 15), date(2026, 6, 10))),
        # Sunday 13/09/2026 rolls to Monday 14/09.
        ("q3", "Báo cáo CCHC Quý III/2026", date(2026, 9, 13), date(2026, 9, 14),
         _span(date(2026, 6, 15), date(2026, 9, 10))),
        # Sunday 15/11/2026 rolls to Monday 16/11.
        ("annual", "Báo cáo CCHC năm 2026", date(2026, 11, 15), date(2026, 11, 16),
         _span(date(2025, 12, 15), date(2026, 11, 20))),
    ],
)
def test_2026_projection(
    obligation_id: str, title: str, nominal: date, effective: date, window: DateRange | None
) -> None:
    calendar = _calendar(2026)
    assert calendar.projected is True
    got = _find(calendar, obligation_id, "commune")
    assert got.projected is True
    assert got.title == title
    assert got.nominal_deadline == nominal
    assert got.effective_deadline == effective
    assert got.window == window


def test_2026_projection_keeps_the_monitor_reading_flagged() -> None:
    annual = _find(_calendar(2026), "annual", "monitor")
    assert annual.deadline_interpreted is True
    assert annual.window == _span(date(2025, 12, 15), date(2026, 12, 14))
    supplement = _find(_calendar(2026), "supplement", "monitor")
    assert supplement.on_request is True
    assert supplement.nominal_deadline is None
    assert supplement.window == _span(date(2026, 12, 1), date(2026, 12, 14))
