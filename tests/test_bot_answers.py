"""The bot's answers (/quahan, /tinhhinh, /sapden, /donvi, /cuatoi, /lich, /trogiup) on SQLite and PostgreSQL.

A small 2021 district, seen on Thu 18/03/2021. The plan was due Sat 30/01 (effective Mon 01/02); Q1 Sat
13/03 (effective Mon 15/03). Communes owe both, monitor offices Q1 only.

| unit          | plan                      | q1                                   |
|---------------|---------------------------|--------------------------------------|
| XA_AN_BINH    | missing: 28 wd overdue    | on time 15/03, 12/BC-UBND            |
| XA_TAN_BINH   | on time 29/01, 05/KH-UBND | missing: 3 wd overdue                |
| TT_PHU_LOC    | late 03/02: 2 wd          | late 16/03: 1 wd, 7/BC-UBND          |
| XA_AB         | waived                    | missing: 3 wd overdue                |
| P_TU_PHAP     | —                         | 10/03, marked incomplete: 3 wd       |
| P_VHTT        | —                         | on time 12/03 (no unit head on file) |
| XA_CU         | inactive: never shown                                            |
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reminder_service.adapters.telegram.access import PERMITTED
from reminder_service.adapters.telegram.answers import (
    Answer,
    UnitMatch,
    find_units,
    overdue_answer,
    status_answer,
    unit_answer,
    unit_matches_answer,
    upcoming_answer,
)
from reminder_service.adapters.telegram.answers_calendar import calendar_answer, help_answer
from reminder_service.adapters.telegram.commands import BY_KEY
from reminder_service.app import App
from reminder_service.domain.access import Scope
from reminder_service.domain.escalation.policy import UNIT_ROLES
from reminder_service.domain.messages.render import telegram_plain
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Person, Unit
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.submissions import find_obligation, mark_incomplete, record_submission, waive
from tests.conftest import Cli

ACTOR = Actor("thanh.nv", "cli")
NOW = datetime(2021, 1, 4, 8, 0)
TODAY = date(2021, 3, 18)
EVIL = "<b>A&B</b>"
UNITS = (
    ("XA_AN_BINH", "UBND xã An Bình", "commune", "Lê Quang Cường"),
    ("XA_TAN_BINH", "UBND xã Tân Bình", "commune", "Trần Văn Tân"),
    ("TT_PHU_LOC", "UBND thị trấn Phú Lộc", "commune", "Nguyễn Văn An"),
    ("XA_AB", EVIL, "commune", "Đỗ Thị Hoa"),
    ("P_TU_PHAP", "Phòng Tư pháp", "monitor", "Phạm Thị Pháp"),
    ("P_VHTT", "Phòng Văn hóa – Thông tin", "monitor", None),
    ("XA_CU", "UBND xã An Bình Cũ", "commune", "Đỗ Văn Cũ"),
)


def _receive(session: Session, unit: str, code: str, when: datetime, doc_no: str | None) -> None:
    target = find_obligation(session, unit, code, 2021)
    record_submission(session, target, received_at=when, doc_no=doc_no, note=None, actor=ACTOR, now=when)


@pytest.fixture
def district(app: App) -> App:
    with app.session() as session:
        for code, name, kind, head in UNITS:
            unit = Unit(code=code, name=name, kind=kind, active=True, updated_at=NOW)
            session.add(unit)
            session.flush()
            if head is not None:
                session.add(Person(name=head, role="unit_head", unit_id=unit.id))
            session.add(Person(name=f"Đầu mối {code}", role="focal", unit_id=unit.id))
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    with app.session() as session:
        _receive(session, "XA_TAN_BINH", "plan", datetime(2021, 1, 29, 10, 0), "05/KH-UBND")
        _receive(session, "TT_PHU_LOC", "plan", datetime(2021, 2, 3, 9, 0), None)
        _receive(session, "XA_AN_BINH", "q1", datetime(2021, 3, 15, 23, 59), "12/BC-UBND")
        _receive(session, "TT_PHU_LOC", "q1", datetime(2021, 3, 16, 8, 0), "7/BC-UBND")
        _receive(session, "P_TU_PHAP", "q1", datetime(2021, 3, 10, 9, 0), "5/BC-TP")
        _receive(session, "P_VHTT", "q1", datetime(2021, 3, 12, 14, 0), "9/BC-VHTT")
    with app.session() as session:
        mark_incomplete(session, find_obligation(session, "P_TU_PHAP", "q1", 2021), "Phụ lục 3B mục 2", ACTOR, NOW)
        waive(session, find_obligation(session, "XA_AB", "plan", 2021), "Thành lập sau ngày 30/01", ACTOR, NOW)
        session.execute(update(Unit).where(Unit.code == "XA_CU").values(active=False))
    return app


@pytest.fixture
def session(district: App) -> Iterator[Session]:
    with district.session() as opened:
        yield opened


def unit_id(session: Session, code: str) -> int:
    return session.scalars(select(Unit.id).where(Unit.code == code)).one()


def text_of(answer: Answer) -> str:
    return answer.header + "\n" + "\n".join(answer.lines)


_TAG = re.compile(r"<(/?)(b|i|u|s|code|pre|a)(?:\s[^>]*)?>")
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+);)")


def assert_telegram_html(answer: Answer) -> None:
    """Every line is valid Telegram HTML by itself: the bot may page between any two lines."""
    for line in (*answer.header.split("\n"), *answer.lines):
        assert "\n" not in line and 0 < len(line) < 4096
        opened: list[str] = []
        for tag in _TAG.finditer(line):
            if tag[1]:
                assert opened and opened.pop() == tag[2], line
            else:
                opened.append(tag[2])
        assert not opened, line
        text = _TAG.sub("", line)
        assert "<" not in text and ">" not in text, line
        assert not _BARE_AMPERSAND.search(text), line


SCOPE_ALL = Scope(None)
PLAN = ("<b>Kế hoạch CCHC năm 2021</b> – hạn nộp Thứ Bảy, 30/01/2021, "
        "hết hạn nhận cuối ngày Thứ Hai, 01/02/2021")
Q1 = "<b>Báo cáo CCHC Quý I/2021</b> – hạn nộp Thứ Bảy, 13/03/2021, hết hạn nhận cuối ngày Thứ Hai, 15/03/2021"
EVIL_HTML = "&lt;b&gt;A&amp;B&lt;/b&gt;"


# --- /quahan -------------------------------------------------------------------------------------------

def test_overdue_by_report_with_days_and_unit_heads(district: App, session: Session) -> None:
    answer = overdue_answer(session, district.workdays, TODAY, SCOPE_ALL, None)
    assert answer == Answer(
        "<b>BÁO CÁO CCHC QUÁ HẠN</b>\nTính đến hết Thứ Năm, ngày 18/03/2021.\n4 báo cáo quá hạn của 4 đơn vị.",
        (
            f"{PLAN} – 1 đơn vị:",
            "• UBND xã An Bình (<code>XA_AN_BINH</code>): Quá hạn 28 ngày làm việc; thủ trưởng: Lê Quang Cường",
            f"{Q1} – 3 đơn vị:",
            f"• {EVIL_HTML} (<code>XA_AB</code>): Quá hạn 3 ngày làm việc; thủ trưởng: Đỗ Thị Hoa",
            "• UBND xã Tân Bình (<code>XA_TAN_BINH</code>): Quá hạn 3 ngày làm việc; thủ trưởng: Trần Văn Tân",
            "• Phòng Tư pháp (<code>P_TU_PHAP</code>): Còn thiếu: Phụ lục 3B mục 2 (quá hạn 3 ngày làm việc); "
            "thủ trưởng: Phạm Thị Pháp",
        ),
    )
    assert_telegram_html(answer)


def test_overdue_one_report_and_a_unit_without_a_head(district: App, session: Session) -> None:
    with district.session() as other:
        other.execute(update(Person).where(Person.name == "Trần Văn Tân").values(active=False))
    answer = overdue_answer(session, district.workdays, TODAY, SCOPE_ALL, " Q1 ")
    assert answer.header.startswith("<b>BÁO CÁO CCHC QUÁ HẠN</b> – mã q1\n")
    assert answer.header.endswith("\n3 báo cáo quá hạn của 3 đơn vị.")
    assert answer.lines[0] == f"{Q1} – 3 đơn vị:"
    assert ("• UBND xã Tân Bình (<code>XA_TAN_BINH</code>): Quá hạn 3 ngày làm việc; thủ trưởng: chưa có thông tin"
            in answer.lines)
    assert "Kế hoạch" not in text_of(answer)


def test_overdue_nothing_overdue_says_so(district: App, session: Session) -> None:
    answer = overdue_answer(session, district.workdays, date(2021, 1, 10), SCOPE_ALL, None)
    assert answer == Answer("Không có đơn vị nào quá hạn.\nTính đến hết Chủ nhật, ngày 10/01/2021.", ())
    on_time = overdue_answer(session, district.workdays, TODAY, Scope.unit(unit_id(session, "P_VHTT")), None)
    assert on_time.header.startswith("Không có đơn vị nào quá hạn.") and on_time.lines == ()


def test_overdue_unknown_report_lists_the_codes(district: App, session: Session) -> None:
    answer = overdue_answer(session, district.workdays, TODAY, SCOPE_ALL, "q9")
    assert answer == Answer(
        "Không có báo cáo mã “q9” đến năm 2021.\nCác mã hiện có: annual, h1, plan, q1, q3.", ())


@pytest.mark.parametrize("obligation", [None, "q1", "plan"])
def test_overdue_agrees_with_the_cli(district: App, db_cli: Cli, obligation: str | None) -> None:
    """The bot's /quahan and `reminder-service overdue` read the same rows: same units, reports, days, heads."""
    extra = ("--obligation", obligation) if obligation else ()
    result = db_cli("overdue", "--as-of", "18/03/2021", "--format", "json", *extra)
    assert result.code == 0, result.err
    items = json.loads(result.out)
    assert items
    with district.session() as session:
        answer = overdue_answer(session, district.workdays, TODAY, SCOPE_ALL, obligation)
    shown: list[tuple[str, str, str, str, str | None]] = []
    title = ""
    for line in answer.lines:
        unit = re.fullmatch(r"• (.*) \(<code>(.*)</code>\): (.*); thủ trưởng: (.*)", line)
        if unit is not None:
            name, code, status, head = unit.groups()
            shown.append((title, telegram_plain(name), code, telegram_plain(status), telegram_plain(head)))
            continue
        report = re.match(r"<b>(.*?)</b>", line)
        assert report is not None, line
        title = telegram_plain(report[1])
    expected = [(i["title"], i["unit_name"], i["unit"], i["status_text"], i["unit_head"]) for i in items]
    assert sorted(shown) == sorted(expected)
    # Within a report the units come in the CLI's order, the most overdue first.
    for report in {i["title"] for i in items}:
        assert [s for s in shown if s[0] == report] == [e for e in expected if e[0] == report]
    units = len({i["unit"] for i in items})
    assert answer.header.endswith(f"\n{len(items)} báo cáo quá hạn của {units} đơn vị.")


