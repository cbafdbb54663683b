"""The board (units × reports of a year), one cell's history, and the overdue list.

Every figure comes from ``services.readside`` (through ``services.board`` for the board), the same
calls `status` and `overdue` make, so the console, the command line and the bot never disagree. A unit
head or focal officer sees their own unit only: their filters carry the unit, and another unit's cell
answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reminder_service.adapters.web.auth import Refused, console_of, guarded, viewer_of
from reminder_service.adapters.web.context import Console
from reminder_service.adapters.web.pages import render
from reminder_service.adapters.web.params import kind_param, name_param, page_param, path_id, year_param
from reminder_service.domain.access import Viewer
from reminder_service.domain.status import STATUS_CODES
from reminder_service.domain.textfold import fold
from reminder_service.services import board as boards
from reminder_service.services.db.models import Obligation
from reminder_service.services.present.status_view import STATUS_LABELS
from reminder_service.services.readside import Filters, load_rows

STATUS_CHOICES: tuple[tuple[str, str], ...] = (
    *((code, STATUS_LABELS[code]) for code in STATUS_CODES), ("claimed", "Đã báo gửi (chờ xác nhận)"))


@dataclass(frozen=True)
class Failed:
    """An action refused: shown beside the obligation it was for, with what was typed kept."""

    ob: int
    message: str
    typed: dict[str, str]


def _filters(console: Console, viewer: Viewer, *, year: int | None, kind: str | None) -> Filters:
    return Filters(as_of=console.clock().date(), year=year, kind=kind, units=viewer.scope.unit_ids)


@guarded()
async def board_page(request: Request) -> Response:
    console, viewer = console_of(request), viewer_of(request)
    year, kind, name = year_param(request, console), kind_param(request, console), name_param(request)
    wanted = request.query_params.get("tinh_trang", "").strip() or None
    if wanted is not None and wanted not in dict(STATUS_CHOICES):
        raise Refused(400, "Tình trạng cần lọc không hợp lệ; hãy chọn trong danh sách.")
    page = page_param(request)

    cache: boards.RowCache = request.app.state.rows

    def load() -> tuple[boards.Board, list[int]]:
        with console.workspace.session() as session:
            # The kind is filtered in arrange, so that every kind shares the cached rows of the year.
            rows = cache.grouped(session, _filters(console, viewer, year=year, kind=None),
                                 console.workspace.workdays, console.due_soon_working_days)
            claims = boards.open_claims(session)
            years = sorted(set(session.scalars(select(Obligation.year).distinct())) | {console.clock().year},
                           reverse=True)
        board = boards.arrange(rows, year=year, as_of=console.clock().date(), claimed=claims.keys(),
                               status=wanted, kind=kind, name=name, page=page)  # type: ignore[arg-type]
        return board, years

    board, years = await run_in_threadpool(load)

    def page_link(number: int) -> str:
        query = {"nam": year, "loai": kind or "", "tinh_trang": wanted or "", "ten": name, "trang": number}
        return "/?" + urlencode({k: v for k, v in query.items() if v != ""})

    return render(request, "board.html", {
        "board": board, "years": years, "kinds": console.kinds, "kind": kind, "status": wanted, "name": name,
        "statuses": STATUS_CHOICES, "page_link": page_link})


def _cell_values(console: Console, viewer: Viewer, obligation_id: int) -> dict[str, Any]:
    with console.workspace.session() as session:
        found = boards.history(session, obligation_id)
        if found is None:
            raise Refused(404, "Không có nghĩa vụ báo cáo này (có thể đường dẫn đã cũ).")
        if not viewer.scope.sees(found.unit_id):
            raise Refused(403, "Ông/Bà chỉ xem được báo cáo của đơn vị mình.")
        filters = Filters(as_of=console.clock().date(), year=found.year, obligation=found.code,
                          units=frozenset({found.unit_id}))
        rows = load_rows(session, filters, console.workspace.workdays, console.due_soon_working_days)
        claim = boards.open_claims(session, {obligation_id}).get(obligation_id)
    row = next((r for r in rows if r.obligation_id == obligation_id), None)
    can_mark = any(s.state == "accepted" for s in found.submissions)
    return {"h": found, "row": row, "claim": claim, "can_mark": can_mark, "error": None}


async def cell_response(request: Request, obligation_id: int, error: Failed | None = None) -> Response:
    console, viewer = console_of(request), viewer_of(request)
    values = await run_in_threadpool(_cell_values, console, viewer, obligation_id)
    return render(request, "cell.html", {**values, "error": error}, 422 if error else 200)


@guarded()
async def cell_page(request: Request) -> Response:
    missing = "Không có nghĩa vụ báo cáo này (có thể đường dẫn đã cũ)."
    return await cell_response(request, path_id(request, "obligation_id", missing))


OVERDUE_PAGE = 100


def _overdue_values(console: Console, viewer: Viewer, cache: boards.RowCache, kind: str | None, name: str,
                    page: int) -> dict[str, Any]:
    with console.workspace.session() as session:
        rows = cache.rows(session, _filters(console, viewer, year=None, kind=None), console.workspace.workdays,
                          console.due_soon_working_days, overdue_only=True)
        claims = boards.open_claims(session)
    wanted = fold(name)
    rows = [r for r in rows if (kind is None or r.kind == kind)
            and (not wanted or wanted in fold(r.unit_name) or wanted in fold(r.unit))]
    pages = max(1, -(-len(rows) // OVERDUE_PAGE))
    page = min(max(1, page), pages)
    return {"rows": rows[(page - 1) * OVERDUE_PAGE: page * OVERDUE_PAGE], "total": len(rows),
            "units": len({r.unit for r in rows}), "claims": claims, "page": page, "pages": pages}


async def overdue_response(request: Request, error: Failed | None = None) -> Response:
    console, viewer = console_of(request), viewer_of(request)
    kind, name = kind_param(request, console), name_param(request)
    values = await run_in_threadpool(_overdue_values, console, viewer, request.app.state.rows, kind, name,
                                     page_param(request))

    def page_link(number: int) -> str:
        query = {"loai": kind or "", "ten": name, "trang": number}
        return "/qua-han?" + urlencode({k: v for k, v in query.items() if v != ""})

    return render(request, "overdue.html", {**values, "kinds": console.kinds, "kind": kind, "name": name,
                                            "error": error, "page_link": page_link}, 422 if error else 200)


@guarded()
async def overdue_page(request: Request) -> Response:
    return await overdue_response(request)
