"""The board: every unit against every report of a year, and the history behind one cell.

Statuses come from ``readside.load_rows`` (and through it the pure ``status_of``), the same figures as
`status`, `overdue` and the bot. ``arrange`` is pure: rows in, the page of a board out, so the layout,
filters and counts are tested with plain rows.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.domain.status import StatusCode, StatusRow
from reminder_service.domain.textfold import fold
from reminder_service.services.db.chat import SubmissionClaim
from reminder_service.services.db.models import AuditEntry, Obligation, OutboxMessage, Person, Submission, Unit
from reminder_service.services.readside import Filters, load_rows, most_overdue_first

PAGE_SIZE = 200
# What the board filters on: a status code, or "claimed" for cells with an open "Đã gửi" claim.
Wanted = StatusCode | Literal["claimed"]


@dataclass(frozen=True)
class Column:
    """One report of the year, as a column: its code, title and the deadlines it has for most units."""

    code: str
    title: str
    nominal_deadline: date | None
    effective_deadline: date | None
    counts: Counter[StatusCode] = field(default_factory=Counter)
    claims: int = 0


@dataclass(frozen=True)
class Line:
    """One unit, as a row: its cells by report code (absent: the unit owes no such report)."""

    unit: str
    unit_name: str
    kind: str
    unit_head: str | None
    cells: dict[str, StatusRow]


@dataclass(frozen=True)
class Board:
    year: int
    as_of: date
    columns: tuple[Column, ...]
    lines: tuple[Line, ...]
    # Units that match the filters on every page; the lines are one page of them.
    units: int
    page: int
    pages: int
    claimed: frozenset[int] = frozenset()


def _matches(row: StatusRow, wanted: str) -> bool:
    return wanted in fold(row.unit_name) or wanted in fold(row.unit)


def arrange(rows: Sequence[StatusRow], *, year: int, as_of: date, claimed: Collection[int] = (),
            status: Wanted | None = None, kind: str | None = None, name: str = "", page: int = 1,
            size: int = PAGE_SIZE) -> Board:
    """The board of ``rows`` (one year's): a unit is kept when any of its cells has ``status`` ("claimed":
    an open "Đã gửi" claim) and its name or code contains ``name`` (folded: any case, with or without
    diacritics), of ``kind`` when given. Counts are over every kept unit, not only the page shown."""
    wanted = fold(name.strip())
    by_unit: dict[str, list[StatusRow]] = {}
    for row in rows:
        if (kind is not None and row.kind != kind) or (wanted and not _matches(row, wanted)):
            continue
        by_unit.setdefault(row.unit, []).append(row)
    if status == "claimed":
        by_unit = {unit: cells for unit, cells in by_unit.items() if any(r.obligation_id in claimed for r in cells)}
    elif status is not None:
        by_unit = {unit: cells for unit, cells in by_unit.items() if any(r.status.code == status for r in cells)}
    columns: dict[str, dict[str, Any]] = {}
    for cells in by_unit.values():
        for row in cells:
            column = columns.setdefault(row.obligation, {"rows": [], "claims": 0})
            column["rows"].append(row)
            column["claims"] += row.obligation_id in claimed
    ordered = sorted(columns.items(), key=lambda item: _column_key(item[1]["rows"]))
    built = tuple(_column(code, data["rows"], data["claims"]) for code, data in ordered)
    units = sorted(by_unit.values(), key=lambda cells: (_KIND_ORDER.get(cells[0].kind, 9), cells[0].kind,
                                                          cells[0].unit))
    pages = max(1, -(-len(units) // size))
    page = min(max(1, page), pages)
    shown = units[(page - 1) * size: page * size]
    lines = tuple(Line(c[0].unit, c[0].unit_name, c[0].kind, c[0].unit_head, {r.obligation: r for r in c})
                  for c in shown)
    return Board(year, as_of, built, lines, len(units), page, pages, frozenset(claimed))


# Communes first, then the monitoring offices: the order of the directive's tables.
_KIND_ORDER = {"commune": 0, "monitor": 1}


def _column_key(rows: Sequence[StatusRow]) -> tuple[date, str]:
    deadlines = Counter(r.effective_deadline for r in rows if r.effective_deadline is not None)
    common = deadlines.most_common(1)[0][0] if deadlines else date.max
    return common, rows[0].obligation


def _column(code: str, rows: Sequence[StatusRow], claims: int) -> Column:
    nominal = Counter(r.nominal_deadline for r in rows).most_common(1)[0][0]
    effective = Counter(r.effective_deadline for r in rows).most_common(1)[0][0]
    counts = Counter(r.status.code for r in rows)
    return Column(code, rows[0].title, nominal, effective, counts, claims)


class RowCache:
    """The last rows read for each (year, day, scope), kept while nothing that could change them has.

    A province's board is 50,000 obligations: reading and computing them takes about a second, while a
    person pages, filters and comes back many times between two changes. Every change to what the board
    shows writes the audit log (submissions, waivers, corrections, imports, sync, claims decided) or adds
    a submission or a claim, so the largest ids of those three tables tell whether the rows are still
    right; three indexed look-ups per page instead of the whole read."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], list[StatusRow]]] = OrderedDict()

    def rows(self, session: Session, filters: Filters, workdays: WorkCalendar, due_soon: int, *,
             overdue_only: bool = False) -> list[StatusRow]:
        """``load_rows``' answer (``overdue_only``: ``overdue_rows``', most overdue first), from the cache
        while it still holds."""
        key = (filters.year, filters.as_of, filters.obligation, filters.kind, filters.units, overdue_only)
        mark = _change_mark(session)
        with self._lock:
            found = self._kept.get(key)
            if found is not None and found[0] == mark:
                self._kept.move_to_end(key)
                return found[1]
        rows = load_rows(session, filters, workdays, due_soon, overdue_only=overdue_only)
        if overdue_only:
            rows = most_overdue_first(rows)
        with self._lock:
            self._kept[key] = (mark, rows)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return rows


