"""The bot's answers that need no database: /lich (the year's reporting calendar) and /trogiup (help by role).

/lich shows the calendar `reminder-service calendar show` prints, from the same YearCalendar and the
same pieces of ``present.calendar_view``; no date is derived here.
"""

from __future__ import annotations

from dataclasses import dataclass

from calendars.library import DirectiveLibrary
from calendars.model import DatedObligation, YearCalendar
from calendars.workdays import WorkCalendar
from reminder_service.adapters.telegram.answers import Answer, render_answer
from reminder_service.app import App
from reminder_service.config import CalendarSettings
from reminder_service.services.present.calendar_view import (
    INTERPRETED_MARK,
    INTERPRETED_NOTE,
    ON_REQUEST,
    ROLL_RULE,
    calendar_heading,
)

HELP_ROLES = frozenset({"receiver", "leadership", "unit_head", "focal"})


@dataclass(frozen=True)
class KindCalendar:
    """The obligations of one kind of unit, under the directive's name for that kind."""

    code: str
    name: str
    obligations: tuple[DatedObligation, ...]


def year_calendar(source: App | DirectiveLibrary, workdays: WorkCalendar, year: int,
                  directive: str | None = None) -> YearCalendar:
    """The App's own (cached) calendar when it is the one asked for; otherwise built from the library."""
    if isinstance(source, App):
        if directive is None and workdays is source.workdays:
            return source.calendar(year)
        return source.library.calendar(directive or source.config.calendar.directive, year, workdays)
    return source.calendar(directive or CalendarSettings().directive, year, workdays)


def calendar_answer(source: App | DirectiveLibrary, workdays: WorkCalendar, year: int,
                    *, directive: str | None = None) -> Answer:
    """/lich: each report of the year for each kind of unit, with its data window (and estimate window),
    the nominal deadline as written and the effective one."""
    calendar = year_calendar(source, workdays, year, directive)
    kinds = [
        KindCalendar(code, name, calendar.for_kind(code))
        for code, name in calendar.directive.unit_kinds.items() if calendar.for_kind(code)
    ]
    # The kind by the directive's own name: its code (commune, monitor) is English.
    kind_names = calendar.directive.unit_kinds
    notes = [f"{o.id}, {kind_names.get(o.kind, o.kind)}: {note}" for o in calendar.obligations for note in o.notes]
    notes.extend(note.text for note in calendar.directive.notes)
    heading = calendar_heading(calendar)
    monitors = any(o.kind == "monitor" for o in calendar.obligations)
    offices = calendar.directive.monitor_offices if monitors else ()
    return render_answer(
        "calendar", title=heading[0], heading=heading[1:], kinds=kinds, on_request=ON_REQUEST,
        interpreted_mark=INTERPRETED_MARK, roll_rule=ROLL_RULE, notes=notes, offices=offices,
        interpreted_note=INTERPRETED_NOTE if any(o.deadline_interpreted for o in calendar.obligations) else None,
    )


def help_answer(role: str | None, *, office_name: str = "Phòng Nội vụ") -> Answer:
    """/trogiup: what this person may ask, by role. Anyone not linked (or of a role the bot does not
    serve) learns only how to link a chat: nothing about units or reports."""
    return render_answer("help", role=role if role in HELP_ROLES else None, office_name=office_name)
