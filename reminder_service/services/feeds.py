"""Calendar subscriptions: the reporting calendar at a secret address that Google Calendar or Outlook
fetches on its own, without signing in.

A feed is for every unit of a kind, or for one unit (that unit's kind's calendar). Its address carries
a 256-bit secret shown once, when it is made; only its SHA-256 is stored (as ``signin`` does), so a copy
of the database gives no address away, and a lost address is replaced by making a new one. Revoked, an
address answers nothing. Who may make which feed (``may_create``) and change it (``may_manage``) are
pure rules on the person, the same whether the console or a test asks.

The body is ``present.ics.calendar_to_ics`` of this year and the next: a subscribed calendar shows
January's deadlines in December already, and drops a year's events once that year is over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, vDuration
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from calendars.model import YearCalendar
from calendars.workdays import WorkCalendar
from reminder_service.domain.access import Viewer
from reminder_service.domain.clock import TIMEZONE, wall
from reminder_service.domain.errors import UserError
from reminder_service.domain.textfold import fold
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.feeds import CalendarFeed
from reminder_service.services.db.models import Person, Unit
from reminder_service.services.present.ics import UID_DOMAIN, calendar_to_ics
from reminder_service.services.signin import digest, new_secret

FEED_PATH = "/lich/ics/"
FEED_NAME = "Lịch báo cáo CCHC – {subject}"
# Years in a feed, from this one: next year's plan is due in January, and people plan in December.
YEARS = 2
# How often calendar applications are asked to fetch again (Outlook reads X-PUBLISHED-TTL, Apple
# REFRESH-INTERVAL; Google keeps its own pace): deadlines change only when a directive or a day off does.
REFRESH = timedelta(hours=12)
# Each deadline's reminder, in working days before it, at 08:00 (as `calendar ics` exports by default).
ALARM_WORKING_DAYS = 3
# A fetch writes its time at most this often: a misconfigured client polling every second is not a write each.
_TOUCH_EVERY = timedelta(minutes=5)
_SECRET = re.compile(r"[A-Za-z0-9_-]{20,64}")


class NotPermitted(Exception):
    """The person may not do this: the message (Vietnamese) says what they may do instead."""


@dataclass(frozen=True)
class Subject:
    """What a feed is for: every unit of ``kind``, or the unit ``unit_id``; exactly one is given."""

    kind: str | None = None
    unit_id: int | None = None


def names_any_unit(viewer: Viewer) -> bool:
    """Whether the person may make a feed for whichever unit they name (the receiver), not just their own."""
    return viewer.writes


def may_create(viewer: Viewer, subject: Subject) -> bool:
    """The receiver: any feed. Leadership: a kind's. A unit head or focal officer: their own unit's."""
    if names_any_unit(viewer):
        return True
    if subject.kind is not None:
        return viewer.role == "leadership"
    units = viewer.scope.unit_ids
    return units is not None and subject.unit_id in units


def sees(viewer: Viewer, unit_id: int | None) -> bool:
    """Whether the feed is listed for this person: every feed for the office, their unit's for a unit."""
    units = viewer.scope.unit_ids
    return units is None or (unit_id is not None and unit_id in units)


def may_manage(viewer: Viewer, created_by: int, unit_id: int | None) -> bool:
    """Revoke or re-create: the receiver any feed; anyone else the feeds they made and still see."""
    return viewer.writes or (created_by == viewer.person_id and sees(viewer, unit_id))


@dataclass(frozen=True)
class FeedLine:
    id: int
    kind: str | None
    unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    created_by: int
    creator: str
    created_at: datetime
    last_fetched_at: datetime | None
    manageable: bool
    # False when its unit is no longer tracked: the address then answers nothing (open_feed).
    serving: bool


def live_feeds(session: Session, viewer: Viewer) -> list[FeedLine]:
    """The feeds not revoked that this person sees, newest first."""
    query = (select(CalendarFeed, Unit.code, Unit.name, Unit.active, Person.name)
             .join(Person, CalendarFeed.created_by == Person.id)
             .outerjoin(Unit, CalendarFeed.unit_id == Unit.id)
             .where(CalendarFeed.revoked_at.is_(None)).order_by(CalendarFeed.id.desc()))
    units = viewer.scope.unit_ids
    if units is not None:
        query = query.where(CalendarFeed.unit_id.in_(list(units)))
    return [FeedLine(f.id, f.kind, f.unit_id, code, name, f.created_by, creator, f.created_at, f.last_fetched_at,
                     may_manage(viewer, f.created_by, f.unit_id), f.unit_id is None or bool(active))
            for f, code, name, active, creator in session.execute(query)]


