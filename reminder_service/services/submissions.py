"""Recording what a unit sent: a submission, an incomplete mark that reopens it, or a waiver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from calendars.words import dmy
from reminder_service.domain.clock import wall
from reminder_service.domain.errors import UserError
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, Submission, Unit


def earliest_received(year: int, window_start: date | None) -> date:
    """The first day a report of ``year`` can have been received: its data window's start or, for a
    report without a window (the plan, an ad-hoc report), 1 December of the previous year."""
    return window_start or date(year - 1, 12, 1)


def received_problem(received: date, *, year: int, window_start: date | None, today: date) -> str | None:
    """Why a typed received date cannot be right, in Vietnamese, or None. Pure: ``today`` is passed in."""
    earliest = earliest_received(year, window_start)
    allowed = f"ngày nhận phải từ {dmy(earliest)} đến hôm nay ({dmy(today)})"
    if received > today:
        return f"Ngày nhận {dmy(received)} chưa đến: {allowed}."
    if received < earliest:
        return f"Ngày nhận {dmy(received)} trước khi kỳ báo cáo bắt đầu: {allowed}."
    return None


def check_received(obligation: Obligation, received: datetime, now: datetime) -> None:
    """Refuse (UserError, nothing written) a received date after today or before the report's window."""
    problem = received_problem(wall(received).date(), year=obligation.year, window_start=obligation.window_start,
                               today=wall(now).date())
    if problem is not None:
        raise UserError(f"{obligation.title} của {obligation.unit.name}: {problem}")


def find_unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(func.lower(Unit.code) == code.strip().lower()))
    if unit is None:
        raise UserError(f'không có đơn vị mã "{code}"; xem danh sách bằng lệnh: reminder-service units list')
    return unit


def find_obligation(session: Session, unit_code: str, obligation: str, year: int | None) -> Obligation:
    """A unit's obligation by its code (q1, annual, adhoc1…) and year, or by its numeric id."""
    unit = find_unit(session, unit_code)
    text = obligation.strip().lower()
    query = select(Obligation).where(Obligation.unit_id == unit.id)
    if text.isdigit():
        found = session.scalar(query.where(Obligation.id == int(text)))
    else:
        if year is None:
            raise UserError("hãy cho biết năm báo cáo bằng --year, ví dụ --year 2021")
        found = session.scalar(query.where(Obligation.code == text, Obligation.year == year))
    if found is None:
        when = f" năm {year}" if year else ""
        raise UserError(
            f'đơn vị {unit.code} không có nghĩa vụ "{obligation}"{when}; nếu là nghĩa vụ theo văn bản, hãy chạy '
            f"reminder-service obligations sync --year {year or '<năm>'}"
        )
    return found


@dataclass(frozen=True)
class Recorded:
    submission: Submission
    created: bool


def record_submission(
    session: Session,
    obligation: Obligation,
    *,
    received_at: datetime,
    doc_no: str | None,
    note: str | None,
    actor: Actor,
    now: datetime,
    register_key: str | None = None,
) -> Recorded:
    """Record a received report. The same document (number and day) recorded twice is kept once; a
    received date after today or before the report's window is refused (UserError)."""
    check_received(obligation, received_at, now)
    received = wall(received_at)
    doc = (doc_no or "").strip() or None
    for earlier in obligation.submissions:
        same_day = earlier.received_at.date() == received.date()
        if earlier.state != "reverted" and same_day and (earlier.doc_no or None) == doc:
            return Recorded(earlier, created=False)
    submission = Submission(
        obligation=obligation, received_at=received, doc_no=doc, note=(note or "").strip() or None,
        state="accepted", channel=actor.channel, actor=actor.name, register_key=register_key,
        created_at=wall(now),
    )
    session.add(submission)
    session.flush()
    audit.record(session, actor, now, "submission_recorded", _subject(obligation), submission_id=submission.id,
                 received_at=received.isoformat(timespec="minutes"), doc_no=doc)
    return Recorded(submission, created=True)


