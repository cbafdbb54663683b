"""A directive as data (what the YAML says) and the dated obligations it yields for one year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from calendars.rules import DateRange, Deadline, Period, Window


def fill(template: str, year: int) -> str:
    """Put the report year into a text from the directive ("Báo cáo CCHC Quý I/{year}")."""
    return template.format(year=year, previous_year=year - 1, next_year=year + 1)


@dataclass(frozen=True)
class Note:
    text: str
    line: int
    # An oddity is something the text says that looks wrong or is missing; lint reports it.
    oddity: bool = False


@dataclass(frozen=True)
class KindTerms:
    """What one kind of unit owes for one obligation: deadline, windows, content."""

    kind: str
    deadline: Deadline
    window: Window | None
    estimate_window: Window | None
    content: tuple[str, ...]
    notes: tuple[Note, ...]
    line: int


@dataclass(frozen=True)
class ObligationSpec:
    id: str
    title: str
    period: Period
    on_request: bool
    terms: tuple[KindTerms, ...]
    line: int


@dataclass(frozen=True)
class Section:
    """One section of Phụ lục 3B that a monitoring office supplies."""

    code: str
    title: str


@dataclass(frozen=True)
class MonitorOffice:
    code: str
    name: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Directive:
    id: str
    year: int
    title: str
    issued_by: str
    source: str
    unit_kinds: dict[str, str]
    how_to_send: dict[str, str]
    monitor_offices: tuple[MonitorOffice, ...]
    notes: tuple[Note, ...]
    obligations: tuple[ObligationSpec, ...]
    path: Path | None = None

    @property
    def file_label(self) -> str:
        return str(self.path) if self.path else f"<{self.id}>"


@dataclass(frozen=True)
class DatedObligation:
    """One obligation for one unit kind in one year, with every date resolved."""

    directive: str
    year: int
    id: str
    kind: str
    title: str
    period: str
    period_range: DateRange
    nominal_deadline: date | None
    effective_deadline: date | None
    deadline_wording: str
    deadline_interpreted: bool
    window: DateRange | None
    estimate_window: DateRange | None
    on_request: bool
    content: tuple[str, ...]
    notes: tuple[str, ...]
    how_to_send: str
    projected: bool

    @property
    def rolled_forward(self) -> bool:
        return self.nominal_deadline != self.effective_deadline


@dataclass(frozen=True)
class YearCalendar:
    directive: Directive
    year: int
    projected: bool
    obligations: tuple[DatedObligation, ...] = field(default=())

    def for_kind(self, kind: str | None) -> tuple[DatedObligation, ...]:
        return tuple(o for o in self.obligations if kind is None or o.kind == kind)
