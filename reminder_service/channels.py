"""Which notifier serves each channel: the real one when configured, the console (and JSONL) otherwise.

So `make run` works with no credentials: every message the service would send is printed instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from reminder_service.adapters.console import ConsoleNotifier, JsonlNotifier
from reminder_service.config import Config
from reminder_service.domain.errors import UserError
from reminder_service.domain.escalation.policy import CHANNEL_NAMES
from reminder_service.secrets import SMTP_PASSWORD, TELEGRAM_TOKEN, read_secret
from reminder_service.services.outbox.notifier import Notifier, OutgoingMessage

if TYPE_CHECKING:
    from telegram.ext import ExtBot

    from reminder_service.adapters.telegram.service import ChatBot
    from reminder_service.app import App
    from reminder_service.services.outbox.ratelimit import RateLimiter


class FanOut(Notifier):
    """The console and the JSONL file together, for a channel with no real transport."""

    def __init__(self, channel: str, parts: list[Notifier]) -> None:
        self.channel = channel
        self.parts = parts

    async def send(self, message: OutgoingMessage) -> None:
        for part in self.parts:
            await part.send(message)

    async def close(self) -> None:
        for part in self.parts:
            await part.close()


def channel_words(config: Config) -> str:
    """How each channel delivers, in words for the start-up line: never a class name."""
    email = (f"e-mail: gửi qua máy chủ thư {config.email.host}" if config.email.configured
             else "e-mail: in ra màn hình (chưa cấu hình máy chủ thư)")
    telegram = "Telegram: gửi qua bot" if config.telegram.enabled else "Telegram: chưa bật (in ra màn hình)"
    if config.outbox_jsonl is not None and not (config.email.configured and config.telegram.enabled):
        telegram += f"; tin in ra màn hình cũng được ghi vào {config.outbox_jsonl}"
    return f"{email}; {telegram}"


def telegram_bot(notifiers: Mapping[str, Notifier]) -> ExtBot[None] | None:
    """The Bot object the Telegram notifier sends through, for the chat bot to share; None without one."""
    from reminder_service.adapters.telegram.notifier import SharedBot, TelegramNotifier

    notifier = notifiers.get("telegram")
    bot = notifier.bot if isinstance(notifier, TelegramNotifier) else None
    return bot if isinstance(bot, SharedBot) else None


def chat_bot(app: App, now: Callable[[], datetime], limiter: RateLimiter,
             notifiers: Mapping[str, Notifier]) -> ChatBot | None:
    """The chat bot when the configuration asks for one, sharing the notifier's Bot object.
    python-telegram-bot's Application and the chat commands load only for a daemon that answers chats."""
    if not (app.config.telegram.enabled and app.config.telegram.chat_bot):
        return None
    from reminder_service.adapters.telegram.wiring import build_chat_bot

    return build_chat_bot(app, now, limiter, bot=telegram_bot(notifiers))


def build_notifiers(config: Config, environ: Mapping[str, str] | None = None,
                    stream: TextIO | None = None) -> dict[str, Notifier]:
    notifiers: dict[str, Notifier] = {}
    if config.email.configured:
        from reminder_service.adapters.email.notifier import EmailNotifier

        notifiers["email"] = EmailNotifier(config.email, read_secret(SMTP_PASSWORD, environ))
    if config.telegram.enabled:
        token = read_secret(TELEGRAM_TOKEN, environ)
        if not token:
            raise UserError(
                f"[telegram] enabled = true nhưng chưa có mã bot: hãy đặt biến môi trường {TELEGRAM_TOKEN} "
                f"hoặc {TELEGRAM_TOKEN}_FILE"
            )
        from reminder_service.adapters.telegram.notifier import TelegramNotifier

        notifiers["telegram"] = TelegramNotifier(token, config.telegram.base_url)
    for channel in CHANNEL_NAMES:
        if channel not in notifiers:
            parts: list[Notifier] = [ConsoleNotifier(channel, stream or sys.stdout)]
            if config.outbox_jsonl is not None:
                parts.append(JsonlNotifier(channel, config.outbox_jsonl))
            notifiers[channel] = FanOut(channel, parts)
    return notifiers
