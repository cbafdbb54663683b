"""The year's calendar for people (a table) and for machines (JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calendars.model import DatedObligation, YearCalendar, fill
from calendars.rules import DateRange
from calendars.words import NONE_MARK, range_text, weekday_dmy
from reminder_service.domain.clock import TIMEZONE
from reminder_service.services.present.table import render

ON_REQUEST = "Theo yêu cầu"
ROLL_RULE = (
    "Hạn nộp thực tế: khi hạn theo văn bản rơi vào ngày nghỉ, thời hạn kết thúc vào cuối ngày làm việc "
    "tiếp theo (khoản 5 Điều 148 Bộ luật Dân sự 2015)."
)
INTERPRETED_MARK = " (*)"
INTERPRETED_NOTE = "(*) Hạn nộp là cách hiểu của hệ thống vì văn bản không nêu rõ; cần Phòng Nội vụ xác nhận."


def _iso_range(span: DateRange | None) -> dict[str, str] | None:
    return None if span is None else {"start": span.start.isoformat(), "end": span.end.isoformat()}


def obligation_json(item: DatedObligation, kind_name: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "kind_name": kind_name,
        "title": item.title,
        "period": item.period,
        "nominal_deadline": item.nominal_deadline.isoformat() if item.nominal_deadline else None,
        "effective_deadline": item.effective_deadline.isoformat() if item.effective_deadline else None,
        "deadline_interpreted": item.deadline_interpreted,
        "deadline_wording": item.deadline_wording,
        "on_request": item.on_request,
        "window": _iso_range(item.window),
        "estimate_window": _iso_range(item.estimate_window),
        "content": list(item.content),
        "how_to_send": item.how_to_send,
        "notes": list(item.notes),
    }


def calendar_json(calendar: YearCalendar, kind: str | None) -> dict[str, Any]:
    directive = calendar.directive
    return {
        "directive": directive.id,
        "year": calendar.year,
        "projected": calendar.projected,
        "projected_from": directive.year if calendar.projected else None,
        "timezone": TIMEZONE,
        "title": fill(directive.title, calendar.year),
        "obligations": [
            obligation_json(o, directive.unit_kinds[o.kind]) for o in calendar.for_kind(kind)
        ],
        "monitor_offices": [
            {
                "code": office.code,
                "name": office.name,
                "sections": [{"code": s.code, "title": s.title} for s in office.sections],
            }
            for office in directive.monitor_offices
        ],
    }


def deadline_cells(item: DatedObligation) -> tuple[str, str]:
    """The nominal deadline (marked when it is the system's reading) and the effective one, in words."""
    if item.nominal_deadline is None or item.effective_deadline is None:
        return ON_REQUEST, ON_REQUEST
    mark = INTERPRETED_MARK if item.deadline_interpreted else ""
    return weekday_dmy(item.nominal_deadline) + mark, weekday_dmy(item.effective_deadline)


def calendar_heading(calendar: YearCalendar) -> list[str]:
    directive = calendar.directive
    lines = [
        f"LỊCH BÁO CÁO CẢI CÁCH HÀNH CHÍNH NĂM {calendar.year}",
        f"Văn bản: {fill(directive.title, directive.year)}"
        + (f" ({directive.issued_by})" if directive.issued_by else ""),
    ]
    if calendar.projected:
        lines.append(
            f"Lịch dự kiến: năm {calendar.year} chưa có văn bản riêng; các hạn được suy ra theo quy tắc "
            f"của văn bản năm {directive.year}."
        )
    else:
        lines.append(f"Lịch theo đúng văn bản năm {directive.year}.")
    lines.append(f"Ngày tính theo giờ Việt Nam ({TIMEZONE}).")
    return lines


CALENDAR_HEADERS = ("Mã", "Báo cáo", "Hạn nộp theo văn bản", "Hạn nộp thực tế", "Chốt số liệu", "Số liệu ước đạt")


@dataclass(frozen=True)
class CalendarRow:
    """One report of one kind of unit, with the words of each column of CALENDAR_HEADERS after the title."""

    item: DatedObligation
    nominal: str
    effective: str
    window: str
    estimate_window: str


@dataclass(frozen=True)
class KindSection:
    kind: str
    # The directive's name for the kind, not its code (commune, monitor): a user reads Vietnamese.
    kind_name: str
    rows: tuple[CalendarRow, ...]


@dataclass(frozen=True)
class CalendarLayout:
    """What `calendar show` prints, before it becomes text: the table prints it, the web console renders
    it as HTML, so both show the same words for the same dates."""

    heading: tuple[str, ...]
    sections: tuple[KindSection, ...]
    # Whether INTERPRETED_NOTE applies (a deadline shown with INTERPRETED_MARK).
    interpreted: bool
    # "annual, UBND các xã, thị trấn: …" for a report's notes, then the directive's own notes.
    notes: tuple[str, ...]
    # Phụ lục 3B: each monitoring office and the sections it supplies, when monitors are shown.
    offices: tuple[str, ...]


def calendar_layout(calendar: YearCalendar, kind: str | None) -> CalendarLayout:
    directive = calendar.directive
    shown = calendar.for_kind(kind)
    sections = []
    for kind_code, kind_name in directive.unit_kinds.items():
        rows = tuple(CalendarRow(o, *deadline_cells(o), range_text(o.window), range_text(o.estimate_window))
                     for o in shown if o.kind == kind_code)
        if rows:
            sections.append(KindSection(kind_code, kind_name, rows))
    notes = [f"{o.id}, {directive.unit_kinds.get(o.kind, o.kind)}: {note}" for o in shown for note in o.notes]
    notes.extend(n.text for n in directive.notes)
    offices: tuple[str, ...] = ()
    if directive.monitor_offices and any(o.kind == "monitor" for o in shown):
        offices = tuple(f"{office.name}: " + "; ".join(f"mục {s.code} ({s.title})" for s in office.sections)
                        for office in directive.monitor_offices)
    return CalendarLayout(tuple(calendar_heading(calendar)), tuple(sections),
                          any(o.deadline_interpreted for o in shown), tuple(notes), offices)


def calendar_table(calendar: YearCalendar, kind: str | None, details: bool = False) -> str:
    layout = calendar_layout(calendar, kind)
    blocks = ["\n".join(layout.heading)]
    for section in layout.sections:
        rows = [(r.item.id, r.item.title, r.nominal, r.effective, r.window, r.estimate_window) for r in section.rows]
        blocks.append(f"{section.kind_name}\n{render(CALENDAR_HEADERS, rows)}")
    footer = [ROLL_RULE]
    if layout.interpreted:
        footer.append(INTERPRETED_NOTE)
    if layout.notes:
        footer.append("Ghi chú:\n" + "\n".join(f"- {note}" for note in layout.notes))
    if layout.offices:
        footer.append("Phụ lục 3B — mục số liệu từng phòng cung cấp:\n" + "\n".join(f"- {o}" for o in layout.offices))
    blocks.append("\n".join(footer))
    if details:
        blocks.extend(_details(o, calendar.directive.unit_kinds[o.kind]) for o in calendar.for_kind(kind))
    return "\n\n".join(blocks) + "\n"


def _details(item: DatedObligation, kind_name: str) -> str:
    nominal, effective = deadline_cells(item)
    lines = [
        f"{item.title} — {kind_name} [{item.id}]",
        f"  Kỳ báo cáo: {item.period}",
        f"  Hạn nộp theo văn bản: {nominal}",
        f"  Hạn nộp thực tế: {effective}",
        f"  Chốt số liệu: {range_text(item.window)}",
    ]
    if item.estimate_window is not None:
        lines.append(f"  Số liệu ước đạt: {range_text(item.estimate_window)}")
    if item.deadline_wording:
        lines.append(f"  Văn bản ghi: {item.deadline_wording}")
    lines.append("  Nội dung cần gửi:")
    lines.extend(f"    - {text}" for text in item.content)
    lines.append(f"  Cách gửi: {item.how_to_send or NONE_MARK}")
    return "\n".join(lines)
