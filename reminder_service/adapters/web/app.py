"""The console as an ASGI application: routes, static assets from the package, headers, error pages."""

from __future__ import annotations

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from reminder_service.adapters.web import (
    actions,
    api,
    board_pages,
    calendar_pages,
    operations_pages,
    register_pages,
    registry_pages,
    reports_pages,
    signin_pages,
)
from reminder_service.adapters.web.auth import MAX_FORM_BYTES, Refused
from reminder_service.adapters.web.context import Console
from reminder_service.adapters.web.headers import SecurityHeaders
from reminder_service.adapters.web.pages import NAV, render
from reminder_service.adapters.web.uploads import Uploads
from reminder_service.services.board import RowCache

log = structlog.get_logger(__name__)

_HTTP_WORDS = {404: "Không có trang này.", 405: "Trang này không nhận thao tác đó.",
               413: "Tệp tải lên quá lớn (tối đa 20 MB)."}


def _error_page(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        from starlette.responses import JSONResponse

        return JSONResponse({"error": message}, status_code=status)
    heading = {401: "Cần đăng nhập", 403: "Không có quyền", 404: "Không tìm thấy"}.get(status, "Không thực hiện được")
    back = "/dang-nhap" if status == 401 else "/"
    return render(request, "message.html", {"heading": heading, "message": message, "back": back}, status)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _error_page(request, exc.status, exc.message)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error_page(request, exc.status_code, _HTTP_WORDS.get(exc.status_code, "Yêu cầu không hợp lệ."))


async def _failed(request: Request, exc: Exception) -> Response:
    log.error("web_request_failed", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
    return _error_page(request, 500, "Máy chủ gặp lỗi khi xử lý yêu cầu. Thao tác chưa được ghi nhận; hãy thử "
                                     "lại sau ít phút. Nếu lỗi lặp lại, hãy báo cán bộ quản trị (chi tiết có trong "
                                     "nhật ký dịch vụ).")


def build(console: Console) -> Starlette:
    routes = [
        Route("/", board_pages.board_page),
        Route("/o/{obligation_id}", board_pages.cell_page),
        Route("/qua-han", board_pages.overdue_page),
        Route("/o/{obligation_id}/nop", actions.record, methods=["POST"]),
        Route("/o/{obligation_id}/mien", actions.waive, methods=["POST"]),
        Route("/o/{obligation_id}/thieu", actions.mark_incomplete, methods=["POST"]),
        Route("/bao-gui/{claim_id}/xac-nhan", actions.confirm_claim, methods=["POST"]),
        Route("/bao-gui/{claim_id}/tu-choi", actions.reject_claim, methods=["POST"]),
        Route("/dang-nhap", signin_pages.signin_page),
        Route("/dang-nhap", signin_pages.request_link, methods=["POST"]),
        Route("/dang-nhap/lien-ket/{secret}", signin_pages.link_page),
        Route("/dang-nhap/lien-ket/{secret}", signin_pages.spend_link, methods=["POST"]),
        Route("/dang-xuat", signin_pages.sign_out, methods=["POST"]),
        Route("/api/status", api.status),
        Mount("/static", StaticFiles(packages=[("reminder_service.adapters.web", "static")]), name="static"),
    ]
    routes += register_pages.ROUTES
    routes += registry_pages.ROUTES
    routes += calendar_pages.ROUTES
    routes += operations_pages.ROUTES
    routes += reports_pages.ROUTES
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders, secure=console.secure)],
        exception_handlers={Refused: _refused, HTTPException: _http, Exception: _failed},
        max_body_size=MAX_FORM_BYTES,
    )
    app.state.console = console
    app.state.throttle = signin_pages.Throttle()
    app.state.uploads = Uploads()
    app.state.rows = RowCache(kept=console.settle)
    app.state.nav = (*NAV, *register_pages.NAV, *registry_pages.NAV, *calendar_pages.NAV, *reports_pages.NAV,
                     *operations_pages.NAV)
    return app
