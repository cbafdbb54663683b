"""Messages as people read them: every word comes from the Jinja2 templates in ``message_templates``.

Each template file is loaded into two environments: one without autoescaping for subject lines and
text/plain parts, one with autoescaping for the e-mail's HTML and Telegram's HTML, so no value (a unit
called "<b>Xã A&B</b>") can inject markup. A template renders one ``part`` at a time.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

import jinja2
from markupsafe import Markup

from calendars.words import dmy, number, range_text, weekday_dmy
from reminder_service.domain.messages.context import ReminderContext
from reminder_service.domain.messages.summary import (
    DeliveryFailure,
    EscalatedUnit,
    IntakeState,
    ObligationCount,
    OverdueUnit,
    SkippedPerson,
)

Channel = Literal["email", "telegram"]
CHANNELS: tuple[Channel, ...] = ("email", "telegram")
_TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The tags Telegram's HTML parse mode accepts that our templates use; stripped for the plain version.
_TELEGRAM_TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^>]*)?>")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Rendered:
    """``subject`` is one line. E-mail: ``text`` is text/plain, ``html`` text/html. Telegram: ``html`` is
    the message in Telegram's HTML subset, ``text`` the same message without markup."""

    subject: str
    text: str
    html: str


class UnknownTemplateError(ValueError):
    """No template for this stage and channel."""


def oneline(value: Any) -> Any:
    """Fold every run of whitespace, newlines included, to one space (subject lines, titles)."""
    folded = " ".join(str(value).split())
    return Markup(folded) if isinstance(value, Markup) else folded


def new_environment(autoescape: bool) -> jinja2.Environment:
    """The settings every template of ``message_templates`` is rendered with, and the date filters;
    callers cache their own and may add what only their templates use."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("message_templates", "."),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the package and never change under a running service.
        auto_reload=False,
    )
    env.filters.update(dmy=dmy, weekday_dmy=weekday_dmy, range_text=range_text, oneline=oneline, number=number)
    return env


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    return new_environment(autoescape)


def _tidy(text: str) -> str:
    """Trailing spaces off every line and at most one blank line in a row: conditionals leave gaps."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_RUNS.sub("\n\n", lines)


def _render(name: str, part: str, escaped: bool, values: dict[str, Any]) -> str:
    try:
        template = _environment(escaped).get_template(name)
    except jinja2.TemplateNotFound:
        raise UnknownTemplateError(name) from None
    return _tidy(template.render(part=part, **values))


def _subject(name: str, values: dict[str, Any]) -> str:
    return " ".join(_render(name, "subject", False, values).split())


def telegram_plain(markup: str) -> str:
    """The plain-text twin of a Telegram HTML message: tags dropped, entities decoded, in that order,
    so an escaped "&lt;b&gt;" in a unit's name comes back as the literal text "<b>"."""
    return html.unescape(_TELEGRAM_TAG.sub("", markup))


def _render_channel(name: str, channel: str, values: dict[str, Any]) -> Rendered:
    if channel == "email":
        return Rendered(_subject(name, values), _render(name, "text", False, values),
                        _render(name, "html", True, values))
    if channel == "telegram":
        markup = _render(name, "html", True, values)
        return Rendered(_subject(name, values), telegram_plain(markup), markup)
    raise UnknownTemplateError(f"channel {channel!r}")


def render_reminder(ctx: ReminderContext, stage: str, channel: str) -> Rendered:
    """One reminder for one person. ``stage`` is the stage's template name (notice, reminder, due_today,
    overdue, escalated, incomplete, incomplete_reminder, or a custom one with a template per channel)."""
    if not _TEMPLATE_NAME.match(stage):
        raise UnknownTemplateError(stage)
    if channel == "telegram":
        # A chat message is read line by line: a name with a line break in it would split a line.
        ctx = replace(ctx, unit_name=oneline(ctx.unit_name),
                      recipient_name=oneline(ctx.recipient_name) if ctx.recipient_name else ctx.recipient_name)
    return _render_channel(f"reminders/{channel}/{stage}.j2", channel, {"ctx": ctx})


def render_claim(kind: str, channel: str, ctx: object) -> Rendered:
    """A message about a "Đã gửi" claim for one person: ``kind`` "claimed" (to the receiver) or "rejected"
    (to the claimant); ``ctx`` a ``reminder_service.services.claim_messages.ClaimNotice``."""
    if not _TEMPLATE_NAME.match(kind):
        raise UnknownTemplateError(kind)
    return _render_channel(f"claims/{channel}/{kind}.j2", channel, {"ctx": ctx})


def render_signin(channel: str, *, office_name: str, name: str, link: str, expires_at: datetime) -> Rendered:
    """A one-time sign-in link to the web console for one person (``expires_at``: Vietnamese wall time)."""
    values = {"office_name": office_name, "name": name, "link": link, "expires_at": expires_at}
    return _render_channel(f"signin/{channel}/link.j2", channel, values)


def render_claim_reply(outcome: str, values: dict[str, Any]) -> str:
    """The short plain-text answer to whoever pressed a claim button, for ``outcome`` (see claims/reply.j2)."""
    return " ".join(_render("claims/reply.j2", outcome, False, values).split())


def render_digest(
    channel: str,
    *,
    office_name: str,
    today: date,
    recipient_name: str | None,
    counts: Sequence[ObligationCount],
    overdue: Sequence[OverdueUnit],
    failures: Sequence[DeliveryFailure] = (),
    skipped: Sequence[SkippedPerson] = (),
    intake: IntakeState | None = None,
    escalated: Sequence[EscalatedUnit] = (),
    leadership_unreachable: bool = False,
    limit: int = 20,
) -> Rendered:
    """The receiver's daily digest. Lists longer than ``limit`` are cut, with the number left out.
    ``escalated``: the units chased at a late stage today (the receiver's copy of the day's roll-up);
    ``leadership_unreachable``: no leadership person can be messaged, a set-up gap to fix."""
    values = {
        "office_name": office_name, "today": today, "recipient_name": recipient_name, "counts": counts,
        "overdue": overdue, "failures": failures, "skipped": skipped,
        "intake": intake or IntakeState(watched=False), "escalated": escalated,
        "leadership_unreachable": leadership_unreachable, "limit": limit,
    }
    return _render_channel(f"summaries/{channel}/digest.j2", channel, values)


def render_rollup(
    channel: str,
    *,
    office_name: str,
    issuer: str,
    today: date,
    recipient_name: str | None,
    escalated: Sequence[EscalatedUnit],
    limit: int = 50,
) -> Rendered:
    """Leadership's one message a day: every unit escalated that day, as a table."""
    values = {"office_name": office_name, "issuer": issuer, "today": today, "recipient_name": recipient_name,
              "escalated": escalated, "limit": limit}
    return _render_channel(f"summaries/{channel}/rollup.j2", channel, values)


def render_weekly(
    channel: str,
    *,
    office_name: str,
    issuer: str,
    week_start: date,
    week_end: date,
    recipient_name: str | None,
    counts: Sequence[ObligationCount],
    most_overdue: Sequence[OverdueUnit],
    limit: int = 10,
) -> Rendered:
    """Leadership's weekly summary: where each report stands and the units furthest behind."""
    values = {
        "office_name": office_name, "issuer": issuer, "week_start": week_start, "week_end": week_end,
        "recipient_name": recipient_name, "counts": counts, "most_overdue": most_overdue, "limit": limit,
    }
    return _render_channel(f"summaries/{channel}/weekly.j2", channel, values)
