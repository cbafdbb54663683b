"""The read side: who owes what and where each obligation stands, for status, overdue and the timeliness report.

A fixed number of queries whatever the number of units (obligations with their units, the submissions
of those obligations, the unit heads); status is then computed in Python by the pure ``status_of``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, aliased

from calendars.workdays import WorkCalendar
from reminder_service.domain.status import ObligationFacts, Status, StatusRow, SubmissionFacts, status_of
from reminder_service.services.db.models import Obligation, Person, Submission, Unit


@dataclass(frozen=True)
class Filters:
    """Which obligations to read; without a year, every year up to the as-of day's."""

    as_of: date
    year: int | None = None
    obligation: str | None = None
    kind: str | None = None
    # Only these units (by id); None: every unit. A unit head's view reads just their unit.
    units: frozenset[int] | None = None


@dataclass(frozen=True)
class TimelinessRow:
    unit: str
    unit_name: str
    kind: str
    owed: int
    on_time: int
    late: int
    missing: int
    days_late: int
    waived: int


class _MemoWorkdays:
    """Working-day answers memoised: thousands of units share the same few (deadline, day) pairs."""

    def __init__(self, inner: WorkCalendar) -> None:
        self._inner = inner
        self._shifts: dict[tuple[date, int], date] = {}
        self._between: dict[tuple[date, date], int] = {}

    def shift(self, day: date, working_days: int) -> date:
        key = (day, working_days)
        if key not in self._shifts:
            self._shifts[key] = self._inner.shift(day, working_days)
        return self._shifts[key]

    def working_days_between(self, start: date, end: date) -> int:
        key = (start, end)
        if key not in self._between:
            self._between[key] = self._inner.working_days_between(start, end)
        return self._between[key]


def _conditions(filters: Filters, overdue_only: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Obligation.active.is_(True), Unit.active.is_(True)]
    if filters.year is not None:
        conditions.append(Obligation.year == filters.year)
    else:
        conditions.append(Obligation.year <= filters.as_of.year)
    if filters.obligation is not None:
        conditions.append(Obligation.code == filters.obligation.strip().lower())
    if filters.kind is not None:
        conditions.append(Unit.kind == filters.kind)
    if filters.units is not None:
        conditions.append(Unit.id.in_(sorted(filters.units)))
    if overdue_only:
        # Only these can be overdue or incomplete past the deadline on the as-of day.
        conditions += [Obligation.effective_deadline < filters.as_of, Obligation.waived_reason.is_(None),
                       ~settled(filters.as_of)]
    return conditions


def settled(as_of: date) -> ColumnElement[bool]:
    """The obligation has an accepted submission that no incomplete mark follows, as of that day.

    A pruning filter only: it may keep too much (ties on the time received), never too little, and
    status_of has the last word. At provincial scale it spares loading the settled majority.
    """
    end = datetime.combine(as_of + timedelta(days=1), time())
    accepted, later = aliased(Submission), aliased(Submission)
    undone = exists().where(
        later.obligation_id == accepted.obligation_id, later.state == "incomplete", later.id != accepted.id,
        later.received_at >= accepted.received_at, later.received_at < end,
    )
    return exists().where(
        accepted.obligation_id == Obligation.id, accepted.state == "accepted", accepted.received_at < end, ~undone,
    )


def load_rows(
    session: Session,
    filters: Filters,
    workdays: WorkCalendar,
    due_soon_working_days: int,
    *,
    overdue_only: bool = False,
) -> list[StatusRow]:
    """Every matching active obligation of an active unit, with its status on the as-of day.

    ``overdue_only`` keeps only what needs chasing, deciding before any row object is built: at
    provincial scale most obligations are settled and would only cost time.
    """
    conditions = _conditions(filters, overdue_only)
    # Core rows straight from the connection: the ORM's row processing doubles the cost of 50,000 rows.
    connection = session.connection()
    obligations = connection.execute(
        select(Obligation.id, Obligation.code, Obligation.title, Obligation.year, Obligation.nominal_deadline,
               Obligation.effective_deadline, Obligation.waived_reason, Unit.id.label("unit_id"),
               Unit.code.label("unit_code"), Unit.name.label("unit_name"), Unit.kind)
        .join(Unit, Obligation.unit_id == Unit.id)
        .where(*conditions)
    ).all()
    if not obligations:
        return []
    # The same conditions again rather than an IN list of ids: 50,000 ids would exceed SQLite's and
    # PostgreSQL's parameter limits, and the join costs the database little.
    submissions: dict[int, list[SubmissionFacts]] = defaultdict(list)
    for row in connection.execute(
        select(Submission.obligation_id, Submission.received_at, Submission.state, Submission.doc_no,
               Submission.missing)
        .join(Obligation, Submission.obligation_id == Obligation.id)
        .join(Unit, Obligation.unit_id == Unit.id)
        .where(*conditions, Submission.state != "reverted")
        .order_by(Submission.obligation_id, Submission.received_at, Submission.id)
    ):
        submissions[row[0]].append(SubmissionFacts(*row[1:]))
    heads = _unit_heads(session, filters)
    memo = _MemoWorkdays(workdays)
    # Obligations with nothing received share their status with every unit owing the same dates.
    unsent: dict[ObligationFacts, Status] = {}
    rows = []
    for oid, code, title, year, nominal, effective, waived_reason, unit_id, unit_code, unit_name, kind in obligations:
        facts = ObligationFacts(nominal, effective, waived_reason is not None)
        received = submissions.get(oid)
        if received:
            status = status_of(facts, received, filters.as_of, memo, due_soon_working_days)
        elif facts in unsent:
            status = unsent[facts]
        else:
            status = unsent[facts] = status_of(facts, (), filters.as_of, memo, due_soon_working_days)
        if overdue_only and not status.needs_chasing:
            continue
        rows.append(StatusRow(oid, code, title, year, nominal, effective, unit_code, unit_name, kind,
                              heads.get(unit_id), status))
    return rows