def mark_incomplete(session: Session, obligation: Obligation, missing: str, actor: Actor, now: datetime) -> Submission:
    """The latest submission lacks something: the obligation reopens until a complete one arrives."""
    what = missing.strip()
    if not what:
        raise UserError('hãy ghi rõ còn thiếu gì bằng --missing, ví dụ --missing "Phụ lục 3B mục 7.1"')
    accepted = [s for s in obligation.submissions if s.state == "accepted"]
    if not accepted:
        raise UserError(f"{_subject(obligation)} chưa có lần nộp nào để đánh dấu là thiếu")
    latest = accepted[-1]
    latest.state = "incomplete"
    latest.missing = what
    latest.marked_at = wall(now)
    audit.record(session, actor, now, "submission_marked_incomplete", _subject(obligation),
                 submission_id=latest.id, missing=what)
    return latest


def waive(session: Session, obligation: Obligation, reason: str, actor: Actor, now: datetime) -> None:
    """The unit is excused from this obligation; its reminders stop and it never counts as late."""
    why = reason.strip()
    if not why:
        raise UserError('hãy ghi lý do miễn nộp bằng --reason, ví dụ --reason "Đơn vị sáp nhập từ 01/07"')
    obligation.waived_reason = why
    obligation.waived_at = wall(now)
    audit.record(session, actor, now, "obligation_waived", _subject(obligation), reason=why)


def revert_submission(session: Session, submission_id: int, actor: Actor, now: datetime) -> Submission | None:
    """Undo a recorded submission (kept as "reverted" for history); None when it is no longer accepted,
    e.g. undone already or marked incomplete since. Compare-and-set, so two undos act once."""
    changed = session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.state == "accepted")
        .values(state="reverted", marked_at=wall(now))
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    submission = session.get(Submission, submission_id)
    assert submission is not None
    session.refresh(submission)
    audit.record(session, actor, now, "submission_reverted", _subject(submission.obligation),
                 submission_id=submission.id)
    return submission


def _subject(obligation: Obligation) -> str:
    return f"{obligation.unit.code} / {obligation.code} năm {obligation.year}"


# --- correcting mistakes ----------------------------------------------------------------------------------

STATE_NAMES = {"accepted": "đã nhận", "incomplete": "còn thiếu", "reverted": "đã xóa"}


@dataclass(frozen=True)
class SubmissionLine:
    """One recorded submission as `submissions list` shows it."""

    id: int
    unit: str
    unit_name: str
    obligation: str
    title: str
    year: int
    received_at: datetime
    doc_no: str | None
    state: str
    channel: str
    actor: str | None


def list_submissions(session: Session, *, unit: str | None = None, obligation: str | None = None,
                     year: int | None = None, with_deleted: bool = False) -> list[SubmissionLine]:
    query = (select(Submission.id, Unit.code, Unit.name, Obligation.code, Obligation.title, Obligation.year,
                    Submission.received_at, Submission.doc_no, Submission.state, Submission.channel, Submission.actor)
             .join(Obligation, Submission.obligation_id == Obligation.id).join(Unit, Obligation.unit_id == Unit.id)
             .order_by(Obligation.year, Unit.code, Obligation.code, Submission.received_at, Submission.id))
    if unit:
        query = query.where(func.lower(Unit.code) == unit.strip().lower())
    if obligation:
        query = query.where(Obligation.code == obligation.strip().lower())
    if year is not None:
        query = query.where(Obligation.year == year)
    if not with_deleted:
        query = query.where(Submission.state != "reverted")
    return [SubmissionLine(*row) for row in session.execute(query)]