# --- scope -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("own", ["XA_AB", "XA_AN_BINH", "P_TU_PHAP", "P_VHTT"])
def test_a_unit_scope_never_shows_another_unit(district: App, session: Session, own: str) -> None:
    scope = Scope.unit(unit_id(session, own))
    answers = [
        overdue_answer(session, district.workdays, TODAY, scope, None),
        status_answer(session, district.workdays, TODAY, scope, None, 2021),
        upcoming_answer(session, district.workdays, date(2021, 3, 8), scope, 7),
    ]
    names = {code: name for code, name, _, _ in UNITS}
    heads = {code: head for code, _, _, head in UNITS if head}
    for answer in answers:
        plain = telegram_plain(text_of(answer))
        for code in names.keys() - {own}:
            assert code not in plain
            assert heads.get(code, "\0") not in plain
            if names[code] not in names[own]:
                assert names[code] not in plain
    assert find_units(session, "binh", scope) == (
        [UnitMatch(unit_id(session, own), own, names[own])] if "Bình" in names[own] else [])


def test_unit_scope_overdue_shows_only_its_reports(district: App, session: Session) -> None:
    answer = overdue_answer(session, district.workdays, TODAY, Scope.unit(unit_id(session, "XA_AN_BINH")), None)
    assert answer.lines == (
        f"{PLAN} – 1 đơn vị:",
        "• UBND xã An Bình (<code>XA_AN_BINH</code>): Quá hạn 28 ngày làm việc; thủ trưởng: Lê Quang Cường",
    )
    assert answer.header.endswith("\n1 báo cáo quá hạn của 1 đơn vị.")
    assert overdue_answer(session, district.workdays, TODAY, Scope(frozenset()), None).lines == ()


