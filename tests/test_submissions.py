"""Recording submissions, incomplete marks and waivers, with the audit trail, on both engines."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import AuditEntry, Obligation, Submission, Unit
from reminder_service.services.obligations import sync_obligations
from tests.conftest import Cli

NOW = datetime(2021, 1, 4, 9, 0)


def _setup(app: App) -> None:
    with app.session() as session:
        session.add_all([
            Unit(code="XA_AN_BINH", name="UBND xã An Bình", kind="commune", updated_at=NOW),
            Unit(code="VHTT", name="Phòng Văn hóa – Thông tin", kind="monitor", sections="7.1", updated_at=NOW),
        ])
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), Actor("test", "cli"), NOW)


def _obligation(app: App, unit: str, code: str) -> Obligation:
    with app.session() as session:
        found = session.scalar(
            select(Obligation).join(Unit).where(Unit.code == unit, Obligation.code == code, Obligation.year == 2021)
        )
        assert found is not None
        _ = found.submissions  # load while the session is open
        return found


def test_record_keeps_the_received_time_and_document_number(db_cli: Cli, app: App) -> None:
    _setup(app)
    result = db_cli("submissions", "record", "--unit", "xa_an_binh", "--obligation", "q1", "--year", "2021",
                    "--received", "2021-03-15T16:45", "--doc-no", "45/BC-UBND", "--note", "Gửi qua hệ thống")
    assert result.code == 0, result.err
    assert "Đã ghi nhận Báo cáo CCHC Quý I/2021 của UBND xã An Bình, nhận ngày 15/03/2021 16:45." in result.out
    (submission,) = _obligation(app, "XA_AN_BINH", "q1").submissions
    assert submission.received_at == datetime(2021, 3, 15, 16, 45)
    assert (submission.doc_no, submission.note, submission.channel) == ("45/BC-UBND", "Gửi qua hệ thống", "cli")
    with app.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "submission_recorded")).one()
    assert entry.channel == "cli" and entry.subject == "XA_AN_BINH / q1 năm 2021"
    assert json.loads(entry.details)["doc_no"] == "45/BC-UBND"


def test_recording_the_same_document_twice_keeps_one(db_cli: Cli, app: App) -> None:
    _setup(app)
    args = ("submissions", "record", "-u", "XA_AN_BINH", "-o", "q1", "-y", "2021", "-r", "15/03/2021",
            "--doc-no", "45/BC-UBND")
    assert db_cli(*args).code == 0
    again = db_cli(*args)
    assert again.code == 0 and "đã được ghi nhận trước đó" in again.out
    assert len(_obligation(app, "XA_AN_BINH", "q1").submissions) == 1


def test_incomplete_reopens_and_waive_excuses(db_cli: Cli, app: App) -> None:
    _setup(app)
    db_cli("submissions", "record", "-u", "VHTT", "-o", "q1", "-y", "2021", "-r", "12/03/2021")
    result = db_cli("submissions", "incomplete", "-u", "VHTT", "-o", "q1", "-y", "2021",
                    "--missing", "Phụ lục 3B mục 7.1")
    assert result.code == 0, result.err
    (submission,) = _obligation(app, "VHTT", "q1").submissions
    assert (submission.state, submission.missing) == ("incomplete", "Phụ lục 3B mục 7.1")
    result = db_cli("submissions", "waive", "-u", "VHTT", "-o", "h1", "-y", "2021", "--reason", "Sáp nhập đơn vị")
    assert result.code == 0, result.err
    assert _obligation(app, "VHTT", "h1").waived_reason == "Sáp nhập đơn vị"
    with app.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-3:] == ["submission_recorded", "submission_marked_incomplete", "obligation_waived"]


def test_mistakes_are_explained_and_change_nothing(db_cli: Cli, app: App) -> None:
    _setup(app)
    cases = [
        (("record", "-u", "XA_KHONG_CO", "-o", "q1", "-y", "2021", "-r", "12/03/2021"),
         'không có đơn vị mã "XA_KHONG_CO"'),
        (("record", "-u", "VHTT", "-o", "plan", "-y", "2021", "-r", "12/03/2021"), 'không có nghĩa vụ "plan" năm 2021'),
        (("record", "-u", "VHTT", "-o", "q1", "-y", "2021", "-r", "32/03/2021"), 'Không có ngày 32/03/2021'),
        (("record", "-u", "VHTT", "-o", "q1", "-y", "2021", "-r", "12/03/2021 25:00"), "không hợp lệ"),
        (("record", "-u", "VHTT", "-o", "q1", "-y", "2021"), "thiếu tùy chọn bắt buộc"),
        (("incomplete", "-u", "VHTT", "-o", "q1", "-y", "2021", "--missing", "x"), "chưa có lần nộp nào"),
        (("incomplete", "-u", "VHTT", "-o", "q1", "-y", "2021", "--missing", "  "), "hãy ghi rõ còn thiếu gì"),
        (("waive", "-u", "VHTT", "-o", "q1", "-y", "2021", "--reason", ""), "hãy ghi lý do miễn nộp"),
        # A received date after today, or before the report's data window (Q1/2021: from 15/12/2020).
        (("record", "-u", "VHTT", "-o", "q1", "-y", "2021", "-r", "17/03/2099"),
         "Ngày nhận 17/03/2099 chưa đến: ngày nhận phải từ 15/12/2020 đến hôm nay"),
        (("record", "-u", "VHTT", "-o", "q1", "-y", "2021", "-r", "01/01/2019"),
         "Ngày nhận 01/01/2019 trước khi kỳ báo cáo bắt đầu: ngày nhận phải từ 15/12/2020 đến hôm nay"),
    ]
    for args, expected in cases:
        result = db_cli("submissions", *args)
        assert result.code == 2, args
        assert expected in result.err, (args, result.err)
        assert "Traceback" not in result.err
    with app.session() as session:
        assert session.scalars(select(Submission)).all() == []
        assert session.scalars(select(AuditEntry).where(AuditEntry.action != "obligations_synced")).all() == []


def test_every_written_date_form_is_accepted(db_cli: Cli, app: App) -> None:
    _setup(app)
    for written in ("15.03.2021", "16-03-2021", "2021-03-17", "18/3/2021"):
        result = db_cli("submissions", "record", "-u", "VHTT", "-o", "q1", "-y", "2021", "-r", written,
                        "--doc-no", written)
        assert result.code == 0, (written, result.err)
    received = sorted(s.received_at.day for s in _obligation(app, "VHTT", "q1").submissions)
    assert received == [15, 16, 17, 18]


def test_a_plan_may_be_received_from_the_first_of_december_before() -> None:
    from datetime import date

    from reminder_service.services.submissions import received_problem

    today = date(2021, 3, 20)
    assert received_problem(date(2020, 12, 1), year=2021, window_start=None, today=today) is None
    problem = received_problem(date(2020, 11, 30), year=2021, window_start=None, today=today)
    assert problem == ("Ngày nhận 30/11/2020 trước khi kỳ báo cáo bắt đầu: ngày nhận phải từ 01/12/2020 đến hôm nay "
                       "(20/03/2021).")
    assert received_problem(today, year=2021, window_start=None, today=today) is None
