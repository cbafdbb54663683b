"""Importing the incoming register on SQLite and PostgreSQL: submissions, review list, re-imports, CLI."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import event, func, select

from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import AuditEntry, Obligation, RegisterImport, ReviewItem, Submission, Unit
from reminder_service.services.obligations import add_adhoc, sync_obligations
from reminder_service.services.register.apply import import_register
from reminder_service.services.register.read import read_register
from tests.conftest import Cli

NOW = datetime(2022, 3, 20, 9, 0)
ACTOR = Actor("kiểm thử", "cli")
REGISTER = Actor("sổ văn bản đến", "register")

UNITS = (
    ("XA_AN_BINH", "UBND xã An Bình", "commune", ""),
    ("TT_PHU_LOC", "UBND thị trấn Phú Lộc", "commune", ""),
    ("XA_TAN_LAP", "UBND xã Tân Lập", "commune", ""),
    ("TT_TAN_LAP", "UBND thị trấn Tân Lập", "commune", ""),
    ("VHTT", "Phòng Văn hóa – Thông tin", "monitor", "7.1"),
)

HEADER = ["STT", "Số đến", "Ngày đến", "Số ký hiệu", "Ngày văn bản", "Cơ quan ban hành", "Trích yếu"]
# (Số đến, Ngày đến, Số ký hiệu, sender, trích yếu) and what must become of the row.
ROWS: list[tuple[str, str, str, str, str, str]] = [
    ("101", "12/03/2021", "45/BC-UBND", "Uy ban nhan dan xa An Binh", "Báo cáo kết quả CCHC quý I năm 2021",
     "recorded"),
    ("102", "11/06/2021 15:20", "30/BC-UBND", "UBND TT Phú Lộc",
     "Báo cáo tình hình, kết quả thực hiện CCHC 6 tháng đầu năm 2021", "recorded"),
    ("103", "10/09/2021", "12/BC-VHTT", "P. Văn hóa - Thông tin", "Báo cáo CCHC Quý III/2021", "recorded"),
    ("104", "15/03/2021", "7/GM-UBND", "UBND xã An Bình", "Giấy mời dự hội nghị giao ban", "ignored"),
    ("105", "16/03/2021", "88/STC", "Sở Tài chính", "Báo cáo tình hình thu, chi ngân sách quý I", "ignored"),
    ("106", "13/03/2021", "9/BC", "UBND Tân Lập", "Báo cáo CCHC quý I năm 2021", "ambiguous_unit"),
    ("107", "13/03/2021", "3/BC-THCS", "Trường THCS xã An Bình", "Báo cáo CCHC quý I năm 2021", "unknown_unit"),
    ("108", "14/06/2021", "50/BC-UBND", "UBND xã An Bình", "Báo cáo CCHC quý I và 6 tháng đầu năm 2021",
     "ambiguous_obligation"),
    ("109", "20/01/2021", "2/KH-VHTT", "Phòng VH-TT", "Kế hoạch CCHC năm 2021", "unknown_obligation"),
    ("110", "11/03/2022", "20/BC-UBND", "UBND xã An Bình", "Báo cáo CCHC quý I năm 2022", "unknown_obligation"),
    ("111", "10/01/2022", "1/BC-UBND", "UBND TT Phú Lộc", "Báo cáo kết quả CCHC năm", "ambiguous_obligation"),
    ("112", "31/02/2021", "46/BC-UBND", "UBND xã An Bình", "Báo cáo CCHC quý I năm 2021", "bad_row"),
]


def _organisation(app: App) -> None:
    with app.session() as session:
        session.add_all(Unit(code=code, name=name, kind=kind, sections=sections, updated_at=NOW)
                        for code, name, kind, sections in UNITS)
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)


def _write_csv(path: Path, rows: Sequence[tuple[str, ...]], header: Sequence[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        for number, row in enumerate(rows, start=1):
            incoming, received, doc_no, sender, summary = row[:5]
            writer.writerow([number, incoming, received, doc_no, "", sender, summary])
    return path


@pytest.fixture
def register_csv(app: App, tmp_path: Path) -> Path:
    _organisation(app)
    return _write_csv(tmp_path / "so-van-ban-den.csv", list(ROWS))


def _import(app: App, path: Path) -> Any:
    register = read_register(path)
    with app.session() as session:
        return import_register(session, register, REGISTER, NOW)


def _count(app: App, model: type[Any]) -> int:
    with app.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_matched_rows_become_submissions_and_the_rest_is_reviewed(app: App, register_csv: Path) -> None:
    summary = _import(app, register_csv)
    assert (summary.rows, len(summary.recorded), summary.already, summary.ignored, len(summary.review)) == (
        12, 3, 0, 2, 7)
    with app.session() as session:
        got = session.execute(
            select(Unit.code, Obligation.code, Obligation.year, Submission.received_at, Submission.doc_no,
                   Submission.channel, Submission.actor)
            .join(Obligation, Submission.obligation_id == Obligation.id).join(Unit).order_by(Submission.received_at)
        ).all()
        reviews = {item.row_no: item for item in session.scalars(select(ReviewItem))}
        batch = session.scalars(select(RegisterImport)).one()
    assert [tuple(r) for r in got] == [
        ("XA_AN_BINH", "q1", 2021, datetime(2021, 3, 12), "45/BC-UBND", "register", "sổ văn bản đến"),
        ("TT_PHU_LOC", "h1", 2021, datetime(2021, 6, 11, 15, 20), "30/BC-UBND", "register", "sổ văn bản đến"),
        ("VHTT", "q3", 2021, datetime(2021, 9, 10), "12/BC-VHTT", "register", "sổ văn bản đến"),
    ]
    expected = {line: row[5] for line, row in enumerate(ROWS, start=2) if row[5] not in ("recorded", "ignored")}
    assert {line: item.reason for line, item in reviews.items()} == expected
    assert all(item.state == "open" and len(item.register_key) == 64 for item in reviews.values())
    assert (batch.rows, batch.matched, batch.ignored, batch.review, batch.duplicates) == (12, 3, 2, 7, 0)

    ambiguous = json.loads(reviews[7].candidates)
    assert {o["unit"] for o in ambiguous["options"]} == {"XA_TAN_LAP", "TT_TAN_LAP"}
    assert all(o["obligation"] == "q1" and o["year"] == 2021 for o in ambiguous["options"])
    periods = json.loads(reviews[9].candidates)
    assert {(o["unit"], o["obligation"]) for o in periods["options"]} == {("XA_AN_BINH", "q1"), ("XA_AN_BINH", "h1")}
    # A monitor office owes no plan: the options are what it does owe.
    no_plan = json.loads(reviews[10].candidates)
    assert "không có nghĩa vụ kế hoạch CCHC năm 2021" in no_plan["note"]
    assert {o["obligation"] for o in no_plan["options"]} == {"q1", "h1", "q3", "annual"}
    not_synced = json.loads(reviews[11].candidates)
    assert "reminder-service obligations sync --year 2022" in not_synced["note"]
    assert "31/02/2021" in json.loads(reviews[13].candidates)["note"]
    assert reviews[13].received_at is None


def test_importing_the_same_file_twice_adds_nothing(app: App, register_csv: Path) -> None:
    first = _import(app, register_csv)
    assert first.previous_import is None
    again = _import(app, register_csv)
    assert (again.rows, len(again.recorded), again.already, again.ignored, len(again.review)) == (12, 0, 10, 2, 0)
    assert again.previous_import == NOW
    assert _count(app, Submission) == 3
    assert _count(app, ReviewItem) == 7
    assert _count(app, RegisterImport) == 2
    with app.session() as session:
        logged = session.scalars(select(AuditEntry).where(AuditEntry.action == "register_imported")).all()
    assert [(e.actor, e.channel) for e in logged] == [("sổ văn bản đến", "register")] * 2
    assert '"already": 10' in logged[1].details


def test_a_later_export_repeating_rows_adds_only_new_ones(app: App, tmp_path: Path) -> None:
    _organisation(app)
    _import(app, _write_csv(tmp_path / "thang3.csv", [ROWS[0]]))
    later = [ROWS[0], ("120", "13/03/2021", "11/BC-UBND", "UBND xã Tân Lập", "Báo cáo CCHC quý I/2021", "")]
    summary = _import(app, _write_csv(tmp_path / "quy1.csv", later))
    assert (len(summary.recorded), summary.already) == (1, 1)
    assert summary.recorded[0].unit_code == "XA_TAN_LAP"


def test_a_report_recorded_by_hand_is_not_recorded_again(app: App, tmp_path: Path) -> None:
    from reminder_service.services.submissions import find_obligation, record_submission

    _organisation(app)
    with app.session() as session:
        target = find_obligation(session, "XA_AN_BINH", "q1", 2021)
        record_submission(session, target, received_at=datetime(2021, 3, 12, 16, 0), doc_no="45/BC-UBND",
                          note=None, actor=ACTOR, now=NOW)
    summary = _import(app, _write_csv(tmp_path / "so-den.csv", [ROWS[0]]))
    assert (len(summary.recorded), summary.already) == (0, 1)
    assert _count(app, Submission) == 1


def test_nul_bytes_in_a_csv_are_dropped_not_written(app: App, tmp_path: Path) -> None:
    # Legacy exports pad fields with NUL; PostgreSQL refuses it in text, and the import failed with a traceback.
    _organisation(app)
    path = tmp_path / "so-den.csv"
    path.write_bytes("Số đến;Ngày đến;Số ký hiệu;Cơ quan ban hành;Trích yếu\n"
                     "101;12/03/2021;45/BC-UBND\x00\x00;UBND xã\x00 An Bình;Báo cáo kết quả CCHC quý I năm 2021\n"
                     .encode())
    summary = _import(app, path)
    assert [(r.unit_code, r.doc_no) for r in summary.recorded] == [("XA_AN_BINH", "45/BC-UBND")]
    with app.session() as session:
        assert session.scalars(select(Submission.doc_no)).all() == ["45/BC-UBND"]


def test_xlsx_with_title_block_and_header_variants(app: App, tmp_path: Path) -> None:
    _organisation(app)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["UBND HUYỆN SÔNG LAM"])
    sheet.append(["PHÒNG NỘI VỤ"])
    sheet.append([None, None, "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN NĂM 2021"])
    sheet.append([])
    sheet.append(["STT", "Số văn bản đến", "Ngày đến", "Số, ký hiệu", "Ngày ban hành", "Nơi gửi",
                  "Trích yếu nội dung", "Người nhận"])
    sheet.append([1, 31, datetime(2021, 3, 12, 10, 5), "15/BC-UBND", date(2021, 3, 11),
                  "UBND Thị trấn Phú Lộc", "Báo cáo kết quả thực hiện công tác CCHC quý 1 năm 2021", "Thanh"])
    sheet.append([2, 32, date(2021, 11, 12), "60/BC-VHTT", date(2021, 11, 10),
                  "P. Văn hóa và Thông tin", "BÁO CÁO CÔNG TÁC CẢI CÁCH HÀNH CHÍNH NĂM 2021", "Thanh"])
    sheet.append([3, 33, date(2021, 3, 15), "1/TB", None, "UBND xã An Bình", "Thông báo lịch tiếp công dân", None])
    sheet.append([])
    sheet.append([None, None, None, None, None, "Người lập sổ", None, None])
    path = tmp_path / "so-den-2021.xlsx"
    workbook.save(path)
    summary = _import(app, path)
    assert [(r.row_no, r.unit_code, r.obligation_code, r.year, r.received_at, r.doc_no) for r in summary.recorded] == [
        (6, "TT_PHU_LOC", "q1", 2021, datetime(2021, 3, 12, 10, 5), "15/BC-UBND"),
        (7, "VHTT", "annual", 2021, datetime(2021, 11, 12), "60/BC-VHTT"),
    ]
    # The signature line under the table has a sender-like cell but no date or summary: not CCHC.
    assert (summary.rows, summary.ignored, len(summary.review)) == (4, 2, 0)


def test_supplement_matches_the_only_request_that_fits(app: App, tmp_path: Path) -> None:
    _organisation(app)
    with app.session() as session:
        units = session.scalars(select(Unit).where(Unit.code.in_(["XA_AN_BINH", "TT_PHU_LOC"]))).all()
        add_adhoc(session, code="adhoc1", title="Báo cáo bổ sung số liệu CCHC năm 2021", units=list(units),
                  year=2021, deadline=date(2021, 12, 20), window=None, workdays=app.workdays, actor=ACTOR, now=NOW)
        tan_lap = session.scalars(select(Unit).where(Unit.code == "XA_TAN_LAP")).all()
        for code, title in (("adhoc2", "Báo cáo bổ sung số liệu ISO"), ("adhoc3", "Báo cáo bổ sung số liệu CNTT")):
            add_adhoc(session, code=code, title=title, units=list(tan_lap), year=2021, deadline=date(2021, 12, 20),
                      window=None, workdays=app.workdays, actor=ACTOR, now=NOW)
    rows: list[tuple[str, ...]] = [
        ("201", "16/12/2021", "70/BC-UBND", "UBND xã An Bình", "Báo cáo bổ sung số liệu CCHC năm 2021"),
        ("202", "16/12/2021", "71/BC-UBND", "UBND xã Tân Lập", "Báo cáo bổ sung số liệu CCHC năm 2021"),
        ("203", "16/12/2021", "12/BC-VHTT", "Phòng Văn hóa – Thông tin", "Báo cáo bổ sung số liệu CCHC năm 2021"),
    ]
    summary = _import(app, _write_csv(tmp_path / "bo-sung.csv", rows))
    assert [(r.unit_code, r.obligation_code) for r in summary.recorded] == [("XA_AN_BINH", "adhoc1")]
    reasons = {item.row_no: (item.reason, {o.obligation for o in item.options}) for item in summary.review}
    assert reasons == {3: ("ambiguous_obligation", {"adhoc2", "adhoc3"}), 4: ("unknown_obligation", set())}


def test_select_statements_do_not_grow_with_rows(app: App, tmp_path: Path) -> None:
    _organisation(app)
    few = _write_csv(tmp_path / "few.csv", [*ROWS[:3], ROWS[5]])
    many_rows = [(f"{n}", r[1], f"{n}/{r[2]}", *r[3:]) for n in range(10) for r in ROWS]
    many = _write_csv(tmp_path / "many.csv", many_rows)
    counts = []
    for path in (few, many):
        register = read_register(path)
        with SelectCounter(app) as seen, app.session() as session:
            import_register(session, register, REGISTER, NOW)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


class SelectCounter:
    """Every SELECT the engine sends while the block runs."""

    def __init__(self, app: App) -> None:
        self.engine = app.engine
        self.seen: list[str] = []

    def _listen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.seen.append(statement)

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._listen)
        return self.seen

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._listen)


# ---------------------------------------------------------------------------------------------------
# The command line


def _review_ids(db_cli: Cli) -> dict[int, dict[str, Any]]:
    result = db_cli("submissions", "review", "--format", "json")
    assert result.code == 0, result.err
    return {item["row"]: item for item in json.loads(result.out)}


def test_cli_import_prints_a_vietnamese_summary(db_cli: Cli, register_csv: Path) -> None:
    result = db_cli("submissions", "import", str(register_csv))
    assert result.code == 0, result.err
    out = result.out
    assert "Đã nhập sổ văn bản đến từ tệp so-van-ban-den.csv" in out
    for label, number in (("Số dòng đọc được", 12), ("Đã ghi nhận báo cáo", 3), ("Đã nhập từ trước (bỏ qua)", 0),
                          ("Không phải báo cáo CCHC (bỏ qua)", 2), ("Cần xem xét", 7)):
        assert re.search(rf"{re.escape(label)}:\s+{number}\n", out), label
    assert "Báo cáo CCHC Quý I/2021" in out and "45/BC-UBND" in out
    assert "Nơi gửi khớp với nhiều đơn vị" in out
    assert "XA_TAN_LAP (UBND xã Tân Lập) – q1 năm 2021" in out
    assert "reminder-service submissions review resolve ID" in out

    again = db_cli("submissions", "import", str(register_csv))
    assert again.code == 0
    assert re.search(r"Đã nhập từ trước \(bỏ qua\):\s+10\n", again.out)
    assert re.search(r"Đã ghi nhận báo cáo:\s+0\n", again.out)
    assert "Lưu ý: tệp này đã được nhập lúc" in again.out


def test_cli_review_list_resolve_and_dismiss(app: App, db_cli: Cli, register_csv: Path) -> None:
    assert db_cli("submissions", "import", str(register_csv)).code == 0
    listed = db_cli("submissions", "review")
    assert listed.code == 0
    assert "7 dòng sổ văn bản đến đang chờ xem xét." in listed.out
    assert "Không xác định được đơn vị gửi" in listed.out
    assert "Trường THCS xã An Bình" in listed.out

    items = _review_ids(db_cli)
    assert {row: item["reason"] for row, item in items.items()}[7] == "ambiguous_unit"
    assert items[7]["reason_text"].startswith("Nơi gửi khớp với nhiều đơn vị")
    ambiguous_id = items[7]["id"]

    resolved = db_cli("submissions", "review", "resolve", str(ambiguous_id), "--unit", "XA_TAN_LAP",
                      "--obligation", "q1")
    assert resolved.code == 0, resolved.err
    assert "Đã ghi nhận Báo cáo CCHC Quý I/2021 của UBND xã Tân Lập, nhận ngày 13/03/2021" in resolved.out
    with app.session() as session:
        item = session.get(ReviewItem, ambiguous_id)
        assert item is not None and item.state == "resolved" and item.submission_id is not None
        submission = session.get(Submission, item.submission_id)
        assert submission is not None
        assert (submission.doc_no, submission.received_at, submission.obligation.unit.code) == (
            "9/BC", datetime(2021, 3, 13), "XA_TAN_LAP")
    twice = db_cli("submissions", "review", "resolve", str(ambiguous_id), "--unit", "XA_TAN_LAP", "--obligation", "q1")
    assert twice.code == 2 and f"mục {ambiguous_id} đã xử lý trước đó" in twice.err

    # "Báo cáo kết quả CCHC năm" received in January: the year must be said.
    no_year = items[12]["id"]
    asked = db_cli("submissions", "review", "resolve", str(no_year), "--unit", "TT_PHU_LOC", "--obligation", "annual")
    assert asked.code == 2 and "hãy ghi năm bằng --year" in asked.err
    done = db_cli("submissions", "review", "resolve", str(no_year), "-u", "TT_PHU_LOC", "-o", "annual", "-y", "2021")
    assert done.code == 0, done.err

    # Not synced for 2022 yet: the note says what to run; after it, the row resolves.
    unsynced = items[11]["id"]
    assert "obligations sync --year 2022" in items[11]["reason_text"]
    assert db_cli("obligations", "sync", "--year", "2022").code == 0
    assert db_cli("submissions", "review", "resolve", str(unsynced), "-u", "XA_AN_BINH", "-o", "q1").code == 0

    # No readable date: the receipt date must be given.
    bad = items[13]["id"]
    needs_date = db_cli("submissions", "review", "resolve", str(bad), "-u", "XA_AN_BINH", "-o", "q1")
    assert needs_date.code == 2 and "--received" in needs_date.err
    assert db_cli("submissions", "review", "resolve", str(bad), "-u", "XA_AN_BINH", "-o", "q1",
                  "--received", "01/03/2021").code == 0

    dismissed = db_cli("submissions", "review", "dismiss", str(items[8]["id"]), "--reason", "Văn bản của trường học")
    assert dismissed.code == 0, dismissed.err
    assert "Đã bỏ qua mục" in dismissed.out and "Lý do: Văn bản của trường học." in dismissed.out
    with app.session() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "register_review_dismissed")).one()
        assert "Văn bản của trường học" in audit.details

    remaining = _review_ids(db_cli)
    assert set(remaining) == {9, 10}
    everything = db_cli("submissions", "review", "--all")
    assert everything.code == 0 and "đã xử lý" in everything.out and "đã bỏ qua" in everything.out
    assert _count(app, Submission) == 7  # 3 imported + 4 resolved


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("resolve", "999", "--unit", "XA_AN_BINH", "--obligation", "q1"), "không có mục cần xem xét số 999"),
        (("resolve", "abc", "--unit", "XA_AN_BINH", "--obligation", "q1"), '"abc" không phải là số thứ tự mục'),
        (("resolve", "1", "--obligation", "q1"), "thiếu tùy chọn bắt buộc"),
        (("dismiss", "999"), "không có mục cần xem xét số 999"),
        (("--format", "xml"), '"xml" không hợp lệ'),
    ],
)
def test_cli_review_mistakes_are_explained(db_cli: Cli, args: tuple[str, ...], expected: str) -> None:
    result = db_cli("submissions", "review", *args)
    assert result.code == 2
    assert expected in result.err
    assert "Traceback" not in result.err + result.out


def test_cli_resolve_with_an_unknown_unit_changes_nothing(app: App, db_cli: Cli, register_csv: Path) -> None:
    assert db_cli("submissions", "import", str(register_csv)).code == 0
    item_id = _review_ids(db_cli)[7]["id"]
    result = db_cli("submissions", "review", "resolve", str(item_id), "--unit", "XA_KHONG_CO", "--obligation", "q1")
    assert result.code == 2 and 'không có đơn vị mã "XA_KHONG_CO"' in result.err
    assert _review_ids(db_cli)[7]["state"] == "open"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("khong-co.csv", None, "không tìm thấy tệp"),
        ("so-den.doc", b"whatever", "chỉ hỗ trợ tệp .csv hoặc .xlsx"),
        ("rong.csv", b"", "rỗng"),
        ("hong.xlsx", b"PK\x03\x04garbage", "tệp hỏng"),
        ("thieu-cot.csv", "Số đến;Ngày đến;Nơi gửi\n1;12/03/2021;UBND xã An Bình\n".encode(),
         "không tìm thấy cột Trích yếu"),
    ],
)
def test_cli_import_errors_leave_the_database_untouched(
    app: App, db_cli: Cli, tmp_path: Path, name: str, content: bytes | None, expected: str
) -> None:
    _organisation(app)
    audit_before = _count(app, AuditEntry)
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = db_cli("submissions", "import", str(path))
    assert result.code == 2
    assert result.err.startswith("Lỗi: ") and expected in result.err
    assert "Traceback" not in result.err + result.out
    assert (_count(app, RegisterImport), _count(app, ReviewItem), _count(app, Submission)) == (0, 0, 0)
    assert _count(app, AuditEntry) == audit_before


def test_cli_review_is_empty_before_any_import(db_cli: Cli) -> None:
    result = db_cli("submissions", "review")
    assert (result.code, result.out.strip()) == (0, "Không có dòng nào cần xem xét.")
    assert json.loads(db_cli("submissions", "review", "--format", "json").out) == []


def test_cli_help_is_vietnamese(cli: Cli) -> None:
    for args in (("submissions", "import", "--help"), ("submissions", "review", "--help"),
                 ("submissions", "review", "resolve", "--help")):
        result = cli(*args)
        assert result.code == 0 and "Cách dùng:" in result.out and "Tùy chọn:" in result.out


def test_a_received_date_outside_the_reports_range_goes_to_review(app: App, tmp_path: Path) -> None:
    _organisation(app)
    rows = [("130", "12/03/2023", "45/BC-UBND", "UBND xã An Bình", "Báo cáo CCHC quý I năm 2021", ""),
            ("131", "01/12/2020", "46/BC-UBND", "UBND TT Phú Lộc", "Báo cáo CCHC quý I năm 2021", ""),
            ("132", "12/03/21", "47/BC-UBND", "UBND xã Tân Lập", "Báo cáo CCHC quý I năm 2021", "")]
    summary = _import(app, _write_csv(tmp_path / "so-den.csv", rows))
    # Row 132's two-digit year is read the way office software writes it: 12/03/2021, in range.
    assert [r.unit_code for r in summary.recorded] == ["XA_TAN_LAP"]
    reasons = {r.doc_no: (r.reason, r.note) for r in summary.review}
    assert reasons["45/BC-UBND"][0] == "received_out_of_range" and "12/03/2023 chưa đến" in reasons["45/BC-UBND"][1]
    assert reasons["46/BC-UBND"][0] == "received_out_of_range"
    assert "trước khi kỳ báo cáo bắt đầu" in reasons["46/BC-UBND"][1]
    assert _count(app, Submission) == 1