# --- /tinhhinh --------------------------------------------------------------------------------------------

def test_status_counts_and_lists_per_report(district: App, session: Session) -> None:
    answer = status_answer(session, district.workdays, TODAY, SCOPE_ALL, None, 2021)
    assert answer.header == "<b>TÌNH HÌNH NỘP BÁO CÁO CCHC NĂM 2021</b>\nTính đến hết Thứ Năm, ngày 18/03/2021."
    assert answer.lines[:12] == (
        PLAN,
        "4 đơn vị – Nộp đúng hạn: 1; Nộp muộn: 1; Quá hạn: 1; Chưa đến hạn: 0; Được miễn: 1.",
        "<i>Nộp đúng hạn</i> (1): UBND xã Tân Bình.",
        "<i>Nộp muộn</i> (1): UBND thị trấn Phú Lộc.",
        "<i>Quá hạn</i> (1): UBND xã An Bình.",
        f"<i>Được miễn</i> (1): {EVIL_HTML}.",
        Q1,
        "6 đơn vị – Nộp đúng hạn: 2; Nộp muộn: 1; Quá hạn: 2; Còn thiếu: 1; Chưa đến hạn: 0.",
        "<i>Nộp đúng hạn</i> (2): UBND xã An Bình, Phòng Văn hóa – Thông tin.",
        "<i>Nộp muộn</i> (1): UBND thị trấn Phú Lộc.",
        f"<i>Quá hạn</i> (2): {EVIL_HTML}, UBND xã Tân Bình.",
        "<i>Còn thiếu</i> (1): Phòng Tư pháp.",
    )
    assert answer.lines[12:15] == (
        "<b>Báo cáo CCHC 6 tháng đầu năm 2021</b> – hạn nộp Chủ nhật, 13/06/2021, "
        "hết hạn nhận cuối ngày Thứ Hai, 14/06/2021",
        "6 đơn vị – Nộp đúng hạn: 0; Nộp muộn: 0; Quá hạn: 0; Chưa đến hạn: 6.",
        f"<i>Chưa đến hạn</i> (6): UBND thị trấn Phú Lộc, {EVIL_HTML}, UBND xã An Bình, UBND xã Tân Bình, "
        "Phòng Tư pháp, Phòng Văn hóa – Thông tin.",
    )
    assert [line for line in answer.lines if line.startswith("<b>")] == [
        PLAN, Q1, answer.lines[12], "<b>Báo cáo CCHC Quý III/2021</b> – hạn nộp Thứ Hai, 13/09/2021",
        "<b>Báo cáo CCHC năm 2021</b> – hạn nộp Thứ Hai, 15/11/2021",
    ]
    assert_telegram_html(answer)


