"""Rendering a reminder once for every unit and person it goes to, then filling in their names.

On a notice day the tick writes tens of thousands of reminders that differ only in the unit's and the
person's names: the Jinja2 templates run once per distinct message form (stage, channel, and the facts
the message states: report, dates, role, and so on), with markers in place of the names, and each
message is that form with the names put back, escaped as each part needs.

The templates look inside a unit's name only at its start ("UBND …", "Phòng …", "Văn phòng …"), so
the marker keeps the name's first two words and stands in for the rest; the form is keyed on them.
Whatever a template might do beyond that is caught, not assumed: the first message of every form is
also rendered in full and compared, and a form that does not reproduce it is never used. Names that
whitespace folding would change, or that hold control characters, are always rendered in full.

Forms are keyed on ``context.reminder_facts``, the inputs of a message bar the names, so a context is
built only for a form's first message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

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


def _fillable(value: str) -> bool:
    return value.isprintable() and value == " ".join(value.split())


def _split_name(name: str) -> tuple[str, str]:
    """The first two words (with the space after them) and the rest of a unit's name."""
    words = name.split(" ")
    if len(words) <= 2:
        return name, ""
    head = f"{words[0]} {words[1]} "
    return head, name[len(head):]


_SPECIAL = re.compile("[&<>\"']")


def _escaped(value: str) -> str:
    # Most names hold nothing HTML would escape: skip markupsafe's work for them.
    return str(escape(value)) if _SPECIAL.search(value) else value


@dataclass(frozen=True)
class _Names:
    """One message's names in the order of the form's slots: plain, and escaped for HTML."""

    unit_head: str
    plain: tuple[str, str, str]
    escaped: tuple[str, str, str]

    @classmethod
    def of(cls, unit_name: str, unit_code: str, person: str | None) -> _Names | None:
        if not all(_fillable(n) for n in (unit_name, unit_code, person or "")):
            return None
        head, rest = _split_name(unit_name)
        plain = (rest, unit_code, person or "")
        return cls(head, plain, (_escaped(rest), _escaped(unit_code), _escaped(person or "")))


_SLOT = {_UNIT: 0, _CODE: 1, _PERSON: 2}


@dataclass(frozen=True)
class _Part:
    """A rendered part cut at its markers: literal text at even places, a name's slot at odd ones.
    Joined rather than str.format'ed: format scans all of a long Vietnamese text, join only copies it."""

    pieces: tuple[str | int, ...]

    @classmethod
    def of(cls, text: str) -> _Part:
        pieces: list[str | int] = list(_MARKER.split(text))
        pieces[1::2] = [_SLOT[str(marker)] for marker in pieces[1::2]]
        return cls(tuple(pieces))

    def fill(self, names: tuple[str, str, str]) -> str:
        filled = list(self.pieces)
        filled[1::2] = [names[slot] for slot in self.pieces[1::2]]  # type: ignore[index]
        return "".join(filled)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Form:
    subject: _Part
    text: _Part
    html: _Part

    @classmethod
    def of(cls, rendered: Rendered) -> _Form:
        return cls(_Part.of(rendered.subject), _Part.of(rendered.text), _Part.of(rendered.html))

    def fill(self, names: _Names) -> Rendered:
        return Rendered(self.subject.fill(names.plain), self.text.fill(names.plain), self.html.fill(names.escaped))


_UNSEEN = object()


@dataclass
class ReminderMemo:
    """The message forms rendered so far; one per batch of reminders (a tick), so it never grows old."""

    _forms: dict[tuple[object, ...], _Form | None] = field(default_factory=dict)
    # A person gets the same names on every channel.
    _names: dict[tuple[str, str, str | None], _Names | None] = field(default_factory=dict)
    rendered: int = 0

    def render_facts(self, facts: tuple[object, ...], unit_name: str, unit_code: str, person: str | None,
                     build: Callable[[], ReminderContext], stage: str, channel: str) -> Rendered:
        """The same text as ``render_reminder(build(), stage, channel)``, where ``facts`` is
        ``reminder_facts`` of the inputs ``build`` makes its context from and the names are its names;
        ``build`` is called only when a form is first seen or the names cannot be filled in."""
        names = self._names_of(unit_name, unit_code, person)
        if names is None:
            return self._full(build(), stage, channel)
        return self._filled(("facts", stage, channel, names.unit_head, facts), names, build, stage, channel)

    def _names_of(self, unit_name: str, unit_code: str, person: str | None) -> _Names | None:
        key = (unit_name, unit_code, person)
        names = self._names.get(key, _UNSEEN)
        if names is _UNSEEN:
            names = self._names[key] = _Names.of(unit_name, unit_code, person)
        return names  # type: ignore[return-value]

    def _filled(self, key: tuple[object, ...], names: _Names, build: Callable[[], ReminderContext], stage: str,
                channel: str) -> Rendered:
        form = self._forms.get(key, _UNSEEN)
        if isinstance(form, _Form):
            return form.fill(names)
        ctx = build()
        full = self._full(ctx, stage, channel)
        if form is _UNSEEN:
            marked = replace(ctx, unit_name=names.unit_head + _UNIT, unit_code=_CODE,
                             recipient_name=_PERSON if ctx.recipient_name is not None else None)
            made = _Form.of(render_reminder(marked, stage, channel))
            if made.fill(names) == full:
                self._forms[key] = made
            else:
                log.warning("message_form_unusable", stage=stage, channel=channel,
                            obligation_code=ctx.obligation_code)
                self._forms[key] = None
        return full

    def _full(self, ctx: ReminderContext, stage: str, channel: str) -> Rendered:
        self.rendered += 1
        return render_reminder(ctx, stage, channel)
