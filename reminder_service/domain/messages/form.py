"""A message form: a rendered message with slots where the unit's and the person's names go.

On a notice day tens of thousands of reminders differ only in those names. The tick renders each
distinct form once (``messages.memo``), the outbox keeps the form once and each message's names beside
it, and the dispatcher fills them in when it sends: ``form.fill(names)`` is the message, the same text
a full render gives (the memo checks that before it hands a form out).

The slots are private-use characters: no name can hold one (only printable names are filled in, and
Unicode counts private-use characters as unprintable), and both databases store them as they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

from markupsafe import escape

from reminder_service.domain.messages.render import Rendered

# The unit's name after its first two words (the templates read those), the unit's code, the person's name.
UNIT_REST, UNIT_CODE, PERSON = "\ue000", "\ue001", "\ue002"
_SLOT = re.compile(f"([{UNIT_REST}{UNIT_CODE}{PERSON}])")
_INDEX = {UNIT_REST: 0, UNIT_CODE: 1, PERSON: 2}
_SPECIAL = re.compile("[&<>\"']")

Names = tuple[str, str, str]


def _escaped(value: str) -> str:
    # Most names hold nothing HTML would escape: skip markupsafe's work for them.
    return str(escape(value)) if _SPECIAL.search(value) else value


def _pieces(part: str) -> tuple[str | int, ...]:
    """Literal text at even places, a slot's index at odd ones."""
    pieces: list[str | int] = list(_SLOT.split(part))
    pieces[1::2] = [_INDEX[str(slot)] for slot in pieces[1::2]]
    return tuple(pieces)


def _join(pieces: tuple[str | int, ...], names: Names) -> str:
    # Joined rather than str.format'ed: format scans all of a long Vietnamese text, join only copies it.
    filled = list(pieces)
    filled[1::2] = [names[slot] for slot in pieces[1::2]]  # type: ignore[index]
    return "".join(filled)  # type: ignore[arg-type]


@dataclass(frozen=True)
class MessageForm:
    subject: str
    text: str
    html: str

    @cached_property
    def _cut(self) -> tuple[tuple[str | int, ...], ...]:
        return _pieces(self.subject), _pieces(self.text), _pieces(self.html)

    def fill(self, names: Names) -> Rendered:
        """The message for these names (plain); the HTML part gets them escaped."""
        subject, text, html = self._cut
        return Rendered(_join(subject, names), _join(text, names), _join(html, tuple(map(_escaped, names))))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Formed:
    """A message as a form and the names that fill it in: what the outbox stores for a reminder."""

    form: MessageForm
    names: Names

    def rendered(self) -> Rendered:
        return self.form.fill(self.names)


# One encoder for every row: json.dumps with options builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False)


def names_json(names: Names) -> str:
    """The outbox ``names`` column."""
    return _JSON.encode(list(names))


def parse_names(stored: str) -> Names | None:
    """The inverse of ``names_json``; None for anything else (a row edited by hand)."""
    try:
        value = json.loads(stored)
    except ValueError:
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        return None
    return value[0], value[1], value[2]