def test_status_of_one_report_and_one_unit(district: App, session: Session) -> None:
    scope = Scope.unit(unit_id(session, "TT_PHU_LOC"))
    answer = status_answer(session, district.workdays, TODAY, scope, "q1", 2021)
    assert answer.lines == (
        Q1,
        "1 đơn vị – Nộp đúng hạn: 0; Nộp muộn: 1; Quá hạn: 0; Chưa đến hạn: 0.",
        "<i>Nộp muộn</i> (1): UBND thị trấn Phú Lộc.",
    )


def test_status_long_lists_are_cut(district: App, session: Session) -> None:
    with district.session() as other:
        other.add_all(Unit(code=f"XA_{i:02d}", name=f"UBND xã Số {i:02d}", kind="commune", updated_at=NOW)
                      for i in range(30))
        other.flush()
        sync_obligations(other, district.calendar(2021), ACTOR, NOW)
    answer = status_answer(session, district.workdays, TODAY, SCOPE_ALL, "q3", 2021)
    listed = answer.lines[2]
    assert listed.startswith("<i>Chưa đến hạn</i> (36): UBND thị trấn Phú Lộc, ")
    assert listed.endswith(" … và 16 đơn vị khác.")
    assert listed.count(", ") == 19


def test_status_of_a_year_without_obligations(district: App, session: Session) -> None:
    answer = status_answer(session, district.workdays, TODAY, SCOPE_ALL, None, 2020)
    assert answer == Answer("Chưa có nghĩa vụ báo cáo nào năm 2020.\nTính đến hết Thứ Năm, ngày 18/03/2021.", ())
    unknown = status_answer(session, district.workdays, TODAY, SCOPE_ALL, "plan", 2020)
    assert unknown == Answer("Không có báo cáo mã “plan” năm 2020.\nChưa có báo cáo nào được theo dõi.", ())


# --- /sapden -------------------------------------------------------------------------------------------

def test_upcoming_counts_who_still_owes(district: App, session: Session) -> None:
    answer = upcoming_answer(session, district.workdays, date(2021, 3, 13), SCOPE_ALL, 2)
    assert answer == Answer(
        "<b>BÁO CÁO CCHC SẮP ĐẾN HẠN</b>\nTừ hôm nay, Thứ Bảy, 13/03/2021, đến hết Thứ Hai, 15/03/2021.",
        # P_VHTT sent on 12/03; P_TU_PHAP's report of 10/03 was found incomplete, so it still owes it.
        (Q1, "Còn 5 đơn vị chưa nộp; đã nộp 1."),
    )


