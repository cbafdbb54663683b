"""Telegram delivery through python-telegram-bot: HTML parse mode, long messages split into valid parts,
Bot API errors mapped to permanent or transient TransportErrors (a group that became a supergroup names
its new chat id), and the bot token kept out of every error message and log line (PTB and httpx put it
in request URLs). One ``SharedBot`` serves both the reminders and the chat bot."""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from reminder_service.adapters.telegram.paging import MESSAGE_LIMIT, split_message
from reminder_service.config import TelegramSettings
from reminder_service.domain.buttons import Buttons
from reminder_service.domain.redaction import remember, scrub
from reminder_service.services.outbox.notifier import Notifier, OutgoingMessage, TransportError

# PTB 22.2+ deprecates integer time periods: RetryAfter warns in its own constructor (so every 429 warns,
# and fails under warnings-as-errors) unless the process opts in to timedelta values, as v23 will force.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Parts of one long message go to the same chat; Telegram asks for at most one message a second there.
PART_INTERVAL = 1.0
# Sends in flight at once through the one bot: the dispatcher's concurrency, plus room for chat replies.
CONNECTIONS = 24


def escape(text: str) -> str:
    """Text for Telegram HTML. Telegram needs only <, > and & escaped outside attributes; Jinja's
    autoescape (which also turns quotes into &#34;/&#39;) is equally accepted."""
    return html.escape(text, quote=False)


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Telegram HTML cut into parts each valid on its own and within Telegram's 4,096 UTF-16 units (the
    one splitter the bot's answers use too); a text with nothing to show (blank, or tags alone, however
    long) is one empty part, which Telegram refuses as it should."""
    return split_message(text, limit) or [""]


class _TokenFilter(logging.Filter):
    """Rewrites log records that contain the token, tracebacks included, before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


_FILTER = _TokenFilter()


def guard_logs(token: str) -> None:
    """httpx logs every request URL at INFO and PTB logs its base URL: both contain the token. Logger
    filters do not apply to records of child loggers, so every existing telegram logger gets one."""
    remember(token)
    names = ["httpx", *(name for name in logging.root.manager.loggerDict if name.startswith("telegram"))]
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def _chat_id(address: str) -> int | str:
    address = address.strip()
    return int(address) if re.fullmatch(r"-?\d+", address) else address


def inline_keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    """Rows of (label, callback data) as Telegram's inline keyboard; None for no buttons."""
    rows = [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons if row]
    return InlineKeyboardMarkup(rows) if rows else None


def retry_seconds(exc: RetryAfter) -> float:
    # A timedelta under PTB_TIMEDELTA; an int (with a warning) if the operator switched that off.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SharedBot(ExtBot[None]):
    """The one Bot object of the process: the notifier sends reminders through it and the chat bot's
    Application polls and answers through it (one connection pool, one getMe). The chat bot stops and
    starts again as this instance loses and regains leadership, and PTB's Application shuts its bot down
    when it stops, while reminders keep going out; so that shutdown is ignored and only ``release`` (by
    the notifier, when the daemon ends) closes the connections."""

    __slots__ = ()

    async def shutdown(self) -> None:
        """Kept open: see the class. ``release`` closes the connections."""

    async def release(self) -> None:
        # Not ``close``: that name is the Bot API method that logs the bot out of Telegram's server.
        await super().shutdown()


def make_bot(token: str, base_url: str = TelegramSettings.base_url, timeout: float = 15.0) -> SharedBot:
    guard_logs(token)  # before the bot logs its URL
    return SharedBot(token, base_url=base_url,
                     request=HTTPXRequest(connection_pool_size=CONNECTIONS, read_timeout=timeout,
                                          write_timeout=timeout, connect_timeout=timeout),
                     # getUpdates adds its long-poll timeout to this read timeout.
                     get_updates_request=HTTPXRequest(read_timeout=timeout, connect_timeout=timeout))


