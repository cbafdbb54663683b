"""status, overdue and report timeliness against a real database, SQLite and PostgreSQL.

The 2021 organisation: three communes and two monitor offices that report, one deactivated commune.
Q1/2021 is due Sat 13/03 (effective Mon 15/03); the plan Sat 30/01 (effective Mon 01/02).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, event, update
from sqlalchemy.orm import Session

from reminder_service.app import App
from reminder_service.domain import clock
from reminder_service.domain.status import StatusRow
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Person, Submission, Unit
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.present.status_view import ROW_FIELDS, TIMELINESS_HEADERS
from reminder_service.services.readside import Filters, load_rows, overdue_rows, status_rows
from reminder_service.services.submissions import find_obligation, mark_incomplete, record_submission, waive
from tests.conftest import Cli

ACTOR = Actor("thanh.nv", "cli")
NOW = datetime(2021, 1, 4, 8, 0)
UNITS = (
    ("XA_AN_BINH", "UBND xã An Bình", "commune", "Nguyễn Văn An"),
    ("XA_PHU_LOC", "UBND xã Phú Lộc", "commune", "Trần Thị Lộc"),
    ("TT_DONG_HOA", "UBND thị trấn Đông Hòa", "commune", "Lê Văn Hòa"),
    ("P_TU_PHAP", "Phòng Tư pháp", "monitor", "Phạm Thị Pháp"),
    ("P_NOI_VU", "Phòng Nội vụ", "monitor", "Hoàng Văn Vụ"),
    ("XA_CU", "UBND xã Cũ", "commune", "Đỗ Văn Cũ"),
)


def add_units(app: App, units: tuple[tuple[str, str, str, str], ...]) -> None:
    with app.session() as session:
        for code, name, kind, head in units:
            unit = Unit(code=code, name=name, kind=kind, active=True, updated_at=NOW)
            session.add(unit)
            session.flush()
            session.add(Person(name=head, role="unit_head", unit_id=unit.id))
            session.add(Person(name=f"Đầu mối {code}", role="focal", unit_id=unit.id))
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)


def receive(app: App, unit: str, code: str, when: datetime, doc_no: str | None = None) -> None:
    with app.session() as session:
        target = find_obligation(session, unit, code, 2021)
        record_submission(session, target, received_at=when, doc_no=doc_no, note=None, actor=ACTOR, now=when)


@pytest.fixture
def org(app: App) -> App:
    add_units(app, UNITS)
    receive(app, "XA_AN_BINH", "q1", datetime(2021, 3, 15, 23, 59), "12/BC-UBND")
    receive(app, "XA_PHU_LOC", "plan", datetime(2021, 1, 29, 10, 0), "3/KH-UBND")
    receive(app, "XA_PHU_LOC", "q1", datetime(2021, 3, 16, 8, 0), "7/BC-UBND")
    receive(app, "P_TU_PHAP", "q1", datetime(2021, 3, 10, 9, 0), "5/BC-TP")
    with app.session() as session:
        mark_incomplete(session, find_obligation(session, "P_TU_PHAP", "q1", 2021), "Phụ lục 3B mục 2", ACTOR, NOW)
        waive(session, find_obligation(session, "TT_DONG_HOA", "q1", 2021), "Sáp nhập đơn vị", ACTOR, NOW)
        session.execute(update(Unit).where(Unit.code == "XA_CU").values(active=False))
    return app


def by_unit(out: str) -> dict[str, dict[str, Any]]:
    return {item["unit"]: item for item in json.loads(out)}


def test_status_table_in_vietnamese(org: App, db_cli: Cli) -> None:
    result = db_cli("status", "--year", "2021", "--obligation", "q1", "--as-of", "18/03/2021")
    assert result.code == 0, result.err
    out = result.out
    assert "Tình hình nộp báo cáo CCHC năm 2021. Tính đến hết Thứ Năm, ngày 18/03/2021." in out
    for header in ("Mã đơn vị", "Đơn vị", "Báo cáo", "Hạn nộp", "Hạn thực tế", "Tình trạng", "Ngày nhận", "Số ký hiệu"):
        assert header in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("XA_", "TT_", "P_"))}
    assert set(lines) == {"XA_AN_BINH", "XA_PHU_LOC", "TT_DONG_HOA", "P_TU_PHAP", "P_NOI_VU"}
    assert "Nộp đúng hạn" in lines["XA_AN_BINH"] and "12/BC-UBND" in lines["XA_AN_BINH"]
    assert "13/03/2021" in lines["XA_AN_BINH"] and "15/03/2021" in lines["XA_AN_BINH"]
    assert "Nộp muộn 1 ngày làm việc" in lines["XA_PHU_LOC"] and "16/03/2021" in lines["XA_PHU_LOC"]
    assert "Được miễn" in lines["TT_DONG_HOA"]
    assert "Còn thiếu: Phụ lục 3B mục 2 (quá hạn 3 ngày làm việc)" in lines["P_TU_PHAP"]
    assert "Quá hạn 3 ngày làm việc" in lines["P_NOI_VU"]
    assert ("Tổng cộng 5 nghĩa vụ — Nộp đúng hạn: 1; Nộp muộn: 1; Quá hạn: 1; Còn thiếu: 1; Được miễn: 1."
            in out)


def test_status_json_fields(org: App, db_cli: Cli) -> None:
    result = db_cli("status", "--year", "2021", "--as-of", "2021-03-18", "--format", "json")
    assert result.code == 0, result.err
    items = json.loads(result.out)
    assert {i["unit"] for i in items} == {"XA_AN_BINH", "XA_PHU_LOC", "TT_DONG_HOA", "P_TU_PHAP", "P_NOI_VU"}
    assert len(items) == 3 * 5 + 2 * 4  # communes owe plan, q1, h1, q3, annual; monitors all but the plan
    q1 = {i["unit"]: i for i in items if i["obligation"] == "q1"}
    assert q1["XA_PHU_LOC"] == {
        "unit": "XA_PHU_LOC", "unit_name": "UBND xã Phú Lộc", "kind": "commune", "unit_head": "Trần Thị Lộc",
        "obligation": "q1", "obligation_id": q1["XA_PHU_LOC"]["obligation_id"], "title": "Báo cáo CCHC Quý I/2021",
        "year": 2021, "nominal_deadline": "2021-03-13", "effective_deadline": "2021-03-15",
        "status": "submitted_late", "status_text": "Nộp muộn 1 ngày làm việc", "received": "2021-03-16",
        "days_late": 1, "doc_no": "7/BC-UBND", "missing": None,
    }
    assert isinstance(q1["XA_PHU_LOC"]["obligation_id"], int)
    assert (q1["XA_AN_BINH"]["status"], q1["XA_AN_BINH"]["received"], q1["XA_AN_BINH"]["days_late"]) == (
        "submitted_on_time", "2021-03-15", None)
    assert (q1["P_NOI_VU"]["status"], q1["P_NOI_VU"]["days_late"], q1["P_NOI_VU"]["received"]) == ("overdue", 3, None)
    assert (q1["P_TU_PHAP"]["status"], q1["P_TU_PHAP"]["missing"]) == ("incomplete", "Phụ lục 3B mục 2")
    assert (q1["TT_DONG_HOA"]["status"], q1["TT_DONG_HOA"]["days_late"]) == ("waived", None)
    plan = {i["unit"]: i["status"] for i in items if i["obligation"] == "plan"}
    assert plan == {"XA_AN_BINH": "overdue", "XA_PHU_LOC": "submitted_on_time", "TT_DONG_HOA": "overdue"}
    assert {i["status"] for i in items if i["obligation"] in ("h1", "q3", "annual")} == {"not_yet_due"}


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("05/03/2021", {"XA_AN_BINH": "not_yet_due", "P_NOI_VU": "not_yet_due", "P_TU_PHAP": "not_yet_due"}),
        ("12/03/2021", {"XA_AN_BINH": "due_soon", "P_NOI_VU": "due_soon", "P_TU_PHAP": "incomplete"}),
        ("14/03/2021", {"XA_AN_BINH": "due_soon", "XA_PHU_LOC": "due_soon", "P_NOI_VU": "due_soon"}),
        ("15/03/2021", {"XA_AN_BINH": "submitted_on_time", "XA_PHU_LOC": "due_soon", "P_NOI_VU": "due_soon"}),
        ("16/03/2021", {"XA_PHU_LOC": "submitted_late", "P_NOI_VU": "overdue", "TT_DONG_HOA": "waived"}),
    ],
)
def test_as_of_shows_the_picture_of_that_day(org: App, db_cli: Cli, as_of: str, expected: dict[str, str]) -> None:
    result = db_cli("status", "-y", "2021", "--obligation", "Q1", "--as-of", as_of, "-f", "json")
    assert result.code == 0, result.err
    found = {code: item["status"] for code, item in by_unit(result.out).items()}
    assert {code: found[code] for code in expected} == expected


@pytest.mark.parametrize("command", [("status", "-y", "2021"), ("overdue",), ("report", "timeliness", "-y", "2021")])
def test_as_of_defaults_to_today(org: App, db_cli: Cli, command: tuple[str, ...]) -> None:
    today = clock.today()
    implicit = db_cli(*command, "-f", "json")
    explicit = db_cli(*command, "-f", "json", "--as-of", today.isoformat())
    assert implicit.code == explicit.code == 0, implicit.err
    assert implicit.out == explicit.out
    table = db_cli(*command)
    assert f"ngày {today:%d/%m/%Y}." in table.out


def test_status_csv_opens_in_excel(org: App, db_cli: Cli) -> None:
    result = db_cli("status", "--year", "2021", "--kind", "commune", "--as-of", "18/03/2021", "--format", "csv",
                    "--headers", "en")
    assert result.code == 0, result.err
    assert result.out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(result.out.encode("utf-8").decode("utf-8-sig"))))
    assert tuple(rows[0]) == ROW_FIELDS
    assert {r["unit"] for r in rows} == {"XA_AN_BINH", "XA_PHU_LOC", "TT_DONG_HOA"}
    late = next(r for r in rows if r["unit"] == "XA_PHU_LOC" and r["obligation"] == "q1")
    assert (late["unit_name"], late["status"], late["days_late"], late["received"]) == (
        "UBND xã Phú Lộc", "submitted_late", "1", "2021-03-16")
    assert next(r for r in rows if r["unit"] == "XA_AN_BINH" and r["obligation"] == "q1")["days_late"] == ""


def test_overdue_most_overdue_first_with_unit_heads(org: App, db_cli: Cli) -> None:
    result = db_cli("overdue", "--as-of", "18/03/2021", "--format", "json")
    assert result.code == 0, result.err
    items = json.loads(result.out)
    assert [(i["unit"], i["obligation"], i["status"], i["days_late"]) for i in items] == [
        ("TT_DONG_HOA", "plan", "overdue", 28),
        ("XA_AN_BINH", "plan", "overdue", 28),
        ("P_NOI_VU", "q1", "overdue", 3),
        ("P_TU_PHAP", "q1", "incomplete", 3),
    ]
    assert [i["unit_head"] for i in items] == ["Lê Văn Hòa", "Nguyễn Văn An", "Hoàng Văn Vụ", "Phạm Thị Pháp"]
    table = db_cli("overdue", "--as-of", "18/03/2021")
    assert table.code == 0, table.err
    assert "Thủ trưởng" in table.out and "Hoàng Văn Vụ" in table.out and "XA_CU" not in table.out
    assert table.out.index("TT_DONG_HOA") < table.out.index("P_NOI_VU")
    assert "4 báo cáo quá hạn của 4 đơn vị." in table.out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--obligation", "q1"), {"P_NOI_VU", "P_TU_PHAP"}),
        (("--kind", "monitor"), {"P_NOI_VU", "P_TU_PHAP"}),
        (("--kind", "commune", "--year", "2021"), {"TT_DONG_HOA", "XA_AN_BINH"}),
        (("--as-of", "15/03/2021", "--obligation", "q1"), set()),
        (("--year", "2020",), set()),
    ],
)
def test_overdue_filters(org: App, db_cli: Cli, args: tuple[str, ...], expected: set[str]) -> None:
    result = db_cli("overdue", "--as-of", "18/03/2021", *args, "-f", "json")
    assert result.code == 0, result.err
    assert {i["unit"] for i in json.loads(result.out)} == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("16/03/2021", {("P_TU_PHAP", "q1"): "incomplete", ("XA_AN_BINH", "plan"): "overdue",
                        ("P_NOI_VU", "q1"): "incomplete"}),
        ("17/03/2021", {("XA_AN_BINH", "plan"): "overdue", ("P_NOI_VU", "q1"): "incomplete"}),
        ("19/03/2021", {("XA_AN_BINH", "plan"): "overdue", ("P_NOI_VU", "q1"): "incomplete"}),
        ("22/03/2021", {("P_NOI_VU", "q1"): "incomplete"}),
    ],
)
def test_overdue_follows_resubmissions(org: App, db_cli: Cli, as_of: str, expected: dict[tuple[str, str], str]) -> None:
    receive(org, "P_TU_PHAP", "q1", datetime(2021, 3, 17, 9, 0), "6/BC-TP")  # complete this time
    receive(org, "XA_AN_BINH", "plan", datetime(2021, 3, 20, 9, 0), "2/KH-UBND")  # a Saturday, late
    with org.session() as session:
        # Received and found incomplete at the same minute: the incomplete mark, entered last, stands.
        target = find_obligation(session, "P_NOI_VU", "q1", 2021)
        for state in ("accepted", "incomplete"):
            session.add(Submission(obligation=target, received_at=datetime(2021, 3, 12, 9, 0), state=state,
                                   missing="Phụ lục 3A", channel="cli", actor="test", created_at=NOW))
            session.flush()
    result = db_cli("overdue", "--as-of", as_of, "--kind", "commune", "--format", "json")
    monitors = db_cli("overdue", "--as-of", as_of, "--kind", "monitor", "--format", "json")
    assert result.code == monitors.code == 0, result.err + monitors.err
    items = json.loads(result.out) + json.loads(monitors.out)
    got = {(i["unit"], i["obligation"]): i["status"] for i in items if i["unit"] != "TT_DONG_HOA"}
    assert got == expected
    late = by_unit(db_cli("status", "-y", "2021", "--obligation", "q1", "--as-of", as_of, "-f", "json").out)
    assert late["P_TU_PHAP"]["status"] == ("incomplete" if as_of == "16/03/2021" else "submitted_late")


def test_overdue_table_says_when_nobody_is_late(org: App, db_cli: Cli) -> None:
    result = db_cli("overdue", "--as-of", "10/01/2021")
    assert result.code == 0, result.err
    assert "Không có đơn vị nào quá hạn nộp báo cáo." in result.out


EXPECTED_18_03 = [  # unit, owed, on time, late, missing, working days late, waived
    ("XA_PHU_LOC", 2, 1, 1, 0, 1, 0),
    ("P_NOI_VU", 1, 0, 0, 1, 3, 0),
    ("P_TU_PHAP", 1, 0, 0, 1, 3, 0),
    ("XA_AN_BINH", 2, 1, 0, 1, 28, 0),
    ("TT_DONG_HOA", 1, 0, 0, 1, 28, 1),
]


def test_timeliness_json_and_order(org: App, db_cli: Cli) -> None:
    result = db_cli("report", "timeliness", "--year", "2021", "--as-of", "18/03/2021", "-f", "json")
    assert result.code == 0, result.err
    items = json.loads(result.out)
    got = [(i["unit"], i["owed"], i["on_time"], i["late"], i["missing"], i["days_late"], i["waived"]) for i in items]
    assert got == EXPECTED_18_03
    assert [i["rank"] for i in items] == [1, 2, 3, 4, 5]
    # On its last day an unsent report is not yet owed; one already received is.
    deadline_day = by_unit(db_cli("report", "timeliness", "-y", "2021", "--as-of", "15/03/2021", "-f", "json").out)
    assert (deadline_day["XA_AN_BINH"]["owed"], deadline_day["XA_AN_BINH"]["days_late"]) == (2, 25)
    assert deadline_day["P_NOI_VU"]["owed"] == 0


def test_timeliness_table_and_csv(org: App, db_cli: Cli, tmp_path: Path) -> None:
    table = db_cli("report", "timeliness", "--year", "2021", "--as-of", "18/03/2021")
    assert table.code == 0, table.err
    assert table.out.startswith("Tổng hợp tình hình nộp báo cáo CCHC năm 2021.")
    assert all(header in table.out for header in TIMELINESS_HEADERS)
    target = tmp_path / "tong-hop.csv"
    written = db_cli("report", "timeliness", "-y", "2021", "--as-of", "18/03/2021", "-f", "csv", "--headers", "en",
                     "-o", str(target))
    assert written.code == 0, written.err
    assert "Đã ghi bảng tổng hợp năm 2021 của 5 đơn vị" in written.out
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [(r["unit"], int(r["owed"]), int(r["missing"])) for r in rows] == [
        (e[0], e[1], e[4]) for e in EXPECTED_18_03]
    assert rows[0]["unit_name"] == "UBND xã Phú Lộc"


def test_timeliness_xlsx(org: App, db_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "tong-hop-cchc-2021.xlsx"
    result = db_cli("report", "timeliness", "--year", "2021", "--as-of", "18/03/2021", "--format", "xlsx",
                    "-o", str(target))
    assert result.code == 0, result.err
    book = load_workbook(target)
    sheet = book.active
    assert sheet is not None
    assert sheet["A1"].value == "Tổng hợp tình hình nộp báo cáo CCHC năm 2021"
    assert "A1:I1" in {str(r) for r in sheet.merged_cells.ranges}
    assert "18/03/2021" in str(sheet["A2"].value)
    assert tuple(c.value for c in sheet[4]) == TIMELINESS_HEADERS
    assert all(c.font.bold for c in sheet[4])
    assert sheet.freeze_panes == "A5"
    assert (sheet.column_dimensions["C"].width or 0) >= 30
    body = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=5, max_row=9)]
    assert [(row[1], row[3], row[4], row[5], row[6], row[7], row[8]) for row in body] == EXPECTED_18_03
    assert [row[0] for row in body] == [1, 2, 3, 4, 5]
    assert body[3][2] == "UBND xã An Bình"
    # A printed table: every data cell boxed, the figures centred, names left as written.
    assert all(c.border.left.style == "thin" and c.border.bottom.style == "thin" for c in sheet[5])
    assert sheet["D5"].alignment.horizontal == "center" and sheet["C5"].alignment.horizontal is None
    assert str(sheet["A11"].value).startswith("Ghi chú:")


def test_xlsx_is_never_written_to_the_terminal(org: App, db_cli: Cli) -> None:
    result = db_cli("report", "timeliness", "--year", "2021", "--format", "xlsx")
    assert result.code == 2
    assert result.out == ""
    assert "xlsx" in result.err and "-o" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("status", "--year", "2021", "--obligation", "q9"), 'không có báo cáo mã "q9" năm 2021; các mã hiện có: '
                                                            "annual, h1, plan, q1, q3"),
        (("overdue", "--obligation", "q9", "--as-of", "18/03/2021"), 'không có báo cáo mã "q9" đến năm 2021'),
        (("status", "--year", "2021", "--kind", "ward"), 'không có loại đơn vị "ward"; chọn một trong: commune, '
                                                        "monitor"),
        (("overdue", "--kind", "ward"), 'không có loại đơn vị "ward"'),
        (("report", "timeliness", "--kind", "ward"), 'không có loại đơn vị "ward"'),
        (("status", "--as-of", "31/02/2021"), 'Không có ngày 31/02/2021'),
        (("overdue", "--as-of", "hôm qua"), 'Không hiểu ngày “hôm qua”. Hãy ghi theo dạng ngày/tháng/năm'),
        (("report", "timeliness", "--as-of", "2021-13-01"), 'Không có tháng 13 trong ngày “2021-13-01”'),
        (("status", "--format", "xml"), '"xml" không hợp lệ; chọn một trong: table, json, csv'),
    ],
)
def test_bad_input_is_refused_in_vietnamese(org: App, db_cli: Cli, args: tuple[str, ...], words: str) -> None:
    result = db_cli(*args)
    assert result.code == 2
    assert result.out == ""
    assert words in result.err and result.err.startswith("Lỗi:") and "Traceback" not in result.err


def test_unwritable_output_file(org: App, db_cli: Cli, tmp_path: Path) -> None:
    result = db_cli("report", "timeliness", "-y", "2021", "-f", "xlsx", "-o", str(tmp_path / "no" / "such" / "x.xlsx"))
    assert result.code == 2
    assert "không ghi được tệp" in result.err and "Traceback" not in result.err


def test_empty_database(db_cli: Cli, app: App) -> None:
    result = db_cli("status", "--year", "2021", "--as-of", "18/03/2021")
    assert result.code == 0, result.err
    assert "Không có nghĩa vụ báo cáo nào phù hợp." in result.out
    assert db_cli("overdue", "-f", "json").out.strip() == "[]"
    refused = db_cli("status", "--year", "2021", "--obligation", "q1")
    assert refused.code == 2 and "reminder-service obligations sync --year 2021" in refused.err


# ---------------------------------------------------------------------------------------------------
# Exports a spreadsheet opens: text from units files and registers must never run as a formula.

LINK = '=HYPERLINK("http://x","y")'


@pytest.fixture
def hostile(org: App) -> App:
    """A unit and documents named like formulas, as a units file or an incoming register can carry them."""
    add_units(org, (("XA_HIEM", LINK, "commune", "@Lê Văn Hiểm"),))
    receive(org, "XA_HIEM", "plan", datetime(2021, 1, 28, 9, 0), "@SUM(1+1)")
    receive(org, "XA_HIEM", "q1", datetime(2021, 3, 12, 9, 0), "+1")
    receive(org, "XA_AN_BINH", "plan", datetime(2021, 1, 29, 9, 0), "-1+2")
    return org


def test_status_csv_neutralises_formulas_and_keeps_numbers(hostile: App, db_cli: Cli) -> None:
    result = db_cli("status", "--year", "2021", "--as-of", "18/03/2021", "--format", "csv", "--headers", "en")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff"))))
    cells = {(r["unit"], r["obligation"]): r for r in rows}
    plan, q1 = cells[("XA_HIEM", "plan")], cells[("XA_HIEM", "q1")]
    assert (plan["unit_name"], plan["unit_head"], plan["doc_no"]) == ("'" + LINK, "'@Lê Văn Hiểm", "'@SUM(1+1)")
    assert q1["doc_no"] == "'+1"
    assert cells[("XA_AN_BINH", "plan")]["doc_no"] == "'-1+2"
    # Everything else is written as before: numbers stay numbers, dates stay ISO dates, plain text untouched.
    assert cells[("XA_PHU_LOC", "q1")]["days_late"] == "1" and cells[("XA_PHU_LOC", "q1")]["year"] == "2021"
    assert cells[("XA_AN_BINH", "q1")]["doc_no"] == "12/BC-UBND"
    assert cells[("XA_AN_BINH", "q1")]["received"] == "2021-03-15"
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    # JSON is read by programs, not spreadsheets: the text stays as it was given.
    data = db_cli("status", "--year", "2021", "--as-of", "18/03/2021", "--format", "json")
    items = {(i["unit"], i["obligation"]): i for i in json.loads(data.out)}
    plan = items[("XA_HIEM", "plan")]
    assert (plan["unit_name"], plan["unit_head"], plan["doc_no"]) == (LINK, "@Lê Văn Hiểm", "@SUM(1+1)")
    assert items[("XA_AN_BINH", "plan")]["doc_no"] == "-1+2"


def test_overdue_csv_neutralises_formulas(hostile: App, db_cli: Cli) -> None:
    with hostile.session() as session:
        mark_incomplete(session, find_obligation(session, "XA_HIEM", "q1", 2021), "=1+1", ACTOR, NOW)
    result = db_cli("overdue", "--as-of", "18/03/2021", "--format", "csv", "--headers", "en")
    assert result.code == 0, result.err
    rows = [r for r in csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff"))) if r["unit"] == "XA_HIEM"]
    assert [(r["unit_name"], r["doc_no"], r["missing"]) for r in rows] == [("'" + LINK, "'+1", "'=1+1")]


def test_timeliness_csv_neutralises_formulas(hostile: App, db_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "tong-hop.csv"
    result = db_cli("report", "timeliness", "-y", "2021", "--as-of", "18/03/2021", "-f", "csv", "--headers", "en",
                    "-o", str(target))
    assert result.code == 0, result.err
    rows = {r["unit"]: r for r in csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig")))}
    assert rows["XA_HIEM"]["unit_name"] == "'" + LINK
    assert rows["XA_HIEM"]["owed"] == "2" and rows["XA_AN_BINH"]["unit_name"] == "UBND xã An Bình"


def test_timeliness_xlsx_writes_text_as_text(hostile: App, db_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "tong-hop.xlsx"
    result = db_cli("report", "timeliness", "-y", "2021", "--as-of", "18/03/2021", "-f", "xlsx", "-o", str(target))
    assert result.code == 0, result.err
    sheet = load_workbook(target).active
    assert sheet is not None
    row = next(r for r in sheet.iter_rows(min_row=5) if r[1].value == "XA_HIEM")
    name = row[2]
    # A string cell holds the text as typed (no apostrophe); the quote prefix keeps it text when edited in Excel.
    assert (name.value, name.data_type, name.quotePrefix) == (LINK, "s", True)
    assert [(c.value, c.data_type) for c in row[3:6]] == [(2, "n"), (2, "n"), (0, "n")]
    plain = next(r for r in sheet.iter_rows(min_row=5) if r[1].value == "XA_AN_BINH")[2]
    assert (plain.value, plain.data_type, plain.quotePrefix) == ("UBND xã An Bình", "s", False)
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)


# ---------------------------------------------------------------------------------------------------
# A constant number of queries whatever the number of units.


@contextmanager
def counting(target: Engine | type[Engine]) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(target, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", before)


def synthetic(start: int, count: int) -> tuple[tuple[str, str, str, str], ...]:
    kinds = ("commune", "monitor")
    return tuple((f"DV{n:04d}", f"Đơn vị số {n}", kinds[n % 2], f"Thủ trưởng {n}") for n in range(start, start + count))


def seed(app: App, start: int, count: int) -> None:
    add_units(app, synthetic(start, count))
    for n in range(start, start + count, 2):
        receive(app, f"DV{n:04d}", "q1", datetime(2021, 3, 10 + n % 9, 9, 0), f"{n}/BC")


def test_read_side_queries_do_not_grow_with_units(app: App) -> None:
    seed(app, 0, 5)
    as_of = date(2021, 3, 18)
    loaders: dict[str, Callable[[Session], list[StatusRow]]] = {
        "status": lambda s: status_rows(s, Filters(as_of, 2021), app.workdays, 5),
        "overdue": lambda s: overdue_rows(s, Filters(as_of), app.workdays, 5),
        "timeliness": lambda s: load_rows(s, Filters(as_of, 2021, kind="commune"), app.workdays, 5),
    }

    def measure() -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for name, loader in loaders.items():
            with app.session() as session, counting(app.engine) as statements:
                rows = loader(session)
            found[name] = (len(statements), len(rows))
        return found

    small = measure()
    seed(app, 5, 45)
    large = measure()
    assert {k: v[0] for k, v in small.items()} == {k: v[0] for k, v in large.items()} == {
        "status": 3, "overdue": 3, "timeliness": 3}
    assert (small["status"][1], large["status"][1]) == (3 * 5 + 2 * 4, 25 * 5 + 25 * 4)


def test_status_command_queries_do_not_grow_with_units(app: App, db_cli: Cli) -> None:
    def run() -> int:
        with counting(Engine) as statements:
            result = db_cli("status", "--year", "2021", "--as-of", "18/03/2021", "-f", "json")
        assert result.code == 0, result.err
        return len(statements)

    seed(app, 0, 5)
    small = run()
    assert small >= 3  # the listener sees the command's own engine: obligations, submissions, heads at least
    seed(app, 5, 45)
    assert run() == small
    assert len(json.loads(db_cli("status", "-y", "2021", "--as-of", "18/03/2021", "-f", "json").out)) == 25 * 5 + 25 * 4


def test_today_counts_last_years_arrears_like_overdue(db_cli: Cli) -> None:
    # The demo district on 07/12/2026 still owes some 2025 reports; `today` used to count only 2026's
    # and showed fewer late reports (14) than `overdue` and the digest (24).
    assert db_cli("init", "--demo", "--as-of", "07/12/2026").code == 0
    late = json.loads(db_cli("overdue", "--as-of", "07/12/2026", "-f", "json").out)
    assert {row["year"] for row in late} == {2025, 2026}
    picture = db_cli("today", "--as-of", "07/12/2026").out
    units = len({row["unit"] for row in late})
    assert f"{len(late)} báo cáo quá hạn của {units} đơn vị." in picture


def test_csv_for_people_has_vietnamese_column_names(org: App, db_cli: Cli) -> None:
    result = db_cli("overdue", "--as-of", "18/03/2021", "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff"))))
    assert tuple(rows[0])[:4] == ("Mã đơn vị", "Đơn vị", "Loại đơn vị", "Thủ trưởng")
    assert rows and "unit" not in rows[0] and all(r["Mã đơn vị"] for r in rows)
    table = db_cli("report", "timeliness", "-y", "2021", "--as-of", "18/03/2021", "-f", "csv")
    assert table.out.removeprefix("\ufeff").startswith("STT,Mã đơn vị,Đơn vị,Loại đơn vị,Số báo cáo phải nộp")