def test_upcoming_by_the_effective_deadline_alone(district: App, session: Session) -> None:
    # Sunday 14/03: the nominal deadline (Sat 13/03) is past, receipt closes on Monday 15/03.
    answer = upcoming_answer(session, district.workdays, date(2021, 3, 14), SCOPE_ALL, 1)
    assert answer.lines == (Q1, "Còn 5 đơn vị chưa nộp; đã nộp 1.")
    today_only = upcoming_answer(session, district.workdays, date(2021, 3, 15), SCOPE_ALL, 0)
    assert today_only.header.endswith("Từ hôm nay, Thứ Hai, 15/03/2021, đến hết Thứ Hai, 15/03/2021.")
    # XA_AN_BINH's report arrived at 23:59 on the 15th: on time, and counted as sent that day.
    assert today_only.lines == (Q1, "Còn 4 đơn vị chưa nộp; đã nộp 2.")


def test_upcoming_with_a_waiver_and_for_one_unit(district: App, session: Session) -> None:
    before = upcoming_answer(session, district.workdays, date(2021, 1, 25), SCOPE_ALL, 7)
    assert before.lines == (PLAN, "Còn 3 đơn vị chưa nộp; đã nộp 0; được miễn 1.")
    # Friday 29/01: XA_TAN_BINH sent its plan that morning.
    answer = upcoming_answer(session, district.workdays, date(2021, 1, 29), SCOPE_ALL, 3)
    assert answer.lines == (PLAN, "Còn 2 đơn vị chưa nộp; đã nộp 1; được miễn 1.")
    own = upcoming_answer(session, district.workdays, date(2021, 3, 8), Scope.unit(unit_id(session, "XA_AB")), 7)
    assert own.lines == (Q1, f"• {EVIL_HTML} (<code>XA_AB</code>): Sắp đến hạn")


def test_upcoming_nothing_due(district: App, session: Session) -> None:
    answer = upcoming_answer(session, district.workdays, TODAY, SCOPE_ALL, 7)
    assert answer == Answer("Không có báo cáo nào đến hạn trong 7 ngày tới.\n"
                            "Từ hôm nay, Thứ Năm, 18/03/2021, đến hết Thứ Năm, 25/03/2021.", ())
    with pytest.raises(ValueError, match="negative"):
        upcoming_answer(session, district.workdays, TODAY, SCOPE_ALL, -1)


# --- /donvi lookup --------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["an binh", "AN BÌNH", "  An Bình ", "xa an binh", "UBND xã An Bình"])
def test_find_by_name_ignores_case_and_diacritics(session: Session, query: str) -> None:
    # Not "UBND xã Tân Bình" (the query starts mid-word there), not the inactive "UBND xã An Bình Cũ".
    assert find_units(session, query, SCOPE_ALL) == [
        UnitMatch(unit_id(session, "XA_AN_BINH"), "XA_AN_BINH", "UBND xã An Bình")]


@pytest.mark.parametrize("query", ["xa_an_binh", "XA_AN_BINH", " Xa_An_Binh "])
def test_find_by_exact_code(session: Session, query: str) -> None:
    assert [m.code for m in find_units(session, query, SCOPE_ALL)] == ["XA_AN_BINH"]


def test_find_several_none_and_escaped(session: Session) -> None:
    assert [m.code for m in find_units(session, "binh", SCOPE_ALL)] == ["XA_AN_BINH", "XA_TAN_BINH"]
    assert [m.code for m in find_units(session, "phong", SCOPE_ALL)] == ["P_TU_PHAP", "P_VHTT"]
    assert [m.code for m in find_units(session, "a&b", SCOPE_ALL)] == ["XA_AB"]
    assert find_units(session, "xa cu", SCOPE_ALL) == []
    assert find_units(session, "XA_CU", SCOPE_ALL) == []
    assert find_units(session, "Hải Phòng", SCOPE_ALL) == []
    assert find_units(session, " ", SCOPE_ALL) == find_units(session, "–", SCOPE_ALL) == []


