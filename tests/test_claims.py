"""The "Đã gửi" claim on SQLite and PostgreSQL: claim, confirm, reject, the paused ladder, and the inline
buttons on reminders as the Telegram server receives them."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminder_service.adapters.console import describe
from reminder_service.adapters.email.notifier import EmailNotifier
from reminder_service.adapters.telegram.notifier import TelegramNotifier
from reminder_service.app import App
from reminder_service.config import EmailSettings
from reminder_service.domain import buttons as callbacks
from reminder_service.domain.escalation.policy import Policy
from reminder_service.services.audit import Actor
from reminder_service.services.claims import (
    ClaimResult,
    confirm_claim,
    make_claim,
    paused_obligations,
    reject_claim,
)
from reminder_service.services.db.chat import SubmissionClaim
from reminder_service.services.db.models import (
    AuditEntry,
    LadderStep,
    Obligation,
    OutboxMessage,
    Person,
    Submission,
    Unit,
)
from reminder_service.services.outbox import Dispatcher, DispatchReport, RateLimiter
from reminder_service.services.outbox.notifier import OutgoingMessage
from reminder_service.services.outbox.store import buttons_json, parse_buttons
from reminder_service.services.reconcile import tick
from reminder_service.services.reminders import TemplateRenderer
from reminder_service.services.submissions import find_obligation, record_submission, waive
from tests.district import HEAD, district, person
from tests.fakes.bot_api import (
    TOKEN,
    FakeBotApi,
    bot_api_fixture,  # noqa: F401 - the bot_api fixture
)
from tests.fakes.smtp import HOST, smtp_server

HEAD_CHAT, RECEIVER_CHAT = "1001", "2001"
RECEIVER = person("Nguyễn Thị Thanh", "receiver", "noivu@songlam.example", RECEIVER_CHAT)
FOCAL = person("Trần Thị Bích", "focal", "bich@songlam.example")
THANH = Actor("Nguyễn Thị Thanh", "telegram")
CLAIMED = datetime(2021, 3, 16, 9, 30)  # Tue: the overdue notice went out at 08:05


def _district(app: App, *extra: dict[str, Any]) -> None:
    """XA_AN_BINH with its head (Telegram and e-mail), focal officer and a receiver; only Q1 2021 is
    followed (the rest waived), so every message a test sees is about it."""
    district(app, {**HEAD, "telegram_chat_id": HEAD_CHAT}, FOCAL, RECEIVER, *extra)
    with app.session() as session:
        for obligation in session.scalars(select(Obligation).where(Obligation.code != "q1")):
            obligation.waived_reason = "Ngoài phạm vi kiểm thử"


def _q1(session: Session) -> Obligation:
    return find_obligation(session, "XA_AN_BINH", "q1", 2021)


def _person(session: Session, name: str) -> Person:
    found = session.scalar(select(Person).where(Person.name == name))
    assert found is not None
    return found


def _claim(app: App, name: str = "Nguyễn Văn An", now: datetime = CLAIMED) -> ClaimResult:
    with app.session() as session:
        return make_claim(session, _q1(session), _person(session, name), now, app.workdays)


def _tick(app: App, moment: datetime) -> None:
    renderer = TemplateRenderer(app.calendar, "Phòng Nội vụ", app.workdays, moment.date())
    with app.session() as session:
        tick(session, policy=Policy(), workdays=app.workdays, due_soon=5, now=moment,
             renderer=renderer.for_decisions)


def _sent_rungs(app: App) -> list[tuple[str, int, date, date]]:
    """(stage, occurrence, due on, decided on) of the Q1 rungs sent."""
    with app.session() as session:
        return [(s.stage, s.occurrence, s.due_on, s.decided_at.date()) for s in session.scalars(
            select(LadderStep).where(LadderStep.obligation_id == _q1(session).id, LadderStep.outcome == "sent")
            .order_by(LadderStep.id))]


def _rows(app: App, stage: str) -> list[OutboxMessage]:
    with app.session() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.stage == stage)
                                    .order_by(OutboxMessage.id)))


def _count(app: App, model: type[Any]) -> int:
    with app.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- callback data and the stored keyboard -------------------------------------------------------------


def test_callback_data_round_trips_and_junk_decodes_to_nothing() -> None:
    for prefix in (callbacks.CLAIM, callbacks.DETAIL, callbacks.CLAIM_CONFIRM, callbacks.CLAIM_REJECT):
        data = callbacks.encode(prefix, 10**17)
        assert len(data.encode()) <= 64 and callbacks.decode(data) == (prefix, 10**17)
    junk: list[object] = [None, 7, b"claim:1", "", "claim", "claim:", "claim:0", "claim:-1", "claim:01", "claim:1:2",
                          "claim: 1", "claim:1\n", "CLAIM:1", "other:1", "claim:abc", "claim:" + "9" * 70, "ứ:1"]
    assert [callbacks.decode(data) for data in junk] == [None] * len(junk)
    with pytest.raises(ValueError):
        callbacks.encode("other", 1)
    with pytest.raises(ValueError):
        callbacks.encode(callbacks.CLAIM, 0)


def test_reminder_buttons_by_role_and_the_outbox_column_format() -> None:
    assert callbacks.reminder_buttons(42, "unit_head") == ((("Đã gửi", "claim:42"), ("Chi tiết", "detail:42")),)
    assert callbacks.reminder_buttons(42, "focal") == callbacks.reminder_buttons(42, "unit_head")
    assert callbacks.reminder_buttons(42, "receiver") == ((("Chi tiết", "detail:42"),),)
    assert callbacks.reminder_buttons(42, "leadership") == ((("Chi tiết", "detail:42"),),)
    buttons = callbacks.claim_decision_buttons(5)
    assert json.loads(buttons_json(buttons)) == [[["Xác nhận đã nhận", "claimok:5"], ["Chưa nhận được", "claimno:5"]]]
    assert parse_buttons(buttons_json(buttons)) == buttons and buttons_json(()) == "" and parse_buttons("") == ()
    for broken in ("{", "{}", "[1]", '[["a"]]', '[[["a", 1]]]', '[[["a", "b", "c"]]]'):
        assert parse_buttons(broken) == ()


def test_the_console_names_the_buttons_email_never_shows_them() -> None:
    buttons = callbacks.reminder_buttons(42, "unit_head")
    telegram = OutgoingMessage("k", "telegram", "1001", "Nguyễn Văn An", "", "Báo cáo đã quá hạn.", "", buttons)
    assert describe(telegram).endswith("Báo cáo đã quá hạn.\n\n[Đã gửi] [Chi tiết]\n")
    email = OutgoingMessage("k", "email", "an@x.vn", "Nguyễn Văn An", "S", "Báo cáo đã quá hạn.", "", buttons)
    assert "[Đã gửi]" not in describe(email)


# --- making a claim ------------------------------------------------------------------------------------


def test_a_claim_pauses_and_asks_every_receiver_with_the_two_buttons(app: App) -> None:
    _district(app, person("Lê Thị Hoa", "receiver", None, None, "telegram,email"),  # no address at all
              {**person("Phạm Văn Cũ", "receiver", "cu@songlam.example"), "active": False})
    result = _claim(app)
    assert (result.outcome, result.ok, result.state, result.pause_until) == ("claimed", True, "open", date(2021, 3, 18))
    assert result.messages == 2
    assert "tạm dừng đến hết ngày 18/03/2021" in result.reply
    rows = _rows(app, "claim")
    with app.session() as session:
        thanh, hoa = _person(session, "Nguyễn Thị Thanh").id, _person(session, "Lê Thị Hoa").id
    cid = result.claim_id
    assert [(r.dedupe_key, r.channel, r.address, r.state, r.last_error) for r in rows] == [
        (f"claim:{cid}:p{thanh}:telegram", "telegram", RECEIVER_CHAT, "pending", None),
        (f"claim:{cid}:p{thanh}:email", "email", "noivu@songlam.example", "pending", None),
        (f"claim:{cid}:p{hoa}:telegram", "telegram", "", "skipped", "chưa liên kết Telegram"),
        (f"claim:{cid}:p{hoa}:email", "email", "", "skipped", "chưa có địa chỉ e-mail"),
    ]
    telegram, mail = rows[0], rows[1]
    assert parse_buttons(telegram.buttons) == ((("Xác nhận đã nhận", f"claimok:{cid}"),
                                                ("Chưa nhận được", f"claimno:{cid}")),)
    assert mail.buttons == ""
    assert telegram.body_text.startswith(
        "ĐƠN VỊ BÁO ĐÃ GỬI BÁO CÁO\nKính gửi: Phòng Nội vụ (Ông/Bà Nguyễn Thị Thanh).\n")
    assert ("UBND xã An Bình báo đã gửi Báo cáo CCHC Quý I/2021 lúc 09:30, Thứ Ba, 16/03/2021 (người báo: "
            "Ông/Bà Nguyễn Văn An, thủ trưởng đơn vị).") in telegram.body_text
    assert "đề nghị" in mail.body_text.lower() and "xác nhận" in mail.subject
    assert "tạm dừng đến hết ngày Thứ Năm, 18/03/2021" in mail.body_text
    assert "tiếp tục từ ngày Thứ Sáu, 19/03/2021" in mail.body_html
    assert telegram.next_attempt_at == CLAIMED  # inside office hours: at once
    with app.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("claim%"))).all()
        assert actions == ["claim_made"]
        assert paused_obligations(session, date(2021, 3, 18)) == {_q1(session).id}
        assert paused_obligations(session, date(2021, 3, 19)) == set()


def test_a_claim_at_night_reaches_the_receiver_when_the_office_opens(app: App) -> None:
    _district(app)
    result = _claim(app, now=datetime(2021, 3, 19, 21, 40))  # Fri evening
    assert result.pause_until == date(2021, 3, 23)
    assert {r.next_attempt_at for r in _rows(app, "claim")} == {datetime(2021, 3, 22, 8, 0)}  # Mon 08:00


def test_pressing_twice_or_by_a_colleague_returns_the_same_open_claim(app: App) -> None:
    _district(app)
    first = _claim(app)
    again = _claim(app, now=CLAIMED + timedelta(minutes=1))
    colleague = _claim(app, "Trần Thị Bích", now=datetime(2021, 3, 22, 9))  # even after the pause ended
    assert first.outcome == "claimed"
    assert [(r.outcome, r.ok, r.claim_id, r.pause_until, r.messages) for r in (again, colleague)] == [
        ("already_claimed", True, first.claim_id, date(2021, 3, 18), 0)] * 2
    assert "lúc 09:30 ngày 16/03/2021" in again.reply
    assert _count(app, SubmissionClaim) == 1 and len(_rows(app, "claim")) == 2


def test_two_presses_at_the_same_moment_make_one_claim(app: App) -> None:
    _district(app)
    barrier = threading.Barrier(2)
    results: list[ClaimResult] = []

    def press(name: str) -> None:
        with app.session() as session:
            obligation, who = _q1(session), _person(session, name)
            barrier.wait()
            results.append(make_claim(session, obligation, who, CLAIMED, app.workdays))

    threads = [threading.Thread(target=press, args=(name,)) for name in ("Nguyễn Văn An", "Trần Thị Bích")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.outcome for r in results) == ["already_claimed", "claimed"]
    assert _count(app, SubmissionClaim) == 1 and len(_rows(app, "claim")) == 2


@pytest.mark.parametrize("change", ["submitted", "waived", "inactive", "unit_inactive"])
def test_a_claim_on_a_settled_waived_or_inactive_obligation_is_refused(app: App, change: str) -> None:
    _district(app)
    with app.session() as session:
        q1 = _q1(session)
        if change == "submitted":
            record_submission(session, q1, received_at=datetime(2021, 3, 15, 10), doc_no="12/BC-UBND", note=None,
                              actor=THANH, now=datetime(2021, 3, 15, 10))
        elif change == "waived":
            waive(session, q1, "Sáp nhập", THANH, datetime(2021, 3, 15, 10))
        elif change == "inactive":
            q1.active = False
        else:
            session.scalars(select(Unit)).one().active = False
    result = _claim(app)
    expected = {"submitted": "settled", "unit_inactive": "inactive"}.get(change, change)
    assert (result.outcome, result.ok, result.claim_id) == (expected, False, None)
    assert result.reply and "Báo cáo CCHC Quý I/2021" in result.reply
    assert _count(app, SubmissionClaim) == 0 and _rows(app, "claim") == []


def test_only_the_units_own_people_may_claim(app: App) -> None:
    _district(app, person("Lê Văn Quyết", "leadership", "chutich@songlam.example"))
    assert [_claim(app, name).outcome for name in ("Nguyễn Thị Thanh", "Lê Văn Quyết")] == ["not_allowed"] * 2
    assert _count(app, SubmissionClaim) == 0


# --- deciding a claim ------------------------------------------------------------------------------------


def _decide(app: App, action: Callable[..., ClaimResult], claim_id: int | None, at: datetime,
            **options: Any) -> ClaimResult:
    assert claim_id is not None
    with app.session() as session:
        if action is reject_claim:
            options.setdefault("workdays", app.workdays)
        return action(session, claim_id, THANH, at, **options)


def test_confirming_records_one_submission_at_the_claim_time_and_ends_the_ladder(app: App) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 16, 8, 5))
    claim = _claim(app)
    with app.session() as session:
        thanh = _person(session, "Nguyễn Thị Thanh")
    confirmed = _decide(app, confirm_claim, claim.claim_id, datetime(2021, 3, 17, 10), by=thanh)
    assert (confirmed.outcome, confirmed.state) == ("confirmed", "confirmed")
    assert "nhắc hạn đã dừng" in confirmed.reply
    twice = _decide(app, confirm_claim, claim.claim_id, datetime(2021, 3, 17, 10, 1))
    rejected_after = _decide(app, reject_claim, claim.claim_id, datetime(2021, 3, 17, 10, 2))
    for late in (twice, rejected_after):
        assert (late.outcome, late.ok, late.state) == ("already_decided", False, "confirmed")
        assert "đã được xử lý trước đó" in late.reply
    with app.session() as session:
        (submission,) = session.scalars(select(Submission)).all()
        stored = session.get(SubmissionClaim, claim.claim_id)
        assert stored is not None
        assert (submission.received_at, submission.channel, submission.state) == (CLAIMED, "telegram", "accepted")
        assert (stored.state, stored.decided_by, stored.submission_id) == ("confirmed", "Nguyễn Thị Thanh",
                                                                           submission.id)
        assert confirmed.submission_id == submission.id
        assert paused_obligations(session, date(2021, 3, 17)) == set()
    for day in (18, 19, 22, 23, 26):
        _tick(app, datetime(2021, 3, day, 9))
    assert [stage for stage, *_ in _sent_rungs(app)] == ["overdue"]  # settled: no escalation ever
    assert _rows(app, "claim_rejected") == []


def test_two_receivers_confirming_at_once_decide_once(app: App) -> None:
    _district(app)
    claim = _claim(app)
    barrier = threading.Barrier(2)
    results: list[ClaimResult] = []

    def press() -> None:
        with app.session() as session:
            barrier.wait()
            assert claim.claim_id is not None
            results.append(confirm_claim(session, claim.claim_id, THANH, datetime(2021, 3, 17, 10)))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.outcome for r in results) == ["already_decided", "confirmed"]
    assert _count(app, Submission) == 1


def test_rejecting_tells_the_claimant_and_the_ladder_resumes_at_once(app: App) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 16, 8, 5))
    claim = _claim(app, now=datetime(2021, 3, 17, 9))  # Wed: paused through Fri 19/03
    _tick(app, datetime(2021, 3, 18, 9))
    assert [stage for stage, *_ in _sent_rungs(app)] == ["overdue"]  # escalated#0 held by the pause
    rejected = _decide(app, reject_claim, claim.claim_id, datetime(2021, 3, 18, 10))
    assert (rejected.outcome, rejected.state, rejected.messages) == ("rejected", "rejected", 2)
    assert "nhắc hạn được tiếp tục" in rejected.reply
    rows = _rows(app, "claim_rejected")
    with app.session() as session:
        an = _person(session, "Nguyễn Văn An").id
    assert [(r.dedupe_key, r.channel, r.address, r.buttons) for r in rows] == [
        (f"claimno:{claim.claim_id}:p{an}:telegram", "telegram", HEAD_CHAT, ""),
        (f"claimno:{claim.claim_id}:p{an}:email", "email", "an@songlam.example", ""),
    ]
    assert rows[0].body_text.startswith("CHƯA NHẬN ĐƯỢC BÁO CÁO\nKính gửi: Chủ tịch UBND xã An "
                                        "Bình (Ông/Bà Nguyễn Văn An)\n")
    assert ("Phòng Nội vụ chưa nhận được Báo cáo CCHC Quý I/2021 mà UBND xã An Bình báo đã gửi lúc 09:00, Thứ Tư, "
            "17/03/2021; đề nghị Ông/Bà kiểm tra và gửi lại báo cáo") in rows[0].body_text
    assert rows[1].subject.startswith("Chưa nhận được báo cáo – Báo cáo CCHC Quý I/2021")
    _tick(app, datetime(2021, 3, 18, 10, 5))  # the next tick, the same morning
    assert _sent_rungs(app) == [("overdue", 0, date(2021, 3, 16), date(2021, 3, 16)),
                                ("escalated", 0, date(2021, 3, 18), date(2021, 3, 18))]
    again = _decide(app, confirm_claim, claim.claim_id, datetime(2021, 3, 18, 11))
    assert (again.outcome, again.state) == ("already_decided", "rejected") and _count(app, Submission) == 0
    assert _claim(app, now=datetime(2021, 3, 19, 9)).outcome == "claimed"  # sent again: a new claim


def test_only_a_receiver_decides_and_an_unknown_claim_is_not_found(app: App) -> None:
    _district(app)
    claim = _claim(app)
    with app.session() as session:
        head = _person(session, "Nguyễn Văn An")
    assert _decide(app, confirm_claim, claim.claim_id, datetime(2021, 3, 17, 10), by=head).outcome == "not_allowed"
    assert _decide(app, reject_claim, 999, datetime(2021, 3, 17, 10)).outcome == "not_found"
    with app.session() as session:
        stored = session.get(SubmissionClaim, claim.claim_id)
        assert stored is not None and stored.state == "open"


def test_a_paused_ladder_sends_nothing_and_resumes_after_the_pause(app: App) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 16, 8, 5))
    _claim(app)  # Tue 16/03 09:30: paused through Thu 18/03; nobody answers
    for day in (16, 17, 18):
        for hour in (10, 15):
            _tick(app, datetime.combine(date(2021, 3, day), time(hour, 5)))
    assert [stage for stage, *_ in _sent_rungs(app)] == ["overdue"]
    _tick(app, datetime(2021, 3, 19, 8, 5))
    assert _sent_rungs(app)[-1] == ("escalated", 0, date(2021, 3, 18), date(2021, 3, 19))
    with app.session() as session:
        assert session.scalar(select(SubmissionClaim.state)) == "open"  # still open, no longer pausing


# --- buttons on reminders, end to end ------------------------------------------------------------------


def test_reminder_rows_carry_buttons_for_telegram_only(app: App) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 16, 8, 5))
    with app.session() as session:
        oid = _q1(session).id
        rows = session.execute(select(Person.role, OutboxMessage.channel, OutboxMessage.buttons)
                               .join(Person, OutboxMessage.person_id == Person.id)
                               .where(OutboxMessage.stage == "overdue").order_by(Person.role, OutboxMessage.channel))
        stored = [(role, channel, parse_buttons(buttons)) for role, channel, buttons in rows]
    assert stored == [
        ("receiver", "email", ()), ("receiver", "telegram", ((("Chi tiết", f"detail:{oid}"),),)),
        ("unit_head", "email", ()),
        ("unit_head", "telegram", ((("Đã gửi", f"claim:{oid}"), ("Chi tiết", f"detail:{oid}")),)),
    ]


def test_telegram_receives_the_inline_keyboard_and_email_is_unchanged(app: App, bot_api: FakeBotApi) -> None:
    _district(app)
    _tick(app, datetime(2021, 3, 16, 8, 5))
    claim = _claim(app)
    with app.session() as session:
        oid = _q1(session).id
    with smtp_server() as (mailbox, port):
        notifiers = {
            "telegram": TelegramNotifier(TOKEN, bot_api.base_url, part_interval=0),
            "email": EmailNotifier(EmailSettings(host=HOST, port=port, security="none",
                                                 from_address="noivu@songlam.example")),
        }
        sender = Dispatcher(app, notifiers, lambda: CLAIMED, limiter=RateLimiter())

        async def deliver() -> DispatchReport:
            try:
                return await sender.drain()
            finally:
                for notifier in notifiers.values():
                    await notifier.close()

        report = asyncio.run(deliver())
    assert report.dead == 0 and report.sent == 6  # overdue: 2 + 2; the claim notice: 2
    [reminder] = bot_api.sent(HEAD_CHAT)
    assert reminder.params["reply_markup"] == {"inline_keyboard": [[
        {"text": "Đã gửi", "callback_data": f"claim:{oid}"}, {"text": "Chi tiết", "callback_data": f"detail:{oid}"}]]}
    copy, notice = bot_api.sent(RECEIVER_CHAT)
    assert copy.params["reply_markup"] == {"inline_keyboard": [[
        {"text": "Chi tiết", "callback_data": f"detail:{oid}"}]]}
    assert notice.params["reply_markup"] == {"inline_keyboard": [[
        {"text": "Xác nhận đã nhận", "callback_data": f"claimok:{claim.claim_id}"},
        {"text": "Chưa nhận được", "callback_data": f"claimno:{claim.claim_id}"}]]}
    assert "ĐƠN VỊ BÁO ĐÃ GỬI BÁO CÁO" in notice.params["text"]
    assert len(mailbox.received) == 3
    for mail in mailbox.received:
        body = mail.message.get_body(("plain",))
        assert body is not None and "claim:" not in body.get_content() and "[Đã gửi]" not in body.get_content()


def test_a_long_reminder_carries_its_buttons_on_the_last_part_only(bot_api: FakeBotApi) -> None:
    buttons = callbacks.reminder_buttons(7, "unit_head")
    html = "\n".join(f"<b>Dòng {n}</b> " + "nội dung " * 20 for n in range(60))
    message = OutgoingMessage("k", "telegram", HEAD_CHAT, "Nguyễn Văn An", "", "", html, buttons)

    async def send() -> None:
        notifier = TelegramNotifier(TOKEN, bot_api.base_url, part_interval=0)
        try:
            await notifier.send(message)
        finally:
            await notifier.close()

    asyncio.run(send())
    parts = bot_api.sent(HEAD_CHAT)
    assert len(parts) > 1
    assert [bool(p.params.get("reply_markup")) for p in parts] == [False] * (len(parts) - 1) + [True]
