"""Building an answer from a command's parameters, and paging it: a long list is sent one page at a
time with "‹ Trước" / "Sau ›" buttons. A page button carries a stored action's token; turning the page
rebuilds the answer with the parameters stored and the scope of whoever pressed, so a forwarded
button never shows more than the presser may see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from reminder_service.adapters.telegram import actions
from reminder_service.adapters.telegram.access import Caller
from reminder_service.adapters.telegram.answers import (
    Answer,
    UnitMatch,
    find_units,
    overdue_answer,
    status_answer,
    unit_answer,
    unit_matches_answer,
    upcoming_answer,
)
from reminder_service.adapters.telegram.answers_calendar import calendar_answer, help_answer
from reminder_service.adapters.telegram.paging import Page, paginate
from reminder_service.adapters.telegram.replies import ChatRef, Reply
from reminder_service.app import App
from reminder_service.domain.buttons import Buttons
from reminder_service.domain.clock import wall

PAGE = "pg"
UNIT = "u"
PAGE_TTL = timedelta(days=7)
# /donvi's list of units to choose from: not an answer ``build`` makes, as it needs the matches for its buttons.
MATCHES = "matches"
# Buttons beside a list, at most this many a page: a longer keyboard pushes the conversation off the screen.
CHOICES_PER_PAGE = 10
_PAGE_DATA = re.compile(r"pg:([A-Za-z0-9_-]{8,32}):([0-9]{1,4})")
_UNIT_DATA = re.compile(r"u:([1-9][0-9]{0,17})(?::([0-9]{4}))?")


def build(app: App, session: Session, caller: Caller, kind: str, params: dict[str, Any], today: date) -> Answer:
    """The answer of ``kind`` for ``params``, within the caller's scope."""
    workdays = app.workdays
    due_soon = app.config.status.due_soon_working_days
    scope = caller.scope
    if kind == "overdue":
        return overdue_answer(session, workdays, today, scope, params.get("obligation"), due_soon=due_soon)
    if kind == "status":
        return status_answer(session, workdays, today, scope, params.get("obligation"), int(params["year"]),
                             due_soon=due_soon)
    if kind == "upcoming":
        return upcoming_answer(session, workdays, today, scope, int(params["days"]), due_soon=due_soon)
    if kind == "unit":
        unit_id = int(params["unit_id"])
        if not caller.sees_unit(unit_id):
            return Answer("Ông/Bà chỉ xem được tình hình của đơn vị mình.", ())
        return unit_answer(session, workdays, today, unit_id, int(params["year"]), due_soon=due_soon)
    if kind == "calendar":
        return calendar_answer(app, workdays, int(params["year"]))
    if kind == "help":
        return help_answer(caller.role, office_name=app.config.office_name)
    raise ValueError(f"unknown answer kind {kind!r}")


def page_buttons(token: str, page: int, pages: int) -> Buttons:
    row: list[tuple[str, str]] = []
    if page > 1:
        row.append(("‹ Trước", f"{PAGE}:{token}:{page - 1}"))
    if page < pages:
        row.append(("Sau ›", f"{PAGE}:{token}:{page + 1}"))
    return (tuple(row),) if row else ()


def unit_choices(matches: Sequence[UnitMatch], year: int | None = None) -> tuple[tuple[str, str], ...]:
    """A button that opens each unit matched (for ``year``, this year when None), in the order of
    ``unit_matches_answer``'s lines."""
    return tuple((f"{m.code} – {m.name}"[:60], unit_button(m.id, year)) for m in matches)


def _buttons(shown: Page, token: str | None, choices: Sequence[tuple[str, str]]) -> Buttons:
    """The choices for the lines on this page, one a row, then the page buttons: both, never one in
    place of the other, or a list of several pages could not be turned."""
    rows = tuple((choices[index],) for index in shown.shown if index < len(choices))[:CHOICES_PER_PAGE]
    return rows + (page_buttons(token, shown.page, shown.pages) if token is not None else ())


def paged(session: Session, chat: ChatRef, caller: Caller, kind: str, params: dict[str, Any], answer: Answer,
          now: datetime, choices: Sequence[tuple[str, str]] = ()) -> list[Reply]:
    """The first page; when there are more, a stored page action and its buttons. ``choices``: a button
    for each of the answer's lines, shown beside the page that lists it."""
    first = paginate(answer.header, answer.lines, 1)
    if first.pages <= 1:
        return [Reply(first.text, _buttons(first, None, choices))]
    action = actions.create(session, "page", {"kind": kind, "params": params}, chat_id=chat.chat_id,
                            person_id=caller.person_id, now=now, ttl=PAGE_TTL)
    return [Reply(first.text, _buttons(first, action.token, choices))]


def parse_page(data: str) -> tuple[str, int] | None:
    match = _PAGE_DATA.fullmatch(data)
    return (match.group(1), int(match.group(2))) if match else None


def turn_page(app: App, session: Session, caller: Caller, token: str, page: int, now: datetime) -> Reply | None:
    """The requested page of a stored answer, rebuilt now; None when the action is unknown or expired."""
    local = wall(now)
    action = actions.find(session, token)
    if action is None or action.kind != "page" or action.expires_at <= local:
        return None
    kind, params = str(action.payload.get("kind", "")), action.payload.get("params", {})
    if not isinstance(params, dict):
        return None
    if kind == MATCHES:
        query, year = str(params.get("query", "")), params.get("year")
        matches = find_units(session, query, caller.scope)
        answer = unit_matches_answer(query, matches)
        choices = unit_choices(matches, year if isinstance(year, int) else None)
    else:
        answer, choices = build(app, session, caller, kind, params, local.date()), ()
    shown = paginate(answer.header, answer.lines, page)
    return Reply(shown.text, _buttons(shown, token, choices))


def unit_button(unit_id: int, year: int | None = None) -> str:
    return f"{UNIT}:{unit_id}" if year is None else f"{UNIT}:{unit_id}:{year}"


def parse_unit_button(data: str) -> tuple[int, int | None] | None:
    """(unit id, year or None for this year) from a unit button's data."""
    match = _UNIT_DATA.fullmatch(data)
    if match is None:
        return None
    return int(match.group(1)), (int(match.group(2)) if match.group(2) else None)
