"""What the bot answers /quahan, /tinhhinh, /sapden, /donvi and /cuatoi with: the CLI's read side, in chat form.

Every figure comes from ``readside`` (and through it the pure ``status_of``), the same calls `status` and
`overdue` make, so the bot and the CLI can never disagree; the status wording is the CLI's. The words
are in ``message_templates/bot/``, rendered with autoescaping for Telegram's HTML parse mode. An answer
is a header and a tuple of lines, each opening and closing its own tags, so the bot may cut it into
messages under Telegram's 4,096 characters between any two lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any

import jinja2
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from calendars.words import number
from calendars.workdays import WorkCalendar
from reminder_service.config import StatusSettings
from reminder_service.domain.access import Scope
from reminder_service.domain.messages.render import new_environment
from reminder_service.domain.status import STATUS_CODES, StatusCode, StatusRow
from reminder_service.domain.textfold import fold
from reminder_service.services.db.models import Obligation, Unit
from reminder_service.services.present.status_view import STATUS_LABELS, as_of_line, status_text
from reminder_service.services.readside import Filters, known_codes, overdue_rows, status_rows

DUE_SOON = StatusSettings().due_soon_working_days
# Unit names listed per status in /tinhhinh before "… và N đơn vị khác": a chat is no spreadsheet.
LIST_LIMIT = 20
MATCH_LIMIT = 20
# Counted in /tinhhinh even at zero: the receiver's four questions. The others appear when present.
ALWAYS_COUNTED: frozenset[StatusCode] = frozenset({"submitted_on_time", "submitted_late", "overdue", "not_yet_due"})
OWING: frozenset[StatusCode] = frozenset({"not_yet_due", "due_soon", "overdue", "incomplete"})


@dataclass(frozen=True)
class Answer:
    """A reply in Telegram's HTML: every value escaped, every line closing the tags it opens."""

    header: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class UnitMatch:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Category:
    """The units of one report that stand in one status, for /tinhhinh's counts and lists."""

    code: StatusCode
    label: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """One report with one pair of deadlines and the rows of the units that owe it."""

    year: int
    code: str
    title: str
    nominal_deadline: date | None
    effective_deadline: date | None
    rows: tuple[StatusRow, ...]

    @property
    def categories(self) -> list[Category]:
        names: dict[StatusCode, list[str]] = {code: [] for code in STATUS_CODES}
        for row in self.rows:
            names[row.status.code].append(row.unit_name)
        return [Category(code, STATUS_LABELS[code], tuple(names[code]))
                for code in STATUS_CODES if names[code] or code in ALWAYS_COUNTED]

    def count(self, *codes: StatusCode) -> int:
        return sum(row.status.code in codes for row in self.rows)


@cache
def _environment() -> jinja2.Environment:
    env = new_environment(autoescape=True)
    env.filters.update(status_text=status_text, number=number)
    env.globals.update(owing=OWING, list_limit=LIST_LIMIT)
    return env


def render_answer(name: str, **values: Any) -> Answer:
    """``message_templates/bot/<name>.j2`` rendered twice, as ``part`` "header" and "lines"; blank lines
    dropped, since the bot lays out the lines itself."""
    template = _environment().get_template(f"bot/{name}.j2")
    header = _lines(template.render(part="header", **values))
    return Answer("\n".join(header), _lines(template.render(part="lines", **values)))


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _code(obligation: str | None) -> str | None:
    code = obligation.strip().lower() if obligation is not None else ""
    return code or None


def _groups(rows: Iterable[StatusRow]) -> list[Group]:
    """Rows by report, oldest deadline first, keeping the read side's order of units within each."""
    grouped: dict[tuple[int, str, str, date | None, date | None], list[StatusRow]] = {}
    for row in rows:
        key = (row.year, row.obligation, row.title, row.nominal_deadline, row.effective_deadline)
        grouped.setdefault(key, []).append(row)
    order = sorted(grouped, key=lambda k: (k[0], k[4] or date.max, k[3] or date.max, k[1], k[2]))
    return [Group(*key, rows=tuple(grouped[key])) for key in order]


def _refusal(session: Session, code: str | None, year: int | None, today: date) -> Answer | None:
    """An unknown report code is said to be unknown, not answered with an empty list that reads as good news."""
    if code is None:
        return None
    codes = known_codes(session, year, today)
    if code in codes:
        return None
    return render_answer("unknown_obligation", code=code, year=year, today=today, codes=codes)


