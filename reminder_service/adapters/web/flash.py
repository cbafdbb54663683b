"""A one-line notice carried across a redirect (post, redirect, get): "Đã ghi nhận …" after an action."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "cchc_bao"


def leave(response: Response, message: str, *, kind: str = "ok", secure: bool = False) -> Response:
    response.set_cookie(COOKIE, quote(f"{kind}|{message[:500]}"), max_age=120, path="/", httponly=True,
                        samesite="lax", secure=secure)
    return response


def take(request: Request) -> tuple[str, str] | None:
    """The notice waiting for this page, as (kind, message); the caller clears the cookie."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    kind, _, message = unquote(raw).partition("|")
    return (kind if kind in {"ok", "error"} else "ok", message) if message else None
