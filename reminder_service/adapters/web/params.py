"""What a page reads from its address (year, kind, name, page), refused in words when it makes no sense,
and a service's refusal turned into a sentence for the page. Shared by every page of the console."""

from __future__ import annotations

import re

from starlette.requests import Request

from reminder_service.adapters.web.auth import Refused
from reminder_service.adapters.web.context import Console


def year_param(request: Request, console: Console) -> int:
    """``nam``: a year of four digits, this year when absent."""
    text = request.query_params.get("nam", "").strip()
    if not text:
        return console.clock().year
    if not re.fullmatch(r"\d{4}", text) or not 2000 <= int(text) <= 2100:
        raise Refused(400, f"Năm «{text[:20]}» không hợp lệ; hãy chọn năm trong danh sách.")
    return int(text)


def kind_param(request: Request, console: Console) -> str | None:
    """``loai``: one of the directive's unit kinds, or every kind when absent."""
    kind = request.query_params.get("loai", "").strip() or None
    if kind is not None and kind not in console.kinds:
        raise Refused(400, f"Không có loại đơn vị «{kind[:40]}»; hãy chọn trong danh sách.")
    return kind


def name_param(request: Request) -> str:
    """``ten``: part of a unit's name or code, as typed."""
    return request.query_params.get("ten", "").strip()[:100]


def page_param(request: Request) -> int:
    """``trang``: a page number, the first when absent or not a number (a page past the end shows the last)."""
    text = request.query_params.get("trang", "1")
    return int(text) if text.isdigit() and len(text) < 6 else 1


def sentence(text: str) -> str:
    """A service's refusal ("hãy ghi …") as a sentence on a page ("Hãy ghi ….")."""
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def path_id(request: Request, name: str, missing: str = "Không có mục này (có thể đường dẫn đã cũ).") -> int:
    """A record's number in the address (``/o/{obligation_id}``); anything else is a page that is not there
    (and never a number too large for the database's integer column)."""
    text = str(request.path_params[name])
    if not text.isdigit() or len(text) > 9:
        raise Refused(404, missing)
    return int(text)
