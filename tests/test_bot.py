"""The chat bot end to end: the real python-telegram-bot Application polling the local Bot API server,
a receiver, a leader and unit heads each doing their job, refusals, and what is audited."""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, MutableMapping
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from reminder_service.adapters.telegram.service import Webhook
from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.chat import BotGroup, SubmissionClaim
from reminder_service.services.db.models import AuditEntry, Obligation, Person, Submission, Unit
from reminder_service.services.linking import create_invite
from reminder_service.services.outbox.ratelimit import RateLimiter
from tests.botchat import (
    FOCAL_AN_BINH,
    GROUP,
    HEAD_AN_BINH,
    HEAD_PHU_LOC,
    LEADER,
    NOW,
    RECEIVER,
    SETUP,
    STRANGER,
    Talk,
    build_district,
    running_bot,
)
from tests.fakes.bot_api import Call, Failure, FakeBotApi
from tests.fakes.bot_api import bot_api_fixture as bot_api_fixture

TAGS = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return TAGS.sub("", text)


@pytest.fixture
def talk(app: App, bot_api: FakeBotApi) -> Iterator[Talk]:
    build_district(app)
    with running_bot(app, bot_api) as talk:
        yield talk


def audit_rows(app: App) -> list[dict[str, object]]:
    with app.session() as session:
        rows = session.execute(select(AuditEntry.actor, AuditEntry.subject, AuditEntry.details)
                               .where(AuditEntry.action == "bot_command").order_by(AuditEntry.id)).all()
    return [{"actor": actor, "subject": subject, **json.loads(details)} for actor, subject, details in rows]


def test_the_menu_lists_the_vietnamese_commands(talk: Talk, bot_api: FakeBotApi) -> None:
    commands = bot_api.calls("setMyCommands")[0].params["commands"]
    names = [c["command"] for c in commands]
    assert names[:3] == ["quahan", "tinhhinh", "sapden"] and "trogiup" in names


def test_receiver_asks_who_is_overdue(talk: Talk) -> None:
    [answer] = talk.say(RECEIVER, "/quahan")
    text = plain(answer)
    assert "UBND xã Phú Lộc" in text and "Phạm Văn Lộc" in text  # the late unit and its head
    assert "UBND xã An Bình" not in text  # sent on time
    assert "3 ngày làm việc" in text  # Mon 15/03 effective deadline → Thu 18/03


def test_the_english_alias_and_the_bot_suffix_work_in_a_private_chat(talk: Talk) -> None:
    [answer] = talk.say(LEADER, "/overdue@cchc_test_bot q1")
    assert "UBND xã Phú Lộc" in plain(answer)


def test_leader_reads_the_status_of_a_period(talk: Talk) -> None:
    [answer] = talk.say(LEADER, "/tinhhinh quý I 2021")
    text = plain(answer)
    assert "UBND xã An Bình" in text and "UBND xã Phú Lộc" in text


def test_leader_may_not_record_a_submission(talk: Talk, app: App) -> None:
    [answer] = talk.say(LEADER, "/danop XA_PHU_LOC q1")
    assert "không thuộc quyền" in answer
    assert audit_rows(app)[-1]["allowed"] is False and audit_rows(app)[-1]["reason"] == "role"


def test_unit_head_sees_only_their_own_unit(talk: Talk) -> None:
    [overdue] = talk.say(HEAD_AN_BINH, "/quahan")
    assert "Phú Lộc" not in plain(overdue)
    [mine] = talk.say(HEAD_AN_BINH, "/cuatoi")
    assert "UBND xã An Bình" in plain(mine) and "Phú Lộc" not in plain(mine)
    [other] = talk.say(HEAD_AN_BINH, "/donvi XA_PHU_LOC")
    assert "Phú Lộc" not in plain(other)
    [late] = talk.say(HEAD_PHU_LOC, "/cuatoi")
    assert "UBND xã Phú Lộc" in plain(late) and "An Bình" not in plain(late)


