"""Signing in and out: ask for a link, open it, confirm, and the session cookie.

Opening a link only shows a button: mail scanners and Telegram's link previews fetch every link they
see, and a GET that signed in would spend the link before its person clicked it. The button's POST
spends it and starts a new session (a new secret every time, so no session can be planted beforehand).
Forms shown before signing in carry a random value that must equal the browser's own cookie.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import structlog
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reminder_service.adapters.web import flash
from reminder_service.adapters.web.auth import (
    FORM_COOKIE,
    Refused,
    console_of,
    cookie_name,
    form_of,
    guarded,
    safe_next,
    same,
    session_of,
)
from reminder_service.adapters.web.pages import render
from reminder_service.services import signin

log = structlog.get_logger(__name__)

# Requests for a link from one address: a person mistypes a few times; a script trying names does not get far.
REQUESTS_PER_ADDRESS = 10
REQUEST_WINDOW_SECONDS = 15 * 60

_SPENT_WORDS = {
    "unknown": "Liên kết đăng nhập không đúng (có thể bị cắt mất một phần khi sao chép).",
    "used": "Liên kết đăng nhập này đã được dùng. Mỗi liên kết chỉ dùng được một lần.",
    "expired": "Liên kết đăng nhập đã hết hạn (liên kết có hiệu lực trong 15 phút).",
    "inactive": "Người được cấp liên kết này không còn trong danh sách người nhận thông báo.",
}


class Throttle:
    """Sliding window of link requests per client address, in this process's memory."""

    def __init__(self, limit: int = REQUESTS_PER_ADDRESS, window: float = REQUEST_WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        seen = self._seen[address]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True


def _form_token(request: Request) -> tuple[str, bool]:
    """The browser's pre-sign-in form value, and whether it must be set (first visit)."""
    token = request.cookies.get(FORM_COOKIE)
    return (token, False) if token else (signin.new_secret(), True)


def _with_form_cookie(request: Request, response: Response, token: str, fresh: bool) -> Response:
    if fresh:
        response.set_cookie(FORM_COOKIE, token, path="/", httponly=True, samesite="lax",
                            secure=console_of(request).secure)
    return response


async def _check_form(request: Request) -> None:
    form = await form_of(request)
    if not same(form.get("csrf"), request.cookies.get(FORM_COOKIE, "")):
        raise Refused(403, "Biểu mẫu đăng nhập đã cũ hoặc trình duyệt chặn cookie. Hãy tải lại trang rồi làm lại.")


async def signin_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("tiep"))
    if await session_of(request) is not None:
        return RedirectResponse(target, status_code=303)
    token, fresh = _form_token(request)
    response = render(request, "signin.html", {"form_token": token, "next": target, "who": "", "sent": False,
                                               "error": None})
    return _with_form_cookie(request, response, token, fresh)


async def request_link(request: Request) -> Response:
    await _check_form(request)
    form = await form_of(request)
    console = console_of(request)
    who = str(form.get("who") or "").strip()
    target = safe_next(str(form.get("tiep") or ""))
    token = request.cookies.get(FORM_COOKIE, "")
    values = {"form_token": token, "next": target, "who": who, "sent": False, "error": None}
    if not who:
        return render(request, "signin.html", {**values, "error": "Hãy ghi thư điện tử hoặc họ và tên."}, 400)
    throttle: Throttle = request.app.state.throttle
    if not throttle.allow(request.client.host if request.client else "?"):
        return render(request, "signin.html", {**values, "error": "Đã có quá nhiều yêu cầu gửi liên kết từ máy này. "
                                               "Hãy chờ 15 phút rồi thử lại, hoặc liên hệ Phòng Nội vụ."}, 429)

    def send() -> None:
        with console.workspace.session() as session:
            signin.send_link(session, who, console.clock(), base_url=console.public_url,
                             office_name=console.office_name)

    await run_in_threadpool(send)
    response = render(request, "signin.html", {**values, "sent": True, "who": ""})
    if console.send_links is not None:
        # After the answer, whoever was typed: how long the page took must not tell who is on the list.
        response.background = BackgroundTask(_send_links, console.send_links)
    return response


async def _send_links(send: Callable[[], Awaitable[object]]) -> None:
    try:
        await send()
    except Exception:  # the link stays in the outbox; «Vận hành» and the next send show it
        log.exception("web_link_send_failed")


def _link_action(secret: str, target: str) -> str:
    action = f"{signin.LINK_PATH}{quote(secret, safe='')}"
    return action + (f"?tiep={quote(target, safe='')}" if target != "/" else "")


async def link_page(request: Request) -> Response:
    secret = request.path_params["secret"]
    target = safe_next(request.query_params.get("tiep"))
    token, fresh = _form_token(request)
    response = render(request, "link.html", {"form_token": token, "next": target,
                                             "action": _link_action(secret, target)})
    return _with_form_cookie(request, response, token, fresh)


async def spend_link(request: Request) -> Response:
    await _check_form(request)
    console = console_of(request)
    secret = request.path_params["secret"]
    form = await form_of(request)
    target = safe_next(str(form.get("tiep") or request.query_params.get("tiep") or ""))
    agent = request.headers.get("user-agent", "")

    def spend() -> signin.Opened | signin.Spent:
        with console.workspace.session() as session:
            return signin.spend_link(session, secret, console.clock(), user_agent=agent)

    opened = await run_in_threadpool(spend)
    if isinstance(opened, str):
        return render(request, "message.html", {"heading": "Không đăng nhập được", "back": "/dang-nhap",
                                                "back_words": "Xin liên kết đăng nhập mới",
                                                "message": _SPENT_WORDS[opened]}, 400)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(cookie_name(console), opened.secret, path="/", httponly=True, samesite="lax",
                        secure=console.secure, max_age=int(signin.SESSION_LIFETIME.total_seconds()))
    return response


@guarded()
async def sign_out(request: Request) -> Response:
    console = console_of(request)
    form = await form_of(request)
    everywhere = form.get("khap_noi") == "1"
    session_id: int = request.state.session_id

    def end() -> int:
        with console.workspace.session() as session:
            return signin.sign_out(session, session_id, console.clock(), everywhere=everywhere)

    ended = await run_in_threadpool(end)
    response = RedirectResponse("/dang-nhap", status_code=303)
    response.delete_cookie(cookie_name(console), path="/", secure=console.secure, httponly=True, samesite="lax")
    words = f"Đã đăng xuất khỏi {ended} phiên." if everywhere else "Đã đăng xuất."
    return flash.leave(response, words, secure=console.secure)
