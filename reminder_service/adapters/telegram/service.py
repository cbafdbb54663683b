"""The chat bot inside the daemon: python-telegram-bot's Application, polling (or a webhook) on the
daemon's event loop, handing each message and button press to the router in a worker thread (the
router reads the database) and sending its replies.

The glue only translates: Telegram update → ``ChatRef`` + text → router → ``Reply`` → sendMessage. Replies
share the dispatcher's rate limiter, so reminders and answers together stay within Telegram's limits. A
reply that meets a 429 or a network error is tried again a few times through that limiter (Telegram's
retry_after becomes a pause for the chat), and given up, logged, rather than wait for long: a /danop
confirmation must not vanish on a busy second, nor a handler hang for an hour.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, ExtBot, MessageHandler, filters
from telegram.request import HTTPXRequest

from reminder_service.adapters.telegram.notifier import guard_logs, inline_keyboard, retry_seconds, split_html
from reminder_service.adapters.telegram.replies import CallbackOutcome, ChatRef, Reply
from reminder_service.services.outbox.ratelimit import RateLimiter

log = structlog.get_logger(__name__)

# What a person reads when something of ours failed: never a traceback, never internal detail.
FAILURE_TEXT = "Xin lỗi, hệ thống chưa xử lý được yêu cầu này. Vui lòng thử lại sau ít phút."
# How long one getUpdates waits for news; short enough that a stop is prompt.
POLL_TIMEOUT = timedelta(seconds=10)
CHANNEL = "telegram"  # the limiter's channel, shared with the reminders
# A reply (a message, an edit, a press's answer) is tried at most this many times in all ...
REPLY_ATTEMPTS = 4
# ... waiting at most this long for each turn: a person waits for an answer, and a handler that waits
# holds one of the few places for updates. A longer retry_after gives the reply up.
REPLY_MAX_WAIT = 30.0
# The pause after a network error or a 5xx, doubled at each one (1, 2, 4 s).
REPLY_BACKOFF = 1.0


class Router(Protocol):
    bot_username: str

    def on_text(self, chat: ChatRef, text: str, now: datetime) -> list[Reply]: ...

    def on_callback(self, chat: ChatRef, data: str, now: datetime) -> CallbackOutcome: ...

    def on_migrated(self, old_chat_id: str, new_chat_id: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class Webhook:
    """Telegram pushes updates to ``url`` (HTTPS, through the office's reverse proxy) instead of being polled."""

    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None


class ChatBot:
    def __init__(self, bot: str | ExtBot[None], router: Router, clock: Callable[[], datetime], *,
                 base_url: str = "https://api.telegram.org/bot", limiter: RateLimiter | None = None,
                 commands: Sequence[tuple[str, str]] = (), webhook: Webhook | None = None,
                 poll_timeout: timedelta = POLL_TIMEOUT) -> None:
        self._router = router
        self._clock = clock
        # Alone (no dispatcher to share with), the pauses Telegram asks for are still kept, without pacing.
        self._limiter = limiter if limiter is not None else RateLimiter({})
        self._commands = list(commands)
        self._webhook = webhook
        self._poll_timeout = poll_timeout
        """``bot``: the process's shared bot (notifiers.telegram.SharedBot), or a token for a bot of its own."""
        builder = Application.builder()
        if isinstance(bot, str):
            guard_logs(bot)  # PTB and httpx log URLs that contain the token
            builder = (builder.token(bot).base_url(base_url)
                       .request(HTTPXRequest(connection_pool_size=16, read_timeout=15, write_timeout=15,
                                             connect_timeout=15))
                       .get_updates_request(HTTPXRequest(read_timeout=15)))
        else:
            builder = builder.bot(bot)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.concurrent_updates(8).build()
        # The group's "upgraded to a supergroup" service message: its chat id changes; follow it at once.
        self.application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        self.application.add_handler(MessageHandler(filters.TEXT, self._on_message))
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_error_handler(self._on_error)
        self.started = False

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        if not self._router.bot_username:  # not configured: learn it from getMe, for "/quahan@bot" in groups
            self._router.bot_username = app.bot.username
        if self._commands:
            try:
                await app.bot.set_my_commands([BotCommand(name, description) for name, description in self._commands])
            except TelegramError as exc:  # the menu is a convenience: never a reason not to start
                log.warning("bot_commands_not_set", error=type(exc).__name__)
        await app.start()
        assert app.updater is not None
        if self._webhook is None:
            await app.updater.start_polling(poll_interval=0.0, timeout=self._poll_timeout,
                                            allowed_updates=["message", "callback_query"])
        else:
            await app.updater.start_webhook(listen=self._webhook.listen, port=self._webhook.port,
                                            url_path="telegram", webhook_url=self._webhook.url,
                                            secret_token=self._webhook.secret,
                                            allowed_updates=["message", "callback_query"])
        self.started = True
        log.info("bot_started", mode="webhook" if self._webhook else "polling", username=app.bot.username)

    async def stop(self) -> None:
        self.started = False
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        log.info("bot_stopped")

    # -- handlers ----------------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None or user is None or not message.text:
            return
        ref = ChatRef(str(chat.id), chat.type, str(user.id), chat.title or "")
        try:
            replies = await asyncio.to_thread(self._router.on_text, ref, message.text, self._clock())
        except Exception as exc:  # a bug of ours: the person gets an apology, the log gets the error
            log.error("bot_handler_failed", chat_id=ref.chat_id, error=f"{type(exc).__name__}: {exc}")
            replies = [Reply(FAILURE_TEXT)]
        for reply in replies:
            await self._send(chat.id, reply)

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        # The old group gets "migrate_to", the new supergroup "migrate_from"; either names both ids.
        if message.migrate_to_chat_id:
            old, new = message.chat_id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat_id
        else:
            return
        try:
            await asyncio.to_thread(self._router.on_migrated, str(old), str(new), self._clock())
        except Exception as exc:  # the next reminder to the old id meets ChatMigrated and follows it then
            log.error("bot_handler_failed", chat_id=str(old), error=f"{type(exc).__name__}: {exc}")

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat, user = update.callback_query, update.effective_chat, update.effective_user
        if query is None or user is None:
            return
        chat_id = chat.id if chat is not None else user.id
        ref = ChatRef(str(chat_id), chat.type if chat is not None else "private", str(user.id),
                      (chat.title or "") if chat is not None else "")
        try:
            outcome = await asyncio.to_thread(self._router.on_callback, ref, query.data or "", self._clock())
        except Exception as exc:
            log.error("bot_handler_failed", chat_id=ref.chat_id, error=f"{type(exc).__name__}: {exc}")
            outcome = CallbackOutcome(notice=FAILURE_TEXT)
        # Neither the answer nor the edit waits for a turn the first time, as before: they follow the
        # person's own tap, not a message of ours; only their retries queue behind the chat's pause.
        await self._deliver(ref.chat_id, "answerCallbackQuery",
                            functools.partial(query.answer, outcome.notice[:200] or None), paced=False)
        if outcome.edit is not None:
            edit = functools.partial(query.edit_message_text, split_html(outcome.edit.text)[0],
                                     parse_mode=ParseMode.HTML, reply_markup=inline_keyboard(outcome.edit.buttons),
                                     link_preview_options=LinkPreviewOptions(is_disabled=True))
            try:
                await self._deliver(ref.chat_id, "editMessageText", edit, paced=False)
            except BadRequest as exc:  # "message is not modified": the same page pressed twice
                log.info("bot_edit_skipped", chat_id=ref.chat_id, reason=exc.message)
        for reply in outcome.replies:
            await self._send(chat_id, reply)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.warning("bot_update_failed", error=f"{type(error).__name__}: {error}" if error else "")

    async def _send(self, chat_id: int, reply: Reply) -> None:
        parts = split_html(reply.text)
        for index, part in enumerate(parts):
            markup = inline_keyboard(reply.buttons) if index == len(parts) - 1 else None
            send = functools.partial(self.application.bot.send_message, chat_id, part, parse_mode=ParseMode.HTML,
                                     reply_markup=markup, link_preview_options=LinkPreviewOptions(is_disabled=True))
            if not await self._deliver(str(chat_id), "sendMessage", send):
                return  # the rest of a message whose beginning never arrived would read as nonsense

    async def _deliver(self, address: str, method: str, call: Callable[[], Awaitable[object]], *,
                       paced: bool = True) -> bool:
        """Make ``call`` to the chat ``address``, each try taking its turn from the limiter (the first one
        only if ``paced``). A 429 pauses the chat for its retry_after, a network error or 5xx for a short
        backoff, then it is tried again; False, logged, once REPLY_ATTEMPTS tries failed or a turn would
        come later than REPLY_MAX_WAIT. A permanent error (BadRequest, Forbidden, ...) is raised at once:
        sending the same again cannot help."""
        error = ""
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            turn = paced or attempt > 1
            if turn and not await self._limiter.acquire(CHANNEL, address, max_wait=REPLY_MAX_WAIT):
                log.warning("bot_reply_dropped", chat_id=address, method=method, attempts=attempt - 1, error=error,
                            reason="wait_too_long")
                return False
            try:
                await call()
                return True
            except RetryAfter as exc:
                wait, error = retry_seconds(exc), type(exc).__name__
            except BadRequest:
                raise  # a NetworkError to PTB, yet final
            except NetworkError as exc:  # TimedOut, a 5xx, a refused connection
                wait, error = REPLY_BACKOFF * 2 ** (attempt - 1), type(exc).__name__
            finally:
                if turn:
                    self._limiter.finished(CHANNEL, address)
            # The pause holds for the dispatcher's reminders to this chat too: Telegram asked it of the bot.
            self._limiter.pause(CHANNEL, address, wait)
            log.info("bot_reply_retry", chat_id=address, method=method, attempt=attempt, error=error,
                     wait_seconds=round(wait, 1))
        log.warning("bot_reply_dropped", chat_id=address, method=method, attempts=REPLY_ATTEMPTS, error=error,
                    reason="attempts")
        return False