def overdue_answer(session: Session, workdays: WorkCalendar, today: date, scope: Scope, obligation: str | None,
                   *, due_soon: int = DUE_SOON) -> Answer:
    """/quahan: what `reminder-service overdue --as-of TODAY [--obligation CODE]` lists, by report."""
    code = _code(obligation)
    if refusal := _refusal(session, code, None, today):
        return refusal
    rows = overdue_rows(session, Filters(as_of=today, obligation=code, units=scope.unit_ids), workdays, due_soon)
    return render_answer("overdue", as_of=as_of_line(today), obligation=code, groups=_groups(rows),
                         reports=len(rows), units=len({row.unit for row in rows}))


def status_answer(session: Session, workdays: WorkCalendar, today: date, scope: Scope, obligation: str | None,
                  year: int, *, due_soon: int = DUE_SOON) -> Answer:
    """/tinhhinh: per report of the year, how many units stand where, then who."""
    code = _code(obligation)
    if refusal := _refusal(session, code, year, today):
        return refusal
    rows = status_rows(session, Filters(as_of=today, year=year, obligation=code, units=scope.unit_ids), workdays,
                       due_soon)
    return render_answer("status", as_of=as_of_line(today), year=year, obligation=code, groups=_groups(rows))


def upcoming_answer(session: Session, workdays: WorkCalendar, today: date, scope: Scope, days: int,
                    *, due_soon: int = DUE_SOON) -> Answer:
    """/sapden: reports with a nominal or effective deadline from today to today + ``days``, both included."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    end = today + timedelta(days=days)
    # Which reports fall due first, so the read side loads those reports only, not the whole year.
    due = or_(Obligation.nominal_deadline.between(today, end), Obligation.effective_deadline.between(today, end))
    reports = session.execute(
        select(Obligation.year, Obligation.code).where(Obligation.active.is_(True), due).distinct()
    ).all()
    rows: list[StatusRow] = []
    for year, code in sorted(reports):
        rows += status_rows(session, Filters(as_of=today, year=year, obligation=code, units=scope.unit_ids),
                            workdays, due_soon)
    # A report's dates differ between kinds of unit (the monitors' annual report): each row is checked.
    rows = [row for row in rows
            if _within(row.nominal_deadline, today, end) or _within(row.effective_deadline, today, end)]
    return render_answer("upcoming", today=today, end=end, days=days, groups=_groups(rows),
                         own=scope.unit_ids is not None)


def _within(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


@lru_cache(maxsize=65_536)
def _folded_name(name: str) -> str:
    # Folding 10,000 names costs tens of milliseconds; a running bot folds each name once.
    return " " + fold(name)


def find_units(session: Session, query: str, scope: Scope, *, limit: int = MATCH_LIMIT) -> list[UnitMatch]:
    """/donvi: the active unit whose code is ``query`` (any case); failing that, the units whose name
    contains it from the start of a word, ignoring case and diacritics ("an binh" finds "UBND xã An Bình"
    but not "UBND xã Tân Bình"). One query; at most ``limit`` matches, an exact name first."""
    wanted = query.strip()
    if not wanted or (scope.unit_ids is not None and not scope.unit_ids):
        return []
    statement = select(Unit.id, Unit.code, Unit.name).where(Unit.active.is_(True)).order_by(Unit.code)
    if scope.unit_ids is not None:
        statement = statement.where(Unit.id.in_(scope.unit_ids))
    units = session.execute(statement).all()
    exact = [UnitMatch(*unit) for unit in units if unit.code.casefold() == wanted.casefold()]
    if exact:
        return exact[:limit]
    needle = " " + fold(wanted)
    if needle == " ":
        return []
    found = [UnitMatch(*unit) for unit in units if needle in _folded_name(unit.name)]
    found.sort(key=lambda m: (_folded_name(m.name) != needle, _folded_name(m.name), m.code))
    return found[:limit]


def unit_matches_answer(query: str, matches: Sequence[UnitMatch], *, limit: int = MATCH_LIMIT) -> Answer:
    """/donvi when the query names no single unit: the matches to choose from, or none."""
    return render_answer("unit_matches", query=query.strip(), matches=matches, limit=limit)


def unit_answer(session: Session, workdays: WorkCalendar, today: date, unit_id: int, year: int,
                *, due_soon: int = DUE_SOON) -> Answer:
    """/donvi and /cuatoi: one unit's reports of the year, each with its status."""
    unit = session.execute(select(Unit.code, Unit.name, Unit.kind, Unit.active).where(Unit.id == unit_id)).first()
    if unit is None or not unit.active:
        return render_answer("unit", unit=None, year=year, as_of=as_of_line(today), rows=(), head=None)
    rows = status_rows(session, Filters(as_of=today, year=year, units=frozenset({unit_id})), workdays, due_soon)
    head = rows[0].unit_head if rows else None
    return render_answer("unit", unit=unit, year=year, as_of=as_of_line(today), rows=rows, head=head)
