"""Hiding secrets in any text a person or a log will see: one redactor for logs, transport errors,
the outbox table and health output.

Every secret the process reads (secrets.read_secret, the database URL's password) is remembered here,
so ``scrub`` hides all of them wherever a text is about to be shown, logged or stored, whichever part
of the code read the secret.

A secret is matched whatever its case: python-telegram-bot capitalises an API error's description
("Bad Request: …" becomes "… bot123:aaf…/sendmessage"), and an SMTP server may echo a password in upper
case. Anything shaped like a Telegram bot token is hidden too, configured or not: an error that quotes a
URL carries the token before we know which one it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[đã ẩn]"
# Telegram bot tokens: the bot's numeric id, a colon, 35 URL-safe characters (some are shorter in tests).
TOKEN_SHAPE = re.compile(r"(?<![0-9])[0-9]{5,15}:[A-Za-z0-9_-]{30,}")
# Shorter values are too likely to occur in ordinary text to be replaced everywhere.
MIN_SECRET_LENGTH = 6


class Scrubber:
    """Replaces every occurrence of the given secrets, in any case and as a repr shows them (quotes and
    backslashes escaped), and every token-shaped string, with ``REDACTED``."""

    def __init__(self, secrets: Iterable[str | None] = (), *, min_length: int = MIN_SECRET_LENGTH) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._min_length = max(1, min_length)
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        forms = {form for s in secrets if s and len(s) >= self._min_length for form in (s, repr(s)[1:-1])}
        if forms - self._secrets:
            self._secrets |= forms
            ordered = sorted(self._secrets, key=len, reverse=True)  # the longest form first: no partial leftovers
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered), re.IGNORECASE)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return TOKEN_SHAPE.sub(REDACTED, text)


_KNOWN = Scrubber()


def remember(*secrets: str | None) -> None:
    """Hide these from every text ``scrub`` sees from now on."""
    _KNOWN.add(*secrets)


def scrub(text: str, *secrets: str | None, min_length: int = MIN_SECRET_LENGTH) -> str:
    """``text`` with every remembered secret, the given ones (at least ``min_length`` long) and any
    token-shaped string hidden."""
    text = _KNOWN(text)
    return Scrubber(secrets, min_length=min_length)(text) if secrets else text
