"""The receiver's changes from the console: record a submission, waive, mark incomplete, and decide a
"Đã gửi" claim. Each goes through the same service as the command line and the bot (compare-and-set,
audited with the person and the channel "web"), then back to the page it came from (post, redirect,
get) with a notice; a refusal shows the page again with the reason beside the report and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reminder_service.adapters.web import flash
from reminder_service.adapters.web.auth import console_of, form_of, guarded, safe_next, viewer_of
from reminder_service.adapters.web.board_pages import Failed, cell_response, overdue_response
from reminder_service.adapters.web.params import path_id, sentence
from reminder_service.domain.datetext import DateError, read_moment
from reminder_service.domain.errors import UserError
from reminder_service.services import claims, submissions
from reminder_service.services.audit import Actor
from reminder_service.services.db.chat import SubmissionClaim
from reminder_service.services.db.models import Obligation

FIELDS = ("ngay", "so_ky_hieu", "ly_do", "con_thieu")


def web_actor(request: Request) -> Actor:
    viewer = viewer_of(request)
    return Actor(f"{viewer.name} [{viewer.person_id}]"[:120], "web")


def _subject(obligation: Obligation) -> str:
    return f"{obligation.unit.name} – {obligation.title} năm {obligation.year}"


async def _act(request: Request, obligation_id: int | None,
               change: Callable[[Session, dict[str, str], datetime], str]) -> Response:
    """Run ``change`` in one unit of work; it returns the notice to show, or raises UserError."""
    console = console_of(request)
    form = await form_of(request)
    typed = {key: str(form.get(key) or "").strip() for key in FIELDS}
    back = safe_next(str(form.get("ve") or "/qua-han"))

    def run() -> str:
        with console.workspace.session() as session:
            return change(session, typed, console.clock())

    try:
        notice = await run_in_threadpool(run)
    except UserError as error:
        failed = Failed(obligation_id or 0, sentence(str(error)), typed)
        if obligation_id is not None and back == f"/o/{obligation_id}":
            return await cell_response(request, obligation_id, failed)
        return await overdue_response(request, failed)
    target = back + (f"#o{obligation_id}" if back == "/qua-han" and obligation_id else "")
    return flash.leave(RedirectResponse(target, status_code=303), notice, secure=console.secure)


def _obligation(session: Session, obligation_id: int) -> Obligation:
    obligation = session.get(Obligation, obligation_id)
    if obligation is None or not obligation.active:
        raise UserError("nghĩa vụ báo cáo này không còn được theo dõi; hãy tải lại trang")
    return obligation


@guarded("write")
async def record(request: Request) -> Response:
    obligation_id = path_id(request, "obligation_id")
    actor = web_actor(request)

    def change(session: Session, typed: dict[str, str], now: datetime) -> str:
        try:
            received = read_moment(typed["ngay"])
        except DateError as error:
            raise UserError(f"ngày nhận: {error}") from None
        obligation = _obligation(session, obligation_id)
        result = submissions.record_submission(session, obligation, received_at=received,
                                               doc_no=typed["so_ky_hieu"] or None, note=None, actor=actor, now=now)
        if not result.created:
            return f"{_subject(obligation)}: lần nộp này đã được ghi nhận trước đó."
        return f"Đã ghi nhận {_subject(obligation)} nộp ngày {received:%d/%m/%Y}."

    return await _act(request, obligation_id, change)


@guarded("write")
async def waive(request: Request) -> Response:
    obligation_id = path_id(request, "obligation_id")
    actor = web_actor(request)

    def change(session: Session, typed: dict[str, str], now: datetime) -> str:
        obligation = _obligation(session, obligation_id)
        if not typed["ly_do"]:
            raise UserError("hãy ghi lý do miễn nộp")
        submissions.waive(session, obligation, typed["ly_do"], actor, now)
        return f"Đã miễn nộp {_subject(obligation)}."

    return await _act(request, obligation_id, change)


@guarded("write")
async def mark_incomplete(request: Request) -> Response:
    obligation_id = path_id(request, "obligation_id")
    actor = web_actor(request)

    def change(session: Session, typed: dict[str, str], now: datetime) -> str:
        obligation = _obligation(session, obligation_id)
        if not typed["con_thieu"]:
            raise UserError("hãy ghi rõ báo cáo còn thiếu gì")
        submissions.mark_incomplete(session, obligation, typed["con_thieu"], actor, now)
        return f"Đã đánh dấu {_subject(obligation)} còn thiếu: {typed['con_thieu']}."

    return await _act(request, obligation_id, change)


def _claim_change(request: Request, confirm: bool) -> Callable[[Session, dict[str, str], datetime], str]:
    console = console_of(request)
    claim_id = path_id(request, "claim_id", "Không có báo «Đã gửi» này.")
    actor = web_actor(request)

    def change(session: Session, typed: dict[str, str], now: datetime) -> str:
        if confirm:
            result = claims.confirm_claim(session, claim_id, actor, now, office_name=console.office_name)
        else:
            result = claims.reject_claim(session, claim_id, actor, now, console.workspace.workdays,
                                         policy=console.policy, office_name=console.office_name)
        obligation = session.get(Obligation, result.obligation_id) if result.obligation_id is not None else None
        if not result.ok or obligation is None:
            raise UserError(result.reply)
        subject = _subject(obligation)
        if confirm:
            return f"Đã xác nhận: {subject} đã được nhận."
        return f"Đã báo đơn vị: chưa nhận được {subject}; việc nhắc hạn được tiếp tục."

    return change


async def _claim_obligation(request: Request) -> int | None:
    console = console_of(request)
    claim_id = path_id(request, "claim_id", "Không có báo «Đã gửi» này.")

    def find() -> int | None:
        with console.workspace.session() as session:
            claim = session.get(SubmissionClaim, claim_id)
            return claim.obligation_id if claim is not None else None

    return await run_in_threadpool(find)


@guarded("write")
async def confirm_claim(request: Request) -> Response:
    return await _act(request, await _claim_obligation(request), _claim_change(request, True))


@guarded("write")
async def reject_claim(request: Request) -> Response:
    return await _act(request, await _claim_obligation(request), _claim_change(request, False))