def _unit_heads(session: Session, filters: Filters) -> dict[int, str]:
    query = (
        select(Person.unit_id, Person.name)
        .join(Unit, Person.unit_id == Unit.id)
        .where(Person.role == "unit_head", Person.active.is_(True), Unit.active.is_(True))
        .order_by(Person.id)
    )
    if filters.kind is not None:
        query = query.where(Unit.kind == filters.kind)
    if filters.units is not None:
        query = query.where(Unit.id.in_(sorted(filters.units)))
    heads: dict[int, str] = {}
    for unit_id, name in session.connection().execute(query):
        # A unit with two heads on record (a hand-over) is named by the first one entered.
        if unit_id is not None:
            heads.setdefault(unit_id, name)
    return heads


def _deadline_key(row: StatusRow) -> tuple[int, date, str, str, str]:
    deadline = row.effective_deadline or date.max
    return (row.year, deadline, row.obligation, row.kind, row.unit)


def status_rows(session: Session, filters: Filters, workdays: WorkCalendar, due_soon: int) -> list[StatusRow]:
    """The `status` view: report by report in deadline order, units by kind and code within each."""
    return sorted(load_rows(session, filters, workdays, due_soon), key=_deadline_key)


def overdue_rows(session: Session, filters: Filters, workdays: WorkCalendar, due_soon: int) -> list[StatusRow]:
    """Past the effective deadline with nothing acceptable received, the most overdue first."""
    return most_overdue_first(load_rows(session, filters, workdays, due_soon, overdue_only=True))


def most_overdue_first(rows: Sequence[StatusRow]) -> list[StatusRow]:
    return sorted(rows, key=lambda r: (-(r.status.working_days or 0), *_deadline_key(r)))


# How an obligation counts in the timeliness table (``owed_outcome``).
Outcome = Literal["on_time", "late", "missing", "waived"]


def owed_outcome(row: StatusRow, as_of: date) -> Outcome | None:
    """How one obligation counts on the as-of day: on time, late or missing (each owed), waived, or
    None while it is not owed yet.

    An obligation is owed once its effective deadline has passed, or arrived with the report in hand.
    One still open on its last day is not counted yet, so owed = on time + late + missing always holds.
    The timeliness table and the console's charts count with this one rule.
    """
    code = row.status.code
    if code == "waived":
        return "waived"
    if code == "submitted_on_time":
        return None if row.effective_deadline is None or row.effective_deadline > as_of else "on_time"
    if code == "submitted_late":
        return "late"
    if code == "overdue" or (code == "incomplete" and row.status.working_days is not None):
        return "missing"
    return None


_TALLY_SLOT = {"on_time": 1, "late": 2, "missing": 3}


def timeliness(rows: Sequence[StatusRow], as_of: date) -> list[TimelinessRow]:
    """Per unit, for the year-end emulation review; the best record first (``owed_outcome`` says what
    each obligation counts as)."""
    tally: dict[tuple[str, str, str], list[int]] = {}
    for row in rows:
        counts = tally.setdefault((row.unit, row.unit_name, row.kind), [0, 0, 0, 0, 0, 0])
        outcome = owed_outcome(row, as_of)
        if outcome is None:
            continue
        if outcome == "waived":
            counts[5] += 1
            continue
        counts[_TALLY_SLOT[outcome]] += 1
        counts[0] += 1
        counts[4] += row.status.working_days or 0
    result = [TimelinessRow(unit, name, kind, *counts) for (unit, name, kind), counts in tally.items()]
    return sorted(result, key=lambda r: (r.missing, r.late, r.days_late, -r.on_time, r.kind, r.unit))


def known_codes(session: Session, year: int | None, as_of: date) -> list[str]:
    """Obligation codes on record, for the message that refuses an unknown --obligation."""
    query = select(Obligation.code).where(Obligation.active.is_(True)).distinct()
    query = query.where(Obligation.year == year) if year is not None else query.where(Obligation.year <= as_of.year)
    return sorted(session.scalars(query).all())


def known_kinds(session: Session) -> list[str]:
    return sorted(session.scalars(select(func.distinct(Unit.kind))).all())