def test_find_at_most_twenty(district: App, session: Session) -> None:
    with district.session() as other:
        other.add_all(Unit(code=f"XA_{i:02d}", name=f"UBND xã Thử Nghiệm {i:02d}", kind="commune", updated_at=NOW)
                      for i in range(25))
    found = find_units(session, "thu nghiem", SCOPE_ALL)
    assert [m.code for m in found] == [f"XA_{i:02d}" for i in range(20)]
    # An exact name comes first, whatever its place in the alphabet.
    assert find_units(session, "ubnd xa thu nghiem 24", SCOPE_ALL)[0].code == "XA_24"
    answer = unit_matches_answer("thu nghiem", found)
    assert answer.header == ("Có nhiều đơn vị khớp với “thu nghiem”; dưới đây là 20 đơn vị đầu tiên, "
                             "đề nghị gõ cụ thể hơn:")
    assert len(answer.lines) == 20


def test_matches_answer(session: Session) -> None:
    answer = unit_matches_answer("binh", find_units(session, "binh", SCOPE_ALL))
    assert answer == Answer("Có 2 đơn vị khớp với “binh”:", (
        "• UBND xã An Bình (<code>XA_AN_BINH</code>)", "• UBND xã Tân Bình (<code>XA_TAN_BINH</code>)"))
    assert unit_matches_answer("<i>x</i>", []) == Answer(
        "Không tìm thấy đơn vị nào có mã hoặc tên “&lt;i&gt;x&lt;/i&gt;”.", ())
    escaped = unit_matches_answer("a&b", find_units(session, "a&b", SCOPE_ALL))
    assert escaped.lines == (f"• {EVIL_HTML} (<code>XA_AB</code>)",)
    assert_telegram_html(escaped)


# --- /donvi, /cuatoi -------------------------------------------------------------------------------------

def test_unit_answer_every_report_with_its_status(district: App, session: Session) -> None:
    answer = unit_answer(session, district.workdays, TODAY, unit_id(session, "TT_PHU_LOC"), 2021)
    assert answer == Answer(
        "<b>UBND thị trấn Phú Lộc</b> (<code>TT_PHU_LOC</code>)\nThủ trưởng: Nguyễn Văn An\n"
        "Báo cáo CCHC năm 2021. Tính đến hết Thứ Năm, ngày 18/03/2021.",
        (
            f"• {PLAN}: Nộp muộn 2 ngày làm việc; nhận ngày 03/02/2021",
            f"• {Q1}: Nộp muộn 1 ngày làm việc; nhận ngày 16/03/2021, số ký hiệu 7/BC-UBND",
            "• <b>Báo cáo CCHC 6 tháng đầu năm 2021</b> – hạn nộp Chủ nhật, 13/06/2021, "
            "hết hạn nhận cuối ngày Thứ Hai, 14/06/2021: Chưa đến hạn",
            "• <b>Báo cáo CCHC Quý III/2021</b> – hạn nộp Thứ Hai, 13/09/2021: Chưa đến hạn",
            "• <b>Báo cáo CCHC năm 2021</b> – hạn nộp Thứ Hai, 15/11/2021: Chưa đến hạn",
        ),
    )


def test_unit_answer_overdue_waived_incomplete(district: App, session: Session) -> None:
    an_binh = unit_answer(session, district.workdays, TODAY, unit_id(session, "XA_AN_BINH"), 2021)
    assert an_binh.lines[:2] == (
        f"• {PLAN}: Quá hạn 28 ngày làm việc",
        f"• {Q1}: Nộp đúng hạn; nhận ngày 15/03/2021, số ký hiệu 12/BC-UBND",
    )
    evil = unit_answer(session, district.workdays, TODAY, unit_id(session, "XA_AB"), 2021)
    assert evil.header.startswith(f"<b>{EVIL_HTML}</b> (<code>XA_AB</code>)\nThủ trưởng: Đỗ Thị Hoa\n")
    assert evil.lines[:2] == (f"• {PLAN}: Được miễn", f"• {Q1}: Quá hạn 3 ngày làm việc")
    monitor = unit_answer(session, district.workdays, TODAY, unit_id(session, "P_TU_PHAP"), 2021)
    assert monitor.lines[0] == (f"• {Q1}: Còn thiếu: Phụ lục 3B mục 2 (quá hạn 3 ngày làm việc); "
                                "nhận ngày 10/03/2021, số ký hiệu 5/BC-TP")
    assert len(monitor.lines) == 4  # monitors owe no plan
    headless = unit_answer(session, district.workdays, TODAY, unit_id(session, "P_VHTT"), 2021)
    assert headless.header.split("\n")[1] == "Báo cáo CCHC năm 2021. Tính đến hết Thứ Năm, ngày 18/03/2021."
    for answer in (an_binh, evil, monitor, headless):
        assert_telegram_html(answer)


