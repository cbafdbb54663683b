"""Where the obligations stand on one day, in words for the receiving office."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from calendars.agenda import Standing
from calendars.words import number, range_text, weekday_dmy

# Beyond this many upcoming deadlines the list stops being a glance.
UPCOMING_SHOWN = 6


def _line(item: Standing, kinds: Mapping[str, str]) -> str:
    o = item.obligation
    head = f"  - {o.title} — {kinds.get(o.kind, o.kind)} [{o.id}]"
    if o.nominal_deadline is None or o.effective_deadline is None:
        return f"{head}: chỉ nộp khi có văn bản yêu cầu; chốt số liệu {range_text(o.window)}"
    closes = weekday_dmy(o.effective_deadline)
    nominal = weekday_dmy(o.nominal_deadline)
    when = f"hạn {nominal}" + (f", nhận đến hết {closes}" if o.rolled_forward else "")
    if item.phase == "upcoming":
        return f"{head}: {when} (còn {number(item.working_days)} ngày làm việc)"
    if item.phase == "due_today":
        return f"{head}: {when} — hôm nay là ngày cuối nhận báo cáo"
    return f"{head}: {when} (đã qua {number(item.working_days)} ngày làm việc)"


def today_text(
    today: date, standings: Sequence[Standing], kinds: Mapping[str, str], year: int, with_units: bool = False
) -> str:
    due = [s for s in standings if s.phase == "due_today"]
    upcoming = [s for s in standings if s.phase == "upcoming"][:UPCOMING_SHOWN]
    closed = [s for s in standings if s.phase == "closed" and s.obligation.year == year]
    on_request = [s for s in standings if s.phase == "on_request" and s.obligation.year == year]
    sections = [f"TÌNH HÌNH NGÀY {weekday_dmy(today).upper()}"]
    if due:
        sections.append("Hôm nay là hạn cuối:\n" + "\n".join(_line(s, kinds) for s in due))
    sections.append("Sắp đến hạn:\n" + ("\n".join(_line(s, kinds) for s in upcoming) or "  (không có)"))
    if closed:
        sections.append(
            f"Đã hết hạn nhận trong năm {year}"
            + (" (từng đơn vị: xem bên dưới):\n" if with_units else " — đơn vị nào chưa nộp là quá hạn:\n")
            + "\n".join(_line(s, kinds) for s in closed)
        )
    if on_request:
        sections.append("Theo yêu cầu:\n" + "\n".join(_line(s, kinds) for s in on_request))
    return "\n\n".join(sections) + "\n"