def test_unit_lookup_ignores_case_and_diacritics(talk: Talk) -> None:
    [answer] = talk.say(RECEIVER, "/donvi phu loc")
    assert "UBND xã Phú Lộc" in plain(answer)


def test_several_matches_offer_buttons(talk: Talk, bot_api: FakeBotApi) -> None:
    [answer] = talk.say(RECEIVER, "/donvi xã")
    assert "UBND xã An Bình" in plain(answer) and "UBND xã Phú Lộc" in plain(answer)
    buttons = json.dumps(talk.last_markup(RECEIVER), ensure_ascii=False)
    assert "XA_AN_BINH" in buttons and "XA_PHU_LOC" in buttons
    data = re.search(r'"callback_data": "(u:\d+)"', buttons)
    assert data is not None
    pressed = talk.press(RECEIVER, data.group(1), messages=1)
    assert any("UBND xã" in plain(m) for m in pressed.messages)


def test_an_unlinked_chat_learns_how_to_link_and_nothing_else(talk: Talk, app: App) -> None:
    for command in ("/quahan", "/tinhhinh q1", "/donvi phu loc", "/cuatoi", "xin chào", "/khonglenh"):
        [answer] = talk.say(STRANGER, command)
        assert "/start" in answer and "liên kết" in answer
        assert "xã" not in answer and not re.search(r"\d", plain(answer))
    refused = [row for row in audit_rows(app) if row["chat_id"] == str(STRANGER)]
    assert len(refused) == 5 and all(row["allowed"] is False for row in refused)  # "xin chào" is no command


def test_a_person_links_with_a_code_and_then_is_served(talk: Talk, app: App) -> None:
    with app.session() as session:
        person = session.scalars(select(Person).where(Person.name == "Phạm Văn Lộc")).one()
        person.telegram_chat_id = None
        code = create_invite(session, person, NOW, actor=Actor("thanh.nt", "cli"))
    [before] = talk.say(7777, "/cuatoi")
    assert "liên kết" in before
    [linked] = talk.say(7777, f"/start {code}")
    assert "Phạm Văn Lộc" in linked
    [mine] = talk.say(7777, "/cuatoi")
    assert "UBND xã Phú Lộc" in plain(mine)
    [again] = talk.say(8888, f"/start {code}")
    assert ("Phú Lộc" not in again and "đã được sử dụng" in again.lower()) or "đã dùng" in again.lower()


def test_receiver_records_a_submission_confirms_and_undoes_it(talk: Talk, app: App) -> None:
    [ask] = talk.say(RECEIVER, "/danop XA_PHU_LOC q1 15/BC-UBND 17/03/2021")
    assert "UBND xã Phú Lộc" in ask and "15/BC-UBND" in ask
    markup = json.dumps(talk.last_markup(RECEIVER))
    confirm = re.search(r'"(ok:[^"]+)"', markup)
    assert confirm is not None
    done = talk.press(RECEIVER, confirm.group(1))
    assert any("Đã ghi nhận" in edit for edit in done.edits)
    with app.session() as session:
        recorded = session.scalars(select(Submission).join(Obligation).join(Unit)
                                   .where(Unit.code == "XA_PHU_LOC", Obligation.code == "q1")).all()
        assert [(s.doc_no, s.received_at.date().isoformat(), s.channel, s.state) for s in recorded] == [
            ("15/BC-UBND", "2021-03-17", "telegram", "accepted")]
    twice = talk.press(RECEIVER, confirm.group(1))
    assert "đã được xử lý" in twice.notice
    [overdue] = talk.say(RECEIVER, "/quahan")
    assert "Phú Lộc" not in plain(overdue)
    [undone] = talk.say(RECEIVER, "/huynop")
    assert "Đã hủy ghi nhận" in undone
    [overdue] = talk.say(RECEIVER, "/quahan")
    assert "Phú Lộc" in plain(overdue)
    [nothing] = talk.say(RECEIVER, "/huynop")
    assert "Không có lần ghi nhận" in nothing


