"""«Đơn vị và người nhận»: the units with their head and focal officer, the people, the units file (upload,
the difference it would make, apply), and Telegram invitations with a QR code of the t.me link.

The units file goes through the same ``registry.parse_units`` and ``registry.apply_units`` as
`units import`: the difference is a dry run, and applying it refuses the same mass deactivation
(more than a third of the units, or a monitoring office) unless the person ticks that they mean it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reminder_service.adapters.web import flash
from reminder_service.adapters.web.actions import web_actor
from reminder_service.adapters.web.auth import Refused, console_of, form_of, guarded, viewer_of
from reminder_service.adapters.web.context import Console
from reminder_service.adapters.web.pages import NavItem, render
from reminder_service.adapters.web.params import path_id, sentence
from reminder_service.adapters.web.uploads import read_upload, uploads_of
from reminder_service.domain.clock import wall
from reminder_service.domain.errors import UserError
from reminder_service.services.db.models import Person
from reminder_service.services.linking import INVITE_TTL, create_invite, deep_link
from reminder_service.services.registry import (
    ROLE_LABELS,
    ImportResult,
    apply_units,
    list_people,
    list_units,
    parse_units,
)
from reminder_service.services.registry.fields import KIND_WORDS

NAV = (NavItem("/don-vi", "Đơn vị và người nhận", need="office"),)
SUFFIXES = (".csv", ".xlsx", ".yaml")
MAX_UNITS_FILE = 5 * 1024 * 1024


@dataclass(frozen=True)
class Invitation:
    person: str
    code: str
    expires_at: datetime
    link: str | None
    qr: str | None  # a data: URI of the link's QR code (an <img>, so the page's CSP stays strict)


def _values(console: Console) -> dict[str, Any]:
    with console.workspace.session() as session:
        units = list_units(session, include_inactive=False)
        people = list_people(session, include_inactive=False)
    return {"units": units, "people": people, "kinds": KIND_WORDS, "roles": ROLE_LABELS, "diff": None,
            "token": "", "error": None, "invitation": None, "telegram_enabled": console.telegram_enabled}


async def _show(request: Request, status: int = 200, **values: Any) -> Response:
    page = await run_in_threadpool(_values, console_of(request))
    return render(request, "registry.html", {**page, **values}, status)


@guarded()
async def registry_page(request: Request) -> Response:
    if viewer_of(request).scope.unit_ids is not None:
        raise Refused(403, "Danh sách đơn vị và người nhận chỉ dành cho Phòng Nội vụ và lãnh đạo.")
    return await _show(request)


def _parse(console: Console, path: Path) -> list[Any]:
    directive = console.workspace.calendar(console.clock().year).directive
    return parse_units(path.read_bytes(), path.name, path.suffix.lower(), directive)


@dataclass(frozen=True)
class Diff:
    file_name: str
    total: int
    result: ImportResult


@guarded("write")
async def preview(request: Request) -> Response:
    console, viewer, uploads = console_of(request), viewer_of(request), uploads_of(request)
    actor = web_actor(request)
    form = await form_of(request)
    try:
        data, name = await read_upload(
            form.get("tep"), what="tệp danh sách đơn vị", suffixes=SUFFIXES, also=(".yml",),
            default_name="don-vi.csv", limit=MAX_UNITS_FILE,
            too_big="danh sách đơn vị của một tỉnh chỉ vài trăm KB, hãy kiểm tra lại tệp")
        kept = uploads.keep(data, name, viewer.person_id)

        def look() -> Diff:
            rows = _parse(console, kept.path)
            with console.workspace.session() as session:
                result = apply_units(session, rows, actor, console.clock(), label=name, dry_run=True)
                session.rollback()
            return Diff(name, len(rows), result)

        diff = await run_in_threadpool(look)
    except UserError as error:
        return await _show(request, 422, error=sentence(str(error)))
    return await _show(request, diff=diff, token=kept.token)


@guarded("write")
async def apply(request: Request) -> Response:
    console, viewer, uploads = console_of(request), viewer_of(request), uploads_of(request)
    form = await form_of(request)
    token = str(form.get("tep_da_tai") or "")
    confirmed = form.get("dong_y") == "1"
    path = uploads.find(token, viewer.person_id)
    if path is None:
        return await _show(request, 422, error="Tệp đã tải lên không còn (quá một giờ, hoặc đã áp dụng). Hãy tải tệp "
                                               "lên lại để xem trước.")
    actor = web_actor(request)

    def run() -> tuple[int, ImportResult]:
        rows = _parse(console, path)
        with console.workspace.session() as session:
            return len(rows), apply_units(session, rows, actor, console.clock(), label=path.name, confirmed=confirmed)

    try:
        total, result = await run_in_threadpool(run)
    except UserError as error:
        return await _show(request, 422, error=sentence(str(error)) + " Hãy đánh dấu ô đồng ý nếu đúng là như vậy.")
    uploads.drop(token)
    notice = (f"Đã áp dụng {path.name} ({total} đơn vị): thêm mới {result.created}, cập nhật {result.updated}, "
              f"ngừng theo dõi {result.deactivated}, giữ nguyên {result.unchanged}.")
    if result.created or result.reactivated or result.deactivated:
        notice += " Nghĩa vụ báo cáo được cập nhật theo danh sách mới ở lượt xử lý tiếp theo của dịch vụ."
    return flash.leave(RedirectResponse("/don-vi", status_code=303), notice, secure=console.secure)


@guarded("write")
async def invite(request: Request) -> Response:
    console = console_of(request)
    person_id = path_id(request, "person_id", "Không có người này.")
    actor = web_actor(request)

    def make() -> Invitation:
        with console.workspace.session() as session:
            person = session.scalar(select(Person).where(Person.id == person_id))
            if person is None:
                raise Refused(404, "Không có người này.")
            now = console.clock()
            code = create_invite(session, person, now, actor=actor)
            name = person.name
        link = deep_link(console.bot_username, code) if console.bot_username else None
        qr = segno.make(link, error="m").svg_data_uri(scale=5, dark="#1d2430") if link else None
        return Invitation(name, code, wall(now) + INVITE_TTL, link, qr)

    try:
        made = await run_in_threadpool(make)
    except UserError as error:
        return await _show(request, 422, error=sentence(str(error)))
    return await _show(request, invitation=made)


ROUTES = [
    Route("/don-vi", registry_page),
    Route("/don-vi/xem-truoc", preview, methods=["POST"]),
    Route("/don-vi/ap-dung", apply, methods=["POST"]),
    Route("/nguoi/{person_id}/moi", invite, methods=["POST"]),
]
