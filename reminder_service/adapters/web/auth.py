"""Who is asking: the session cookie (or an API token), and the form token every change must carry.

Pages are guarded by ``guarded``: without a live session a page sends the browser to the sign-in page
(which comes back to it); a change (POST) must carry the session's form token; a page for the receiver
alone answers 403 to anyone else. The session's secret is new at every sign-in and lives only in an
HttpOnly, SameSite=Lax cookie, so a session cannot be fixed in advance or read by a script.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Literal
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reminder_service.adapters.web.context import Console
from reminder_service.domain.access import Viewer
from reminder_service.services import signin

COOKIE = "cchc_phien"
# Forms shown before signing in carry this cookie's value too (double submit): a page elsewhere cannot
# sign a browser in to someone else's session.
FORM_COOKIE = "cchc_mau"
# An upload larger than this is refused before it is read (register exports are a few MB at most).
MAX_FORM_BYTES = 20 * 1024 * 1024

Need = Literal["read", "write", "operate"]
Endpoint = Callable[[Request], Awaitable[Response]]


class Refused(Exception):
    """A request this person may not make, or a form without its token: answered with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def cookie_name(console: Console) -> str:
    # The __Host- prefix binds the cookie to this host and path /, Secure only: https alone.
    return f"__Host-{COOKIE}" if console.secure else COOKIE


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another site (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value


def viewer_of(request: Request) -> Viewer:
    viewer: Viewer = request.state.viewer
    return viewer


def csrf_of(request: Request) -> str:
    token: str = request.state.csrf
    return token


async def form_of(request: Request) -> FormData:
    return await request.form(max_files=4, max_fields=200, max_part_size=MAX_FORM_BYTES)


def same(given: object, expected: str) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


async def session_of(request: Request) -> signin.Current | None:
    console = console_of(request)
    secret = request.cookies.get(cookie_name(console))
    if not secret:
        return None

    def look() -> signin.Current | None:
        with console.workspace.session() as session:
            return signin.current(session, secret, console.clock())

    return await run_in_threadpool(look)


def guarded(need: Need = "read") -> Callable[[Endpoint], Endpoint]:
    def decorate(endpoint: Endpoint) -> Endpoint:
        async def guard(request: Request) -> Response:
            found = await session_of(request)
            if found is None:
                if request.method != "GET":
                    raise Refused(401, "Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại rồi làm lại thao tác.")
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/dang-nhap?tiep={quote(target, safe='')}", status_code=303)
            viewer = found.viewer
            if (need == "write" and not viewer.writes) or (need == "operate" and not viewer.operates):
                raise Refused(403, "Chỉ Phòng Nội vụ (người tiếp nhận) được thực hiện thao tác này.")
            if request.method == "POST":
                form = await form_of(request)
                if not same(form.get("csrf"), found.csrf):
                    raise Refused(403, "Biểu mẫu đã cũ hoặc không hợp lệ. Hãy tải lại trang rồi làm lại.")
            request.state.viewer = viewer
            request.state.csrf = found.csrf
            request.state.session_id = found.session_id
            try:
                return await endpoint(request)
            finally:
                await request.close()  # an upload's spooled temporary file, if the form had one

        guard.__name__ = endpoint.__name__
        guard.__doc__ = endpoint.__doc__
        return guard

    return decorate


async def api_viewer(request: Request) -> Viewer | None:
    """The caller of the JSON API: a personal token (Authorization: Bearer …) or a browser session."""
    console = console_of(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        secret = header[7:].strip()

        def look() -> Viewer | None:
            with console.workspace.session() as session:
                return signin.api_viewer(session, secret, console.clock())

        return await run_in_threadpool(look)
    found = await session_of(request)
    return found.viewer if found is not None else None
