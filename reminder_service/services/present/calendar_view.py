"""The year's calendar for people (a table) and for machines (JSON)."""

from __future__ import annotations

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


def _deadline_cells(item: DatedObligation) -> tuple[str, str]:
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


def calendar_table(calendar: YearCalendar, kind: str | None, details: bool = False) -> str:
    directive = calendar.directive
    blocks = ["\n".join(calendar_heading(calendar))]
    headers = ("Mã", "Báo cáo", "Hạn nộp theo văn bản", "Hạn nộp thực tế", "Chốt số liệu", "Số liệu ước đạt")
    shown = calendar.for_kind(kind)
    for kind_code, kind_name in directive.unit_kinds.items():
        items = [o for o in shown if o.kind == kind_code]
        if not items:
            continue
        rows = [(o.id, o.title, *_deadline_cells(o), range_text(o.window), range_text(o.estimate_window))
                for o in items]
        # The directive's name for the kind, not its code (commune, monitor): a user reads Vietnamese.
        blocks.append(f"{kind_name}\n{render(headers, rows)}")
    footer = [ROLL_RULE]
    if any(o.deadline_interpreted for o in shown):
        footer.append(INTERPRETED_NOTE)
    notes = [f"- {o.id}, {directive.unit_kinds.get(o.kind, o.kind)}: {note}" for o in shown for note in o.notes]
    notes.extend(f"- {n.text}" for n in directive.notes)
    if notes:
        footer.append("Ghi chú:\n" + "\n".join(notes))
    if directive.monitor_offices and any(o.kind == "monitor" for o in shown):
        offices = [f"- {office.name}: " + "; ".join(f"mục {s.code} ({s.title})" for s in office.sections)
                   for office in directive.monitor_offices]
        footer.append("Phụ lục 3B — mục số liệu từng phòng cung cấp:\n" + "\n".join(offices))
    blocks.append("\n".join(footer))
    if details:
        blocks.extend(_details(o, directive.unit_kinds[o.kind]) for o in shown)
    return "\n\n".join(blocks) + "\n"


def _details(item: DatedObligation, kind_name: str) -> str:
    nominal, effective = _deadline_cells(item)
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