@pytest.mark.parametrize(("command", "expected"), [
    ("/quahan q9", "kỳ"),
    ("/donvi", "Cách dùng"),
    ("/danop", "Cách dùng"),
    ("/danop XA_KHONG_CO q1", "Không tìm thấy đơn vị"),
    ("/tinhhinh q1 1850", "năm"),
    ("/sapden -3", "Cách dùng"),
    ("/lich năm_sau", "Cách dùng"),
    ("/quahan " + "x" * 500, "kỳ"),
    ("/donvi \u202e\u200b‮ǅ̸̛̀😀", "Không tìm thấy"),
])
def test_malformed_arguments_get_a_helpful_vietnamese_answer(talk: Talk, command: str, expected: str) -> None:
    [answer] = talk.say(RECEIVER, command)
    assert expected.lower() in answer.lower()
    assert "Traceback" not in answer and len(answer) < 1500


def test_a_group_works_only_once_the_receiver_registers_it(talk: Talk, app: App) -> None:
    [hint] = talk.say(GROUP, "/quahan", user_id=LEADER)
    assert "chưa được đăng ký" in hint and "Phú Lộc" not in hint
    [refused] = talk.say(GROUP, "/dangky", user_id=LEADER)
    assert "Chỉ cán bộ" in refused
    [registered] = talk.say(GROUP, "/dangky", user_id=RECEIVER)
    assert "Đã đăng ký nhóm" in registered
    with app.session() as session:
        assert session.scalars(select(BotGroup.chat_id)).all() == [str(GROUP)]
    [answer] = talk.say(GROUP, "/quahan@cchc_test_bot", user_id=LEADER)
    assert "UBND xã Phú Lộc" in plain(answer)
    [stranger] = talk.say(GROUP, "/quahan", user_id=STRANGER)
    assert "liên kết" in stranger and "Phú Lộc" not in stranger
    assert talk.say(GROUP, "/quahan@another_bot", user_id=LEADER, replies=0) == []


def test_help_depends_on_the_role(talk: Talk) -> None:
    [receiver] = talk.say(RECEIVER, "/trogiup")
    [head] = talk.say(FOCAL_AN_BINH, "/help")
    assert "/danop" in receiver and "/danop" not in head and "/cuatoi" in head


def test_every_command_is_audited_with_chat_person_and_decision(talk: Talk, app: App) -> None:
    talk.say(RECEIVER, "/quahan")
    talk.say(HEAD_AN_BINH, "/danop XA_AN_BINH q1")
    rows = audit_rows(app)
    assert [(r["subject"], r["chat_id"], r["allowed"]) for r in rows] == [
        ("/quahan", str(RECEIVER), True), ("/danop", str(HEAD_AN_BINH), False)]
    assert rows[0]["actor"] == "Nguyễn Thị Thanh" and rows[0]["person_id"] is not None


def q1_of(app: App, unit_code: str) -> int:
    with app.session() as session:
        return session.scalars(select(Obligation.id).join(Unit).where(
            Unit.code == unit_code, Obligation.code == "q1", Obligation.year == 2021)).one()


def test_reminder_buttons_claim_then_the_receiver_confirms(talk: Talk, app: App) -> None:
    """"Đã gửi" under a reminder pauses the ladder and asks the receiver; "Xác nhận đã nhận" records it."""
    q1 = q1_of(app, "XA_PHU_LOC")
    talk.say(HEAD_PHU_LOC, "/cuatoi")  # a message of the bot's to press under
    detail = talk.press(HEAD_PHU_LOC, f"detail:{q1}", messages=1)
    assert any("UBND xã Phú Lộc" in plain(m) for m in detail.messages)
    claimed = talk.press(HEAD_PHU_LOC, f"claim:{q1}", messages=1)
    assert claimed.notice and "Phòng Nội vụ" in claimed.messages[0]
    with app.session() as session:
        claim = session.scalars(select(SubmissionClaim)).one()
        assert (claim.obligation_id, claim.state) == (q1, "open")
    talk.say(RECEIVER, "/quahan")
    confirmed = talk.press(RECEIVER, f"claimok:{claim.id}", messages=1)
    assert "Traceback" not in confirmed.messages[0]
    with app.session() as session:
        states = session.scalars(select(Submission.channel).where(Submission.obligation_id == q1)).all()
    assert states == ["telegram"]


