"""Status, overdue and timeliness for people (Vietnamese tables) and machines (JSON, CSV for Excel)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from calendars.words import NONE_MARK, dmy, number, weekday
from reminder_service.domain.status import STATUS_CODES, Status, StatusCode, StatusRow
from reminder_service.services.present.cells import csv_cell
from reminder_service.services.present.table import render
from reminder_service.services.readside import TimelinessRow

# Short words for the counts line; the full wording (with days) is status_text.
STATUS_LABELS: dict[StatusCode, str] = {
    "submitted_on_time": "Nộp đúng hạn",
    "submitted_late": "Nộp muộn",
    "overdue": "Quá hạn",
    "incomplete": "Còn thiếu",
    "due_soon": "Sắp đến hạn",
    "not_yet_due": "Chưa đến hạn",
    "waived": "Được miễn",
}
ROW_FIELDS = (
    "unit", "unit_name", "kind", "unit_head", "obligation", "obligation_id", "title", "year", "nominal_deadline",
    "effective_deadline", "status", "status_text", "received", "days_late", "doc_no", "missing",
)
# CSV column names for people (Excel); --headers en keeps the field names above for machines.
ROW_HEADERS = {
    "unit": "Mã đơn vị", "unit_name": "Đơn vị", "kind": "Loại đơn vị", "unit_head": "Thủ trưởng",
    "obligation": "Mã báo cáo", "obligation_id": "Số nghĩa vụ", "title": "Báo cáo", "year": "Năm",
    "nominal_deadline": "Hạn nộp", "effective_deadline": "Hạn thực tế", "status": "Mã tình trạng",
    "status_text": "Tình trạng", "received": "Ngày nhận", "days_late": "Số ngày làm việc chậm",
    "doc_no": "Số ký hiệu", "missing": "Còn thiếu",
}
TIMELINESS_FIELDS = ("rank", "unit", "unit_name", "kind", "owed", "on_time", "late", "missing", "days_late", "waived")
TIMELINESS_HEADERS = (
    "STT", "Mã đơn vị", "Đơn vị", "Số báo cáo phải nộp", "Nộp đúng hạn", "Nộp muộn", "Chưa nộp hoặc còn thiếu",
    "Tổng số ngày làm việc chậm", "Được miễn",
)
# The CSV's column names for people: the table's headings, with the kind column the table leaves out.
TIMELINESS_CSV_HEADERS = dict(zip(TIMELINESS_FIELDS, (*TIMELINESS_HEADERS[:3], "Loại đơn vị", *TIMELINESS_HEADERS[3:]),
                                  strict=True))
TIMELINESS_NOTES = (
    "Phải nộp: báo cáo đã qua hạn nộp thực tế (hoặc đã nộp khi đến hạn), không tính báo cáo được miễn.",
    "Tổng số ngày làm việc chậm: cộng số ngày nộp muộn và số ngày quá hạn của báo cáo chưa nộp, còn thiếu.",
    "Thứ tự: ít báo cáo chưa nộp nhất, rồi ít báo cáo nộp muộn nhất, rồi ít ngày chậm nhất.",
)
_BOM = "\ufeff"


def status_text(status: Status) -> str:
    days = None if status.working_days is None else number(status.working_days)
    if status.code == "submitted_late":
        return f"Nộp muộn {days} ngày làm việc"
    if status.code == "overdue":
        return f"Quá hạn {days} ngày làm việc"
    if status.code == "incomplete":
        text = f"Còn thiếu: {status.missing}" if status.missing else "Còn thiếu"
        return text + (f" (quá hạn {days} ngày làm việc)" if days is not None else "")
    return STATUS_LABELS[status.code]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _day(day: date | None) -> str:
    return dmy(day) if day else NONE_MARK


def row_json(row: StatusRow) -> dict[str, Any]:
    status = row.status
    return {
        "unit": row.unit,
        "unit_name": row.unit_name,
        "kind": row.kind,
        "unit_head": row.unit_head,
        "obligation": row.obligation,
        "obligation_id": row.obligation_id,
        "title": row.title,
        "year": row.year,
        "nominal_deadline": _iso(row.nominal_deadline),
        "effective_deadline": _iso(row.effective_deadline),
        "status": status.code,
        "status_text": status_text(status),
        "received": _iso(status.received),
        "days_late": status.working_days,
        "doc_no": status.doc_no,
        "missing": status.missing,
    }


def to_json(records: Sequence[dict[str, Any]]) -> str:
    """A JSON array, one object a line: readable, and the C encoder (which indent= disables) keeps
    10,000 units' worth well under a second."""
    if not records:
        return "[]"
    return "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]"


