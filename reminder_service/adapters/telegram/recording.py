"""/danop and /huynop: the receiver records a submission from the phone, confirms it with one tap, and
can undo it for ten minutes. Recording goes through ``submissions.record_submission``, as the CLI's
``submissions record`` does; confirmations and undos are stored actions taken by compare-and-set.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.words import weekday_dmy
from reminder_service.adapters.telegram import actions
from reminder_service.adapters.telegram.access import Caller
from reminder_service.adapters.telegram.answers import find_units
from reminder_service.adapters.telegram.commands import CommandError, echo, usage_error
from reminder_service.adapters.telegram.periods import parse_submitted
from reminder_service.adapters.telegram.replies import CallbackOutcome, ChatRef, Reply
from reminder_service.app import App
from reminder_service.domain.access import Scope
from reminder_service.domain.clock import wall
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation
from reminder_service.services.readside import known_codes
from reminder_service.services.submissions import received_problem, record_submission, revert_submission

CONFIRM_TTL = timedelta(hours=1)
UNDO_WINDOW = timedelta(minutes=10)
CONFIRM, CANCEL = "ok", "x"
_DECISION = re.compile(r"(ok|x):([A-Za-z0-9_-]{8,32})")
STALE = "Nút này đã hết hiệu lực. Vui lòng gửi lại lệnh /danop."


def propose(app: App, session: Session, chat: ChatRef, caller: Caller, args: Sequence[str], now: datetime) -> Reply:
    local = wall(now)
    wanted = parse_submitted(args, known_codes(session, None, local.date()), local.date())
    matches = find_units(session, wanted.unit, Scope.everything())
    if not matches:
        raise usage_error("submitted", f"Không tìm thấy đơn vị “{echo(wanted.unit)}”.")
    if len(matches) > 1:
        listed = "; ".join(f"{m.code} ({m.name})" for m in matches[:5])
        raise usage_error("submitted", f"Có {len(matches)} đơn vị khớp “{echo(wanted.unit)}”: {listed}. "
                                       "Hãy ghi mã đơn vị.")
    unit = matches[0]
    obligation = session.scalar(select(Obligation).where(
        Obligation.unit_id == unit.id, Obligation.code == wanted.obligation, Obligation.year == wanted.year,
        Obligation.active.is_(True)))
    if obligation is None:
        raise CommandError(f"Đơn vị {unit.code} không có báo cáo kỳ “{wanted.obligation}” năm {wanted.year}.")
    day = wanted.received
    # A date alone means that day, as `submissions record --received` takes it; today means now.
    received = local if day is None or day == local.date() else datetime.combine(day, datetime.min.time())
    problem = received_problem(received.date(), year=obligation.year, window_start=obligation.window_start,
                               today=local.date())
    if problem is not None:
        raise CommandError(f"{obligation.title}: {problem}")
    action = actions.create(session, "submit", {"obligation_id": obligation.id, "received_at": received.isoformat(),
                                                "doc_no": wanted.doc_no}, chat_id=chat.chat_id,
                            person_id=caller.person_id, now=now, ttl=CONFIRM_TTL)
    doc = f", số ký hiệu <b>{html.escape(wanted.doc_no)}</b>" if wanted.doc_no else ""
    text = (f"Đề nghị xác nhận ghi nhận: <b>{html.escape(unit.name)}</b> ({html.escape(unit.code)}) đã nộp "
            f"<b>{html.escape(obligation.title)}</b>, nhận ngày {weekday_dmy(received.date())}{doc}.")
    earlier = [s for s in obligation.submissions if s.state == "accepted"]
    if earlier:
        # A second recording is sometimes right (a corrected report), but usually a slip: say so first.
        last = max(earlier, key=lambda s: s.received_at)
        last_doc = f", số ký hiệu {html.escape(last.doc_no)}" if last.doc_no else ""
        text += (f"\nLưu ý: báo cáo này đã được ghi nhận nộp ngày {weekday_dmy(last.received_at.date())}"
                 f"{last_doc}; xác nhận sẽ ghi thêm một lần nộp.")
    buttons = (((("Xác nhận", f"{CONFIRM}:{action.token}")), ("Hủy", f"{CANCEL}:{action.token}")),)
    return Reply(text, buttons)


def parse_decision(data: str) -> tuple[str, str] | None:
    match = _DECISION.fullmatch(data)
    return (match.group(1), match.group(2)) if match else None


def decide(session: Session, caller: Caller, verb: str, token: str, now: datetime) -> CallbackOutcome:
    action = actions.find(session, token)
    if action is None or action.kind != "submit" or action.expires_at <= wall(now):
        return CallbackOutcome(notice=STALE)
    if action.person_id != caller.person_id:
        return CallbackOutcome(notice="Chỉ người gửi lệnh /danop này mới xác nhận được.")
    if not actions.settle(session, action, "done" if verb == CONFIRM else "cancelled"):
        return CallbackOutcome(notice="Yêu cầu này đã được xử lý trước đó.")
    if verb == CANCEL:
        return CallbackOutcome(notice="Đã hủy.", edit=Reply("Đã hủy, không ghi nhận."))
    obligation = session.get(Obligation, int(action.payload["obligation_id"]))
    if obligation is None:
        return CallbackOutcome(notice=STALE)
    received = datetime.fromisoformat(str(action.payload["received_at"]))
    doc_no = action.payload.get("doc_no")
    recorded = record_submission(session, obligation, received_at=received, doc_no=str(doc_no) if doc_no else None,
                                 note=None, actor=Actor(caller.name, "telegram"), now=now)
    what = f"<b>{html.escape(obligation.unit.name)}</b> – <b>{html.escape(obligation.title)}</b>"
    if not recorded.created:
        return CallbackOutcome(notice="Đã có trước đó.",
                               edit=Reply(f"Lần nộp này đã được ghi nhận trước đó: {what}."))
    actions.create(session, "undo", {"submission_id": recorded.submission.id}, chat_id=action.chat_id,
                   person_id=caller.person_id, now=now, ttl=UNDO_WINDOW)
    return CallbackOutcome(notice="Đã ghi nhận.", edit=Reply(
        f"Đã ghi nhận: {what}, nhận ngày {weekday_dmy(received.date())}. Nếu ghi nhầm, gửi /huynop trong 10 phút."))


def undo(session: Session, caller: Caller, now: datetime) -> Reply:
    action = actions.latest_pending(session, "undo", caller.person_id, now)
    if action is None or not actions.settle(session, action, "done"):
        return Reply("Không có lần ghi nhận nào của Ông/Bà trong 10 phút qua để hủy.")
    reverted = revert_submission(session, int(action.payload["submission_id"]), Actor(caller.name, "telegram"), now)
    if reverted is None:
        return Reply("Lần ghi nhận gần nhất đã được thay đổi sau đó nên không hủy được; đề nghị kiểm tra bằng /donvi.")
    obligation = reverted.obligation
    return Reply(f"Đã hủy ghi nhận: <b>{html.escape(obligation.unit.name)}</b> – "
                 f"<b>{html.escape(obligation.title)}</b>.")
