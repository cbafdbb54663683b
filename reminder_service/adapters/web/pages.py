"""Rendering a console page: the Jinja2 environment, the words of a board cell, the navigation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from calendars.words import dmy, number, weekday_dmy
from reminder_service.adapters.web import flash
from reminder_service.adapters.web.context import Console
from reminder_service.domain.access import Viewer
from reminder_service.domain.status import Status, StatusCode
from reminder_service.services.present import words
from reminder_service.services.present.status_view import STATUS_LABELS, status_text
from reminder_service.services.submissions import STATE_NAMES

# Short words for a board cell; the full wording (status_text) is its tooltip and the history page's.
CELL_WORDS: dict[StatusCode, str] = {
    "submitted_on_time": "Đúng hạn",
    "submitted_late": "Muộn",
    "overdue": "Quá hạn",
    "incomplete": "Thiếu",
    "due_soon": "Sắp đến hạn",
    "not_yet_due": "Chưa đến hạn",
    "waived": "Miễn",
}
# A mark beside the words, so that colour is never the only signal, even in a black-and-white print.
CELL_MARKS: dict[StatusCode, str] = {
    "submitted_on_time": "✓", "submitted_late": "◔", "overdue": "✗", "incomplete": "◐", "due_soon": "⏰",
    "not_yet_due": "·", "waived": "–",
}
CLAIMED_WORDS = "Đã báo gửi"


def cell_words(status: Status) -> str:
    days = status.working_days
    if status.code == "submitted_late":
        return f"Muộn {number(days or 0)} ngày"
    if status.code == "overdue":
        return f"Quá hạn {number(days or 0)} ngày làm việc"
    if status.code == "incomplete" and days is not None:
        return f"Thiếu, quá hạn {number(days)} ngày"
    return CELL_WORDS[status.code]


def details(values: dict[str, Any]) -> str:
    """An audit entry's details in words: "Số ký hiệu: 15/BC; Ngày nhận: 09:15 04/12/2026"."""
    shown = []
    for key, value in values.items():
        if key not in words.DETAIL_WORDS or value in (None, ""):
            continue
        if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
            moment = datetime.fromisoformat(value)
            value = moment.strftime("%H:%M %d/%m/%Y") if len(value) > 10 else moment.strftime("%d/%m/%Y")
        shown.append(f"{words.DETAIL_WORDS[key]}: {value}")
    return "; ".join(shown) or "—"


_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")


@dataclass(frozen=True)
class NavItem:
    path: str
    words: str
    # read: everyone signed in; office: who sees every unit (receiver, leadership); operate: the receiver.
    need: str = "read"

    def shown_to(self, viewer: Viewer) -> bool:
        if self.need == "operate":
            return viewer.operates
        if self.need == "office":
            return viewer.scope.unit_ids is None
        return True


NAV = (
    NavItem("/", "Bảng theo dõi"),
    NavItem("/qua-han", "Quá hạn"),
)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reminder_service.adapters.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(dmy=lambda d: dmy(d) if d else "—", weekday_dmy=weekday_dmy, number=number,
                       cell_words=cell_words, status_text=status_text, details=details,
                       hm=lambda moment: moment.strftime("%H:%M %d/%m/%Y") if moment else "—")
    env.globals.update(CELL_MARKS=CELL_MARKS, STATUS_LABELS=STATUS_LABELS, CLAIMED_WORDS=CLAIMED_WORDS,
                       STAGES=words.STAGE_WORDS, OUTBOX_STATES=words.OUTBOX_STATE_WORDS, CHANNELS=words.CHANNEL_WORDS,
                       SOURCES=words.SOURCE_WORDS, CLAIM_STATES=words.CLAIM_STATE_WORDS, ACTIONS=words.ACTION_WORDS,
                       SUBMISSION_STATES=STATE_NAMES)
    return env


def render(request: Request, name: str, values: dict[str, Any], status: int = 200) -> HTMLResponse:
    console: Console = request.app.state.console
    viewer = getattr(request.state, "viewer", None)
    notice = flash.take(request)
    if notice is not None:
        values = {"flash_kind": notice[0], "flash": notice[1], **values}
    context = {
        "office_name": console.office_name, "viewer": viewer, "csrf": getattr(request.state, "csrf", ""),
        "nav": [item for item in request.app.state.nav if viewer is not None and item.shown_to(viewer)],
        "path": request.url.path, "today": console.clock().date(), **values,
    }
    context.setdefault("flash", None)
    response = HTMLResponse(environment().get_template(name).render(context), status_code=status)
    if notice is not None:
        response.delete_cookie(flash.COOKIE, path="/")
    return response
