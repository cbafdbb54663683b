"""Signing in to the web console without a password, with what the service already has.

A person gets a one-time link (single use, 15 minutes): printed by `reminder-service web link PERSON`,
or sent by Telegram or e-mail when they ask for one on the sign-in page. Opening it and confirming
starts a server-side session, a row here that `web sessions` lists and revokes. The province's systems
use a personal API token instead (`web token PERSON`). Only a SHA-256 of every secret is stored.

Spending a link is a compare-and-set (``used_at IS NULL``): two browsers racing for one link get one
session between them. A session is looked up on every request; its last use is written at most every
few minutes, so reading pages does not turn into a write per page.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reminder_service.domain.access import ROLES, Viewer
from reminder_service.domain.clock import wall
from reminder_service.domain.messages.render import render_signin
from reminder_service.domain.textfold import fold
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Person
from reminder_service.services.db.web import ApiToken, SignInLink, WebSession
from reminder_service.services.outbox.enqueue import Envelope, enqueue

log = structlog.get_logger(__name__)

LINK_TTL = timedelta(minutes=15)
# A session ends after this long unused, and in any case this long after signing in.
SESSION_IDLE = timedelta(days=3)
SESSION_LIFETIME = timedelta(days=30)
_TOUCH_EVERY = timedelta(minutes=5)
# Links a person may be sent from the sign-in page within LINK_TTL: enough for a mistyped attempt or two,
# too few to flood their Telegram or mailbox.
LINKS_PER_WINDOW = 3
LINK_PATH = "/dang-nhap/lien-ket/"
# The outbox stage of a sign-in link message.
SIGNIN_STAGE = "signin"

Spent = Literal["ok", "unknown", "expired", "used", "inactive"]


def new_secret() -> str:
    """256 random bits, URL-safe: a link's, a session's or an API token's secret."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_sign_in(person: Person) -> bool:
    return person.active and person.role in ROLES


def viewer_of(person: Person) -> Viewer:
    return Viewer(person.id, person.name, person.role, person.unit_id)


@dataclass(frozen=True)
class IssuedLink:
    id: int
    secret: str
    expires_at: datetime

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}{LINK_PATH}{self.secret}"


def issue_link(session: Session, person: Person, now: datetime, *, via: str, actor: Actor) -> IssuedLink:
    """A new one-time link for ``person``."""
    secret = new_secret()
    stamp = wall(now)
    row = SignInLink(person_id=person.id, token_hash=digest(secret), via=via, created_at=stamp,
                     expires_at=stamp + LINK_TTL)
    session.add(row)
    session.flush()
    audit.record(session, actor, now, "web_link_issued", f"person:{person.id}", via=via, link=row.id)
    return IssuedLink(row.id, secret, row.expires_at)


def links_recently_sent(session: Session, person_id: int, now: datetime) -> int:
    since = wall(now) - LINK_TTL
    return session.scalar(select(func.count()).select_from(SignInLink).where(
        SignInLink.person_id == person_id, SignInLink.via != "cli", SignInLink.created_at > since)) or 0


def person_for_link(session: Session, typed: str) -> Person | None:
    """The active person a sign-in request names: by e-mail, or by full name when only one has it."""
    text = " ".join(typed.split())
    if not text or len(text) > 255:
        return None
    people = session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id))
    if "@" in text:
        found = [p for p in people if p.email and p.email.lower() == text.lower()]
    else:
        wanted = fold(text)
        found = [p for p in people if fold(p.name) == wanted]
    return found[0] if len(found) == 1 and may_sign_in(found[0]) else None


SendOutcome = Literal["sent", "throttled", "unreachable", "unknown"]


def send_link(session: Session, typed: str, now: datetime, *, base_url: str, office_name: str) -> SendOutcome:
    """A link for the person ``typed`` names, put in the outbox for their first channel with an address
    (the dispatcher sends it at once, whatever the hour: they are waiting for it). The page that asked
    says the same whatever happened, so nobody learns from it who is on the list."""
    person = person_for_link(session, typed)
    if person is None:
        return "unknown"
    channel = next((c for c in person.channels if person.address(c)), None)
    if channel is None:
        return "unreachable"
    if links_recently_sent(session, person.id, now) >= LINKS_PER_WINDOW:
        log.info("web_link_throttled", person_id=person.id)
        return "throttled"
    link = issue_link(session, person, now, via=channel, actor=Actor(person.name, "web"))
    stamp = wall(now)
    text = render_signin(channel, office_name=office_name, name=person.name, link=link.url(base_url),
                         expires_at=link.expires_at)
    enqueue(session, [Envelope(f"signin:{link.id}:{channel}", SIGNIN_STAGE, person.id, channel,
                               person.address(channel), text, due=stamp)], stamp=stamp)
    log.info("web_link_queued", person_id=person.id, channel=channel, link_id=link.id)
    return "sent"


@dataclass(frozen=True)
class Opened:
    """A session just started: its secret goes in the browser's cookie, never anywhere else."""

    secret: str
    viewer: Viewer
    session_id: int