def test_buttons_check_who_presses_them(talk: Talk, app: App) -> None:
    """Callback data can be forged: another unit's head, or a unit head deciding a claim, is refused."""
    phu_loc = q1_of(app, "XA_PHU_LOC")
    talk.say(HEAD_AN_BINH, "/cuatoi")
    for data in (f"detail:{phu_loc}", f"claim:{phu_loc}", "claimok:1", "pg:AAAAAAAAAAAA:2", "u:999999", "junk"):
        pressed = talk.press(HEAD_AN_BINH, data)
        assert pressed.notice and not pressed.messages and not pressed.edits, data
    with app.session() as session:
        assert session.scalars(select(Submission).where(Submission.obligation_id == phu_loc)).all() == []


def test_a_long_list_is_paged_with_buttons(app: App, bot_api: FakeBotApi) -> None:
    build_district(app, extra_units=120)
    with running_bot(app, bot_api) as talk:
        [first] = talk.say(RECEIVER, "/quahan q1")
        assert "trang 1/" in first
        markup = json.dumps(talk.last_markup(RECEIVER))
        following = re.search(r'"(pg:[^"]+:2)"', markup)
        assert following is not None
        turned = talk.press(RECEIVER, following.group(1))
        assert turned.edits and "trang 2/" in turned.edits[0]
        assert all(len(call.params["text"]) <= 4096 for call in bot_api.calls("sendMessage"))


def keyboard(markup: Any) -> list[list[tuple[str, str]]]:
    return [[(b["text"], b["callback_data"]) for b in row] for row in (markup or {}).get("inline_keyboard", [])]


def test_many_long_unit_matches_are_paged_with_page_buttons_and_a_button_per_unit_shown(
        app: App, bot_api: FakeBotApi) -> None:
    build_district(app)
    with app.session() as session:
        session.add_all(Unit(code=f"XA_DAI_{n:02d}", name=f"UBND xã Đại Thắng {n:02d} " + "thuộc huyện miền núi " * 11,
                             kind="commune", updated_at=SETUP) for n in range(20))
    with running_bot(app, bot_api) as talk:
        [first] = talk.say(RECEIVER, "/donvi dai")
        pages = re.search(r"trang 1/(\d+)", first)
        assert pages is not None and int(pages.group(1)) >= 2
        rows = keyboard(talk.last_markup(RECEIVER))
        assert [label for label, _ in rows[-1]] == ["Sau ›"]
        # Each unit listed on the page can be opened with one tap (at most ten buttons a page).
        listed = re.findall(r"XA_DAI_\d\d", first)
        assert [label.split(" – ")[0] for [(label, _)] in rows[:-1]] == listed[:10]
        turned = talk.press(RECEIVER, rows[-1][0][1])
        assert turned.edits and "trang 2/" in turned.edits[0]
        second = keyboard(bot_api.calls("editMessageText")[-1].params["reply_markup"])
        assert second[-1][0][0] == "‹ Trước"
        shown = re.findall(r"XA_DAI_\d\d", turned.edits[0])
        assert shown and not set(shown) & set(listed)
        assert [label.split(" – ")[0] for [(label, _)] in second[:-1]] == shown[:10]
        opened = talk.press(RECEIVER, second[0][0][1], messages=1)
        assert f"UBND xã Đại Thắng {shown[0][-2:]}" in plain(opened.messages[0])
        back = talk.press(RECEIVER, second[-1][0][1])
        assert back.edits and "trang 1/" in back.edits[0]


