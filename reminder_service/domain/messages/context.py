"""Everything one reminder says, built from plain row values and the year's calendar.

``reminder_context`` is a pure function: no session, no clock. The daemon loads obligations, units and
people in bulk and calls it once per message; the preview command calls it for one. Rows may be ORM
objects, Core rows or anything else with the attributes the protocols below name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter
from typing import Literal, Protocol

from calendars.model import DatedObligation, Directive, YearCalendar, fill
from calendars.rules import DateRange

# User-facing fallbacks for obligations the directive does not describe (ad hoc requests): the
# request itself is what says what to send.
ADHOC_CONTENT = "Theo văn bản yêu cầu."
HOW_TO_SEND_DEFAULT = (
    "Báo cáo do thủ trưởng đơn vị ký ban hành và gửi đến {office} qua hệ thống quản lý văn bản và hồ sơ công việc."
)

DayOff = Literal["weekend", "holiday", "office"]


class ObligationValues(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def year(self) -> int: ...
    @property
    def origin(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def nominal_deadline(self) -> date | None: ...
    @property
    def effective_deadline(self) -> date | None: ...
    @property
    def window_start(self) -> date | None: ...
    @property
    def window_end(self) -> date | None: ...
    @property
    def estimate_start(self) -> date | None: ...
    @property
    def estimate_end(self) -> date | None: ...
    @property
    def projected(self) -> bool: ...


class UnitValues(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def sections(self) -> str: ...


class RecipientValues(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...


class MessageWorkdays(Protocol):
    """The working-day facts a message states (WorkCalendar provides them)."""

    def working_days_between(self, start: date, end: date) -> int: ...

    def holiday_name(self, day: date) -> str | None: ...


def _attributes(protocol: type) -> tuple[str, ...]:
    return tuple(name for name, value in vars(protocol).items() if isinstance(value, property))


# What a message form depends on besides the batch's fixed inputs (calendar, office, today, working days).
# Read off the protocols, so a field added there is part of the form's key without anyone remembering
# to add it here; the names are left out because messages.memo fills them in.
_OBLIGATION_FACTS = attrgetter(*_attributes(ObligationValues))
_UNIT_FACTS = attrgetter(*(name for name in _attributes(UnitValues) if name not in ("code", "name")))


def row_facts(obligation: ObligationValues, unit: UnitValues) -> tuple[object, ...]:
    """The obligation's and unit's part of ``reminder_facts``, for callers that reuse it per obligation."""
    return (_OBLIGATION_FACTS(obligation), _UNIT_FACTS(unit))


def reminder_facts(rows: tuple[object, ...], recipient: RecipientValues | None, *, role: str,
                   missing: str | None, leadership_informed: bool, reminder_round: int) -> tuple[object, ...]:
    """Everything ``reminder_context`` reads from its per-message inputs except the names (the unit's
    code and name, the person's name): two messages with equal facts differ only in those names.
    ``rows`` is ``row_facts(obligation, unit)``."""
    return (rows, recipient is None, recipient.role if recipient is not None else role, missing,
            leadership_informed, reminder_round)


@dataclass(frozen=True)
class Section:
    """One Phụ lục 3B section a monitoring office supplies; ``title`` is empty if the directive has none."""

    code: str
    title: str


@dataclass(frozen=True)
class ReminderContext:
    office_name: str
    # The body that issued the directive ("UBND huyện"): whose leadership an escalation reaches.
    issuer: str
    # None when nobody holds the role on record; the templates then address the role itself.
    recipient_name: str | None
    recipient_role: str
    unit_code: str
    unit_name: str
    unit_kind: str
    unit_kind_name: str
    obligation_code: str
    adhoc: bool
    title: str
    period: str
    year: int
    window: DateRange | None
    estimate_window: DateRange | None
    nominal_deadline: date | None
    effective_deadline: date | None
    # Why the nominal day is no working day, when the deadline rolled forward (Civil Code art. 148(5)).
    day_off: DayOff | None
    holiday_name: str | None
    deadline_interpreted: bool
    deadline_wording: str
    today: date
    # Working days from today through the nominal deadline, today included; None once it has passed.
    working_days_left: int | None
    # Working days since the effective deadline; None until it has passed.
    working_days_overdue: int | None
    content: tuple[str, ...]
    sections: tuple[Section, ...]
    how_to_send: str
    notes: tuple[str, ...]
    missing: str | None
    projected: bool
    directive_year: int
    # Escalation only: whether leadership actually hears of this delay (see Decision.leadership_informed),
    # and which time the unit is chased at this stage ("Đôn đốc lần 2").
    leadership_informed: bool = False
    reminder_round: int = 1

    @property
    def rolled_forward(self) -> bool:
        return self.day_off is not None

    @property
    def overdue(self) -> bool:
        return self.working_days_overdue is not None

    @property
    def receipt_goes_on(self) -> bool:
        """Reports are still received after today: on the last working day before a deadline that falls
        on a day off, "today is the deadline" would be untrue, since receipt runs to the effective day."""
        return self.effective_deadline is not None and self.today < self.effective_deadline


def dated_obligation(calendar: YearCalendar, code: str, kind: str) -> DatedObligation | None:
    """The calendar's entry for one obligation code and unit kind, if the directive has one."""
    return next((o for o in calendar.obligations if o.id == code and o.kind == kind), None)


def section_titles(directive: Directive) -> dict[str, str]:
    """Phụ lục 3B section code -> title, over every monitoring office the directive lists."""
    return {section.code: section.title for office in directive.monitor_offices for section in office.sections}


def _day_off(nominal: date | None, effective: date | None,
             workdays: MessageWorkdays) -> tuple[DayOff | None, str | None]:
    if nominal is None or effective is None or nominal == effective:
        return None, None
    holiday = workdays.holiday_name(nominal)
    if holiday is not None:
        return "holiday", holiday
    return ("weekend" if nominal.weekday() >= 5 else "office"), None


def _range(start: date | None, end: date | None) -> DateRange | None:
    return DateRange(start, end) if start is not None and end is not None else None


def reminder_context(
    obligation: ObligationValues,
    unit: UnitValues,
    recipient: RecipientValues | None,
    *,
    calendar: YearCalendar,
    office_name: str,
    today: date,
    workdays: MessageWorkdays,
    role: str = "unit_head",
    missing: str | None = None,
    leadership_informed: bool = False,
    reminder_round: int = 1,
) -> ReminderContext:
    """The facts of one reminder. Dates come from the obligation row (what the ladder runs on); what
    to send and how come from the calendar, except for ad hoc rows, which the directive cannot know.
    ``recipient`` None means nobody holds ``role`` for this unit; a recipient's own role wins."""
    directive = calendar.directive
    adhoc = obligation.origin == "adhoc"
    dated = dated_obligation(calendar, obligation.code, unit.kind)
    # An ad hoc row with a directive's on-request code (a supplement) still has the directive's content.
    described = dated if dated is not None and (not adhoc or dated.on_request) else None
    nominal, effective = obligation.nominal_deadline, obligation.effective_deadline
    day_off, holiday = _day_off(nominal, effective, workdays)
    left = overdue = None
    if nominal is not None and today <= nominal:
        left = workdays.working_days_between(today - timedelta(days=1), nominal)
    if effective is not None and today > effective:
        overdue = workdays.working_days_between(effective, today)
    sections: tuple[Section, ...] = ()
    if described is not None and unit.sections:
        titles = section_titles(directive)
        sections = tuple(Section(code, titles.get(code, "")) for code in unit.sections.split(";") if code)
    how_to_send = (dated.how_to_send if dated is not None else "") or fill(
        directive.how_to_send.get(unit.kind, ""), obligation.year)
    return ReminderContext(
        office_name=office_name,
        issuer=directive.issued_by,
        recipient_name=recipient.name if recipient is not None else None,
        recipient_role=recipient.role if recipient is not None else role,
        unit_code=unit.code,
        unit_name=unit.name,
        unit_kind=unit.kind,
        unit_kind_name=directive.unit_kinds.get(unit.kind, unit.kind),
        obligation_code=obligation.code,
        adhoc=adhoc,
        title=obligation.title,
        period=obligation.period,
        year=obligation.year,
        window=_range(obligation.window_start, obligation.window_end),
        estimate_window=_range(obligation.estimate_start, obligation.estimate_end),
        nominal_deadline=nominal,
        effective_deadline=effective,
        day_off=day_off,
        holiday_name=holiday,
        deadline_interpreted=described.deadline_interpreted if described is not None else False,
        deadline_wording=described.deadline_wording if described is not None else "",
        today=today,
        working_days_left=left,
        working_days_overdue=overdue,
        content=described.content if described is not None and described.content else (ADHOC_CONTENT,),
        sections=sections,
        how_to_send=how_to_send or HOW_TO_SEND_DEFAULT.format(office=office_name),
        notes=described.notes if described is not None else (),
        missing=missing,
        projected=obligation.projected,
        directive_year=directive.year,
        leadership_informed=leadership_informed,
        reminder_round=reminder_round,
    )
