"""Assembling the chat bot from the configuration: the composition root calls ``build_chat_bot``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from telegram.ext import ExtBot

from reminder_service.adapters.telegram.commands import menu
from reminder_service.adapters.telegram.router import Router
from reminder_service.adapters.telegram.service import ChatBot, Webhook
from reminder_service.app import App
from reminder_service.secrets import TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET, read_secret
from reminder_service.services.outbox.ratelimit import RateLimiter


def build_chat_bot(app: App, clock: Callable[[], datetime], limiter: RateLimiter | None = None,
                   environ: Mapping[str, str] | None = None, bot: ExtBot[None] | None = None) -> ChatBot | None:
    """The bot when Telegram is enabled with the chat bot on (the default); None otherwise. ``bot``: the
    Bot object the Telegram notifier sends through, so the process has one (one connection pool)."""
    settings = app.config.telegram
    token = read_secret(TELEGRAM_TOKEN, environ)
    if not settings.enabled or not settings.chat_bot or not token:
        return None
    webhook = None
    if settings.webhook_url:
        webhook = Webhook(settings.webhook_url, settings.webhook_listen, settings.webhook_port,
                          read_secret(TELEGRAM_WEBHOOK_SECRET, environ))
    router = Router(app, settings.bot_username or "")
    return ChatBot(bot or token, router, clock, base_url=settings.base_url, limiter=limiter, commands=menu(),
                   webhook=webhook)