def test_unit_answer_unknown_inactive_or_empty_year(district: App, session: Session) -> None:
    gone = "Không tìm thấy đơn vị này, hoặc đơn vị không còn trong danh sách theo dõi."
    assert unit_answer(session, district.workdays, TODAY, unit_id(session, "XA_CU"), 2021) == Answer(gone, ())
    assert unit_answer(session, district.workdays, TODAY, 999_999, 2021) == Answer(gone, ())
    empty = unit_answer(session, district.workdays, TODAY, unit_id(session, "XA_AN_BINH"), 2020)
    assert empty == Answer("<b>UBND xã An Bình</b> (<code>XA_AN_BINH</code>)\n"
                           "Chưa có nghĩa vụ báo cáo nào năm 2020.", ())


def test_escaped_everywhere(district: App, session: Session) -> None:
    target = unit_id(session, "XA_AB")
    answers = [
        overdue_answer(session, district.workdays, TODAY, SCOPE_ALL, None),
        status_answer(session, district.workdays, TODAY, SCOPE_ALL, None, 2021),
        upcoming_answer(session, district.workdays, date(2021, 3, 8), Scope.unit(target), 7),
        unit_answer(session, district.workdays, TODAY, target, 2021),
        unit_matches_answer("a&b", find_units(session, "a&b", SCOPE_ALL)),
    ]
    for answer in answers:
        assert EVIL not in text_of(answer) and EVIL_HTML in text_of(answer)
        assert EVIL in telegram_plain(text_of(answer))
        assert_telegram_html(answer)


# --- /lich ---------------------------------------------------------------------------------------------

@pytest.fixture
def bare_app() -> App:
    from reminder_service.config import CalendarSettings, Config

    return App.from_config(Config(path=None, calendar=CalendarSettings(), database_url="sqlite:///:memory:"))


def test_calendar_answer_2021(bare_app: App) -> None:
    answer = calendar_answer(bare_app, bare_app.workdays, 2021)
    assert answer.header.split("\n")[:3] == [
        "<b>LỊCH BÁO CÁO CẢI CÁCH HÀNH CHÍNH NĂM 2021</b>",
        "Văn bản: Hướng dẫn xây dựng Kế hoạch và chế độ báo cáo cải cách hành chính năm 2021 (UBND huyện)",
        "Lịch theo đúng văn bản năm 2021.",
    ]
    lines = answer.lines
    assert lines[0] == "<b>UBND CÁC XÃ, THỊ TRẤN</b>"  # the kind by name: its code is English
    assert lines[1] == ("• <b>Kế hoạch CCHC năm 2021</b> (<code>plan</code>). Hạn nộp theo văn bản: Thứ Bảy, "
                        "30/01/2021; hạn nộp thực tế: Thứ Hai, 01/02/2021. Chốt số liệu: —.")
    assert ("• <b>Báo cáo CCHC năm 2021</b> (<code>annual</code>). Hạn nộp theo văn bản: Thứ Hai, 15/11/2021; "
            "hạn nộp thực tế: Thứ Hai, 15/11/2021. Chốt số liệu: 15/12/2020 – 20/11/2021; "
            "số liệu ước đạt: 15/11/2021 – 14/12/2021.") in lines
    # The monitors' annual deadline is the system's reading of a silent text, and says so.
    assert ("• <b>Báo cáo CCHC năm 2021</b> (<code>annual</code>). Hạn nộp theo văn bản: Thứ Hai, 15/11/2021 (*); "
            "hạn nộp thực tế: Thứ Hai, 15/11/2021. Chốt số liệu: 15/12/2020 – 14/12/2021.") in lines
    assert ("• <b>Báo cáo bổ sung số liệu năm 2021</b> (<code>supplement</code>). Hạn nộp: theo yêu cầu. "
            "Chốt số liệu: 01/12/2021 – 14/12/2021.") in lines
    assert "<i>(*) Hạn nộp là cách hiểu của hệ thống vì văn bản không nêu rõ; cần Phòng Nội vụ xác nhận.</i>" in lines
    assert "– Phòng Tư pháp: mục 2 (Cải cách thể chế)" in lines
    assert_telegram_html(answer)