def test_webhook_mode_answers_what_telegram_pushes_and_refuses_a_wrong_secret(app: App, bot_api: FakeBotApi) -> None:
    build_district(app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    hook = Webhook("https://cchc.example.gov.vn/telegram", "127.0.0.1", port, "bi-mat-webhook")
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": 1615000000, "text": "/quahan", "chat": {"id": RECEIVER, "type": "private"},
        "from": {"id": RECEIVER, "is_bot": False, "first_name": "Thanh"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}

    def push(secret: str) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "X-Telegram-Bot-Api-Secret-Token": secret})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    with running_bot(app, bot_api, webhook=hook):
        registered = bot_api.calls("setWebhook")[0].params
        assert registered["url"] == hook.url and registered["secret_token"] == "bi-mat-webhook"
        assert bot_api.calls("getUpdates") == []
        assert push("doan-bua") == 403
        assert push("bi-mat-webhook") == 200
        [answer] = Talk._await(lambda: bot_api.sent(RECEIVER), 0, 1)
    assert "UBND xã Phú Lộc" in plain(answer.params["text"])


def test_recording_a_report_already_recorded_says_so_before_confirming(talk: Talk) -> None:
    [ask] = talk.say(RECEIVER, "/danop XA_AN_BINH q1")
    assert "đã được ghi nhận nộp ngày Thứ Tư, 10/03/2021, số ký hiệu 12/BC-UBND" in ask
    [fresh] = talk.say(RECEIVER, "/danop XA_PHU_LOC q1")
    assert "Lưu ý" not in fresh


# --- replies when Telegram is busy ------------------------------------------------------------------------

def calls_to(bot_api: FakeBotApi, method: str, chat_id: int) -> list[Call]:
    return [c for c in bot_api.calls(method) if c.chat_id == chat_id]


def logged(logs: list[MutableMapping[str, Any]], event: str, timeout: float = 10.0) -> MutableMapping[str, Any]:
    """The first log entry of ``event``, waiting for it: the bot logs from its own thread."""
    deadline = time.monotonic() + timeout
    while not (found := [entry for entry in logs if entry["event"] == event]):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event} logged; logged: {[entry['event'] for entry in logs]}")
        time.sleep(0.01)
    return found[0]


@pytest.mark.parametrize("failure", [Failure.flood(1), Failure.server_error(502)], ids=["429", "502"])
def test_a_danop_confirmation_meeting_a_busy_telegram_arrives_exactly_once(
        app: App, bot_api: FakeBotApi, failure: Failure) -> None:
    build_district(app)
    with running_bot(app, bot_api, limiter=RateLimiter()) as talk:  # the daemon's, shared with reminders
        bot_api.fail_next(failure)
        [ask] = talk.say(RECEIVER, "/danop XA_PHU_LOC q1 15/BC-UBND 17/03/2021")
        assert "Đề nghị xác nhận ghi nhận" in ask
        confirm = re.search(r'"(ok:[^"]+)"', json.dumps(talk.last_markup(RECEIVER)))
        assert confirm is not None
        bot_api.fail_next(failure, method="editMessageText")
        talk.press(RECEIVER, confirm.group(1))
        [done] = Talk._await(lambda: [c for c in bot_api.calls("editMessageText") if c.status == 200], 0, 1)
        assert "Đã ghi nhận" in done.params["text"]
        [overdue] = talk.say(RECEIVER, "/quahan")
    sends = calls_to(bot_api, "sendMessage", RECEIVER)
    assert [c.status for c in sends] == [failure.status, 200, 200]
    assert [c.params["text"] for c in bot_api.sent(RECEIVER)] == [ask, overdue]  # nothing twice
    assert [c.status for c in bot_api.calls("editMessageText")] == [failure.status, 200]
    if failure.retry_after:  # not before Telegram said
        assert sends[1].at - sends[0].at >= failure.retry_after - 0.05


