"""Rendering a reminder once for every unit and person it goes to, then filling in their names.

On a notice day the tick writes tens of thousands of reminders that differ only in the unit's and the
person's names: the Jinja2 templates run once per distinct message form (stage, channel, report,
role, and everything else the context holds), with markers in place of the names, and each message
is that form with the names put back, escaped as each part needs.

The templates look inside a unit's name only at its start ("UBND …", "Phòng …", "Văn phòng …"), so
the marker keeps the name's first two words and stands in for the rest; the form is keyed on them.
Whatever a template might do beyond that is caught, not assumed: the first message of every form is
also rendered in full and compared, and a form that does not reproduce it is never used. Names that
whitespace folding would change, or that hold control characters, are always rendered in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property

import structlog
from markupsafe import escape

from reminder_service.domain.messages.context import ReminderContext
from reminder_service.domain.messages.render import Rendered, render_reminder

log = structlog.get_logger(__name__)

# NUL never reaches a template from a real name (see _fillable), and no escaping or folding touches it.
_UNIT = "\x00unit\x00"
_CODE = "\x00code\x00"
_PERSON = "\x00person\x00"
_MARKER = re.compile(f"({_UNIT}|{_CODE}|{_PERSON})")
_NAME_FIELDS = frozenset({"unit_name", "unit_code", "recipient_name"})


def _fillable(value: str) -> bool:
    return value.isprintable() and value == " ".join(value.split())


def _split_name(name: str) -> tuple[str, str]:
    """The first two words (with the space after them) and the rest of a unit's name."""
    words = name.split(" ")
    if len(words) <= 2:
        return name, ""
    head = f"{words[0]} {words[1]} "
    return head, name[len(head):]


@dataclass(frozen=True)
class _Names:
    unit_head: str
    unit_rest: str
    unit_code: str
    person: str | None

    @cached_property
    def plain(self) -> dict[str, str]:
        return {_UNIT: self.unit_rest, _CODE: self.unit_code, _PERSON: self.person or ""}

    @cached_property
    def escaped(self) -> dict[str, str]:
        return {marker: str(escape(value)) for marker, value in self.plain.items()}


def _join(pieces: tuple[str, ...], values: dict[str, str]) -> str:
    filled = list(pieces)
    filled[1::2] = [values[marker] for marker in pieces[1::2]]
    return "".join(filled)


@dataclass(frozen=True)
class _Form:
    """A rendered message cut at its markers: literal text at even places, a marker at odd ones."""

    subject: tuple[str, ...]
    text: tuple[str, ...]
    html: tuple[str, ...]

    @classmethod
    def of(cls, rendered: Rendered) -> _Form:
        return cls(*(tuple(_MARKER.split(part)) for part in (rendered.subject, rendered.text, rendered.html)))

    def fill(self, names: _Names) -> Rendered:
        return Rendered(_join(self.subject, names.plain), _join(self.text, names.plain),
                        _join(self.html, names.escaped))


@dataclass
class ReminderMemo:
    """The message forms rendered so far; one per batch of reminders (a tick), so it never grows old."""

    _forms: dict[tuple[object, ...], _Form | None] = field(default_factory=dict)
    rendered: int = 0
    _last: tuple[ReminderContext, tuple[_Names, tuple[object, ...]] | None] | None = None

    def render(self, ctx: ReminderContext, stage: str, channel: str) -> Rendered:
        """The same text as ``render_reminder(ctx, stage, channel)``."""
        shape = self._shape(ctx)
        if shape is None:
            return self._full(ctx, stage, channel)
        names, fields = shape
        key = (stage, channel, *fields)
        if key in self._forms:
            form = self._forms[key]
            return form.fill(names) if form is not None else self._full(ctx, stage, channel)
        marked = replace(ctx, unit_name=names.unit_head + _UNIT, unit_code=_CODE,
                         recipient_name=_PERSON if ctx.recipient_name is not None else None)
        form = _Form.of(render_reminder(marked, stage, channel))
        full = self._full(ctx, stage, channel)
        if form.fill(names) == full:
            self._forms[key] = form
        else:
            log.warning("message_form_unusable", stage=stage, channel=channel, obligation_code=ctx.obligation_code)
            self._forms[key] = None
        return full

    def _shape(self, ctx: ReminderContext) -> tuple[_Names, tuple[object, ...]] | None:
        """The names to fill in and what else the form depends on; None when the names cannot be filled in."""
        if self._last is not None and self._last[0] is ctx:
            return self._last[1]
        shape: tuple[_Names, tuple[object, ...]] | None = None
        if all(_fillable(n) for n in (ctx.unit_name, ctx.unit_code, ctx.recipient_name or "")):
            head, rest = _split_name(ctx.unit_name)
            # The context's other fields make the key: cheaper than building the marked context each time.
            fields = (head, ctx.recipient_name is None,
                      *(value for name, value in vars(ctx).items() if name not in _NAME_FIELDS))
            shape = _Names(head, rest, ctx.unit_code, ctx.recipient_name), fields
        # Channels of one person come one after another with the same context.
        self._last = (ctx, shape)
        return shape

    def _full(self, ctx: ReminderContext, stage: str, channel: str) -> Rendered:
        self.rendered += 1
        return render_reminder(ctx, stage, channel)
