"""A year's deadlines as an iCalendar (RFC 5545) file for Google Calendar, Outlook and Thunderbird.

The output is a pure function of its arguments: the export time comes in as ``stamp`` and nothing
depends on the process time zone, so the same calendar always yields the same bytes and re-importing
it updates events in place (stable UIDs) instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import jinja2
from icalendar import Alarm, Calendar, Event
from icalendar.enums import TRANSP

from calendars.model import DatedObligation, YearCalendar
from calendars.words import weekday_dmy
from calendars.workdays import WorkCalendar
from reminder_service.domain.messages.render import new_environment

PRODID = "-//reminder-service//CCHC deadlines//VI"
UID_DOMAIN = "reminder-service"
TIMEZONE = "Asia/Ho_Chi_Minh"
ALARM_HOUR = time(8, 0)
DESCRIPTION_TEMPLATE = "calendar/ics_description.txt.j2"

# One-line labels; the long, structured text is in the Jinja2 template.
CALENDAR_NAME = "Lịch báo cáo CCHC năm {year}"
SUMMARY = "Hạn nộp: {title} – {unit}"
ALARM_TEXT = "Sắp đến hạn nộp {title} – {unit}: {deadline}"
CATEGORIES = ("CCHC", "Hạn nộp báo cáo")


@cache
def _environment() -> jinja2.Environment:
    return new_environment(autoescape=False)


def event_uid(obligation: DatedObligation) -> str:
    """Stable across exports, so a re-import replaces the event rather than adding a second one."""
    return f"{obligation.directive}-{obligation.year}-{obligation.id}-{obligation.kind}@{UID_DOMAIN}"


def alarm_day(nominal: date, workdays: WorkCalendar, working_days: int) -> date:
    """The working day ``working_days`` before ``nominal``; with 0, the last working day on or before it."""
    if working_days < 0:
        raise ValueError(f"alarm_working_days must be >= 0, got {working_days}")
    if working_days == 0:
        return workdays.on_or_before(nominal)
    return workdays.shift(nominal, -working_days)


def alarm_trigger(nominal: date, day: date) -> timedelta:
    """Offset from the all-day event's start (local midnight of ``nominal``) to 08:00 on ``day``.

    A relative trigger is what Google Calendar, Outlook and Thunderbird all honour on all-day events;
    they resolve it against the floating start in the viewer's own zone, which is what "08:00 at the
    office" means. An absolute UTC trigger would also fire at the wrong hour for a viewer abroad.
    """
    return datetime.combine(day, ALARM_HOUR) - datetime.combine(nominal, time())


def calendar_to_ics(
    calendar: YearCalendar,
    obligations: Sequence[DatedObligation],
    workdays: WorkCalendar,
    *,
    unit_kind_names: Mapping[str, str],
    alarm_working_days: int = 3,
    stamp: datetime,
) -> bytes:
    """One all-day event per dated obligation, on its nominal deadline, with a reminder alarm.

    On-request obligations have no date until someone asks for them, so they are left out.
    ``stamp`` (the export time, DTSTAMP) must be timezone-aware; it is written in UTC.
    """
    # icalendar writes a naive DTSTAMP as if it were UTC: a naive local "now" would be 7 hours off.
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError("stamp must be timezone-aware")
    utc_stamp = stamp.astimezone(UTC)
    dated = sorted(
        (o for o in obligations if o.nominal_deadline is not None),
        key=lambda o: (o.nominal_deadline, o.id, o.kind),
    )
    events = [_event(calendar, o, workdays, unit_kind_names, alarm_working_days, utc_stamp) for o in dated]
    kinds = sorted({o.kind for o in obligations})
    ical = Calendar.new(
        prodid=PRODID,
        version="2.0",
        calscale="GREGORIAN",
        method="PUBLISH",
        name=CALENDAR_NAME.format(year=calendar.year),
        # Calendar.new would otherwise invent a random UID on every export.
        uid=f"{calendar.directive.id}-{calendar.year}-{'-'.join(kinds) or 'none'}@{UID_DOMAIN}",
        subcomponents=events,
    )
    # Not RFC 5545, but Google and Outlook read it as the zone for floating times.
    ical["X-WR-TIMEZONE"] = TIMEZONE
    data: bytes = ical.to_ical()
    return data


def _event(
    calendar: YearCalendar,
    obligation: DatedObligation,
    workdays: WorkCalendar,
    unit_kind_names: Mapping[str, str],
    alarm_working_days: int,
    stamp: datetime,
) -> Event:
    nominal = obligation.nominal_deadline
    assert nominal is not None
    unit = unit_kind_names.get(obligation.kind, obligation.kind)
    description = (
        _environment()
        .get_template(DESCRIPTION_TEMPLATE)
        .render(
            o=obligation,
            unit_name=unit,
            directive_year=calendar.directive.year,
            projected=obligation.projected,
        )
        .strip()
    )
    alarm = Alarm.new(description=ALARM_TEXT.format(title=obligation.title, unit=unit, deadline=weekday_dmy(nominal)))
    alarm.ACTION = "DISPLAY"
    alarm.TRIGGER = alarm_trigger(nominal, alarm_day(nominal, workdays, alarm_working_days))
    return Event.new(
        uid=event_uid(obligation),
        stamp=stamp,
        start=nominal,
        end=nominal + timedelta(days=1),
        summary=SUMMARY.format(title=obligation.title, unit=unit),
        description=description,
        categories=CATEGORIES,
        transparency=TRANSP.TRANSPARENT,
        subcomponents=[alarm],
    )