class TelegramNotifier(Notifier):
    channel = "telegram"

    def __init__(self, token: str | None = None, base_url: str = TelegramSettings.base_url, *,
                 bot: Bot | None = None, timeout: float = 15.0,
                 part_interval: float = PART_INTERVAL) -> None:
        """Either a token (and base_url), and the notifier makes the process's ``SharedBot`` (``bot``
        hands it to the chat bot) and closes it; or a ready ``bot`` whose owner closes it."""
        self._owned: SharedBot | None = None
        if bot is None:
            if not token:
                raise ValueError("TelegramNotifier needs a token or a bot")
            bot = self._owned = make_bot(token, base_url, timeout)  # guards the logs itself
        else:
            guard_logs(bot.token)
        self._token = bot.token
        self._bot: Bot = bot
        self._part_interval = part_interval
        self._ready = asyncio.Lock()
        # Parts already delivered of a message whose later part failed, so a retry does not repeat them.
        self._delivered: dict[str, int] = {}

    @property
    def bot(self) -> Bot:
        return self._bot

    async def send(self, message: OutgoingMessage) -> None:
        if not message.address.strip():
            raise TransportError("Telegram: chat_id is empty", permanent=True)
        try:
            parts = split_html(message.html or escape(message.text))
        except ValueError as exc:
            raise TransportError(f"Telegram: {exc}", permanent=True) from None
        chat_id = _chat_id(message.address)
        keyboard = inline_keyboard(message.buttons)
        done = self._delivered.pop(message.key, 0)
        try:
            async with self._ready:  # a bot closed after the last batch reopens its HTTP client here
                await self._bot.initialize()
            first = done
            for index in range(first, len(parts)):
                if index > first:
                    await asyncio.sleep(self._part_interval)
                # The buttons answer the whole message, so they go under its last part: where the reader
                # finishes, on the newest message in the chat (as the chat bot's own replies place them).
                markup = keyboard if index == len(parts) - 1 else None
                await self._bot.send_message(chat_id, parts[index], parse_mode=ParseMode.HTML, reply_markup=markup,
                                             link_preview_options=LinkPreviewOptions(is_disabled=True))
                done = index + 1
        except TelegramError as exc:
            error = self._transport_error(exc)
            if error.permanent:
                done = 0  # never retried: nothing to resume
            raise error from None  # the PTB exception and its frames may hold the token
        finally:
            if 0 < done < len(parts):  # stopped part-way (an error, or cancelled at shutdown): resume there
                self._delivered[message.key] = done
                while len(self._delivered) > 10_000:  # bounded: the outbox retries, not this memory
                    del self._delivered[next(iter(self._delivered))]

    def _transport_error(self, exc: TelegramError) -> TransportError:
        description = scrub(f"{type(exc).__name__}: {exc.message}", self._token)
        if isinstance(exc, RetryAfter):
            return TransportError(f"Telegram: {description}", permanent=False, retry_after=retry_seconds(exc))
        if isinstance(exc, ChatMigrated):  # the group became a supergroup: this chat id is dead, the new one works
            return TransportError(f"Telegram: {description}", permanent=True, moved_to=str(exc.new_chat_id))
        if isinstance(exc, Forbidden):  # blocked by the user, kicked from the group, user deactivated
            return TransportError(f"Telegram: {description}", permanent=True)
        if isinstance(exc, InvalidToken):  # the service's configuration, not this message: retry after a fix
            return TransportError(f"Telegram: {description}", permanent=False)
        if isinstance(exc, BadRequest):  # chat not found, unparsable HTML, ...: sending again cannot help
            return TransportError(f"Telegram: {description}", permanent=True)
        # TimedOut, NetworkError (5xx, 502, connection refused) and the rest: worth another try later.
        return TransportError(f"Telegram: {description}", permanent=False)

    async def close(self) -> None:
        if self._owned is not None:
            await self._owned.release()
