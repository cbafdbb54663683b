"""Secrets (bot token, SMTP password) come from the environment or a ``*_FILE`` it names, never from
the config file; they are never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from reminder_service.domain.errors import UserError
from reminder_service.domain.redaction import remember

TELEGRAM_TOKEN = "REMINDER_SERVICE_TELEGRAM_TOKEN"
SMTP_PASSWORD = "REMINDER_SERVICE_SMTP_PASSWORD"
TELEGRAM_WEBHOOK_SECRET = "REMINDER_SERVICE_TELEGRAM_WEBHOOK_SECRET"


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``NAME`` itself, or the content of the file ``NAME_FILE`` points to (systemd credentials). What
    is read is remembered by the redactor, so no log line, stored error or health output shows it."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    if value:
        remember(value)
        return value
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        content = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"không đọc được tệp bí mật {path} (biến {name}_FILE): {exc.__class__.__name__}") from None
    remember(content)
    return content or None