def _live(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise UserError(f"không có lần nộp số {submission_id}; xem danh sách: reminder-service submissions list")
    if submission.state == "reverted":
        raise UserError(f"lần nộp số {submission_id} đã bị xóa trước đó; không sửa được")
    return submission


def correct_submission(session: Session, submission_id: int, *, received_at: datetime | None, doc_no: str | None,
                       actor: Actor, now: datetime) -> Submission:
    """Fix a recorded submission's received date or document number; the old values stay in the audit log.
    Compare-and-set on the old values, so two clerks correcting at once cannot overwrite each other."""
    if received_at is None and doc_no is None:
        raise UserError("hãy ghi điều cần sửa: --received NGÀY và/hoặc --doc-number SỐ")
    submission = _live(session, submission_id)
    old_received, old_doc = submission.received_at, submission.doc_no
    new_received = wall(received_at) if received_at is not None else old_received
    if received_at is not None:
        check_received(submission.obligation, received_at, now)
    new_doc = ((doc_no or "").strip() or None) if doc_no is not None else old_doc
    changed = session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.state == submission.state,
                                 Submission.received_at == old_received)
        .values(received_at=new_received, doc_no=new_doc)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError(f"lần nộp số {submission_id} vừa được người khác thay đổi; hãy xem lại rồi sửa")
    session.refresh(submission)
    audit.record(session, actor, now, "submission_corrected", _subject(submission.obligation),
                 submission_id=submission_id, received_before=old_received.isoformat(timespec="minutes"),
                 received_after=new_received.isoformat(timespec="minutes"), doc_no_before=old_doc,
                 doc_no_after=new_doc)
    return submission


def delete_submission(session: Session, submission_id: int, reason: str, actor: Actor, now: datetime) -> Submission:
    """Take back a submission recorded by mistake: kept as "reverted" (history), the report's status is
    recomputed from what remains, and its reminders resume where it is missing again."""
    why = reason.strip()
    if not why:
        raise UserError('hãy ghi lý do xóa bằng --reason, ví dụ --reason "Ghi nhầm đơn vị"')
    submission = _live(session, submission_id)
    changed = session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.state == submission.state)
        .values(state="reverted", marked_at=wall(now))
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError(f"lần nộp số {submission_id} vừa được người khác thay đổi; hãy xem lại")
    session.refresh(submission)
    audit.record(session, actor, now, "submission_deleted", _subject(submission.obligation),
                 submission_id=submission_id, reason=why)
    return submission


@dataclass(frozen=True)
class WaiverLine:
    obligation_id: int
    unit: str
    unit_name: str
    obligation: str
    title: str
    year: int
    reason: str
    waived_at: datetime | None


def list_waivers(session: Session, *, unit: str | None = None, year: int | None = None) -> list[WaiverLine]:
    query = (select(Obligation.id, Unit.code, Unit.name, Obligation.code, Obligation.title, Obligation.year,
                    Obligation.waived_reason, Obligation.waived_at)
             .join(Unit, Obligation.unit_id == Unit.id).where(Obligation.waived_reason.is_not(None))
             .order_by(Obligation.year, Unit.code, Obligation.code))
    if unit:
        query = query.where(func.lower(Unit.code) == unit.strip().lower())
    if year is not None:
        query = query.where(Obligation.year == year)
    return [WaiverLine(oid, code, name, obligation_code, title, year, reason or "", waived_at)
            for oid, code, name, obligation_code, title, year, reason, waived_at in session.execute(query)]


def undo_waiver(session: Session, obligation_id: int, reason: str, actor: Actor, now: datetime) -> Obligation:
    """The unit owes the report again: its status and reminders come back as if never waived."""
    why = reason.strip()
    if not why:
        raise UserError('hãy ghi lý do hủy miễn nộp bằng --reason, ví dụ --reason "Miễn nhầm"')
    obligation = session.get(Obligation, obligation_id)
    if obligation is None or obligation.waived_reason is None:
        raise UserError(f"không có miễn nộp số {obligation_id}; xem danh sách: reminder-service waivers list")
    was = obligation.waived_reason
    changed = session.execute(
        update(Obligation).where(Obligation.id == obligation_id, Obligation.waived_reason == was)
        .values(waived_reason=None, waived_at=None)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError(f"miễn nộp số {obligation_id} vừa được người khác thay đổi; hãy xem lại")
    session.refresh(obligation)
    audit.record(session, actor, now, "waiver_undone", _subject(obligation), reason=why, waived_reason=was)
    return obligation
