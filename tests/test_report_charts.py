"""The console's charts without a server: the SVG drawing (escaped, no style attributes, figures written
as text, sizes proportional) and the figures behind it, counted as the timeliness table counts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from reminder_service.domain.status import Status, StatusCode, StatusRow
from reminder_service.services.present import charts
from reminder_service.services.present.timeliness_figures import (
    days_late,
    percent_text,
    rates_by_report,
    report_order,
    unit_history,
    yearless,
)
from reminder_service.services.readside import timeliness

SVG = "{http://www.w3.org/2000/svg}"
AS_OF = date(2026, 12, 7)
HOSTILE = 'UBND xã <b>A</b> & "B" \'C\' </svg><script>x()</script>'


def _tree(svg: str) -> ET.Element:
    """The drawing as XML: it must parse, whatever its labels held."""
    return ET.fromstring(svg)


def _texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in _tree(svg).iter(f"{SVG}text")]


def _accessible(svg: str, title: str) -> None:
    root = _tree(svg)
    assert root.get("role") == "img" and root.get("aria-label") == title
    found = root.find(f"{SVG}title")
    assert found is not None and found.text == title
    described = root.get("aria-describedby")
    assert described and root.find(f"{SVG}desc[@id='{described}']") is not None
    # The console's CSP has no 'unsafe-inline' for styles: presentation attributes only.
    assert "style" not in svg and "<script" not in svg


# --- the drawing -------------------------------------------------------------------------------------


def test_a_bar_chart_writes_each_figure_and_draws_lengths_in_proportion() -> None:
    bars = [charts.Bar("Quý I", 80.0, "80% (16/20)"), charts.Bar("Quý III", 20.0, "20% (1/5)"),
            charts.Bar("Năm", None, "chưa có đơn vị nào phải nộp")]
    svg = charts.bar_chart("a", "Tỷ lệ đúng hạn", "Mô tả", bars, look="on_time")
    _accessible(svg, "Tỷ lệ đúng hạn")
    texts = _texts(svg)
    assert {"80% (16/20)", "20% (1/5)", "chưa có đơn vị nào phải nộp", "Quý I", "Năm"} <= set(texts)
    filled = [float(r.get("width", "0")) for r in _tree(svg).iter(f"{SVG}rect") if r.get("fill") == "#2e7d4f"]
    assert len(filled) == 2 and filled[0] == pytest.approx(4 * filled[1])  # 80% is four times 20%
    # Each bar says its figures on hover too.
    assert [t.text for t in _tree(svg).iter(f"{SVG}title")][1:] == [f"{b.label}: {b.text}" for b in bars]


def test_every_label_is_escaped_and_the_drawing_stays_well_formed() -> None:
    bar = charts.bar_chart("x", HOSTILE, HOSTILE, [charts.Bar(HOSTILE, 50.0, HOSTILE, hint=HOSTILE)])
    column = charts.column_chart("y", HOSTILE, HOSTILE, [charts.Column(HOSTILE, (charts.Segment("late", 3),),
                                                                      hint=HOSTILE)],
                                 legend=[("late", HOSTILE)], axis_label=HOSTILE)
    strip = charts.strip_chart("z", HOSTILE, HOSTILE, [HOSTILE], [HOSTILE],
                               {(0, 0): charts.Mark("missing", HOSTILE, HOSTILE)}, legend=[("missing", HOSTILE)])
    for svg in (bar, column, strip):
        assert "<b>" not in svg and "<script>" not in svg and "</svg><script" not in svg
        assert "&lt;b&gt;A&lt;/b&gt; &amp; &quot;B&quot; &#x27;C&#x27;" in svg
        root = _tree(svg)
        assert root.get("aria-label") == HOSTILE
        titles = [t.text for t in root.iter(f"{SVG}title")]
        assert titles[0] == HOSTILE and HOSTILE in titles[1:]


def test_an_identifier_cannot_break_out_of_its_attribute() -> None:
    svg = charts.bar_chart('a" onload="x', "T", "D", [charts.Bar("q1", 10.0, "10%")], look="late")
    root = _tree(svg)
    assert root.get("id") == "aonloadx" and "onload" not in root.attrib
    assert root.find(f"{SVG}defs/{SVG}pattern[@id='aonloadx-late']") is not None


def test_stacked_columns_write_totals_and_segment_counts_and_share_one_scale() -> None:
    columns = [charts.Column("1–2", (charts.Segment("late", 6), charts.Segment("missing", 2))),
               charts.Column("> 20", (charts.Segment("late", 0), charts.Segment("missing", 4)))]
    svg = charts.column_chart("h", "Phân bố", "Mô tả", columns,
                              legend=[("late", "Nộp muộn"), ("missing", "Chưa nộp")], axis_label="Số ngày")
    _accessible(svg, "Phân bố")
    root = _tree(svg)
    totals = ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == "total"]
    assert totals == ["8", "4"]
    texts = _texts(svg)
    assert {"6", "2", "1–2", "> 20", "Số ngày", "◔ Nộp muộn", "✗ Chưa nộp"} <= set(texts)
    heights = {r.get("fill"): float(r.get("height", "0")) for r in root.iter(f"{SVG}rect")
               if r.get("fill", "").startswith("url(") and float(r.get("width", "0")) > 20}
    assert len(heights) == 2  # patterned segments, one look each: hatched for late, crossed for missing
    late = [float(r.get("height", "0")) for r in root.iter(f"{SVG}rect") if r.get("fill") == "url(#h-late)"
            and float(r.get("width", "0")) > 20]
    missing = [float(r.get("height", "0")) for r in root.iter(f"{SVG}rect") if r.get("fill") == "url(#h-missing)"
               and float(r.get("width", "0")) > 20]
    assert late[0] == pytest.approx(3 * missing[0]) and missing[1] == pytest.approx(2 * missing[0])


@pytest.mark.parametrize(("value", "end", "step"), [(0, 1, 1), (3, 3, 1), (7, 8, 2), (20, 20, 5), (37, 40, 10),
                                                     (230, 250, 50), (1999, 2000, 500), (26, 30, 10)])
def test_the_axis_ends_on_a_round_number(value: int, end: int, step: int) -> None:
    assert charts.nice_ceiling(value) == (end, step)


def test_every_axis_reaches_its_value_in_at_most_five_round_steps() -> None:
    for value in range(1, 20_000):
        end, step = charts.nice_ceiling(value)
        assert end >= value and end % step == 0 and end // step <= 5, value
        assert str(step).strip("0") in {"1", "2", "5"}, value


def test_a_strip_chart_writes_each_cell_s_words_and_says_when_nothing_is_owed() -> None:
    cells = {(0, 0): charts.Mark("on_time", "Đúng hạn"), (1, 0): charts.Mark("late", "Muộn 5 ngày"),
             (1, 1): charts.Mark("missing", "Quá hạn 59 ngày", "Báo cáo CCHC Quý III năm 2026: Quá hạn 59 ngày")}
    svg = charts.strip_chart("s", "Lịch sử", "Mô tả", ["2025", "2026"], ["Kế hoạch CCHC năm", "Quý III"], cells,
                             legend=[("on_time", "Đúng hạn")])
    _accessible(svg, "Lịch sử")
    texts = _texts(svg)
    assert {"2025", "2026", "Kế hoạch CCHC năm", "Quý III", "Đúng hạn", "Muộn 5 ngày", "Quá hạn 59 ngày",
            "không phải nộp", "✓ Đúng hạn"} <= set(texts)
    assert "Báo cáo CCHC Quý III năm 2026: Quá hạn 59 ngày" in [t.text for t in _tree(svg).iter(f"{SVG}title")]


# --- the figures ------------------------------------------------------------------------------------


def _row(unit: str, code: str, status: StatusCode, days: int | None = None, *, year: int = 2026,
         deadline: date = date(2026, 3, 13), kind: str = "commune") -> StatusRow:
    return StatusRow(1, code, f"Báo cáo {code}/{year}", year, deadline, deadline, unit, f"UBND {unit}", kind, None,
                     Status(status, days))


ROWS = [
    _row("A", "q1", "submitted_on_time"), _row("B", "q1", "submitted_late", 2), _row("C", "q1", "overdue", 25),
    _row("D", "q1", "waived"), _row("E", "q1", "incomplete", 4), _row("F", "q1", "submitted_late", 0),
    # Not owed yet: sent before a deadline still ahead, due soon, still incomplete before the deadline.
    _row("A", "annual", "submitted_on_time", deadline=date(2026, 12, 15)),
    _row("B", "annual", "due_soon", deadline=date(2026, 12, 15)),
    _row("C", "annual", "incomplete", deadline=date(2026, 12, 15)),
    _row("D", "h1", "submitted_late", 11, deadline=date(2026, 6, 15)),
    _row("E", "h1", "submitted_late", 20, deadline=date(2026, 6, 15)),
    _row("F", "h1", "overdue", 21, deadline=date(2026, 6, 15)),
]


def test_rates_count_what_the_timeliness_table_counts() -> None:
    rates = rates_by_report(ROWS, AS_OF)
    assert [r.code for r in rates] == ["q1", "h1", "annual"]  # the order of the year
    q1, h1, annual = rates
    assert (q1.owed, q1.on_time, q1.late, q1.missing, q1.waived) == (5, 1, 2, 2, 1)
    assert (annual.owed, annual.percent) == (0, None)
    assert q1.title == "Báo cáo q1" and percent_text(q1.percent) == "20%"
    assert percent_text(h1.percent) == "0%"
    table = timeliness(ROWS, AS_OF)
    for field in ("owed", "on_time", "late", "missing", "waived"):
        assert sum(getattr(r, field) for r in rates) == sum(getattr(t, field) for t in table), field


@pytest.mark.parametrize(("value", "text"), [(None, "—"), (100.0, "100%"), (200 / 3, "66,7%"), (12.5, "12,5%"),
                                             (99.96, "100%")])
def test_a_percentage_is_written_the_vietnamese_way(value: float | None, text: str) -> None:
    assert percent_text(value) == text


def test_days_late_fall_in_their_buckets_and_add_up_to_late_plus_missing() -> None:
    buckets = days_late(ROWS, AS_OF)
    assert [(b.label, b.late, b.missing) for b in buckets] == [
        ("0", 1, 0), ("1–2", 1, 0), ("3–5", 0, 1), ("6–10", 0, 0), ("11–20", 2, 0), ("> 20", 0, 2)]
    table = timeliness(ROWS, AS_OF)
    assert sum(b.total for b in buckets) == sum(t.late + t.missing for t in table)
    # No report late by less than a working day: no such column.
    without = days_late([r for r in ROWS if r.unit != "F"], AS_OF)
    assert [b.label for b in without] == ["1–2", "3–5", "6–10", "11–20", "> 20"]


@pytest.mark.parametrize(("days", "label"), [(1, "1–2"), (2, "1–2"), (3, "3–5"), (5, "3–5"), (6, "6–10"),
                                             (10, "6–10"), (11, "11–20"), (20, "11–20"), (21, "> 20"), (400, "> 20")])
def test_each_bucket_s_bounds_are_inclusive(days: int, label: str) -> None:
    found = [b for b in days_late([_row("A", "q1", "overdue", days)], AS_OF) if b.total]
    assert [b.label for b in found] == [label]


def test_a_unit_s_history_lines_up_its_years_by_report() -> None:
    rows = [
        _row("A", "q1", "submitted_late", 5, year=2025, deadline=date(2025, 3, 13)),
        _row("A", "plan", "overdue", 372, year=2025, deadline=date(2025, 2, 3)),
        _row("A", "q1", "waived", year=2026),
        _row("A", "plan", "submitted_on_time", year=2026, deadline=date(2026, 2, 2)),
        _row("A", "annual", "not_yet_due", year=2026, deadline=date(2026, 12, 15)),
        _row("A", "annual", "incomplete", 3, year=2025, deadline=date(2025, 11, 17)),
    ]
    history = unit_history(rows, AS_OF)
    assert history.years == (2025, 2026) and history.codes == ("plan", "q1", "annual")
    words = {key: (cell.mark, cell.words) for key, cell in history.cells.items()}
    assert words == {
        (2025, "q1"): ("late", "Muộn 5 ngày"), (2025, "plan"): ("missing", "Quá hạn 372 ngày"),
        (2026, "q1"): ("waived", "Miễn"), (2026, "plan"): ("on_time", "Đúng hạn"),
        (2026, "annual"): ("open", "Chưa đến hạn"), (2025, "annual"): ("missing", "Thiếu, quá hạn 3 ngày"),
    }
    assert history.titles["q1"] == "Báo cáo q1" and history.counts()["missing"] == 2


def test_report_order_follows_the_calendar_not_the_code() -> None:
    rows = [_row("A", "z_first", "overdue", 1, deadline=date(2026, 1, 5)),
            _row("A", "a_last", "overdue", 1, deadline=date(2026, 11, 5)),
            _row("A", "m_mid", "overdue", 1, deadline=date(2025, 6, 5), year=2025)]
    assert report_order(rows) == ["z_first", "m_mid", "a_last"]


@pytest.mark.parametrize(("title", "year", "words"), [
    ("Báo cáo CCHC Quý I/2026", 2026, "Báo cáo CCHC Quý I"), ("Kế hoạch CCHC năm 2026", 2026, "Kế hoạch CCHC năm"),
    ("Báo cáo bổ sung", 2026, "Báo cáo bổ sung"), ("Báo cáo năm 2025", 2026, "Báo cáo năm 2025")])
def test_a_title_loses_its_year_for_a_column_of_every_year(title: str, year: int, words: str) -> None:
    assert yearless(title, year) == words


def test_no_chart_text_is_left_unescaped_by_the_figures() -> None:
    """A report title from a directive file goes through the same escaping as a unit name."""
    rows = [_row("A", "q1", "overdue", 3)]
    rows = [StatusRow(r.obligation_id, r.obligation, "Báo cáo <i>&</i>/2026", *(
        getattr(r, f) for f in ("year", "nominal_deadline", "effective_deadline", "unit", "unit_name", "kind",
                                "unit_head", "status"))) for r in rows]
    rate = rates_by_report(rows, AS_OF)[0]
    svg = charts.bar_chart("r", "T", "D", [charts.Bar(rate.title, rate.percent, percent_text(rate.percent))])
    assert re.search(r"<i>", svg) is None and "Báo cáo &lt;i&gt;&amp;&lt;/i&gt;" in svg
