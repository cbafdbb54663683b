"""«Báo cáo» over real HTTP on SQLite and PostgreSQL: the timeliness table and its workbook against
`report timeliness --format json`, the charts' figures, a unit's people seeing their unit alone, hostile
names escaped inside the SVG, and bad parameters answered in words."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from reminder_service.adapters.web import reports_pages
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, Unit
from reminder_service.services.present.status_view import TIMELINESS_HEADERS
from reminder_service.services.present.timeliness_xlsx import FIRST_DATA_ROW, HEADER_ROW
from reminder_service.services.submissions import record_submission
from tests.conftest import Cli
from tests.webconsole import FOCAL, HEAD, LEADER, NOW, OWN_UNIT, RECEIVER, Served, served

Json = Callable[..., Any]
FIELDS = ("owed", "on_time", "late", "missing", "days_late", "waived")
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = 'UBND xã <b>Lộc</b> & "Thọ" \'mới\' </svg><script>alert(1)</script>'


@pytest.fixture
def console(db_url: str) -> Iterator[Served]:
    with served(db_url) as running:
        yield running


@pytest.fixture
def cli_json(db_cli: Cli, capsys: pytest.CaptureFixture[str]) -> Json:
    """A command's JSON output; what the console logged to stdout meanwhile is set aside first."""

    def run(*args: str) -> Any:
        capsys.readouterr()
        done = db_cli(*args, "--as-of", "07/12/2026", "--format", "json")
        assert done.code == 0, done.err
        return json.loads(done.out)

    return run


def _timeliness(cli_json: Json, *args: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = cli_json("report", "timeliness", *args)
    return records


def _page_table(html: str) -> list[dict[str, Any]]:
    """The table's rows as the JSON records are written: rank, unit and the six figures."""
    rows = []
    for unit, body in re.findall(r'<tr data-unit="([^"]+)">(.*?)</tr>', html, re.S):
        rank = re.search(r'<td class="num">(\d+)</td>', body)
        assert rank is not None, body
        figures = {field: int(value.replace(".", "")) for field, value in
                   re.findall(r'data-field="(\w+)">([\d.]+)', body)}
        rows.append({"rank": int(rank.group(1)), "unit": unit, **figures})
    return rows


def _expected(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: r[key] for key in ("rank", "unit", *FIELDS)} for r in records]


def _svgs(html: str) -> dict[str, ET.Element]:
    """Each inline chart, parsed as XML (it must be well formed whatever the names held), by its id."""
    found = {}
    for text in re.findall(r"<svg .*?</svg>", html, re.S):
        root = ET.fromstring(text)
        found[root.get("id", "")] = root
    return found


def _texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if cls is None or t.get("class") == cls]


def _workbook_rows(data: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert tuple(c.value for c in sheet[HEADER_ROW]) == TIMELINESS_HEADERS
    rows = []
    for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True):
        if row[0] is None or isinstance(row[0], str):  # the notes under the table
            break
        rows.append(row)
    return rows