def test_a_reply_held_for_an_hour_or_refused_for_good_is_given_up_at_once_and_logged(
        app: App, bot_api: FakeBotApi) -> None:
    build_district(app)
    with running_bot(app, bot_api, limiter=RateLimiter()) as talk, capture_logs() as logs:
        bot_api.fail_next(Failure.flood(3600))
        talk.say(RECEIVER, "/quahan", replies=0)
        dropped = logged(logs, "bot_reply_dropped")
        assert (dropped["chat_id"], dropped["method"], dropped["reason"]) == (str(RECEIVER), "sendMessage",
                                                                              "wait_too_long")
        # Other chats are served meanwhile; the receiver's chat stays paused for as long as Telegram asked.
        [answer] = talk.say(LEADER, "/quahan")
        assert "UBND xã Phú Lộc" in plain(answer)
        bot_api.fail_next(Failure.blocked())
        talk.say(HEAD_AN_BINH, "/cuatoi", replies=0)
        logged(logs, "bot_update_failed")
    assert [c.status for c in calls_to(bot_api, "sendMessage", RECEIVER)] == [429]
    assert [c.status for c in calls_to(bot_api, "sendMessage", HEAD_AN_BINH)] == [403]  # not tried again


def test_last_years_report_recorded_and_seen_by_year_with_a_unit_name_of_several_words(
        app: App, bot_api: FakeBotApi) -> None:
    build_district(app)
    with running_bot(app, bot_api, now=datetime(2022, 2, 10, 9, 0)) as talk:
        # No quotes around "phu loc": the unit's name is the words before the period.
        [ask] = talk.say(RECEIVER, "/danop phu loc q1 2021 21/BC-UBND 17/03/2021")
        assert "UBND xã Phú Lộc" in ask and "21/BC-UBND" in ask
        confirm = re.search(r'"(ok:[^"]+)"', json.dumps(talk.last_markup(RECEIVER)))
        assert confirm is not None
        talk.press(RECEIVER, confirm.group(1))
        [this_year] = talk.say(RECEIVER, "/donvi phu loc")
        [that_year] = talk.say(RECEIVER, "/donvi phu loc 2021")
        [mine] = talk.say(HEAD_PHU_LOC, "/cuatoi 2021")
    assert "21/BC-UBND" not in this_year
    for answer in (that_year, mine):
        assert "Báo cáo CCHC Quý I/2021" in plain(answer) and "21/BC-UBND" in plain(answer)
        assert "nhận ngày 17/03/2021" in plain(answer)


def test_a_unit_head_asking_about_another_unit_is_told_why_not(talk: Talk) -> None:
    [other] = talk.say(HEAD_AN_BINH, "/donvi phu loc")
    assert "chỉ xem được tình hình nộp báo cáo của đơn vị mình" in other and "/cuatoi" in other
    assert "Không tìm thấy" not in other and "Phạm Văn Lộc" not in other
    [nowhere] = talk.say(HEAD_AN_BINH, "/donvi xa khong co")
    assert "Không tìm thấy" in nowhere
    [own] = talk.say(HEAD_AN_BINH, "/donvi an binh")
    assert "UBND xã An Bình" in plain(own)


def test_danop_refuses_a_received_date_outside_the_reports_range(talk: Talk, app: App) -> None:
    [early] = talk.say(RECEIVER, "/danop XA_PHU_LOC q1 2021 15/BC-UBND 01/01/2019")
    assert "trước khi kỳ báo cáo bắt đầu: ngày nhận phải từ 15/12/2020 đến hôm nay (18/03/2021)" in early
    [late] = talk.say(RECEIVER, "/danop XA_PHU_LOC q1 15/BC-UBND 19/03/2021")
    assert "chưa đến" in late
    assert talk.last_markup(RECEIVER) is None
    with app.session() as session:
        assert session.scalars(select(Submission)).all() == [] or all(
            s.received_at.year == 2021 for s in session.scalars(select(Submission)))
