"""The chat bot inside the daemon: python-telegram-bot's Application, polling (or a webhook) on the
daemon's event loop, handing each message and button press to the router in a worker thread (the
router reads the database) and sending its replies.

The glue only translates: Telegram update → ``ChatRef`` + text → router → ``Reply`` → sendMessage. Replies
share the dispatcher's rate limiter, so reminders and answers together stay within Telegram's limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from reminder_service.bot.replies import CallbackOutcome, ChatRef, Reply
from reminder_service.notifiers.telegram import guard_logs, inline_keyboard, split_html
from reminder_service.outbox.ratelimit import RateLimiter

log = structlog.get_logger(__name__)

# What a person reads when something of ours failed: never a traceback, never internal detail.
FAILURE_TEXT = "Xin lỗi, hệ thống chưa xử lý được yêu cầu này. Vui lòng thử lại sau ít phút."
# How long one getUpdates waits for news; short enough that a stop is prompt.
POLL_TIMEOUT = timedelta(seconds=10)


class Router(Protocol):
    bot_username: str

    def on_text(self, chat: ChatRef, text: str, now: datetime) -> list[Reply]: ...

    def on_callback(self, chat: ChatRef, data: str, now: datetime) -> CallbackOutcome: ...


@dataclass(frozen=True)
class Webhook:
    """Telegram pushes updates to ``url`` (HTTPS, through the office's reverse proxy) instead of being polled."""

    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None


class ChatBot:
    def __init__(self, token: str, router: Router, clock: Callable[[], datetime], *,
                 base_url: str = "https://api.telegram.org/bot", limiter: RateLimiter | None = None,
                 commands: Sequence[tuple[str, str]] = (), webhook: Webhook | None = None,
                 poll_timeout: timedelta = POLL_TIMEOUT) -> None:
        self._router = router
        self._clock = clock
        self._limiter = limiter
        self._commands = list(commands)
        self._webhook = webhook
        self._poll_timeout = poll_timeout
        guard_logs(token)  # PTB and httpx log URLs that contain the token
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            Application.builder().token(token).base_url(base_url)
            .request(HTTPXRequest(connection_pool_size=16, read_timeout=15, write_timeout=15, connect_timeout=15))
            .get_updates_request(HTTPXRequest(read_timeout=poll_timeout.total_seconds() + 10))
            .concurrent_updates(8)
            .build()
        )
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
        await query.answer(outcome.notice[:200] or None)
        if outcome.edit is not None:
            part = split_html(outcome.edit.text)[0]
            try:
                await query.edit_message_text(part, parse_mode=ParseMode.HTML,
                                              reply_markup=inline_keyboard(outcome.edit.buttons),
                                              link_preview_options=LinkPreviewOptions(is_disabled=True))
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
            address = str(chat_id)
            if self._limiter is not None:
                await self._limiter.acquire("telegram", address)
            try:
                await self.application.bot.send_message(chat_id, part, parse_mode=ParseMode.HTML, reply_markup=markup,
                                                        link_preview_options=LinkPreviewOptions(is_disabled=True))
            finally:
                if self._limiter is not None:
                    self._limiter.finished("telegram", address)
