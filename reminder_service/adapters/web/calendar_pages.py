"""«Lịch»: the year's reporting calendar as `calendar show` prints it, and the addresses that Google Calendar
and Outlook subscribe to.

The tables are ``present.calendar_view.calendar_layout``, the pieces the command line prints, so the page
and `calendar show` say the same dates in the same words. A subscription address (``services.feeds``)
carries a secret shown once, when it is made or made again; fetching it needs no session, since a
calendar application cannot sign in. Who may make which address is ``feeds.may_create``: the receiver
any, leadership a kind's, a unit head or focal officer their own unit's; a unit's people see the
addresses of their own unit only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from reminder_service.adapters.web import flash
from reminder_service.adapters.web.actions import web_actor
from reminder_service.adapters.web.auth import Refused, console_of, form_of, guarded, viewer_of
from reminder_service.adapters.web.context import Console
from reminder_service.adapters.web.pages import NavItem, render
from reminder_service.adapters.web.params import kind_param, path_id, sentence, year_param
from reminder_service.domain.access import Viewer
from reminder_service.domain.errors import UserError
from reminder_service.services import feeds
from reminder_service.services.db.models import Obligation, Unit
from reminder_service.services.present.calendar_view import (
    CALENDAR_HEADERS,
    INTERPRETED_NOTE,
    ROLL_RULE,
    calendar_layout,
)

NAV = (NavItem("/lich", "Lịch"),)
# Up to this many units the receiver picks a unit from a list as they type; beyond, they type its code.
UNIT_CHOICES = 2000
ICS_NAME = "lich-bao-cao-cchc.ics"
GONE = "Không có lịch này: đường dẫn không đúng hoặc đã bị thu hồi. Hãy xin đường dẫn mới ở trang «Lịch».\n"


@dataclass(frozen=True)
class Issued:
    """An address just made, shown on this page once."""

    subject: str
    url: str


@dataclass(frozen=True)
class OwnUnit:
    id: int
    code: str
    name: str


def _page_values(console: Console, viewer: Viewer, year: int, kind: str | None) -> dict[str, Any]:
    calendar = console.workspace.calendar(year)
    now = console.clock()
    with console.workspace.session() as session:
        stored = set(session.scalars(select(Obligation.year).distinct()))
        lines = feeds.live_feeds(session, viewer)
        own = _own_unit(session, viewer)
        choices: list[tuple[str, str]] = []
        if feeds.names_any_unit(viewer):
            active = select(Unit.code, Unit.name).where(Unit.active.is_(True))
            count = session.scalar(select(func.count()).select_from(active.subquery())) or 0
            if count <= UNIT_CHOICES:
                choices = [(code, name) for code, name in session.execute(active.order_by(Unit.code))]
    years = sorted(stored | {now.year - 1, now.year, now.year + 1, year}, reverse=True)
    return {
        "year": year, "years": years, "kind": kind, "kinds": console.kinds, "layout": calendar_layout(calendar, kind),
        "headers": CALENDAR_HEADERS, "roll_rule": ROLL_RULE, "interpreted_note": INTERPRETED_NOTE,
        "feeds": lines, "own_unit": own, "unit_choices": choices,
        "can_kind": any(feeds.may_create(viewer, feeds.Subject(kind=code)) for code in console.kinds),
        "can_unit": feeds.names_any_unit(viewer) or (
            own is not None and feeds.may_create(viewer, feeds.Subject(unit_id=own.id))),
        "feed_years": feeds.feed_years(now), "alarm_days": feeds.ALARM_WORKING_DAYS,
        "issued": None, "error": None, "typed": {},
    }


def _own_unit(session: Session, viewer: Viewer) -> OwnUnit | None:
    if viewer.scope.unit_ids is None or viewer.unit_id is None:
        return None
    unit = session.get(Unit, viewer.unit_id)
    return OwnUnit(unit.id, unit.code, unit.name) if unit is not None and unit.active else None


@dataclass(frozen=True)
class Where:
    """The year and kind the page shows; its forms carry them, so a change comes back to the same view."""

    year: int
    kind: str | None

    @property
    def query(self) -> str:
        return urlencode({"nam": self.year, **({"loai": self.kind} if self.kind else {})})


def _where(request: Request) -> Where:
    """Read (and refuse when wrong) before anything is changed: a bad year must not cost a new address."""
    console = console_of(request)
    return Where(year_param(request, console), kind_param(request, console))


async def _show(request: Request, where: Where, status: int = 200, **values: Any) -> Response:
    page = await run_in_threadpool(_page_values, console_of(request), viewer_of(request), where.year, where.kind)
    return render(request, "calendar.html", {**page, "query": where.query, **values}, status)


@guarded()
async def calendar_page(request: Request) -> Response:
    return await _show(request, _where(request))


@guarded()
async def create(request: Request) -> Response:
    console, viewer, where = console_of(request), viewer_of(request), _where(request)
    form = await form_of(request)
    typed = {key: str(form.get(key) or "").strip()[:200] for key in ("loai", "don_vi")}
    actor = web_actor(request)

    def make() -> Issued:
        with console.workspace.session() as session:
            if typed["loai"] and typed["don_vi"]:
                raise UserError("hãy chọn loại đơn vị hoặc ghi một đơn vị, không chọn cả hai")
            if typed["loai"]:
                subject = feeds.Subject(kind=typed["loai"])
            elif typed["don_vi"]:
                subject = feeds.Subject(unit_id=_unit_for(session, viewer, typed["don_vi"]).id)
            else:
                raise UserError("hãy chọn loại đơn vị, hoặc ghi mã đơn vị, cần tạo lịch")
            issued = feeds.create_feed(session, viewer, subject, actor, console.clock(), kinds=console.kinds)
        return Issued(issued.subject, issued.url(console.public_url))

    return await _issue(request, where, make, typed)


def _unit_for(session: Session, viewer: Viewer, typed: str) -> Unit:
    try:
        return feeds.find_unit(session, typed)
    except UserError:
        if viewer.scope.unit_ids is not None:  # a unit's people learn nothing of other units' names
            raise feeds.NotPermitted("Ông/Bà chỉ tạo được lịch cho đơn vị của mình.") from None
        raise


@guarded()
async def renew(request: Request) -> Response:
    console, viewer, where = console_of(request), viewer_of(request), _where(request)
    feed_id = path_id(request, "feed_id", "Không có đường dẫn lịch này (có thể trang đã cũ).")
    actor = web_actor(request)

    def make() -> Issued:
        with console.workspace.session() as session:
            issued = feeds.renew_feed(session, viewer, feed_id, actor, console.clock(), kinds=console.kinds)
        return Issued(issued.subject, issued.url(console.public_url))

    return await _issue(request, where, make, {})


async def _issue(request: Request, where: Where, make: Callable[[], Issued], typed: dict[str, str]) -> Response:
    try:
        issued: Issued = await run_in_threadpool(make)
    except feeds.NotPermitted as refused:
        raise Refused(403, str(refused)) from None
    except UserError as error:
        return await _show(request, where, 422, error=sentence(str(error)), typed=typed)
    # Shown now and never again (only its hash is kept): no redirect, which would lose it.
    return await _show(request, where, issued=issued)


@guarded()
async def revoke(request: Request) -> Response:
    console, viewer, where = console_of(request), viewer_of(request), _where(request)
    feed_id = path_id(request, "feed_id", "Không có đường dẫn lịch này (có thể trang đã cũ).")
    actor = web_actor(request)

    def run() -> str:
        with console.workspace.session() as session:
            return feeds.revoke_feed(session, viewer, feed_id, actor, console.clock(), kinds=console.kinds)

    try:
        subject = await run_in_threadpool(run)
    except feeds.NotPermitted as refused:
        raise Refused(403, str(refused)) from None
    except UserError as error:
        return await _show(request, where, 422, error=sentence(str(error)))
    # A calendar application keeps what it fetched last when its address stops answering.
    notice = (f"Đã thu hồi đường dẫn lịch của {subject}: ứng dụng lịch đăng ký bằng đường dẫn này không lấy được "
              "lịch nữa (các hạn nộp đã tải về vẫn hiện cho đến khi người dùng gỡ lịch đó khỏi ứng dụng).")
    return flash.leave(RedirectResponse(f"/lich?{where.query}", status_code=303), notice, secure=console.secure)


async def ics_feed(request: Request) -> Response:
    """The calendar behind a subscription address: no session (a calendar application cannot sign in)."""
    console = console_of(request)
    secret = str(request.path_params["token"])

    def load() -> bytes | None:
        now = console.clock()
        with console.workspace.session() as session:
            opened = feeds.open_feed(session, secret, now, console.kinds)
        if opened is None:
            return None
        return feeds.feed_ics(opened, console.workspace.calendar, console.workspace.workdays, now)

    body = await run_in_threadpool(load)
    if body is None:
        return PlainTextResponse(GONE, status_code=404)
    return Response(body, media_type="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="{ICS_NAME}"'})


ROUTES = [
    Route("/lich", calendar_page),
    Route("/lich/nguon", create, methods=["POST"]),
    Route("/lich/nguon/{feed_id}/tao-lai", renew, methods=["POST"]),
    Route("/lich/nguon/{feed_id}/thu-hoi", revoke, methods=["POST"]),
    Route(feeds.FEED_PATH + "{token}.ics", ics_feed),
]
