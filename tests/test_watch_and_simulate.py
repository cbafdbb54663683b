"""The register folder the daemon watches, and `simulate`, on both engines."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from reminder_service.app import App
from reminder_service.services.db.models import Submission
from reminder_service.services.watch import check_folder, last_import
from tests.conftest import Cli
from tests.district import HEAD, district
from tests.registers import SHEET, member, package, repack

REGISTER = (
    "Số đến,Ngày đến,Số ký hiệu,Ngày văn bản,Cơ quan ban hành,Trích yếu\n"
    "112,12/03/2021,45/BC-UBND,11/03/2021,UBND xã An Bình,Báo cáo kết quả CCHC quý I năm 2021\n"
)


def _district(app: App) -> None:
    district(app, {**HEAD, "channels": "email"})


def test_a_new_export_is_imported_and_moved_a_bad_one_rejected(app: App, tmp_path: Path) -> None:
    _district(app)
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "so-den-thang-3.csv").write_text(REGISTER, encoding="utf-8")
    (folder / "hong.csv").write_text("Cột A,Cột B\n1,2\n", encoding="utf-8")
    (folder / "ghi-chu.txt").write_text("không phải sổ văn bản", encoding="utf-8")
    report = check_folder(folder, app.session, datetime(2021, 3, 12, 16, 0))
    assert (report.imported, report.rejected) == (1, 1)
    assert (folder / "processed" / "so-den-thang-3.csv").exists()
    assert "ghi nhận 1" in (folder / "processed" / "so-den-thang-3.csv.txt").read_text(encoding="utf-8")
    assert "Không nhập được" in (folder / "rejected" / "hong.csv.txt").read_text(encoding="utf-8")
    assert (folder / "ghi-chu.txt").exists()  # not an export: left alone
    with app.session() as session:
        assert [s.doc_no for s in session.scalars(select(Submission))] == ["45/BC-UBND"]
        assert last_import(session) == datetime(2021, 3, 12, 16, 0)
    # The same export dropped again is imported again but adds nothing.
    (folder / "so-den-thang-3.csv").write_text(REGISTER, encoding="utf-8")
    check_folder(folder, app.session, datetime(2021, 3, 13, 9, 0))
    assert (folder / "processed" / "so-den-thang-3-1.csv").exists()
    with app.session() as session:
        assert len(session.scalars(select(Submission)).all()) == 1


def test_unreadable_xlsx_files_are_rejected_and_the_exports_after_them_imported(app: App, tmp_path: Path) -> None:
    # Sorted first, a sheet cut short and a sheet with a DTD used to raise ParseError out of the folder job:
    # neither was moved, nothing after them was ever imported, and the intake guard held every late rung.
    _district(app)
    folder = tmp_path / "incoming"
    folder.mkdir()
    good = package()
    sheet = member(good, SHEET)
    (folder / "a-bi-cat.xlsx").write_bytes(repack(good, {SHEET: sheet[: len(sheet) // 2]}))
    (folder / "b-dtd.xlsx").write_bytes(
        repack(good, {SHEET: sheet.replace(b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY e "x">]><worksheet', 1)}))
    (folder / "c-so-den.csv").write_text(REGISTER, encoding="utf-8")
    report = check_folder(folder, app.session, datetime(2021, 3, 16, 8, 0))
    assert (report.imported, report.rejected) == (1, 2)
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == []
    cut = (folder / "rejected" / "a-bi-cat.xlsx.txt").read_text(encoding="utf-8")
    assert cut.startswith("Không nhập được tệp a-bi-cat.xlsx:\n") and "tệp hỏng" in cut and SHEET in cut
    assert "khai báo DTD" in (folder / "rejected" / "b-dtd.xlsx.txt").read_text(encoding="utf-8")
    assert (folder / "processed" / "c-so-den.csv").exists()
    with app.session() as session:
        assert [s.doc_no for s in session.scalars(select(Submission))] == ["45/BC-UBND"]
        # What the intake guard reads: the register was checked today, so late rungs are no longer held.
        assert last_import(session) == datetime(2021, 3, 16, 8, 0)


def test_simulate_lists_the_ladder_and_stops_at_a_submission(db_cli: Cli, app: App, tmp_path: Path) -> None:
    _district(app)
    result = db_cli("simulate", "--year", "2021", "--from", "01/03/2021", "--to", "26/03/2021", "-f", "json")
    assert result.code == 0, result.err
    q1 = [(m["at"], m["stage"]) for m in json.loads(result.out) if m["obligation"] == "q1"]
    assert q1 == [("2021-03-08T08:00:00+07:00", "notice"), ("2021-03-11T08:00:00+07:00", "reminder"),
                  ("2021-03-12T08:00:00+07:00", "due_today"), ("2021-03-16T08:00:00+07:00", "overdue"),
                  ("2021-03-18T08:00:00+07:00", "escalated"), ("2021-03-23T08:00:00+07:00", "escalated"),
                  ("2021-03-26T08:00:00+07:00", "escalated")]
    arrivals = tmp_path / "nop.csv"
    arrivals.write_text("unit,obligation,year,received\nXA_AN_BINH,q1,2021,2021-03-17 10:00\n", encoding="utf-8")
    result = db_cli("simulate", "--year", "2021", "--from", "01/03/2021", "--to", "26/03/2021",
                    "--submissions", str(arrivals), "-f", "json")
    stages = [m["stage"] for m in json.loads(result.out) if m["obligation"] == "q1"]
    assert stages == ["notice", "reminder", "due_today", "overdue"]
    with app.session() as session:  # nothing was delivered or recorded
        assert session.scalars(select(Submission)).all() == []


def test_simulate_explains_a_bad_submissions_file(db_cli: Cli, app: App, tmp_path: Path) -> None:
    _district(app)
    arrivals = tmp_path / "nop.csv"
    arrivals.write_text("unit,obligation,year,received\nXA_AN_BINH,q9,2021,2021-03-17\nXA_AN_BINH,q1,2021,hôm qua\n",
                        encoding="utf-8")
    result = db_cli("simulate", "--year", "2021", "--submissions", str(arrivals))
    assert result.code == 2
    assert "dòng 2: không có nghĩa vụ q9 năm 2021" in result.err
    assert 'dòng 3: ngày nhận "hôm qua" không hợp lệ' in result.err
