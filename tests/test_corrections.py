"""Correcting mistakes on SQLite and PostgreSQL: list, correct and delete submissions; list and undo
waivers. Every change is in the audit log, the status is recomputed and the ladder resumes."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from reminder_service.app import App
from reminder_service.services.db.models import AuditEntry, LadderStep, Submission
from tests.conftest import Cli
from tests.test_submissions import _obligation, _setup


def _record(db_cli: Cli, *args: str) -> None:
    result = db_cli("submissions", "record", "-u", "XA_AN_BINH", "-o", "q1", "-y", "2021", *args)
    assert result.code == 0, result.err


def _ids(db_cli: Cli, *args: str) -> list[int]:
    listed = db_cli("submissions", "list", "-f", "json", *args)
    assert listed.code == 0, listed.err
    return [row["id"] for row in json.loads(listed.out)]


def test_list_in_table_json_and_csv(db_cli: Cli, app: App) -> None:
    _setup(app)
    _record(db_cli, "-r", "12/03/2021 14:30", "--doc-no", "45/BC-UBND")
    db_cli("submissions", "record", "-u", "VHTT", "-o", "q1", "-y", "2021", "-r", "11/03/2021")
    table = db_cli("submissions", "list", "-u", "XA_AN_BINH")
    assert "Báo cáo CCHC Quý I/2021" in table.out and "12/03/2021 14:30" in table.out
    assert "45/BC-UBND" in table.out and "đã nhận" in table.out and "VHTT" not in table.out
    [row] = json.loads(db_cli("submissions", "list", "-u", "xa_an_binh", "-o", "q1", "-y", "2021", "-f", "json").out)
    assert (row["unit"], row["obligation"], row["received_at"], row["state"]) == (
        "XA_AN_BINH", "q1", "2021-03-12T14:30", "accepted")
    vi = list(csv.DictReader(io.StringIO(db_cli("submissions", "list", "-f", "csv").out.lstrip("\ufeff"))))
    assert {r["Mã đơn vị"] for r in vi} == {"XA_AN_BINH", "VHTT"} and {r["Tình trạng"] for r in vi} == {"đã nhận"}
    en = list(csv.DictReader(io.StringIO(db_cli("submissions", "list", "-f", "csv", "--headers", "en").out
                                         .lstrip("\ufeff"))))
    assert {r["state"] for r in en} == {"accepted"}
    assert db_cli("submissions", "list", "-y", "2020").out.strip() == "Không có lần nộp nào khớp điều kiện."


def test_correct_a_date_and_a_number_keeping_the_old_ones_in_the_audit_log(db_cli: Cli, app: App) -> None:
    _setup(app)
    _record(db_cli, "-r", "12/03/2021", "--doc-no", "45/BC")
    [sid] = _ids(db_cli)
    fixed = db_cli("submissions", "correct", str(sid), "--received", "16.03.2021 10:00", "--doc-number", "46/BC")
    assert fixed.code == 0, fixed.err
    assert "nhận ngày 16/03/2021 10:00, số ký hiệu 46/BC" in fixed.out
    [submission] = _obligation(app, "XA_AN_BINH", "q1").submissions
    assert (submission.received_at.day, submission.doc_no) == (16, "46/BC")
    # The status follows: received on Tue 16/03 after the effective deadline Mon 15/03, one working day late.
    late = json.loads(db_cli("status", "-y", "2021", "--obligation", "q1", "--as-of", "18/03/2021", "-f", "json").out)
    assert [r["status"] for r in late if r["unit"] == "XA_AN_BINH"] == ["submitted_late"]
    with app.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "submission_corrected")).one()
    details = json.loads(entry.details)
    assert details["received_before"] == "2021-03-12T00:00" and details["doc_no_before"] == "45/BC"
    refused = db_cli("submissions", "correct", str(sid), "--received", "01/01/2019")
    assert refused.code == 2 and "trước khi kỳ báo cáo bắt đầu" in refused.err
    nothing = db_cli("submissions", "correct", str(sid))
    assert nothing.code == 2 and "--received" in nothing.err


def test_delete_makes_the_report_missing_again_and_the_ladder_resumes(db_cli: Cli, app: App) -> None:
    _setup(app)
    _record(db_cli, "-r", "12/03/2021", "--doc-no", "45/BC")
    assert db_cli("run", "--once", "--at", "18/03/2021 09:00").code == 0
    oid = _obligation(app, "XA_AN_BINH", "q1").id
    with app.session() as session:
        assert session.scalars(select(LadderStep).where(LadderStep.obligation_id == oid,
                                                        LadderStep.stage == "escalated")).all() == []
    [sid] = _ids(db_cli, "-u", "XA_AN_BINH")
    missing_reason = db_cli("submissions", "delete", str(sid))
    assert missing_reason.code == 2
    gone = db_cli("submissions", "delete", str(sid), "--reason", "Ghi nhầm đơn vị")
    assert gone.code == 0, gone.err
    assert _ids(db_cli, "-u", "XA_AN_BINH") == [] and _ids(db_cli, "-u", "XA_AN_BINH", "--all") == [sid]
    overdue = json.loads(db_cli("overdue", "--as-of", "18/03/2021", "-f", "json").out)
    assert any(r["unit"] == "XA_AN_BINH" and r["obligation"] == "q1" for r in overdue)
    assert db_cli("run", "--once", "--at", "19/03/2021 09:00").code == 0
    with app.session() as session:
        steps = session.scalars(select(LadderStep).where(LadderStep.obligation_id == oid,
                                                         LadderStep.outcome == "sent")).all()
        assert [s.stage for s in steps] == ["escalated"]
        assert session.scalars(select(Submission.state)).all() == ["reverted"]
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "submission_deleted")).all()
        assert json.loads(entry.details)["reason"] == "Ghi nhầm đơn vị"
    again = db_cli("submissions", "delete", str(sid), "--reason", "lần nữa")
    assert again.code == 2 and "đã bị xóa" in again.err


def test_a_waiver_can_be_listed_and_undone(db_cli: Cli, app: App) -> None:
    _setup(app)
    assert db_cli("submissions", "waive", "-u", "VHTT", "-o", "h1", "-y", "2021", "--reason", "Sáp nhập").code == 0
    listed = db_cli("waivers", "list", "-y", "2021")
    assert "VHTT" in listed.out and "Sáp nhập" in listed.out
    [waiver] = json.loads(db_cli("waivers", "list", "-f", "json").out)
    undone = db_cli("waivers", "undo", str(waiver["obligation_id"]), "--reason", "Miễn nhầm")
    assert undone.code == 0, undone.err
    assert _obligation(app, "VHTT", "h1").waived_reason is None
    assert db_cli("waivers", "list").out.strip() == "Không có báo cáo nào được miễn nộp."
    twice = db_cli("waivers", "undo", str(waiver["obligation_id"]), "--reason", "Miễn nhầm")
    assert twice.code == 2 and "không có miễn nộp số" in twice.err
    with app.session() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "waiver_undone")).all()
        assert json.loads(entry.details) == {"reason": "Miễn nhầm", "waived_reason": "Sáp nhập"}


def test_an_unknown_unit_or_report_code_in_a_list_filter_is_pointed_out(db_cli: Cli, app: App) -> None:
    _setup(app)
    unknown_unit = db_cli("submissions", "list", "--unit", "XA_KHONG_CO")
    assert unknown_unit.code == 2 and 'không có đơn vị mã "XA_KHONG_CO"' in unknown_unit.err
    unknown_code = db_cli("submissions", "list", "--obligation", "q9", "--year", "2021")
    assert unknown_code.code == 2 and 'không có báo cáo mã "q9"' in unknown_code.err and "q1" in unknown_code.err
    assert db_cli("waivers", "list", "--unit", "XA_KHONG_CO").code == 2
