"""«Sổ văn bản đến»: upload the document system's register export, see what it would record, confirm;
and the review list of rows that could not be matched for sure (resolve or dismiss each).

The preview is the import itself run in a savepoint that is rolled back (``register.preview``), so what
the page promises is what the confirmation does. Only the receiving office imports and resolves;
leadership may read the review list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reminder_service.adapters.web import flash
from reminder_service.adapters.web.actions import web_actor
from reminder_service.adapters.web.auth import Refused, console_of, form_of, guarded, viewer_of
from reminder_service.adapters.web.pages import NavItem, render
from reminder_service.adapters.web.params import path_id, sentence
from reminder_service.adapters.web.uploads import read_upload, uploads_of
from reminder_service.domain.datetext import DateError, read_moment
from reminder_service.domain.errors import UserError
from reminder_service.services.register.apply import ImportSummary, import_register
from reminder_service.services.register.limits import LIMITS, megabytes
from reminder_service.services.register.preview import preview_import
from reminder_service.services.register.read import read_register
from reminder_service.services.register.review import REASON_TEXTS, dismiss_item, list_items, resolve_item

NAV = (NavItem("/so-van-ban", "Sổ văn bản đến", need="office"),)
SUFFIXES = (".csv", ".xlsx")


def _page_values(console: Any) -> dict[str, Any]:
    with console.workspace.session() as session:
        items = list_items(session)
    return {"items": items, "reasons": REASON_TEXTS, "preview": None, "token": "", "error": None, "typed": {},
            "item_error": None, "max_size": f"{megabytes(LIMITS.file_bytes)} MB"}


async def _show(request: Request, status: int = 200, **values: Any) -> Response:
    page = await run_in_threadpool(_page_values, console_of(request))
    return render(request, "register.html", {**page, **values}, status)


@guarded()
async def register_page(request: Request) -> Response:
    if viewer_of(request).scope.unit_ids is not None:
        raise Refused(403, "Sổ văn bản đến chứa văn bản của mọi đơn vị: chỉ Phòng Nội vụ và lãnh đạo được xem.")
    return await _show(request)


async def _upload(request: Request) -> tuple[bytes, str]:
    form = await form_of(request)
    return await read_upload(
        form.get("tep"), what="tệp sổ văn bản đến xuất từ hệ thống quản lý văn bản", suffixes=SUFFIXES,
        also=(".xls",), default_name="so-van-ban-den.csv", limit=LIMITS.file_bytes,
        too_big="hãy xuất từng năm hoặc từng quý")


@guarded("write")
async def preview(request: Request) -> Response:
    console, viewer, uploads = console_of(request), viewer_of(request), uploads_of(request)
    actor = web_actor(request)
    try:
        data, name = await _upload(request)
        kept = uploads.keep(data, name, viewer.person_id)

        def look() -> ImportSummary:
            register = read_register(kept.path)  # every file error surfaces before the database is touched
            with console.workspace.session() as session:
                return preview_import(session, register, actor, console.clock())

        summary = await run_in_threadpool(look)
    except UserError as error:
        return await _show(request, 422, error=sentence(str(error)))
    return await _show(request, preview=summary, token=kept.token)


@guarded("write")
async def confirm(request: Request) -> Response:
    console, viewer, uploads = console_of(request), viewer_of(request), uploads_of(request)
    form = await form_of(request)
    token = str(form.get("tep_da_tai") or "")
    path = uploads.find(token, viewer.person_id)
    if path is None:
        return await _show(request, 422, error="Tệp đã tải lên không còn (quá một giờ, hoặc đã nhập). Hãy tải tệp "
                                               "lên lại để xem trước.")
    actor = web_actor(request)

    def run() -> ImportSummary:
        register = read_register(path)
        with console.workspace.session() as session:
            return import_register(session, register, actor, console.clock())

    try:
        summary = await run_in_threadpool(run)
    except IntegrityError:
        return await _show(request, 409, error="Một lần nhập sổ văn bản đến khác đang ghi cùng các dòng này; chưa có "
                                               "gì được ghi. Hãy thử lại sau ít phút.")
    except UserError as error:
        return await _show(request, 422, error=sentence(str(error)))
    uploads.drop(token)
    notice = (f"Đã nhập {summary.file_name}: ghi nhận {len(summary.recorded)} báo cáo, {summary.already} dòng đã "
              f"nhập từ trước, {summary.ignored} dòng không phải báo cáo CCHC, {len(summary.review)} dòng cần xem xét.")
    return flash.leave(RedirectResponse("/so-van-ban", status_code=303), notice, secure=console.secure)


async def _decide(request: Request, change: Any) -> Response:
    console = console_of(request)
    form = await form_of(request)
    typed = {key: str(form.get(key) or "").strip() for key in ("don_vi", "bao_cao", "nam", "ngay", "ly_do")}
    item_id = path_id(request, "item_id", "Không có mục cần xem xét này.")

    def run() -> str:
        with console.workspace.session() as session:
            result: str = change(session, item_id, typed, console.clock())
            return result

    try:
        notice = await run_in_threadpool(run)
    except UserError as error:
        return await _show(request, 422, item_error=(item_id, sentence(str(error))), typed=typed)
    return flash.leave(RedirectResponse(f"/so-van-ban#m{item_id}", status_code=303), notice, secure=console.secure)


@guarded("write")
async def resolve(request: Request) -> Response:
    actor = web_actor(request)

    def change(session: Session, item_id: int, typed: dict[str, str], now: datetime) -> str:
        if not typed["don_vi"] or not typed["bao_cao"]:
            raise UserError("hãy ghi mã đơn vị và mã báo cáo (ví dụ XA_AN_BINH và q1), hoặc bấm một gợi ý")
        year = None
        if typed["nam"]:
            if not typed["nam"].isdigit() or len(typed["nam"]) != 4:
                raise UserError(f"năm «{typed['nam'][:10]}» không hợp lệ; hãy ghi năm bốn chữ số, ví dụ 2026")
            year = int(typed["nam"])
        received = None
        if typed["ngay"]:
            try:
                received = read_moment(typed["ngay"])
            except DateError as error:
                raise UserError(f"ngày nhận: {error}") from None
        done = resolve_item(session, item_id, unit_code=typed["don_vi"], obligation=typed["bao_cao"], year=year,
                            received_at=received, actor=actor, now=now)
        subject = f"{done.obligation.title} của {done.obligation.unit.name}"
        if done.recorded.created:
            return f"Đã ghi nhận {subject}; mục {item_id} đã được xử lý."
        return f"{subject} đã được ghi nhận trước đó; mục {item_id} được gắn với lần nộp đó."

    return await _decide(request, change)


@guarded("write")
async def dismiss(request: Request) -> Response:
    actor = web_actor(request)

    def change(session: Session, item_id: int, typed: dict[str, str], now: datetime) -> str:
        item = dismiss_item(session, item_id, typed["ly_do"] or None, actor, now)
        return f"Đã bỏ qua mục {item.id} ({item.sender})."

    return await _decide(request, change)


ROUTES = [
    Route("/so-van-ban", register_page),
    Route("/so-van-ban/xem-truoc", preview, methods=["POST"]),
    Route("/so-van-ban/nhap", confirm, methods=["POST"]),
    Route("/so-van-ban/muc/{item_id}/ghi-nhan", resolve, methods=["POST"]),
    Route("/so-van-ban/muc/{item_id}/bo-qua", dismiss, methods=["POST"]),
]
