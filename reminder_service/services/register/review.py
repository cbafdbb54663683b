"""The review list: register rows that look like CCHC reports but could not be matched for sure.

A person settles each one: resolve it (this unit, this obligation, this year — the submission is then
recorded) or dismiss it. ``ReviewItem.candidates`` holds JSON ``{"note": …, "options": […]}``: why the
row was not matched, in Vietnamese, and what it might be.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminder_service.domain.errors import UserError
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, RegisterImport, ReviewItem
from reminder_service.services.register.classify import classify
from reminder_service.services.submissions import Recorded, find_obligation, record_submission

REASON_TEXTS = {
    "unknown_unit": "Không xác định được đơn vị gửi",
    "ambiguous_unit": "Nơi gửi khớp với nhiều đơn vị",
    "unknown_obligation": "Không xác định được nghĩa vụ báo cáo",
    "ambiguous_obligation": "Chưa rõ báo cáo kỳ nào, năm nào",
    "bad_row": "Dòng thiếu hoặc sai dữ liệu",
    "received_out_of_range": "Ngày nhận không hợp lệ",
}
STATE_TEXTS = {"open": "chờ xử lý", "resolved": "đã xử lý", "dismissed": "đã bỏ qua"}
LIST_COMMAND = "reminder-service submissions review"


@dataclass(frozen=True)
class Option:
    """One thing the row might be: a unit, an obligation of a year, or both."""

    unit: str | None = None
    unit_name: str | None = None
    obligation: str | None = None
    year: int | None = None
    title: str | None = None

    def text(self) -> str:
        parts = []
        if self.unit:
            parts.append(f"{self.unit} ({self.unit_name})" if self.unit_name else self.unit)
        if self.obligation:
            what = f"{self.obligation}" + (f" năm {self.year}" if self.year else "")
            parts.append(f"{what} ({self.title})" if self.title else what)
        return " – ".join(parts)


def encode(note: str, options: Sequence[Option]) -> str:
    body = {"note": note, "options": [{k: v for k, v in asdict(o).items() if v is not None} for o in options]}
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def decode(raw: str) -> tuple[str, tuple[Option, ...]]:
    try:
        body = json.loads(raw) if raw else {}
        options = tuple(Option(**o) for o in body.get("options", []))
        return str(body.get("note", "")), options
    except (ValueError, TypeError, AttributeError):
        return raw, ()  # written by hand or by an older version: show it as it is


@dataclass(frozen=True)
class ReviewView:
    id: int
    file_name: str
    row_no: int
    received_at: datetime | None
    sender: str
    summary: str
    doc_no: str | None
    reason: str
    note: str
    options: tuple[Option, ...]
    state: str
    submission_id: int | None

    @property
    def reason_text(self) -> str:
        text = REASON_TEXTS.get(self.reason, self.reason)
        return f"{text}: {self.note}" if self.note else text

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "file": self.file_name, "row": self.row_no,
            "received_at": self.received_at.isoformat(timespec="minutes") if self.received_at else None,
            "sender": self.sender, "summary": self.summary, "doc_no": self.doc_no, "reason": self.reason,
            "reason_text": self.reason_text,
            "candidates": [{k: v for k, v in asdict(o).items() if v is not None} for o in self.options],
            "state": self.state, "submission_id": self.submission_id,
        }


def view(item: ReviewItem, file_name: str) -> ReviewView:
    note, options = decode(item.candidates)
    return ReviewView(item.id, file_name, item.row_no, item.received_at, item.sender, item.summary, item.doc_no,
                      item.reason, note, options, item.state, item.submission_id)


def list_items(session: Session, *, include_closed: bool = False) -> list[ReviewView]:
    query = select(ReviewItem, RegisterImport.file_name).join(RegisterImport).order_by(ReviewItem.id)
    if not include_closed:
        query = query.where(ReviewItem.state == "open")
    return [view(item, file_name) for item, file_name in session.execute(query).all()]


def _open_item(session: Session, item_id: int) -> tuple[ReviewItem, str]:
    found = session.execute(
        select(ReviewItem, RegisterImport.file_name).join(RegisterImport).where(ReviewItem.id == item_id)
    ).first()
    if found is None:
        raise UserError(f"không có mục cần xem xét số {item_id}; xem danh sách bằng lệnh: {LIST_COMMAND}")
    item, file_name = found[0], found[1]
    if item.state != "open":
        raise UserError(f"mục {item_id} {STATE_TEXTS.get(item.state, item.state)} trước đó; không xử lý lại")
    return item, file_name


def _default_year(item: ReviewItem, options: Sequence[Option], unit_code: str) -> int:
    """The report's year when the person did not say: only when the row leaves no doubt."""
    result = classify(item.summary, item.received_at.date() if item.received_at else None)
    years = {result.year} if result.year else {g.year for g in result.candidates if g.year}
    years |= {o.year for o in options if o.year and (o.unit is None or o.unit.lower() == unit_code.lower())}
    if len(years) == 1:
        return years.pop()
    if not years and item.received_at is not None:
        return item.received_at.year
    raise UserError(f"chưa rõ mục {item.id} là báo cáo của năm nào; hãy ghi năm bằng --year, ví dụ --year 2021")


@dataclass(frozen=True)
class Resolution:
    item: ReviewView
    obligation: Obligation
    recorded: Recorded


def resolve_item(
    session: Session,
    item_id: int,
    *,
    unit_code: str,
    obligation: str,
    year: int | None,
    received_at: datetime | None,
    actor: Actor,
    now: datetime,
) -> Resolution:
    """Record the row as a submission of the obligation the person names, and close the item."""
    item, file_name = _open_item(session, item_id)
    _, options = decode(item.candidates)
    received = received_at or item.received_at
    if received is None:
        raise UserError(f"mục {item_id} không có ngày đến đọc được; hãy ghi ngày nhận bằng --received, "
                        "ví dụ --received 12/03/2021")
    if year is None and not obligation.strip().isdigit():
        year = _default_year(item, options, unit_code)
    target = find_obligation(session, unit_code, obligation, year)
    recorded = record_submission(
        session, target, received_at=received, doc_no=item.doc_no,
        note=f"Sổ văn bản đến: {file_name}, dòng {item.row_no}", actor=actor, now=now,
        register_key=item.register_key,
    )
    item.state = "resolved"
    item.submission_id = recorded.submission.id
    audit.record(session, actor, now, "register_review_resolved", f"mục xem xét {item.id}",
                 unit=target.unit.code, obligation=target.code, year=target.year,
                 submission_id=recorded.submission.id)
    return Resolution(view(item, file_name), target, recorded)


def dismiss_item(session: Session, item_id: int, reason: str | None, actor: Actor, now: datetime) -> ReviewView:
    """Not a report to record (a duplicate, a document for another office…): close it, keep the row."""
    item, file_name = _open_item(session, item_id)
    item.state = "dismissed"
    audit.record(session, actor, now, "register_review_dismissed", f"mục xem xét {item.id}",
                 reason=(reason or "").strip() or None, sender=item.sender, summary=item.summary)
    return view(item, file_name)