def spend_link(session: Session, secret: str, now: datetime, *, user_agent: str = "") -> Opened | Spent:
    """Use a link once and start a session for its person, or say why not."""
    stamp = wall(now)
    link = session.scalar(select(SignInLink).where(SignInLink.token_hash == digest(secret)))
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= stamp:
        return "expired"
    taken = session.execute(update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
                            .values(used_at=stamp).execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return "used"  # another browser spent it between the look and the write
    person = session.get(Person, link.person_id)
    if person is None or not may_sign_in(person):
        return "inactive"
    session_secret = new_secret()
    row = WebSession(person_id=person.id, token_hash=digest(session_secret), csrf=new_secret(), created_at=stamp,
                     last_seen_at=stamp, expires_at=stamp + SESSION_LIFETIME, user_agent=user_agent[:255])
    session.add(row)
    session.flush()
    audit.record(session, Actor(person.name, "web"), now, "web_signed_in", f"person:{person.id}", web_session=row.id,
                 via=link.via)
    log.info("web_signed_in", person_id=person.id, session_id=row.id, via=link.via)
    return Opened(session_secret, viewer_of(person), row.id)


@dataclass(frozen=True)
class Current:
    """The session a request carries, with the form token its pages embed."""

    viewer: Viewer
    session_id: int
    csrf: str


def current(session: Session, secret: str, now: datetime) -> Current | None:
    """The live session behind a cookie's secret, or None (unknown, revoked, lapsed, or its person left)."""
    stamp = wall(now)
    found = session.execute(select(WebSession, Person).join(Person, WebSession.person_id == Person.id)
                            .where(WebSession.token_hash == digest(secret))).first()
    if found is None:
        return None
    row, person = found
    if (row.revoked_at is not None or row.expires_at <= stamp or row.last_seen_at + SESSION_IDLE <= stamp
            or not may_sign_in(person)):
        return None
    if stamp - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = stamp
    return Current(viewer_of(person), row.id, row.csrf)


def sign_out(session: Session, session_id: int, now: datetime, *, everywhere: bool = False) -> int:
    """End this session, or every session of its person; returns how many were ended."""
    row = session.get(WebSession, session_id)
    if row is None:
        return 0
    return revoke_sessions(session, now, Actor(str(row.person_id), "web"),
                           person_id=row.person_id if everywhere else None,
                           ids=None if everywhere else [session_id])


def revoke_sessions(session: Session, now: datetime, actor: Actor, *, person_id: int | None = None,
                    ids: Sequence[int] | None = None) -> int:
    """Revoke the live sessions chosen by id, by person, or (neither given) all of them."""
    query = update(WebSession).where(WebSession.revoked_at.is_(None))
    if ids is not None:
        query = query.where(WebSession.id.in_(list(ids)))
    if person_id is not None:
        query = query.where(WebSession.person_id == person_id)
    ended: int = session.execute(query.values(revoked_at=wall(now))
                                 .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if ended:
        subject = f"person:{person_id}" if person_id is not None else "web_sessions"
        audit.record(session, actor, now, "web_sessions_revoked", subject, count=ended,
                     ids=list(ids) if ids is not None else None)
    return ended


@dataclass(frozen=True)
class SessionLine:
    id: int
    person_id: int
    person_name: str
    role: str
    created_at: datetime
    last_seen_at: datetime
    user_agent: str


def live_sessions(session: Session, now: datetime, person_id: int | None = None) -> list[SessionLine]:
    stamp = wall(now)
    query = (select(WebSession, Person.name, Person.role).join(Person, WebSession.person_id == Person.id)
             .where(WebSession.revoked_at.is_(None), WebSession.expires_at > stamp,
                    WebSession.last_seen_at > stamp - SESSION_IDLE)
             .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc()))
    if person_id is not None:
        query = query.where(WebSession.person_id == person_id)
    return [SessionLine(row.id, row.person_id, name, role, row.created_at, row.last_seen_at, row.user_agent)
            for row, name, role in session.execute(query)]


def issue_api_token(session: Session, person: Person, now: datetime, *, label: str, actor: Actor) -> str:
    secret = new_secret()
    row = ApiToken(person_id=person.id, token_hash=digest(secret), label=label, created_at=wall(now))
    session.add(row)
    session.flush()
    audit.record(session, actor, now, "api_token_issued", f"person:{person.id}", token=row.id, label=label)
    return secret


def api_viewer(session: Session, secret: str, now: datetime) -> Viewer | None:
    found = session.execute(select(ApiToken, Person).join(Person, ApiToken.person_id == Person.id)
                            .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None))).first()
    if found is None or not may_sign_in(found[1]):
        return None
    token, person = found
    stamp = wall(now)
    if token.last_used_at is None or stamp - token.last_used_at >= _TOUCH_EVERY:
        token.last_used_at = stamp
    return viewer_of(person)


@dataclass(frozen=True)
class TokenLine:
    id: int
    person_id: int
    person_name: str
    label: str
    created_at: datetime
    last_used_at: datetime | None


def live_tokens(session: Session, person_id: int | None = None) -> list[TokenLine]:
    query = (select(ApiToken, Person.name).join(Person, ApiToken.person_id == Person.id)
             .where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id))
    if person_id is not None:
        query = query.where(ApiToken.person_id == person_id)
    return [TokenLine(t.id, t.person_id, name, t.label, t.created_at, t.last_used_at)
            for t, name in session.execute(query)]


def revoke_api_token(session: Session, token_id: int, now: datetime, actor: Actor) -> bool:
    ended = session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                            .values(revoked_at=wall(now)).execution_options(synchronize_session=False))
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        return False
    audit.record(session, actor, now, "api_token_revoked", f"api_token:{token_id}")
    return True
