"""The JSON API for the province's systems: ``GET /api/status?year=&obligation=`` answers exactly what
`reminder-service status --format json` prints, scoped to the caller (a personal API token sent as
``Authorization: Bearer …``, or a signed-in browser)."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reminder_service.adapters.web.auth import api_viewer, console_of
from reminder_service.domain.periods import read_period, unknown_report
from reminder_service.services.present.status_view import row_json, to_json
from reminder_service.services.readside import Filters, known_codes, status_rows


def _refuse(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status,
                        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)


async def status(request: Request) -> Response:
    viewer = await api_viewer(request)
    if viewer is None:
        return _refuse(401, "Cần mã truy cập: gửi tiêu đề Authorization: Bearer <mã> (cấp bằng lệnh "
                            "reminder-service web token NGƯỜI) hoặc đăng nhập Bảng điều khiển.")
    console = console_of(request)
    today = console.clock().date()
    year_text = request.query_params.get("year", "").strip()
    if year_text and (not re.fullmatch(r"\d{4}", year_text) or not 1900 <= int(year_text) <= 2200):
        return _refuse(400, f"year «{year_text[:20]}» không hợp lệ; hãy ghi năm bốn chữ số, ví dụ year=2026.")
    year = int(year_text) if year_text else today.year
    wanted = request.query_params.get("obligation", "").strip() or None

    def load() -> Response:
        with console.workspace.session() as session:
            code = None
            if wanted is not None:
                codes = known_codes(session, year, today)
                code = read_period(wanted, codes)
                if code is None or code not in codes:
                    none_yet = f"chưa có; hãy chạy reminder-service obligations sync --year {year}"
                    return _refuse(400, unknown_report(wanted, f"năm {year}", codes, none_yet))
            filters = Filters(as_of=today, year=year, obligation=code, units=viewer.scope.unit_ids)
            rows = status_rows(session, filters, console.workspace.workdays, console.due_soon_working_days)
        return Response(to_json([row_json(r) for r in rows]) + "\n", media_type="application/json")

    return await run_in_threadpool(load)