def find_unit(session: Session, typed: str) -> Unit:
    """The active unit a person names by its code (any case) or its full name (with or without diacritics)."""
    text = " ".join(typed.split())
    if not text:
        raise UserError("hãy ghi mã hoặc tên đơn vị")
    active = select(Unit).where(Unit.active.is_(True))
    found = session.scalar(active.where(func.lower(Unit.code) == text.lower()))
    if found is not None:
        return found
    wanted = fold(text)
    named = [u for u in session.scalars(active.order_by(Unit.code)) if fold(u.name) == wanted]
    if len(named) == 1:
        return named[0]
    if named:
        codes = ", ".join(u.code for u in named[:5])
        raise UserError(f"có {len(named)} đơn vị tên «{text[:80]}» ({codes}); hãy ghi mã của đơn vị cần chọn")
    raise UserError(f"không có đơn vị đang theo dõi nào có mã hoặc tên «{text[:80]}»; hãy ghi mã đơn vị như trên "
                    "Bảng theo dõi, ví dụ TT_PHU_LOC")


@dataclass(frozen=True)
class IssuedFeed:
    """A feed just made: its secret is in ``url`` and nowhere else, shown to its maker once."""

    id: int
    subject: str
    secret: str

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}{FEED_PATH}{self.secret}.ics"


def subject_words(session: Session, subject: Subject, kinds: dict[str, str]) -> str:
    if subject.kind is not None:
        return kinds.get(subject.kind, subject.kind)
    unit = session.get(Unit, subject.unit_id)
    return unit.name if unit is not None else str(subject.unit_id)


def create_feed(session: Session, viewer: Viewer, subject: Subject, actor: Actor, now: datetime, *,
                kinds: dict[str, str], replaces: int | None = None) -> IssuedFeed:
    """A new feed for ``subject`` made by ``viewer``; ``kinds`` are the directive's unit kinds."""
    if (subject.kind is None) == (subject.unit_id is None):
        raise ValueError(f"a feed is for a kind or for a unit: {subject}")
    if subject.kind is not None and subject.kind not in kinds:
        raise UserError(f"không có loại đơn vị «{subject.kind[:40]}»; hãy chọn trong danh sách")
    if not may_create(viewer, subject):
        raise NotPermitted("Ông/Bà chỉ tạo được lịch cho đơn vị của mình." if viewer.scope.unit_ids is not None
                           else "Lãnh đạo tạo được lịch theo loại đơn vị; lịch của từng đơn vị do Phòng Nội vụ tạo.")
    if subject.unit_id is not None:
        unit = session.get(Unit, subject.unit_id)
        if unit is None or not unit.active:
            raise UserError("đơn vị này không còn được theo dõi")
    secret = new_secret()
    row = CalendarFeed(token_hash=digest(secret), kind=subject.kind, unit_id=subject.unit_id,
                       created_by=viewer.person_id, created_at=wall(now))
    session.add(row)
    session.flush()
    words = subject_words(session, subject, kinds)
    details = {"kind": subject.kind, "unit_id": subject.unit_id, "subject_name": words}
    if replaces is None:
        audit.record(session, actor, now, "calendar_feed_created", f"calendar_feed:{row.id}", **details)
    else:
        audit.record(session, actor, now, "calendar_feed_renewed", f"calendar_feed:{row.id}", replaces=replaces,
                     **details)
    return IssuedFeed(row.id, words, secret)


def _manageable(session: Session, viewer: Viewer, feed_id: int) -> CalendarFeed:
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or feed.revoked_at is not None:
        raise UserError("đường dẫn lịch này không còn (có thể đã bị thu hồi); hãy tải lại trang")
    if not sees(viewer, feed.unit_id):
        raise NotPermitted("Ông/Bà chỉ xem và thay đổi được đường dẫn lịch của đơn vị mình.")
    if not may_manage(viewer, feed.created_by, feed.unit_id):
        raise NotPermitted("Chỉ người đã tạo đường dẫn lịch này hoặc Phòng Nội vụ được thu hồi hay tạo lại nó.")
    return feed