def test_calendar_answer_matches_calendar_show(bare_app: App, cli: Cli) -> None:
    from calendars.words import weekday_dmy

    result = cli("calendar", "show", "--year", "2026", "--format", "json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    answer = calendar_answer(bare_app.library, bare_app.workdays, 2026)
    assert answer == calendar_answer(bare_app, bare_app.workdays, 2026)
    assert "Lịch dự kiến: năm 2026 chưa có văn bản riêng" in answer.header
    by_kind: dict[tuple[str, str], str] = {}
    kind = ""
    # Each kind's block is headed by the directive's name for it, in capitals.
    codes = {name.upper(): code for code, name in bare_app.calendar(2026).directive.unit_kinds.items()}
    for line in answer.lines:
        if heading := re.fullmatch(r"<b>([^<]*)</b>", line):
            kind = codes.get(heading[1], "")
        elif code := re.search(r"\(<code>(\w+)</code>\)", line):
            by_kind[kind, code[1]] = line
    assert set(by_kind) == {(item["kind"], item["id"]) for item in shown["obligations"]}
    for item in shown["obligations"]:
        line = by_kind[item["kind"], item["id"]]
        for key in ("nominal_deadline", "effective_deadline"):
            if item[key]:
                assert weekday_dmy(date.fromisoformat(item[key])) in line
    assert "Thứ Bảy, 13/06/2026; hạn nộp thực tế: Thứ Hai, 15/06/2026" in by_kind["commune", "h1"]


# --- /trogiup ------------------------------------------------------------------------------------------

READ = ("/quahan", "/tinhhinh", "/sapden", "/donvi", "/lich", "/trogiup")
RECORD = ("/danop", "/huynop", "/dangky")


def commands_in(answer: Answer) -> set[str]:
    return set(re.findall(r"<b>(/[a-z]+)", "\n".join(answer.lines)))


def test_help_for_the_receiver_and_leadership() -> None:
    receiver = help_answer("receiver")
    assert commands_in(receiver) == {*READ, *RECORD}
    assert receiver.lines[0] == ("• <b>/quahan [kỳ báo cáo]</b> – các đơn vị quá hạn nộp báo cáo, số ngày làm việc "
                                 "quá hạn và thủ trưởng đơn vị; ví dụ /quahan quý I.")
    assert "• <b>/donvi &lt;mã hoặc tên đơn vị&gt; [năm]</b>" in "\n".join(receiver.lines)
    assert ("• <b>/danop &lt;đơn vị&gt; &lt;kỳ báo cáo&gt; [năm] [số ký hiệu] [ngày nhận]</b> – ghi nhận đơn vị "
            "đã nộp báo cáo.") in receiver.lines
    assert "Đã gửi" not in text_of(receiver)
    leadership = help_answer("leadership")
    assert commands_in(leadership) == set(READ)
    for answer in (receiver, leadership):
        assert answer.header.startswith("<b>HƯỚNG DẪN SỬ DỤNG</b>\n")
        assert_telegram_html(answer)


@pytest.mark.parametrize("role", ["unit_head", "focal"])
def test_help_for_a_unit(role: str) -> None:
    answer = help_answer(role)
    assert commands_in(answer) == {"/cuatoi", "/quahan", "/tinhhinh", "/sapden", "/donvi", "/lich", "/trogiup"}
    assert answer.lines[-1].startswith("• Nút <b>“Đã gửi”</b> dưới mỗi tin nhắc hạn")
    assert "chỉ cho xem báo cáo của đơn vị mình" in answer.header
    assert_telegram_html(answer)


@pytest.mark.parametrize("role", ["receiver", "leadership", "unit_head", "focal"])
def test_help_lists_exactly_the_commands_the_role_may_use(role: str) -> None:
    # /start is how anyone begins; /cuatoi is for people of a unit only (the receiver has none).
    usable = PERMITTED[role] - {"start"} - ({"mine"} if role not in UNIT_ROLES else set())
    assert commands_in(help_answer(role)) == {f"/{BY_KEY[key].name}" for key in usable}


@pytest.mark.parametrize("role", [None, "admin", ""])
def test_help_unlinked_only_says_how_to_link(role: str | None) -> None:
    answer = help_answer(role)
    assert answer == Answer(
        "<b>Tài khoản Telegram này chưa được liên kết với hệ thống nhắc hạn báo cáo CCHC.</b>",
        ("Đề nghị liên hệ Phòng Nội vụ để nhận mã liên kết, rồi gửi /start &lt;mã&gt;",),
    )
    assert not re.search(r"\d", text_of(answer))
    assert commands_in(answer) == set()
    assert help_answer(None, office_name="Sở Nội vụ").lines == (
        "Đề nghị liên hệ Sở Nội vụ để nhận mã liên kết, rồi gửi /start &lt;mã&gt;",)