def to_csv(fields: Sequence[str], records: Sequence[dict[str, Any]]) -> str:
    """CSV with a byte-order mark: without it Excel reads UTF-8 as the local code page and garbles diacritics.

    Made for Excel, so no text cell may start like a formula (see ``csv_cell``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if record[k] is None else csv_cell(record[k]) for k in fields})
    return _BOM + buffer.getvalue()


def headed_csv(fields: Sequence[str], records: Sequence[dict[str, Any]], names: dict[str, str],
               headers: str) -> str:
    """CSV with Vietnamese column names (``headers`` "vi", for people) or the field names ("en", for
    machines); the values are the same either way."""
    if headers != "vi":
        return to_csv(fields, records)
    return to_csv([names.get(f, f) for f in fields], [{names.get(k, k): v for k, v in r.items()} for r in records])


def as_of_line(as_of: date) -> str:
    # One casing for weekdays everywhere ("Thứ Hai", "Chủ nhật"), as calendars/words.py writes them.
    return f"Tính đến hết {weekday(as_of)}, ngày {dmy(as_of)}."


def counts_line(rows: Sequence[StatusRow]) -> str:
    counts = Counter(r.status.code for r in rows)
    parts = [f"{STATUS_LABELS[code]}: {counts[code]}" for code in STATUS_CODES if counts[code]]
    return f"Tổng cộng {len(rows)} nghĩa vụ — " + "; ".join(parts) + "."


def status_table(rows: Sequence[StatusRow], year: int, as_of: date) -> str:
    heading = f"Tình hình nộp báo cáo CCHC năm {year}. {as_of_line(as_of)}"
    if not rows:
        return f"{heading}\nKhông có nghĩa vụ báo cáo nào phù hợp.\n"
    headers = ("Mã đơn vị", "Đơn vị", "Báo cáo", "Hạn nộp", "Hạn thực tế", "Tình trạng", "Ngày nhận", "Số ký hiệu")
    body = [
        (r.unit, r.unit_name, r.title, _day(r.nominal_deadline), _day(r.effective_deadline), status_text(r.status),
         _day(r.status.received), r.status.doc_no or NONE_MARK)
        for r in rows
    ]
    return f"{heading}\n\n{render(headers, body)}\n\n{counts_line(rows)}\n"


def overdue_table(rows: Sequence[StatusRow], as_of: date) -> str:
    heading = f"Báo cáo CCHC quá hạn. {as_of_line(as_of)}"
    if not rows:
        return f"{heading}\nKhông có đơn vị nào quá hạn nộp báo cáo.\n"
    headers = ("Mã đơn vị", "Đơn vị", "Thủ trưởng", "Báo cáo", "Hạn thực tế", "Tình trạng")
    body = [
        (r.unit, r.unit_name, r.unit_head or NONE_MARK, r.title, _day(r.effective_deadline), status_text(r.status))
        for r in rows
    ]
    units = len({r.unit for r in rows})
    return f"{heading}\n\n{render(headers, body)}\n\n{number(len(rows))} báo cáo quá hạn của {number(units)} đơn vị.\n"


def timeliness_records(rows: Sequence[TimelinessRow]) -> list[dict[str, Any]]:
    return [{"rank": rank, **asdict(row)} for rank, row in enumerate(rows, start=1)]


def timeliness_cells(rows: Sequence[TimelinessRow]) -> list[tuple[int | str, ...]]:
    """One tuple per unit in TIMELINESS_HEADERS order; numbers stay numbers for the spreadsheet."""
    return [
        (rank, r.unit, r.unit_name, r.owed, r.on_time, r.late, r.missing, r.days_late, r.waived)
        for rank, r in enumerate(rows, start=1)
    ]


def timeliness_title(year: int) -> str:
    return f"Tổng hợp tình hình nộp báo cáo CCHC năm {year}"


def timeliness_table(rows: Sequence[TimelinessRow], year: int, as_of: date) -> str:
    heading = f"{timeliness_title(year)}. {as_of_line(as_of)}"
    if not rows:
        return f"{heading}\nChưa có nghĩa vụ báo cáo nào của năm {year}.\n"
    body = [tuple(str(cell) for cell in cells) for cells in timeliness_cells(rows)]
    notes = "\n".join(f"Ghi chú: {note}" for note in TIMELINESS_NOTES)
    return f"{heading}\n\n{render(TIMELINESS_HEADERS, body)}\n\n{notes}\n"


def summary_table(rows: Sequence[StatusRow], year: int, as_of: date) -> str:
    """One line per report of the year: how many units stand where. The receiver's morning glance."""
    heading = f"Tình hình nộp báo cáo CCHC năm {year}. {as_of_line(as_of)}"
    if not rows:
        return f"{heading}\nChưa có nghĩa vụ báo cáo nào; hãy chạy: reminder-service obligations sync --year {year}\n"
    by_report: dict[tuple[date, str, str], Counter[StatusCode]] = {}
    for row in rows:
        key = (row.effective_deadline or date.max, row.obligation, row.title)
        by_report.setdefault(key, Counter())[row.status.code] += 1
    codes = [code for code in STATUS_CODES if any(c[code] for c in by_report.values())]
    headers = ("Mã", "Báo cáo", "Hạn thực tế", *(STATUS_LABELS[code] for code in codes))
    body = [
        (code, title, _day(None if deadline == date.max else deadline), *(str(counts[c]) for c in codes))
        for (deadline, code, title), counts in sorted(by_report.items())
    ]
    return f"{heading}\n\n{render(headers, body)}\n\n{counts_line(rows)}\n"