def _revoke(session: Session, feed_id: int, now: datetime) -> bool:
    done = session.execute(update(CalendarFeed).where(CalendarFeed.id == feed_id, CalendarFeed.revoked_at.is_(None))
                           .values(revoked_at=wall(now)).execution_options(synchronize_session=False))
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def revoke_feed(session: Session, viewer: Viewer, feed_id: int, actor: Actor, now: datetime, *,
                kinds: dict[str, str]) -> str:
    """Revoke a feed (compare-and-set: revoked once); returns what it was for, in words."""
    feed = _manageable(session, viewer, feed_id)
    subject = Subject(feed.kind, feed.unit_id)
    if not _revoke(session, feed.id, now):
        raise UserError("đường dẫn lịch này vừa được thu hồi; hãy tải lại trang")
    words = subject_words(session, subject, kinds)
    audit.record(session, actor, now, "calendar_feed_revoked", f"calendar_feed:{feed.id}", kind=feed.kind,
                 unit_id=feed.unit_id, subject_name=words)
    return words


def renew_feed(session: Session, viewer: Viewer, feed_id: int, actor: Actor, now: datetime, *,
               kinds: dict[str, str]) -> IssuedFeed:
    """A new address for the same calendar, the old one revoked in the same unit of work (a refusal to
    make the new one undoes the revocation with the rest)."""
    feed = _manageable(session, viewer, feed_id)
    if not _revoke(session, feed.id, now):
        raise UserError("đường dẫn lịch này vừa được thu hồi; hãy tải lại trang")
    return create_feed(session, viewer, Subject(feed.kind, feed.unit_id), actor, now, kinds=kinds, replaces=feed.id)


@dataclass(frozen=True)
class Opened:
    """What a feed's address serves: the calendar of ``kind`` under the name ``title``."""

    feed_id: int
    kind: str
    title: str


def open_feed(session: Session, secret: str, now: datetime, kinds: dict[str, str]) -> Opened | None:
    """The live feed behind an address's secret, or None (unknown, revoked, or its unit no longer tracked)."""
    if not _SECRET.fullmatch(secret):
        return None
    found = session.execute(select(CalendarFeed, Unit).outerjoin(Unit, CalendarFeed.unit_id == Unit.id)
                            .where(CalendarFeed.token_hash == digest(secret))).first()
    if found is None:
        return None
    feed, unit = found
    if feed.revoked_at is not None:
        return None
    if feed.unit_id is not None and (unit is None or not unit.active):
        return None
    stamp = wall(now)
    if feed.last_fetched_at is None or stamp - feed.last_fetched_at >= _TOUCH_EVERY:
        feed.last_fetched_at = stamp
    if unit is not None:
        return Opened(feed.id, unit.kind, unit.name)
    assert feed.kind is not None  # the table's check: a kind when there is no unit
    return Opened(feed.id, feed.kind, kinds.get(feed.kind, feed.kind))


def feed_ics(opened: Opened, calendar: Callable[[int], YearCalendar], workdays: WorkCalendar,
             now: datetime) -> bytes:
    """The feed's body: ``calendar_to_ics`` of this year and the next for its kind, as one calendar named
    after the feed. ``now`` is Vietnamese wall time (naive) or aware."""
    stamp = now if now.tzinfo is not None else now.replace(tzinfo=ZoneInfo(TIMEZONE))
    return merged_ics([calendar(year) for year in feed_years(now)], opened, workdays, stamp)


def feed_years(now: datetime) -> tuple[int, ...]:
    """The years a feed holds on the day ``now``."""
    first = wall(now).year
    return tuple(range(first, first + YEARS))


def merged_ics(years: Sequence[YearCalendar], opened: Opened, workdays: WorkCalendar, stamp: datetime) -> bytes:
    """Each year's ``calendar_to_ics`` events in one calendar; ``stamp`` is aware (DTSTAMP)."""
    parts = [Calendar.from_ical(calendar_to_ics(year, year.for_kind(opened.kind), workdays,
                                                unit_kind_names=year.directive.unit_kinds,
                                                alarm_working_days=ALARM_WORKING_DAYS, stamp=stamp))
             for year in years]
    merged = parts[0]
    for part in parts[1:]:
        for event in part.walk("VEVENT"):
            merged.add_component(event)
    name = FEED_NAME.format(subject=opened.title)
    # A subscribed calendar is shown under its X-WR-CALNAME (RFC 7986 NAME for newer clients); its UID
    # stays the feed's whatever the year, so a client that keys on it keeps one calendar.
    merged["NAME"] = name
    merged["X-WR-CALNAME"] = name
    merged["UID"] = f"calendar-feed-{opened.feed_id}@{UID_DOMAIN}"
    merged.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    merged.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    data: bytes = merged.to_ical()
    return data
