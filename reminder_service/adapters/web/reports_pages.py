"""«Báo cáo»: the year's timeliness table (the rows of `report timeliness`) with its Excel workbook, and
three charts drawn on the server as SVG: the share of each report sent on time, how late the late ones
were, and one unit's record year by year.

The rows come through the console's row cache (``services.board.RowCache``), the read the board shares,
so a province's table, charts and workbook read the database again only when something changed. Every
figure is counted by ``readside.timeliness`` and ``readside.owed_outcome`` through
``present.timeliness_figures``: the page, the workbook and the command line never disagree. A unit head or
focal officer sees their own unit only, in the table, the workbook and every chart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reminder_service.adapters.web.auth import Refused, console_of, guarded, viewer_of
from reminder_service.adapters.web.context import Console
from reminder_service.adapters.web.pages import NavItem, render
from reminder_service.adapters.web.params import kind_param, page_param, year_param
from reminder_service.domain.access import Viewer
from reminder_service.domain.status import StatusRow
from reminder_service.domain.textfold import fold
from reminder_service.services import board as boards
from reminder_service.services.db.models import Obligation, Unit
from reminder_service.services.present import charts
from reminder_service.services.present.status_view import (
    TIMELINESS_HEADERS,
    TIMELINESS_NOTES,
    as_of_line,
    timeliness_cells,
    timeliness_title,
)
from reminder_service.services.present.timeliness_figures import (
    Bucket,
    Mark,
    ReportRate,
    UnitHistory,
    days_late,
    percent_text,
    rates_by_report,
    unit_history,
)
from reminder_service.services.readside import Filters, TimelinessRow, load_rows, timeliness

NAV = (NavItem("/bao-cao", "Báo cáo"),)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_PAGE = 200
# Up to this many units the history's unit is picked from a list; a province's thousands are searched by name.
UNIT_CHOICES = 400
SEARCH_SHOWN = 30

# The words of each mark of the charts, with the mark itself drawn by present.charts.
MARK_WORDS: dict[Mark, str] = {"on_time": "Đúng hạn", "late": "Nộp muộn", "missing": "Quá hạn, chưa nộp hoặc còn thiếu",
              "waived": "Được miễn", "open": "Chưa đến hạn"}
DAYS_LEGEND = (("late", "Nộp muộn"), ("missing", "Chưa nộp hoặc còn thiếu (quá hạn đến nay)"))


@dataclass(frozen=True)
class UnitChoice:
    code: str
    name: str


@dataclass(frozen=True)
class Picked:
    """The unit whose history is shown, with its rows of every year."""

    code: str
    name: str
    history: UnitHistory


def _year_rows(console: Console, viewer: Viewer, cache: boards.RowCache, session: Session,
               year: int) -> list[StatusRow]:
    # Every kind shares one cached read of the year, as on the board; the kind is filtered afterwards.
    filters = Filters(as_of=console.clock().date(), year=year, units=viewer.scope.unit_ids)
    return cache.rows(session, filters, console.workspace.workdays, console.due_soon_working_days)


def _of_kind(rows: list[StatusRow], kind: str | None) -> list[StatusRow]:
    return rows if kind is None else [r for r in rows if r.kind == kind]


def _years(session: Session, console: Console, year: int) -> list[int]:
    return sorted(set(session.scalars(select(Obligation.year).distinct())) | {console.clock().year, year},
                  reverse=True)


def _unit(session: Session, viewer: Viewer, code: str) -> tuple[int, str, str]:
    found = session.execute(select(Unit.id, Unit.code, Unit.name)
                            .where(Unit.code == code, Unit.active.is_(True))).first()
    if found is None:
        raise Refused(400, f"Không có đơn vị mã «{code[:40]}» đang được theo dõi; hãy chọn đơn vị trong danh sách.")
    if not viewer.scope.sees(found[0]):
        raise Refused(403, "Ông/Bà chỉ xem được báo cáo của đơn vị mình.")
    return found[0], found[1], found[2]


def _own_unit(session: Session, viewer: Viewer) -> str | None:
    if viewer.unit_id is None:
        return None
    return session.scalar(select(Unit.code).where(Unit.id == viewer.unit_id, Unit.active.is_(True)))


def _picked(session: Session, console: Console, viewer: Viewer, code: str) -> Picked:
    unit_id, code, name = _unit(session, viewer, code)
    as_of = console.clock().date()
    rows = load_rows(session, Filters(as_of=as_of, units=frozenset({unit_id})), console.workspace.workdays,
                     console.due_soon_working_days)
    return Picked(code, name, unit_history(rows, as_of))


def _units(rows: list[StatusRow]) -> dict[str, str]:
    return {r.unit: r.unit_name for r in rows}


def _choices(units: dict[str, str]) -> list[UnitChoice]:
    return sorted((UnitChoice(code, name) for code, name in units.items()), key=lambda u: (fold(u.name), u.code))


def _searched(units: dict[str, str], text: str) -> list[UnitChoice]:
    wanted = fold(text)
    if not wanted:
        return []
    return _choices({code: name for code, name in units.items() if wanted in fold(name) or wanted in fold(code)})


def _unit_param(request: Request) -> str:
    return request.query_params.get("don_vi", "").strip()[:60]


# --- the charts ------------------------------------------------------------------------------------


def rates_chart(rates: list[ReportRate], year: int) -> str:
    bars = [charts.Bar(
        label=rate.title, value=rate.percent,
        text=(f"{percent_text(rate.percent)} ({rate.on_time}/{rate.owed})" if rate.owed
              else "chưa có đơn vị nào phải nộp"),
        hint=(f"{rate.title}: {rate.on_time} trên {rate.owed} báo cáo phải nộp được nộp đúng hạn "
              f"({percent_text(rate.percent)}); nộp muộn {rate.late}, chưa nộp hoặc còn thiếu {rate.missing}, "
              f"được miễn {rate.waived}.")) for rate in rates]
    described = "; ".join(f"{b.label}: {b.text}" for b in bars) or "chưa có báo cáo nào"
    return charts.bar_chart("ti-le-dung-han", f"Tỷ lệ nộp đúng hạn theo báo cáo, năm {year}",
                            f"Phần trăm báo cáo nộp đúng hạn trên số phải nộp. {described}.", bars, look="on_time")


def days_chart(buckets: list[Bucket], year: int) -> str:
    columns = [charts.Column(
        label=b.label, segments=(charts.Segment("late", b.late), charts.Segment("missing", b.missing)),
        hint=f"Chậm {b.label} ngày làm việc: {b.late} nộp muộn, {b.missing} chưa nộp hoặc còn thiếu.")
        for b in buckets]
    described = "; ".join(f"{b.label} ngày: {b.late} nộp muộn, {b.missing} chưa nộp hoặc còn thiếu" for b in buckets)
    return charts.column_chart("so-ngay-cham", f"Phân bố số ngày làm việc chậm, năm {year}",
                               f"Số báo cáo theo số ngày làm việc chậm. {described}.", columns,
                               legend=DAYS_LEGEND, axis_label="Số ngày làm việc chậm")


def history_chart(picked: Picked) -> str:
    history = picked.history
    cells = {(history.years.index(year), history.codes.index(code)): charts.Mark(
        cell.mark, cell.words, f"{history.titles[code]} năm {year}: {cell.words}")
        for (year, code), cell in history.cells.items()}
    counts = history.counts()
    described = ", ".join(f"{MARK_WORDS[mark].lower()}: {counts[mark]}" for mark in MARK_WORDS if counts[mark])
    return charts.strip_chart(
        "lich-su-don-vi", f"Lịch sử nộp báo cáo của {picked.name}",
        f"Mỗi hàng một năm, mỗi cột một báo cáo. {described or 'Chưa có báo cáo nào'}.",
        [str(year) for year in history.years], [history.titles[code] for code in history.codes], cells,
        legend=[(mark, words) for mark, words in MARK_WORDS.items() if mark != "missing"]
        + [("missing", "Quá hạn/còn thiếu")])


# --- the page --------------------------------------------------------------------------------------


def _values(console: Console, viewer: Viewer, cache: boards.RowCache, year: int, kind: str | None,
            unit_code: str, search: str, page: int) -> dict[str, Any]:
    as_of = console.clock().date()
    with console.workspace.session() as session:
        all_kinds = _year_rows(console, viewer, cache, session, year)
        years = _years(session, console, year)
        fixed = viewer.scope.unit_ids is not None
        if fixed:
            own = _own_unit(session, viewer)
            if unit_code and unit_code != own:
                _unit(session, viewer, unit_code)  # refuses another unit's code in words
            unit_code = own or ""
        # The units of the year, to pick one from a list, or at a province's size to search by name.
        units = _units(all_kinds) if not fixed else {}
        choices = _choices(units) if len(units) <= UNIT_CHOICES else None
        found: list[UnitChoice] = []
        if choices is None and not unit_code and search:
            found = _searched(units, search)
            if len(found) == 1:
                unit_code = found[0].code
        picked = _picked(session, console, viewer, unit_code) if unit_code else None
    rows = _of_kind(all_kinds, kind)
    table = timeliness(rows, as_of)
    pages = max(1, -(-len(table) // TABLE_PAGE))
    page = min(max(1, page), pages)
    first = (page - 1) * TABLE_PAGE
    rates, buckets = rates_by_report(rows, as_of), days_late(rows, as_of)
    return {
        "year": year, "years": years, "as_of_line": as_of_line(as_of), "title": timeliness_title(year),
        "headers": TIMELINESS_HEADERS, "notes": TIMELINESS_NOTES, "cells": _cells(table, first),
        "units": len(table), "totals": _totals(table), "page": page, "pages": pages,
        "rates": rates, "buckets": buckets, "picked": picked, "fixed": fixed,
        "choices": choices, "found": found[:SEARCH_SHOWN],
        "found_more": max(0, len(found) - SEARCH_SHOWN), "search": search,
        "rates_svg": Markup(rates_chart(rates, year)) if rates else None,
        "days_svg": Markup(days_chart(buckets, year)) if any(b.total for b in buckets) else None,
        "history_svg": Markup(history_chart(picked)) if picked is not None and picked.history.cells else None,
        "percent": percent_text, "mark_words": MARK_WORDS,
    }


def _cells(table: list[TimelinessRow], first: int) -> list[tuple[int | str, ...]]:
    return timeliness_cells(table)[first:first + TABLE_PAGE]


def _totals(table: list[TimelinessRow]) -> dict[str, int]:
    return {field: sum(getattr(r, field) for r in table)
            for field in ("owed", "on_time", "late", "missing", "days_late", "waived")}


@guarded()
async def reports_page(request: Request) -> Response:
    console, viewer = console_of(request), viewer_of(request)
    year, kind = year_param(request, console), kind_param(request, console)
    unit_code, search = _unit_param(request), request.query_params.get("tim_don_vi", "").strip()[:100]
    values = await run_in_threadpool(_values, console, viewer, request.app.state.rows, year, kind, unit_code,
                                     search, page_param(request))

    def link(**changed: object) -> str:
        query = {"nam": year, "loai": kind or "", "don_vi": values["picked"].code if values["picked"] else "",
                 **changed}
        return "/bao-cao?" + urlencode({k: v for k, v in query.items() if v not in ("", None)})

    xlsx = "/bao-cao/xlsx?" + urlencode({k: v for k, v in {"nam": year, "loai": kind or ""}.items() if v != ""})
    return render(request, "reports.html", {**values, "kinds": console.kinds, "kind": kind, "link": link,
                                            "page_link": lambda number: link(trang=number), "xlsx": xlsx})


# --- the workbook ------------------------------------------------------------------------------------


def xlsx_name(year: int, kind: str | None) -> str:
    """An ASCII file name Windows and every browser keep as is: tong-hop-cchc-2026[-commune].xlsx."""
    tail = re.sub(r"[^a-z0-9]+", "-", (kind or "").lower()).strip("-")
    return f"tong-hop-cchc-{year}{'-' + tail if tail else ''}.xlsx"


@guarded()
async def xlsx_download(request: Request) -> Response:
    console, viewer = console_of(request), viewer_of(request)
    year, kind = year_param(request, console), kind_param(request, console)
    cache: boards.RowCache = request.app.state.rows

    def build() -> bytes:
        from reminder_service.services.present.timeliness_xlsx import timeliness_xlsx

        as_of = console.clock().date()
        with console.workspace.session() as session:
            rows = _of_kind(_year_rows(console, viewer, cache, session, year), kind)
        return timeliness_xlsx(timeliness(rows, as_of), year, as_of)

    data = await run_in_threadpool(build)
    return Response(data, media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{xlsx_name(year, kind)}"'})


ROUTES = [
    Route("/bao-cao", reports_page),
    Route("/bao-cao/xlsx", xlsx_download),
]
