"""The board: every unit against every report of a year, and the history behind one cell.

Statuses come from ``readside.load_rows`` (and through it the pure ``status_of``), the same figures as
`status`, `overdue` and the bot. ``arrange`` is pure: rows in, the page of a board out, so the layout,
filters and counts are tested with plain rows.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Sequence
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


@dataclass(frozen=True)
class Grouped:
    """A year's rows grouped once per read: units in board order (each with its cells by report code
    and its folded name and code for the name filter), report codes in column order with each column's
    title and most common deadlines, and the counts of the unfiltered board."""

    units: tuple[tuple[str, dict[str, StatusRow]], ...]
    order: tuple[str, ...]
    heads: dict[str, tuple[str, date | None, date | None]]
    counts: dict[str, Counter[StatusCode]]


def group(rows: Sequence[StatusRow]) -> Grouped:
    by_unit: dict[str, dict[str, StatusRow]] = {}
    by_column: dict[str, list[StatusRow]] = {}
    for row in rows:
        by_unit.setdefault(row.unit, {})[row.obligation] = row
        by_column.setdefault(row.obligation, []).append(row)
    cells = sorted(by_unit.values(), key=_unit_key)
    units = tuple((f"{fold(_first(c).unit_name)} {fold(_first(c).unit)}", c) for c in cells)
    order = tuple(sorted(by_column, key=lambda code: _column_key(by_column[code])))
    heads = {code: _head(column) for code, column in by_column.items()}
    counts = {code: Counter(r.status.code for r in column) for code, column in by_column.items()}
    return Grouped(units, order, heads, counts)


def _first(cells: dict[str, StatusRow]) -> StatusRow:
    return next(iter(cells.values()))


# Communes first, then the monitoring offices: the order of the directive's tables.
_KIND_ORDER = {"commune": 0, "monitor": 1}


def _unit_key(cells: dict[str, StatusRow]) -> tuple[int, str, str]:
    row = _first(cells)
    return _KIND_ORDER.get(row.kind, 9), row.kind, row.unit


def _column_key(rows: Sequence[StatusRow]) -> tuple[date, str]:
    deadlines = Counter(r.effective_deadline for r in rows if r.effective_deadline is not None)
    common = deadlines.most_common(1)[0][0] if deadlines else date.max
    return common, rows[0].obligation


def _head(rows: Sequence[StatusRow]) -> tuple[str, date | None, date | None]:
    nominal = Counter(r.nominal_deadline for r in rows).most_common(1)[0][0]
    effective = Counter(r.effective_deadline for r in rows).most_common(1)[0][0]
    return rows[0].title, nominal, effective


def arrange(grouped: Grouped | Sequence[StatusRow], *, year: int, as_of: date, claimed: Collection[int] = (),
            status: Wanted | None = None, kind: str | None = None, name: str = "", page: int = 1,
            size: int = PAGE_SIZE) -> Board:
    """The board of one year's rows (or their ``group``): a unit is kept when any of its cells has
    ``status`` ("claimed": an open "Đã gửi" claim), its name or code contains ``name`` (folded: any case,
    with or without diacritics) and it is of ``kind`` when given. Counts are over every kept unit, not
    only the page shown."""
    if not isinstance(grouped, Grouped):
        grouped = group(grouped)
    wanted = fold(name.strip())
    filtered = bool(wanted or kind or status)
    kept = [
        cells for folded, cells in grouped.units
        if (kind is None or _first(cells).kind == kind) and (not wanted or wanted in folded)
        and (status is None
             or (status == "claimed" and any(r.obligation_id in claimed for r in cells.values()))
             or any(r.status.code == status for r in cells.values()))
    ] if filtered else [cells for _, cells in grouped.units]
    if filtered:
        counts: dict[str, Counter[StatusCode]] = {}
        for cells in kept:
            for code, row in cells.items():
                counts.setdefault(code, Counter())[row.status.code] += 1
    else:
        counts = grouped.counts
    claims = Counter(row.obligation for cells in kept for row in cells.values() if row.obligation_id in claimed) \
        if claimed else Counter()
    columns = tuple(Column(code, *grouped.heads[code], counts[code], claims[code])
                    for code in grouped.order if code in counts)
    pages = max(1, -(-len(kept) // size))
    page = min(max(1, page), pages)
    lines = tuple(Line(_first(c).unit, _first(c).unit_name, _first(c).kind, _first(c).unit_head, c)
                  for c in kept[(page - 1) * size: page * size])
    return Board(year, as_of, columns, lines, len(kept), page, pages, frozenset(claimed))


@dataclass
class _Read:
    mark: tuple[Any, ...]
    rows: list[StatusRow]
    grouped: Grouped | None = None


class RowCache:
    """The last rows read for each (year, day, scope), kept while nothing that could change them has.

    A province's board is 50,000 obligations: reading and computing them takes about a second, while a
    person pages, filters and comes back many times between two changes. Every change to what the board
    shows writes the audit log (submissions, waivers, corrections, imports, sync, claims decided) or adds
    a submission or a claim, so the largest ids of those three tables tell whether the rows are still
    right; three indexed look-ups per page instead of the whole read."""

    def __init__(self, size: int = 16, *, kept: Callable[[], None] | None = None) -> None:
        """``kept``: called after a new read is kept, for the process to tell its garbage collector that
        what it now holds is long-lived (``webserver.settle``)."""
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[Any, ...], _Read] = OrderedDict()
        self._on_kept = kept

    def _read(self, session: Session, filters: Filters, workdays: WorkCalendar, due_soon: int,
              overdue_only: bool) -> _Read:
        key = (filters.year, filters.as_of, filters.obligation, filters.kind, filters.units, overdue_only)
        mark = _change_mark(session)
        with self._lock:
            found = self._kept.get(key)
            if found is not None and found.mark == mark:
                self._kept.move_to_end(key)
                return found
        rows = load_rows(session, filters, workdays, due_soon, overdue_only=overdue_only)
        read = _Read(mark, most_overdue_first(rows) if overdue_only else rows)
        with self._lock:
            self._kept[key] = read
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        if self._on_kept is not None:
            self._on_kept()
        return read

    def rows(self, session: Session, filters: Filters, workdays: WorkCalendar, due_soon: int, *,
             overdue_only: bool = False) -> list[StatusRow]:
        """``load_rows``' answer (``overdue_only``: ``overdue_rows``', most overdue first), from the cache
        while it still holds."""
        return self._read(session, filters, workdays, due_soon, overdue_only).rows

    def grouped(self, session: Session, filters: Filters, workdays: WorkCalendar, due_soon: int) -> Grouped:
        """The board's grouping of the rows, made once per read."""
        read = self._read(session, filters, workdays, due_soon, False)
        if read.grouped is None:
            read.grouped = group(read.rows)  # two threads may both group: the same answer, kept once
        return read.grouped


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


