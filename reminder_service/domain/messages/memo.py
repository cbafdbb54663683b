"""Rendering a reminder once for every unit and person it goes to: message forms.

On a notice day the tick writes tens of thousands of reminders that differ only in the unit's and the
person's names: the Jinja2 templates run once per distinct message form (stage, channel, and the facts
the message states: report, dates, role, and so on), with slots in place of the names
(``messages.form``), and each message is that form with its names, filled in when it is sent.

The templates look inside a unit's name only at its start ("UBND …", "Phòng …", "Văn phòng …"), so
the slot keeps the name's first two words and stands in for the rest; the form is keyed on them.
Whatever a template might do beyond that is caught, not assumed: the first message of every form is
also rendered in full and compared with the form filled in, and a form that does not reproduce it is
never used. Names that whitespace folding would change, or that hold control characters, are always
rendered in full.

Forms are keyed on ``context.reminder_facts``, the inputs of a message bar the names, so a context is
built only for a form's first message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass, field, replace

import structlog

from reminder_service.domain.messages.context import ReminderContext
from reminder_service.domain.messages.form import PERSON, UNIT_CODE, UNIT_REST, Formed, MessageForm, Names
from reminder_service.domain.messages.render import Rendered, render_reminder

log = structlog.get_logger(__name__)


def _fillable(value: str) -> bool:
    return value.isprintable() and value == " ".join(value.split())


def _split_name(name: str) -> tuple[str, str]:
    """The first two words (with the space after them) and the rest of a unit's name."""
    words = name.split(" ")
    if len(words) <= 2:
        return name, ""
    head = f"{words[0]} {words[1]} "
    return head, name[len(head):]


def _split(unit_name: str, unit_code: str, person: str | None) -> tuple[str, Names] | None:
    """The unit name's first two words and the names to fill in, or None if they cannot be filled in."""
    if not all(_fillable(n) for n in (unit_name, unit_code, person or "")):
        return None
    head, rest = _split_name(unit_name)
    return head, (rest, unit_code, person or "")


_UNSEEN = object()


@dataclass
class ReminderMemo:
    """The message forms rendered so far; one per batch of reminders (a tick), so it never grows old."""

    _forms: dict[tuple[object, ...], MessageForm | None] = field(default_factory=dict)
    # A person's names, split and checked once for all their channels; None: rendered in full.
    _names: dict[tuple[str, str, str | None], tuple[str, Names] | None] = field(default_factory=dict)
    rendered: int = 0

    def render_facts(self, facts: tuple[object, ...], unit_name: str, unit_code: str, person: str | None,
                     build: Callable[[], ReminderContext], stage: str, channel: str) -> Rendered | Formed:
        """The message ``render_reminder(build(), stage, channel)`` gives, as a form and its names where
        the names can be filled in. ``facts`` is ``reminder_facts`` of the inputs ``build`` makes its
        context from; ``build`` is called only when a form is first seen or the names cannot be filled in."""
        given = (unit_name, unit_code, person)
        if given not in self._names:
            self._names[given] = _split(unit_name, unit_code, person)
        split = self._names[given]
        if split is None:
            return self._full(build(), stage, channel)
        head, names = split
        key = (stage, channel, head, facts)
        form = self._forms.get(key, _UNSEEN)
        if isinstance(form, MessageForm):
            return Formed(form, names)
        ctx = build()
        full = self._full(ctx, stage, channel)
        if form is _UNSEEN:
            marked = replace(ctx, unit_name=head + UNIT_REST, unit_code=UNIT_CODE,
                             recipient_name=PERSON if ctx.recipient_name is not None else None)
            made = MessageForm(*astuple(render_reminder(marked, stage, channel)))
            if made.fill(names) == full:
                self._forms[key] = made
                return Formed(made, names)
            log.warning("message_form_unusable", stage=stage, channel=channel, obligation_code=ctx.obligation_code)
            self._forms[key] = None
        return full

    def _full(self, ctx: ReminderContext, stage: str, channel: str) -> Rendered:
        self.rendered += 1
        return render_reminder(ctx, stage, channel)
