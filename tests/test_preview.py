"""`reminder-service preview` against a real database, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest

from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Person, Unit
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.submissions import find_obligation, mark_incomplete, record_submission
from tests.conftest import Cli

ACTOR = Actor("thanh.nv", "cli")
NOW = datetime(2021, 1, 4, 8, 0)
NASTY = "<b>Xã A&B</b>\nThôn 2"
# code, name, kind, sections, head, focal
UNITS = (
    ("XA_AN_BINH", "UBND xã An Bình", "commune", "", "Lê Quang Cường", "Lê Văn Danh"),
    ("VHTT", "Phòng Văn hóa và Thông tin", "monitor", "7.1", "Quách Thị Yến", None),
    ("XA_AB", NASTY, "commune", "", "Đỗ Văn Bình", None),
    ("XA_MOI", "UBND xã Mới", "commune", "", None, None),
)


@pytest.fixture
def org(app: App) -> App:
    with app.session() as session:
        for code, name, kind, sections, head, focal in UNITS:
            unit = Unit(code=code, name=name, kind=kind, sections=sections, active=True, updated_at=NOW)
            session.add(unit)
            session.flush()
            for person, role in ((head, "unit_head"), (focal, "focal")):
                if person is not None:
                    session.add(Person(name=person, role=role, unit_id=unit.id))
        session.add(Person(name="Trần Văn Bình", role="leadership"))
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    return app


def preview(db_cli: Cli, *args: str) -> tuple[int, str, str]:
    result = db_cli("preview", "--year", "2021", *args)
    return result.code, result.out, result.err


def test_overdue_email_on_the_day_it_falls(org: App, db_cli: Cli) -> None:
    code, out, err = preview(db_cli, "--unit", "XA_AN_BINH", "--obligation", "q1", "--stage", "overdue")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == ("Tiêu đề: Quá hạn nộp Báo cáo CCHC Quý I/2021 – UBND xã An Bình – "
                        "quá hạn 1 ngày làm việc")
    assert lines[2] == "Kính gửi: Chủ tịch UBND xã An Bình (Ông/Bà Lê Quang Cường)"
    for fact in ("Đến hôm nay, Thứ Ba, 16/03/2021", "Kỳ báo cáo: Quý I/2021",
                 "Thời gian chốt số liệu: 15/12/2020 – 10/03/2021", "Hạn nộp theo văn bản: Thứ Bảy, 13/03/2021",
                 "Hết hạn nhận báo cáo: cuối ngày Thứ Hai, 15/03/2021", "Phụ lục 2A",
                 "gửi đến Phòng Nội vụ qua hệ thống quản lý văn bản và hồ sơ công việc", "khẩn trương"):
        assert fact in out, fact
    assert "<" not in out


def test_as_of_overrides_the_day(org: App, db_cli: Cli) -> None:
    code, out, _ = preview(db_cli, "--unit", "XA_AN_BINH", "--obligation", "q1", "--stage", "escalated",
                           "--as-of", "23/03/2021", "--channel", "telegram")
    assert code == 0
    assert "ĐÔN ĐỐC LẦN 1: BÁO CÁO ĐÃ QUÁ HẠN" in out and "quá hạn 6 ngày làm việc" in out


def test_a_monitor_office_is_told_its_3b_section_on_telegram(org: App, db_cli: Cli) -> None:
    code, out, err = preview(db_cli, "--unit", "VHTT", "--obligation", "q1", "--stage", "notice",
                             "--channel", "telegram")
    assert code == 0 and err == ""
    assert "Kính gửi: Trưởng phòng Văn hóa và Thông tin (Ông/Bà Quách Thị Yến)" in out
    assert "Mục 7.1: Ứng dụng công nghệ thông tin trong hoạt động của đơn vị" in out
    assert "còn 5 ngày làm việc, kể cả hôm nay" in out
    code, markup, _ = preview(db_cli, "--unit", "VHTT", "--obligation", "q1", "--stage", "notice",
                              "--channel", "telegram", "--html")
    assert code == 0 and "<b>Hạn nộp theo văn bản:</b> Thứ Bảy, 13/03/2021" in markup


def test_the_annual_commune_report_gives_the_estimate_window(org: App, db_cli: Cli) -> None:
    code, out, _ = preview(db_cli, "--unit", "XA_AN_BINH", "--obligation", "annual", "--stage", "reminder",
                           "--role", "focal")
    assert code == 0
    assert "Kính gửi: Công chức đầu mối công tác CCHC của UBND xã An Bình (Ông/Bà Lê Văn Danh)" in out
    assert "Số liệu ước đạt (báo cáo riêng): 15/11/2021 – 14/12/2021" in out
    assert "Hạn nộp theo văn bản: Thứ Hai, 15/11/2021" in out


def test_html_part_escapes_a_hostile_unit_name(org: App, db_cli: Cli) -> None:
    code, html, _ = preview(db_cli, "--unit", "XA_AB", "--obligation", "q1", "--stage", "overdue", "--html")
    assert code == 0
    assert html.startswith("<!DOCTYPE html>")
    assert "&lt;b&gt;Xã A&amp;B&lt;/b&gt;" in html and "<b>Xã" not in html
    code, text, _ = preview(db_cli, "--unit", "XA_AB", "--obligation", "q1", "--stage", "overdue")
    assert text.splitlines()[0].endswith("– <b>Xã A&B</b> Thôn 2 – quá hạn 1 ngày làm việc")
    assert NASTY in text


def test_a_unit_without_a_head_on_record_gets_the_placeholder(org: App, db_cli: Cli) -> None:
    code, out, err = preview(db_cli, "--unit", "XA_MOI", "--obligation", "q1", "--stage", "reminder")
    assert code == 0
    assert "Kính gửi: Chủ tịch UBND xã Mới" in out
    assert "chưa có thủ trưởng đơn vị của đơn vị XA_MOI" in err


def test_leadership_reads_the_escalation_addressed_to_them(org: App, db_cli: Cli) -> None:
    code, out, _ = preview(db_cli, "--unit", "XA_AN_BINH", "--obligation", "q1", "--stage", "escalated",
                           "--role", "leadership")
    assert code == 0
    assert "Kính gửi: Lãnh đạo UBND huyện (Ông/Bà Trần Văn Bình)" in out
    assert "Phòng Nội vụ kính báo cáo Lãnh đạo UBND huyện: UBND xã An Bình chưa gửi" in out


def test_incomplete_stage_names_what_is_missing(org: App, db_cli: Cli) -> None:
    with org.session() as session:
        target = find_obligation(session, "VHTT", "q1", 2021)
        record_submission(session, target, received_at=datetime(2021, 3, 10, 9, 0), doc_no="5/BC-VHTT", note=None,
                          actor=ACTOR, now=datetime(2021, 3, 10, 9, 0))
        mark_incomplete(session, target, "Phụ lục 3B mục 7.1", ACTOR, datetime(2021, 3, 11, 9, 0))
    code, out, err = preview(db_cli, "--unit", "VHTT", "--obligation", "q1", "--stage", "incomplete")
    assert code == 0, err
    assert "chưa đầy đủ: còn thiếu Phụ lục 3B mục 7.1" in out


@pytest.mark.parametrize("args, message", [
    (("--unit", "XA_KHONG_CO", "--obligation", "q1", "--stage", "notice"), 'không có đơn vị mã "XA_KHONG_CO"'),
    (("--unit", "XA_AN_BINH", "--obligation", "q9", "--stage", "notice"), 'không có nghĩa vụ "q9" năm 2021'),
    (("--unit", "XA_AN_BINH", "--obligation", "q1", "--stage", "late"), '"late" không hợp lệ; chọn một trong: notice'),
    (("--unit", "XA_AN_BINH", "--obligation", "q1", "--stage", "notice", "--channel", "sms"),
     '"sms" không hợp lệ; chọn một trong: email, telegram'),
])
def test_unknown_unit_obligation_stage_or_channel_exit_2(org: App, db_cli: Cli, args: tuple[str, ...],
                                                          message: str) -> None:
    code, out, err = preview(db_cli, *args)
    assert code == 2 and out == ""
    assert err.startswith("Lỗi: ") and message in err