def _change_mark(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(select(
        select(func.max(AuditEntry.id)).scalar_subquery(), select(func.max(Submission.id)).scalar_subquery(),
        select(func.max(SubmissionClaim.id)).scalar_subquery())).one())


def open_claims(session: Session, obligation_ids: Collection[int] | None = None) -> dict[int, int]:
    """The open "Đã gửi" claim of each obligation that has one (of ``obligation_ids``, or of all):
    obligation id → claim id. Open claims are few at any time: a unit's claim is decided within days."""
    if obligation_ids is not None and not obligation_ids:
        return {}
    found: dict[int, int] = {}
    query = (select(SubmissionClaim.obligation_id, SubmissionClaim.id).where(SubmissionClaim.state == "open")
             .order_by(SubmissionClaim.id))
    for obligation_id, claim_id in session.execute(query):
        if obligation_ids is None or obligation_id in obligation_ids:
            found[obligation_id] = claim_id
    return found


# --- the history behind one cell ---------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    id: int
    received_at: datetime
    doc_no: str | None
    state: str
    missing: str | None
    channel: str
    actor: str
    note: str | None


@dataclass(frozen=True)
class Sent:
    id: int
    created_at: datetime
    stage: str
    channel: str
    person: str | None
    state: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Claimed:
    id: int
    claimed_at: datetime
    person: str | None
    state: str
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class Audited:
    at: datetime
    actor: str
    channel: str
    action: str
    details: dict[str, Any]


@dataclass(frozen=True)
class History:
    obligation_id: int
    unit_id: int
    unit: str
    unit_name: str
    code: str
    title: str
    year: int
    period: str
    nominal_deadline: date | None
    effective_deadline: date | None
    window_start: date | None
    window_end: date | None
    waived_reason: str | None
    submissions: tuple[Received, ...]
    messages: tuple[Sent, ...]
    claims: tuple[Claimed, ...]
    audit: tuple[Audited, ...]


def _details(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {"ghi_chú": raw}
    return value if isinstance(value, dict) else {"ghi_chú": value}


def history(session: Session, obligation_id: int) -> History | None:
    """Everything on record about one obligation, oldest first; None when there is no such obligation."""
    found = session.execute(select(Obligation, Unit).join(Unit, Obligation.unit_id == Unit.id)
                            .where(Obligation.id == obligation_id)).first()
    if found is None:
        return None
    obligation, unit = found
    received = tuple(
        Received(s.id, s.received_at, s.doc_no, s.state, s.missing, s.channel, s.actor, s.note)
        for s in session.scalars(select(Submission).where(Submission.obligation_id == obligation_id)
                                 .order_by(Submission.received_at, Submission.id)))
    sent = tuple(
        Sent(m.id, m.created_at, m.stage, m.channel, name, m.state, m.attempts, m.sent_at, m.last_error)
        for m, name in session.execute(
            select(OutboxMessage, Person.name).outerjoin(Person, OutboxMessage.person_id == Person.id)
            .where(OutboxMessage.obligation_id == obligation_id).order_by(OutboxMessage.created_at, OutboxMessage.id)))
    claims = tuple(
        Claimed(c.id, c.claimed_at, name, c.state, c.decided_by, c.decided_at)
        for c, name in session.execute(
            select(SubmissionClaim, Person.name).outerjoin(Person, SubmissionClaim.person_id == Person.id)
            .where(SubmissionClaim.obligation_id == obligation_id).order_by(SubmissionClaim.id)))
    # Services name an obligation in the audit log as "<unit> / <report> năm <year>".
    subject = f"{unit.code} / {obligation.code} năm {obligation.year}"
    audited = tuple(
        Audited(a.at, a.actor, a.channel, a.action, _details(a.details))
        for a in session.scalars(select(AuditEntry).where(AuditEntry.subject == subject)
                                 .order_by(AuditEntry.at, AuditEntry.id)))
    return History(obligation.id, unit.id, unit.code, unit.name, obligation.code, obligation.title, obligation.year,
                   obligation.period, obligation.nominal_deadline, obligation.effective_deadline,
                   obligation.window_start, obligation.window_end, obligation.waived_reason, received, sent, claims,
                   audited)


