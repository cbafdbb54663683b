"""Can the configured channels be reached? One short probe each, for ``reminder-service health``.

SMTP: connect (TCP, then TLS or STARTTLS as configured) and EHLO, no login and no mail. Telegram: getMe
through python-telegram-bot with the configured base_url and token. A channel with no real transport
prints to the console and is always reachable. No secret ever appears in a probe's result.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping

import aiosmtplib

from reminder_service.config import Config, EmailSettings, TelegramSettings
from reminder_service.domain.errors import UserError
from reminder_service.domain.escalation.policy import CHANNEL_NAMES
from reminder_service.domain.redaction import scrub
from reminder_service.health import Check, State
from reminder_service.secrets import SMTP_PASSWORD, TELEGRAM_TOKEN, read_secret

TITLES = {"email": "Kênh e-mail", "telegram": "Kênh Telegram"}


def _check(channel: str, transport: str, state: State, message: str, target: str | None) -> Check:
    return Check(f"channel_{channel}", TITLES.get(channel, f"Kênh {channel}"), state, message,
                 {"channel": channel, "transport": transport, "target": target})


def _scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    return " ".join(scrub(text, *secrets).split())[:300]


async def probe_smtp(settings: EmailSettings, password: str | None, wait: float,
                     tls_context: ssl.SSLContext | None = None) -> Check:
    target = f"{settings.host}:{settings.port}"
    smtp = aiosmtplib.SMTP(hostname=settings.host, port=settings.port, timeout=wait,
                           use_tls=settings.security == "tls", start_tls=settings.security == "starttls",
                           tls_context=tls_context)
    try:
        await smtp.connect()
        reply = await smtp.ehlo()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return _check("email", "smtp", "failure", _smtp_failure(target, exc, wait, password), target)
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                pass
        smtp.close()
    how = {"tls": "TLS", "starttls": "STARTTLS", "none": "không mã hóa"}[settings.security]
    message = f"Máy chủ SMTP {target} trả lời ({how}, EHLO {reply.code})."
    if settings.username and not password:
        return _check("email", "smtp", "failure",
                      f"{message} Nhưng [email].username đã đặt mà chưa có mật khẩu: hãy đặt biến môi trường "
                      f"{SMTP_PASSWORD} hoặc {SMTP_PASSWORD}_FILE.", target)
    return _check("email", "smtp", "ok", message, target)


def _smtp_failure(target: str, exc: BaseException, wait: float, password: str | None) -> str:
    if isinstance(exc, TimeoutError | aiosmtplib.SMTPTimeoutError):
        reason = f"hết thời gian chờ ({wait:g} giây)"
    elif isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError):
        reason = f"lỗi TLS ({exc}); hãy kiểm tra chứng chỉ máy chủ và [email].security"
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        reason = f"máy chủ trả lời {exc.code} {exc.message}"
    else:
        reason = str(exc) or type(exc).__name__
    return _scrub(f"Không kết nối được máy chủ SMTP {target}: {reason}. Hãy kiểm tra [email].host, port, "
                  "security và tường lửa.", (password,))


async def probe_telegram(settings: TelegramSettings, token: str, wait: float) -> Check:
    # Imported here: python-telegram-bot takes a while to import and only this probe needs it.
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError
    from telegram.request import HTTPXRequest

    from reminder_service.adapters.telegram.notifier import guard_logs

    guard_logs(token)  # httpx logs request URLs, which carry the token
    target = settings.base_url.rstrip("/")
    request = HTTPXRequest(connect_timeout=wait, read_timeout=wait, write_timeout=wait,
                           pool_timeout=wait)
    bot = Bot(token, base_url=settings.base_url, request=request)
    try:
        async with bot:
            username = bot.username
    except InvalidToken:
        return _check("telegram", "telegram", "failure",
                      f"Telegram ({target}) từ chối mã bot: mã sai hoặc đã bị thu hồi; hãy kiểm tra "
                      f"{TELEGRAM_TOKEN} (hoặc {TELEGRAM_TOKEN}_FILE).", target)
    except (TelegramError, OSError) as exc:
        detail = _scrub(f"{type(exc).__name__}: {exc}", (token,))
        return _check("telegram", "telegram", "failure",
                      f"Không gọi được Telegram ({target}): {detail}. Hãy kiểm tra kết nối mạng và "
                      "[telegram].base_url.", target)
    return _check("telegram", "telegram", "ok", f"Bot @{username} trả lời (getMe) qua {target}.", target)


def _console(channel: str, config: Config) -> Check:
    where = "màn hình" if config.outbox_jsonl is None else f"màn hình và tệp {config.outbox_jsonl}"
    return _check(channel, "console", "ok",
                  f"Chưa cấu hình kênh này: tin được in ra {where}.", None)


async def _probe(channel: str, config: Config, environ: Mapping[str, str] | None, wait: float) -> Check:
    if channel == "email" and config.email.configured:
        try:
            password = read_secret(SMTP_PASSWORD, environ)
        except UserError as exc:
            return _check("email", "smtp", "failure", f"Lỗi: {exc}.", f"{config.email.host}:{config.email.port}")
        return await probe_smtp(config.email, password, wait)
    if channel == "telegram" and config.telegram.enabled:
        try:
            token = read_secret(TELEGRAM_TOKEN, environ)
        except UserError as exc:
            return _check("telegram", "telegram", "failure", f"Lỗi: {exc}.", config.telegram.base_url)
        if not token:
            return _check("telegram", "telegram", "failure",
                          f"[telegram] enabled = true nhưng chưa có mã bot: hãy đặt biến môi trường "
                          f"{TELEGRAM_TOKEN} hoặc {TELEGRAM_TOKEN}_FILE.", config.telegram.base_url)
        return await probe_telegram(config.telegram, token, wait)
    return _console(channel, config)


def _quiet_secret(name: str, environ: Mapping[str, str] | None) -> str | None:
    try:
        return read_secret(name, environ)
    except UserError:
        return None


def probe_channels(config: Config, environ: Mapping[str, str] | None = None, wait: float = 5.0
                   ) -> tuple[Check, ...]:
    """Every channel's probe, run together so the slowest sets the time taken."""

    async def guarded(channel: str) -> Check:
        try:
            return await _probe(channel, config, environ, wait)
        except Exception as exc:  # a probe reports; it never ends the command with a traceback
            secrets = (_quiet_secret(TELEGRAM_TOKEN, environ), _quiet_secret(SMTP_PASSWORD, environ))
            return _check(channel, channel, "failure",
                          _scrub(f"Không kiểm tra được kênh {channel}: {type(exc).__name__}: {exc}", secrets), None)

    async def run_all() -> list[Check]:
        return list(await asyncio.gather(*(guarded(c) for c in CHANNEL_NAMES)))

    return tuple(asyncio.run(run_all()))
