"""Reminders, the daily digest and the weekly summary, rendered from contexts built directly (no database).

2021 Q1: nominal Sat 13/03, effective Mon 15/03; notice Mon 08/03, reminder Thu 11/03, due_today Fri 12/03,
overdue Tue 16/03, escalated Thu 18/03.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any

import pytest

from calendars.library import BUILTIN_DIRECTIVES, load_library
from calendars.model import YearCalendar
from calendars.words import number
from calendars.workdays import WorkCalendar
from reminder_service.domain.messages.context import ReminderContext, dated_obligation, reminder_context
from reminder_service.domain.messages.render import (
    CHANNELS,
    UnknownTemplateError,
    render_digest,
    render_reminder,
    render_weekly,
)
from reminder_service.domain.messages.summary import (
    DeliveryFailure,
    HeldStage,
    IntakeState,
    ObligationCount,
    OverdueUnit,
    SkippedPerson,
    counts_by_obligation,
    digest_due,
    overdue_units,
)
from reminder_service.domain.status import Status, StatusRow

WORKDAYS = WorkCalendar()
STAGE_DAYS = {
    "notice": date(2021, 3, 8), "reminder": date(2021, 3, 11), "due_today": date(2021, 3, 12),
    "overdue": date(2021, 3, 16), "escalated": date(2021, 3, 18), "incomplete": date(2021, 3, 10),
    "incomplete_reminder": date(2021, 3, 16),
}
NASTY = "<b>Xã A&B</b>\nThôn 2"
TAG = re.compile(r"</?([a-zA-Z0-9]+)")


@dataclass(frozen=True)
class Row:
    code: str
    year: int
    title: str
    period: str
    nominal_deadline: date | None
    effective_deadline: date | None
    window_start: date | None = None
    window_end: date | None = None
    estimate_start: date | None = None
    estimate_end: date | None = None
    projected: bool = False
    origin: str = "directive"


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    sections: str = ""


@dataclass(frozen=True)
class Person:
    name: str
    role: str


@cache
def calendar(year: int) -> YearCalendar:
    return load_library([BUILTIN_DIRECTIVES]).calendar("cchc", year, WORKDAYS)


def row(code: str, kind: str, year: int = 2021) -> Row:
    """The obligation row `obligations sync` writes for this code and kind."""
    dated = dated_obligation(calendar(year), code, kind)
    assert dated is not None
    window, estimate = dated.window, dated.estimate_window
    return Row(code, year, dated.title, dated.period, dated.nominal_deadline, dated.effective_deadline,
               window.start if window else None, window.end if window else None,
               estimate.start if estimate else None, estimate.end if estimate else None, dated.projected)


COMMUNE = UnitRow("XA_AN_BINH", "UBND xã An Bình", "commune")
VHTT = UnitRow("VHTT", "Phòng Văn hóa và Thông tin", "monitor", "7.1")
HEAD = Person("Nguyễn Văn An", "unit_head")


def context(stage: str = "notice", unit: UnitRow = COMMUNE, code: str = "q1", person: Person | None = HEAD,
            today: date | None = None, year: int = 2021, obligation: Row | None = None,
            missing: str | None = None, role: str = "unit_head") -> ReminderContext:
    return reminder_context(
        obligation or row(code, unit.kind, year), unit, person, calendar=calendar(year), office_name="Phòng Nội vụ",
        today=today or STAGE_DAYS[stage], workdays=WORKDAYS, role=role, missing=missing,
    )


# --- the context ------------------------------------------------------------------------------------

def test_context_counts_working_days_on_the_2021_q1_ladder() -> None:
    assert context("notice").working_days_left == 5
    assert context("reminder").working_days_left == 2
    assert context("due_today").working_days_left == 1
    assert context("overdue").working_days_left is None
    assert context("overdue").working_days_overdue == 1
    assert context("escalated").working_days_overdue == 3
    assert context("due_today").working_days_overdue is None
    q1 = context("notice")
    assert (q1.nominal_deadline, q1.effective_deadline) == (date(2021, 3, 13), date(2021, 3, 15))
    assert q1.day_off == "weekend" and q1.rolled_forward


def test_context_names_a_holiday_that_moved_the_deadline_and_says_the_calendar_is_projected() -> None:
    # 30/01/2025 falls in the Tết holiday; the 2025 calendar is projected from the 2021 directive.
    plan = context(code="plan", year=2025, today=date(2025, 1, 20))
    assert plan.effective_deadline == date(2025, 2, 3)
    assert plan.day_off == "holiday" and plan.holiday_name and "Tết" in plan.holiday_name
    assert plan.projected
    text = render_reminder(plan, "notice", "email").text
    assert "ngày nghỉ lễ (" in text and "Tết" in text
    assert "dự kiến theo quy tắc của văn bản năm 2021" in text


def test_context_for_a_monitor_office_lists_its_own_3b_sections_with_titles() -> None:
    nv = context(unit=UnitRow("NV", "Phòng Nội vụ", "monitor", "1.1;1.2;4;5"))
    assert [s.code for s in nv.sections] == ["1.1", "1.2", "4", "5"]
    assert nv.sections[2].title == "Cải cách tổ chức bộ máy"
    assert context().sections == ()


def test_adhoc_obligation_takes_its_facts_from_the_row() -> None:
    adhoc = Row("adhoc1", 2021, "Báo cáo đột xuất về sáp nhập thôn", "Năm 2021", date(2021, 12, 20),
                date(2021, 12, 20), date(2021, 12, 1), date(2021, 12, 14), origin="adhoc")
    ctx = context(obligation=adhoc, unit=VHTT, today=date(2021, 12, 14))
    assert ctx.content == ("Theo văn bản yêu cầu.",)
    assert ctx.sections == () and not ctx.rolled_forward
    text = render_reminder(ctx, "notice", "email").text
    assert "Báo cáo đột xuất về sáp nhập thôn" in text
    assert "Thứ Hai, 20/12/2021" in text and "01/12/2021 – 14/12/2021" in text
    assert "Theo văn bản yêu cầu." in text
    assert "Phòng Nội vụ qua hệ thống quản lý văn bản" in text


# --- every stage on every channel --------------------------------------------------------------------

@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("stage", list(STAGE_DAYS))
def test_every_stage_states_what_when_and_how(stage: str, channel: str) -> None:
    rendered = render_reminder(context(stage, missing="Phụ lục 3B mục 7.1"), stage, channel)
    assert rendered.subject and "\n" not in rendered.subject
    assert "Báo cáo CCHC Quý I/2021" in rendered.subject
    for body in (rendered.text, rendered.html):
        assert "Kính gửi: Chủ tịch UBND xã An Bình (Ông/Bà Nguyễn Văn An)" in body
        for fact in ("UBND xã An Bình", "Báo cáo CCHC Quý I/2021", "Kỳ báo cáo", "Quý I/2021",
                     "15/12/2020 – 10/03/2021", "Thứ Bảy, 13/03/2021", "cuối ngày Thứ Hai, 15/03/2021",
                     "khoản 5 Điều 148 Bộ luật Dân sự năm 2015", "Phụ lục 2A", "Phụ lục 3B",
                     "lãnh đạo đơn vị ký ban hành", "hệ thống quản lý văn bản và hồ sơ công việc", "Phòng Nội vụ"):
            assert fact in body, (stage, channel, fact)
    if channel == "telegram":
        assert set(TAG.findall(rendered.html)) <= {"b", "i", "code", "a"}
        assert len(rendered.html) < 4096
        assert "<" not in rendered.text
    else:
        assert rendered.html.startswith("<!DOCTYPE html>") and '<html lang="vi">' in rendered.html


@pytest.mark.parametrize("channel", CHANNELS)
def test_escalation_says_leadership_was_told_only_when_it_was(channel: str) -> None:
    def escalated(role: str, informed: bool, person: Person | None = HEAD) -> Any:
        ctx = replace(context("escalated", person=person, role=role), leadership_informed=informed,
                      reminder_round=2)
        return render_reminder(ctx, "escalated", channel)

    told, untold = escalated("unit_head", True), escalated("unit_head", False)
    assert "Phòng Nội vụ đã báo cáo Lãnh đạo UBND huyện" in told.text
    assert "báo cáo Lãnh đạo" not in untold.text and "Lãnh đạo UBND huyện" not in untold.text
    for unit_message in (told, untold):
        if channel == "email":
            assert unit_message.subject == ("Đôn đốc lần 2: Báo cáo CCHC Quý I/2021 – UBND xã An Bình chưa nộp – "
                                            "quá hạn 3 ngày làm việc")
        else:
            assert unit_message.text.startswith("ĐÔN ĐỐC LẦN 2: BÁO CÁO ĐÃ QUÁ HẠN")
    receiver = Person("Nguyễn Thị Thanh", "receiver")
    assert "đã được báo cáo Lãnh đạo UBND huyện" in escalated("receiver", True, receiver).text
    assert "chưa được báo cáo Lãnh đạo UBND huyện" in escalated("receiver", False, receiver).text
    leader = escalated("leadership", True, Person("Trần Văn Bình", "leadership"))
    assert "kính báo cáo Lãnh đạo UBND huyện" in leader.text
    assert channel != "email" or leader.subject.startswith("Báo cáo lãnh đạo:")


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_tone_escalates_stage_by_stage(channel: str) -> None:
    def text(stage: str, **kwargs: Any) -> str:
        return render_reminder(context(stage, **kwargs), stage, channel).text

    assert "còn 5 ngày làm việc" in text("notice")
    assert "còn 2 ngày làm việc" in text("reminder")
    assert "Hôm nay, Thứ Sáu, 12/03/2021, là ngày làm việc cuối cùng trước hạn nộp" in text("due_today")
    overdue = text("overdue")
    assert "quá hạn 1 ngày làm việc" in overdue and "khẩn trương" in overdue
    assert "quá hạn" not in text("notice")
    escalated = text("escalated")
    assert "quá hạn 3 ngày làm việc" in escalated and "báo cáo Lãnh đạo" not in escalated
    leader = text("escalated", person=Person("Trần Văn Bình", "leadership"))
    assert "Kính gửi: Lãnh đạo UBND huyện (Ông/Bà Trần Văn Bình)" in leader
    assert "kính báo cáo Lãnh đạo UBND huyện" in leader
    assert "còn thiếu Phụ lục 3B mục 2" in text("incomplete", missing="Phụ lục 3B mục 2").replace("<b>", "")
    assert "chưa nhận được phần bổ sung" in text("incomplete_reminder")


def test_a_deadline_on_a_working_day_is_not_said_to_roll_forward() -> None:
    # The commune annual report is due Mon 15/11/2021, a working day.
    text = render_reminder(context(code="annual", today=date(2021, 11, 8)), "notice", "email").text
    assert "Thứ Hai, 15/11/2021" in text
    assert "Điều 148" not in text
    due = render_reminder(context(code="annual", today=date(2021, 11, 15)), "due_today", "email").text
    assert "Hôm nay, Thứ Hai, 15/11/2021, là hạn cuối nộp Báo cáo CCHC năm 2021." in due
    assert "ngày làm việc cuối cùng trước hạn" not in due


@pytest.mark.parametrize("channel", CHANNELS)
def test_due_today_on_a_working_day_deadline_says_today_is_the_deadline(channel: str) -> None:
    # The commune annual report is due Mon 15/11/2021, a working day: receipt ends today.
    rendered = render_reminder(context(code="annual", today=date(2021, 11, 15)), "due_today", channel)
    assert rendered.subject.startswith("Hôm nay là hạn cuối nộp") and "Báo cáo CCHC năm 2021" in rendered.subject
    assert "Hôm nay, Thứ Hai, 15/11/2021, là hạn cuối nộp Báo cáo CCHC năm 2021." in rendered.text
    assert "chậm nhất" not in rendered.text and "ngày làm việc cuối cùng trước hạn" not in rendered.text


@pytest.mark.parametrize("channel", CHANNELS)
def test_due_today_before_a_saturday_deadline_says_receipt_goes_on_to_monday(channel: str) -> None:
    # Q1/2021 is due Sat 13/03; due_today fires Fri 12/03, and receipt runs to the end of Mon 15/03.
    rendered = render_reminder(context("due_today"), "due_today", channel)
    assert "hạn cuối" not in rendered.subject.lower()
    assert rendered.subject.startswith("Hôm nay là ngày làm việc cuối cùng trước hạn nộp")
    lead = ("Hôm nay, Thứ Sáu, 12/03/2021, là ngày làm việc cuối cùng trước hạn nộp Báo cáo CCHC Quý I/2021 "
            "theo văn bản (Thứ Bảy, 13/03/2021).")
    assert lead in rendered.text
    assert "Phòng Nội vụ nhận báo cáo đến hết ngày Thứ Hai, 15/03/2021." in rendered.text
    assert "gửi báo cáo ngay trong ngày hôm nay, chậm nhất trong ngày Thứ Hai, 15/03/2021." in rendered.text
    assert "là hạn cuối" not in rendered.text and "HẠN CUỐI" not in rendered.text


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_annual_commune_reminder_gives_the_estimate_window(channel: str) -> None:
    rendered = render_reminder(context(code="annual", today=date(2021, 11, 8)), "notice", channel)
    for body in (rendered.text, rendered.html):
        assert "15/12/2020 – 20/11/2021" in body
        assert "Số liệu ước đạt (báo cáo riêng)" in body and "15/11/2021 – 14/12/2021" in body


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_monitor_office_is_told_its_3b_section(channel: str) -> None:
    rendered = render_reminder(context("reminder", unit=VHTT), "reminder", channel)
    for body in (rendered.text, rendered.html):
        assert "Mục 7.1: Ứng dụng công nghệ thông tin trong hoạt động của đơn vị" in body
        assert "Phụ lục 3A" in body
        assert "Kính gửi: Trưởng phòng Văn hóa và Thông tin (Ông/Bà Nguyễn Văn An)" in body
        assert "Lãnh đạo phòng ký, ban hành" in body


def test_the_monitors_interpreted_annual_deadline_is_flagged() -> None:
    text = render_reminder(context(unit=VHTT, code="annual", today=date(2021, 11, 8)), "notice", "email").text
    assert "Lưu ý về hạn nộp: Văn bản không nêu hạn nộp báo cáo năm của các phòng" in text
    assert "15/12/2020 – 14/12/2021" in text


def test_salutations_by_role_and_without_a_name() -> None:
    def greeting(person: Person | None, role: str = "unit_head", unit: UnitRow = COMMUNE) -> str:
        text = render_reminder(context(person=person, role=role, unit=unit), "notice", "email").text
        return text.splitlines()[0]

    assert greeting(Person("Lê Văn Danh", "focal")) == (
        "Kính gửi: Công chức đầu mối công tác CCHC của UBND xã An Bình (Ông/Bà Lê Văn Danh)")
    assert greeting(None) == "Kính gửi: Chủ tịch UBND xã An Bình"
    office = UnitRow("VP", "Văn phòng HĐND và UBND huyện", "monitor", "1.3;1.5;3")
    assert greeting(HEAD, unit=office) == "Kính gửi: Chánh Văn phòng HĐND và UBND huyện (Ông/Bà Nguyễn Văn An)"
    village = UnitRow("X", "Thôn Đông", "commune")
    assert greeting(HEAD, unit=village) == "Kính gửi: Chủ tịch UBND Thôn Đông (Ông/Bà Nguyễn Văn An)"
    assert greeting(None, role="leadership") == "Kính gửi: Lãnh đạo UBND huyện"


# --- hostile data ------------------------------------------------------------------------------------

def test_a_unit_name_with_markup_and_a_newline_renders_safely() -> None:
    ctx = context("overdue", unit=UnitRow("XA_AB", NASTY, "commune"), person=Person("<i>Ông</i> & Bà", "unit_head"))
    email = render_reminder(ctx, "overdue", "email")
    assert "<b>Xã A&B</b> Thôn 2" in email.subject and "\n" not in email.subject
    assert NASTY in email.text and "<i>Ông</i> & Bà" in email.text
    assert "&lt;b&gt;Xã A&amp;B&lt;/b&gt;" in email.html and "&lt;i&gt;Ông&lt;/i&gt; &amp; Bà" in email.html
    assert "<b>Xã" not in email.html and "<i>Ông" not in email.html
    telegram = render_reminder(ctx, "overdue", "telegram")
    assert "&lt;b&gt;Xã A&amp;B&lt;/b&gt; Thôn 2" in telegram.html
    assert "<b>Xã" not in telegram.html and "<i>Ông" not in telegram.html
    assert set(TAG.findall(telegram.html)) <= {"b", "i", "code", "a"}
    assert "<b>Xã A&B</b> Thôn 2" in telegram.text
    assert "\n" not in telegram.subject


def test_unknown_stage_or_channel_is_refused() -> None:
    with pytest.raises(UnknownTemplateError):
        render_reminder(context(), "late", "email")
    with pytest.raises(UnknownTemplateError):
        render_reminder(context(), "../calendar/ics_description", "email")
    with pytest.raises(UnknownTemplateError):
        render_reminder(context(), "notice", "sms")


# --- digest and weekly summary -----------------------------------------------------------------------

Q1 = ObligationCount("q1", 2021, "Báo cáo CCHC Quý I/2021", date(2021, 3, 13), date(2021, 3, 15), 26,
                     on_time=18, late=2, overdue=3, incomplete=1, waived=2)
OVERDUE = (
    OverdueUnit("XA_DONG_SON", "UBND xã <Đông> Sơn", "Báo cáo CCHC Quý I/2021", 2021, date(2021, 3, 15), 4),
    OverdueUnit("TP", "Phòng Tư pháp", "Báo cáo CCHC Quý I/2021", 2021, date(2021, 3, 15), 2, True,
                "Phụ lục 3B mục 2"),
    OverdueUnit("XA_KIM_LIEN", "UBND xã Kim Liên", "Báo cáo CCHC Quý I/2021", 2021, date(2021, 3, 15), 1),
)


def digest(channel: str, limit: int = 20) -> tuple[str, str, str]:
    rendered = render_digest(
        channel, office_name="Phòng Nội vụ", today=date(2021, 3, 19), recipient_name="Hoàng Thị Thanh",
        counts=[Q1], overdue=OVERDUE,
        failures=[DeliveryFailure("Lê Quang Cường", "telegram", "overdue", "UBND xã An Bình",
                                  "Bad Request: chat not found", datetime(2021, 3, 16, 8, 0))],
        skipped=[SkippedPerson("Lê Văn Danh", "UBND xã An Bình", "email", "chưa có địa chỉ e-mail")],
        intake=IntakeState(True, datetime(2021, 3, 15, 7, 30), (
            HeldStage("UBND xã Bình Minh", "Báo cáo CCHC Quý I/2021", "escalated", date(2021, 3, 18)),)),
        limit=limit,
    )
    return rendered.subject, rendered.text, rendered.html


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_daily_digest_reports_counts_lateness_failures_and_intake(channel: str) -> None:
    subject, text, html = digest(channel)
    assert "Tình hình nhận báo cáo CCHC ngày 19/03/2021" in subject and "3 báo cáo quá hạn" in subject
    assert "Thứ Sáu, 19/03/2021" in text
    assert "26 đơn vị phải nộp, đã nộp 20 (đúng hạn 18, muộn 2); quá hạn 3; còn thiếu 1; được miễn 2" in text
    assert "UBND xã <Đông> Sơn – Báo cáo CCHC Quý I/2021: quá hạn 4 ngày làm việc" in text
    assert "Phòng Tư pháp – Báo cáo CCHC Quý I/2021: còn thiếu (Phụ lục 3B mục 2), quá hạn 2 ngày làm việc" in text
    assert text.index("Đông> Sơn") < text.index("Phòng Tư pháp") < text.index("Kim Liên")
    assert "Lê Quang Cường (UBND xã An Bình), Telegram, thông báo quá hạn" in text
    assert "Bad Request: chat not found" in text
    assert "Lê Văn Danh (UBND xã An Bình), e-mail: chưa có địa chỉ e-mail" in text
    assert "Lần nhập sổ văn bản đến thành công gần nhất: 15/03/2021 07:30" in text
    assert "đang tạm hoãn" in text and "UBND xã Bình Minh – Báo cáo CCHC Quý I/2021: báo cáo lãnh đạo" in text
    assert "&lt;Đông&gt;" in html and "<Đông>" not in html
    if channel == "telegram":
        assert set(TAG.findall(html)) <= {"b", "i", "code", "a"}


def test_the_digest_cuts_long_lists_and_says_how_many_are_left() -> None:
    _, text, _ = digest("email", limit=1)
    assert "Kim Liên" not in text and "… và 2 mục khác." in text


@pytest.mark.parametrize("intake, wording", [
    (IntakeState(False), "Chưa cấu hình thư mục sổ văn bản đến"),
    (IntakeState(True), "Chưa có lần nhập sổ văn bản đến nào thành công"),
])
def test_the_digest_words_the_intake_state(intake: IntakeState, wording: str) -> None:
    rendered = render_digest("telegram", office_name="Phòng Nội vụ", today=date(2021, 3, 19), recipient_name=None,
                             counts=[Q1], overdue=(), intake=intake)
    assert wording in rendered.text and "Không có đơn vị nào quá hạn." in rendered.text


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_weekly_summary_lists_the_most_overdue_first(channel: str) -> None:
    rendered = render_weekly(channel, office_name="Phòng Nội vụ", issuer="UBND huyện", week_start=date(2021, 3, 15),
                             week_end=date(2021, 3, 19), recipient_name="Trần Văn Bình", counts=[Q1],
                             most_overdue=OVERDUE, limit=2)
    assert rendered.subject == "Tổng hợp tình hình báo cáo CCHC tuần 15/03/2021 – 19/03/2021"
    text = rendered.text
    assert "Kính gửi: Lãnh đạo UBND huyện (Ông/Bà Trần Văn Bình)" in text
    assert "Báo cáo CCHC Quý I/2021 (hạn nộp Thứ Bảy, 13/03/2021, hết hạn nhận cuối ngày Thứ Hai, 15/03/2021)" in text
    assert "1) " in text if channel == "email" else "1. " in text
    assert text.index("Đông> Sơn") < text.index("Phòng Tư pháp")
    assert "Kim Liên" not in text and "Tổng cộng 3 báo cáo quá hạn." in text
    assert "&lt;Đông&gt;" in rendered.html


def _status_row(unit: str, code: str, status: Status) -> StatusRow:
    return StatusRow(1, code, f"Báo cáo {code}", 2021, date(2021, 3, 13), date(2021, 3, 15), unit, f"Đơn vị {unit}",
                     "commune", None, status)


def test_summary_helpers_count_status_rows_and_order_the_overdue() -> None:
    rows = [
        _status_row("A", "q1", Status("submitted_on_time")), _status_row("B", "q1", Status("submitted_late", 1)),
        _status_row("C", "q1", Status("overdue", 2)), _status_row("D", "q1", Status("incomplete", 5, missing="3B")),
        _status_row("E", "q1", Status("waived")), _status_row("F", "plan", Status("due_soon")),
    ]
    counts = {c.code: c for c in counts_by_obligation(rows)}
    q1 = counts["q1"]
    assert (q1.units, q1.on_time, q1.late, q1.overdue, q1.incomplete, q1.waived) == (5, 1, 1, 1, 1, 1)
    assert q1.submitted == 2 and q1.needs_attention == 2
    assert [u.unit_code for u in overdue_units(rows)] == ["D", "C"]
    assert overdue_units(rows)[0].missing == "3B"
    assert digest_due(counts.values())
    assert not digest_due([counts_by_obligation([rows[0]])[0]])


@pytest.mark.parametrize(("count", "written"), [(0, "0"), (999, "999"), (1434, "1.434"), (1234567, "1.234.567")])
def test_counts_are_written_the_vietnamese_way(count: int, written: str) -> None:
    assert number(count) == written


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_long_lateness_is_written_with_a_thousands_dot(channel: str) -> None:
    rendered = render_reminder(replace(context("overdue"), working_days_overdue=1434), "overdue", channel)
    assert "quá hạn 1.434 ngày làm việc" in rendered.text and "1434" not in rendered.text