def _as_records(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [{"rank": r[0], "unit": r[1], **dict(zip(FIELDS, r[3:9], strict=True))} for r in rows]


# --- the table and its workbook ---------------------------------------------------------------------


def test_the_table_shows_the_figures_report_timeliness_prints(console: Served, cli_json: Json) -> None:
    browser = console.signed_in(RECEIVER)
    for year in ("2026", "2025"):
        page = browser.get(f"/bao-cao?nam={year}")
        assert page.status_code == 200
        expected = _expected(_timeliness(cli_json, "--year", year))
        assert expected and _page_table(page.text) == expected, year
        assert "Ghi chú: Phải nộp: báo cáo đã qua hạn nộp thực tế" in page.text
    communes = browser.get("/bao-cao?nam=2026&loai=commune")
    assert _page_table(communes.text) == _expected(_timeliness(cli_json, "--year", "2026", "--kind", "commune"))
    # Nothing inline that the page's CSP would block, even in the drawings.
    drawn = browser.get("/bao-cao?nam=2026&don_vi=XA_LOC_THO").text
    assert "<svg " in drawn
    assert "style=" not in drawn and "<style" not in drawn and "<script>" not in drawn and " on" + "load=" not in drawn


def test_the_workbook_opens_in_excel_with_the_same_numbers(console: Served, cli_json: Json) -> None:
    browser = console.signed_in(LEADER)
    page = browser.get("/bao-cao?nam=2026")
    assert 'href="/bao-cao/xlsx?nam=2026"' in page.text
    download = browser.get("/bao-cao/xlsx?nam=2026")
    assert download.status_code == 200
    assert download.headers["content-type"] == reports_pages.XLSX_TYPE
    assert download.headers["content-disposition"] == 'attachment; filename="tong-hop-cchc-2026.xlsx"'
    rows = _workbook_rows(download.content)
    assert _as_records(rows) == _expected(_timeliness(cli_json, "--year", "2026"))
    monitors = browser.get("/bao-cao/xlsx?nam=2026&loai=monitor")
    assert monitors.headers["content-disposition"] == 'attachment; filename="tong-hop-cchc-2026-monitor.xlsx"'
    assert _as_records(_workbook_rows(monitors.content)) == _expected(
        _timeliness(cli_json, "--year", "2026", "--kind", "monitor"))


def test_table_and_workbook_follow_a_submission_recorded_elsewhere(console: Served, cli_json: Json) -> None:
    """Both read through the console's row cache, which holds only while nothing changed."""
    browser = console.signed_in(RECEIVER)
    before = {r["unit"]: r for r in _page_table(browser.get("/bao-cao?nam=2026").text)}
    browser.get("/bao-cao/xlsx?nam=2026")
    with console.app.session() as session:
        obligation = session.scalars(select(Obligation).join(Unit).where(
            Unit.code == "XA_AN_PHU", Obligation.code == "annual", Obligation.year == 2026)).one()
        record_submission(session, obligation, received_at=NOW, doc_no="9/BC", note=None,
                          actor=Actor("Nguyễn Thị Thanh", "telegram"), now=NOW)
    after = {r["unit"]: r for r in _page_table(browser.get("/bao-cao?nam=2026").text)}
    assert (before["XA_AN_PHU"]["missing"], after["XA_AN_PHU"]["missing"]) == (1, 0)
    assert after["XA_AN_PHU"]["late"] == before["XA_AN_PHU"]["late"] + 1
    expected = _expected(_timeliness(cli_json, "--year", "2026"))
    assert list(after.values()) == expected
    assert _as_records(_workbook_rows(browser.get("/bao-cao/xlsx?nam=2026").content)) == expected


# --- the charts ------------------------------------------------------------------------------------


def test_the_charts_write_their_figures_and_agree_with_the_table(console: Served, cli_json: Json) -> None:
    records = _timeliness(cli_json, "--year", "2026")
    page = console.signed_in(LEADER).get("/bao-cao?nam=2026&don_vi=XA_LOC_THO")
    assert page.status_code == 200
    charts = _svgs(page.text)
    assert set(charts) == {"ti-le-dung-han", "so-ngay-cham", "lich-su-don-vi"}
    for root in charts.values():
        title = root.find(f"{SVG}title")
        assert title is not None and title.text and root.get("aria-label") == title.text
        assert root.find(f"{SVG}desc") is not None
    # a. The share on time of each report: "57,7% (15/26)", adding up to the table's totals.
    figures = [re.fullmatch(r"([\d,]+)% \((\d+)/(\d+)\)", text) for text in _texts(charts["ti-le-dung-han"], "figure")]
    assert figures and all(figures)
    on_time, owed = (sum(int(m.group(i)) for m in figures if m) for i in (2, 3))
    assert (on_time, owed) == (sum(r["on_time"] for r in records), sum(r["owed"] for r in records))
    for match in figures:
        assert match is not None
        shown = float(match.group(1).replace(",", "."))
        assert shown == pytest.approx(100 * int(match.group(2)) / int(match.group(3)), abs=0.05)
    # b. Days late: every late or missing report in one column, each column's total written on it.
    totals = [int(t) for t in _texts(charts["so-ngay-cham"], "total")]
    assert sum(totals) == sum(r["late"] + r["missing"] for r in records)
    assert {"1–2", "3–5", "6–10", "11–20", "> 20"} <= set(_texts(charts["so-ngay-cham"]))
    # c. One unit's years: each report's words, as the status of that unit says.
    status = cli_json("status", "--year", "2026")
    history = _texts(charts["lich-su-don-vi"])
    assert {"2025", "2026"} <= set(history)
    for row in (r for r in status if r["unit"] == "XA_LOC_THO"):
        words = {"submitted_on_time": "Đúng hạn", "waived": "Miễn"}.get(row["status"]) or {
            "submitted_late": f"Muộn {row['days_late']} ngày", "overdue": f"Quá hạn {row['days_late']} ngày",
        }[row["status"]]
        assert words in history, row
    assert "UBND xã Lộc Thọ" in (charts["lich-su-don-vi"].get("aria-label") or "")


def test_a_hostile_unit_name_stays_text_inside_the_svg(console: Served) -> None:
    with console.app.session() as session:
        session.execute(update(Unit).where(Unit.code == "XA_LOC_THO").values(name=HOSTILE))
    page = console.signed_in(RECEIVER).get("/bao-cao?nam=2026&don_vi=XA_LOC_THO")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "<b>Lộc</b>" not in page.text
    chart = _svgs(page.text)["lich-su-don-vi"]  # parses: the name closed no element
    title = chart.find(f"{SVG}title")
    assert title is not None and title.text == f"Lịch sử nộp báo cáo của {HOSTILE}"
    assert chart.get("aria-label") == f"Lịch sử nộp báo cáo của {HOSTILE}"
    assert "&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


# --- who sees what -------------------------------------------------------------------------------------


def test_a_unit_s_people_see_their_unit_alone_in_table_workbook_and_charts(console: Served, cli_json: Json) -> None:
    own = [r for r in _timeliness(cli_json, "--year", "2026") if r["unit"] == OWN_UNIT]
    for email in (HEAD, FOCAL):
        browser = console.signed_in(email)
        page = browser.get("/bao-cao?nam=2026")
        assert page.status_code == 200
        assert [{k: v for k, v in r.items() if k != "rank"} for r in _page_table(page.text)] == [
            {k: v for k, v in r.items() if k not in ("rank", "unit_name", "kind")} for r in own]
        assert "XA_LOC_THO" not in page.text and "Phòng Văn hóa" not in page.text
        assert 'name="don_vi"' not in page.text  # their own unit's history, no choice of another
        charts = _svgs(page.text)
        assert "UBND thị trấn Phú Lộc" in (charts["lich-su-don-vi"].get("aria-label") or "")
        figures = [re.fullmatch(r"[\d,]+% \((\d+)/(\d+)\)", t) for t in _texts(charts["ti-le-dung-han"], "figure")]
        assert sum(int(m.group(2)) for m in figures if m) == own[0]["owed"]
        rows = _workbook_rows(browser.get("/bao-cao/xlsx?nam=2026").content)
        assert [r[1] for r in rows] == [OWN_UNIT]
        other = browser.get("/bao-cao?nam=2026&don_vi=VHTT")
        assert other.status_code == 403 and "đơn vị mình" in other.text
    anonymous = console.client()
    for path in ("/bao-cao", "/bao-cao/xlsx?nam=2026"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap?tiep=")


def test_the_page_is_in_everyone_s_navigation(console: Served) -> None:
    for email in (RECEIVER, LEADER, HEAD):
        assert '<a href="/bao-cao"' in console.signed_in(email).get("/").text, email


def test_a_province_s_unit_is_found_by_name_instead_of_a_list(console: Served,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports_pages, "UNIT_CHOICES", 5)
    browser = console.signed_in(RECEIVER)
    page = browser.get("/bao-cao?nam=2026")
    assert 'name="tim_don_vi"' in page.text and '<select name="don_vi"' not in page.text
    one = browser.get("/bao-cao", params={"nam": "2026", "tim_don_vi": "loc tho"})
    assert "lich-su-don-vi" in one.text and "UBND xã Lộc Thọ" in one.text
    several = browser.get("/bao-cao", params={"nam": "2026", "tim_don_vi": "hoa"})
    assert "lich-su-don-vi" not in several.text
    assert "don_vi=XA_DONG_HOA" in several.text and "don_vi=TT_HOA_THUAN" in several.text
    none = browser.get("/bao-cao", params={"nam": "2026", "tim_don_vi": "không có"})
    assert "Không có đơn vị nào khớp" in none.text


# --- bad parameters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "words"), [
    ("/bao-cao?nam=20x6", "Năm «20x6» không hợp lệ"),
    ("/bao-cao?nam=1850", "Năm «1850» không hợp lệ"),
    ("/bao-cao?loai=tinh", "Không có loại đơn vị «tinh»"),
    ("/bao-cao/xlsx?nam=abc", "Năm «abc» không hợp lệ"),
    ("/bao-cao/xlsx?nam=2026&loai=<b>", "Không có loại đơn vị «&lt;b&gt;»"),
    ("/bao-cao?nam=2026&don_vi=KHONG_CO", "Không có đơn vị mã «KHONG_CO»"),
])
def test_a_bad_year_kind_or_unit_is_answered_in_words(console: Served, path: str, words: str) -> None:
    answer = console.signed_in(RECEIVER).get(path)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert words in answer.text and "hãy chọn" in answer.text


def test_a_year_without_reports_says_so_and_still_gives_a_workbook(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    page = browser.get("/bao-cao?nam=2030")
    assert page.status_code == 200 and "Năm 2030 chưa có nghĩa vụ báo cáo nào" in page.text
    assert "obligations sync --year 2030" in page.text
    assert _workbook_rows(browser.get("/bao-cao/xlsx?nam=2030").content) == []
