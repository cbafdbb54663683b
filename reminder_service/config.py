"""The service's TOML configuration: defaults, the file, and environment overrides.

Secrets never live here: they come from the environment or ``*_FILE`` variables.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from reminder_service.domain.datetext import DateError, read_date
from reminder_service.domain.errors import UserError, os_reason
from reminder_service.domain.escalation.policy import Policy
from reminder_service.domain.escalation.settings import KEYS as ESCALATION_KEYS
from reminder_service.domain.escalation.settings import parse_policy

CONFIG_ENV = "REMINDER_SERVICE_CONFIG"
DATABASE_URL_ENV = "REMINDER_SERVICE_DATABASE_URL"
# Development default, relative to the working directory; production sets a path in the config.
DEFAULT_DATABASE_URL = "sqlite:///var/reminder-service.sqlite3"


@dataclass(frozen=True)
class CalendarSettings:
    directive: str = "cchc"
    # An office's own directive files; a file here replaces the built-in one of the same id and year.
    directives_dir: Path | None = None
    extra_days_off: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()


@dataclass(frozen=True)
class StatusSettings:
    # "Due soon" starts this many working days before the nominal deadline (the notice stage).
    due_soon_working_days: int = 5


@dataclass(frozen=True)
class EmailSettings:
    """SMTP; the password comes from REMINDER_SERVICE_SMTP_PASSWORD(_FILE), never from here."""

    host: str | None = None
    port: int = 587
    # "starttls" (port 587), "tls" (implicit TLS, port 465) or "none" (a local relay).
    security: str = "starttls"
    username: str | None = None
    from_address: str = "noreply@localhost"
    from_name: str = "Phòng Nội vụ"
    timeout_seconds: int = 30
    # Connections kept open to the server at once; each carries one message at a time.
    connections: int = 4

    @property
    def configured(self) -> bool:
        return self.host is not None


@dataclass(frozen=True)
class TelegramSettings:
    """The bot token comes from REMINDER_SERVICE_TELEGRAM_TOKEN(_FILE), never from here."""

    enabled: bool = False
    # Only tests and self-hosted Bot API servers change this.
    base_url: str = "https://api.telegram.org/bot"
    bot_username: str | None = None
    # The bot answers commands and buttons inside `run` when Telegram is enabled; false: reminders only.
    chat_bot: bool = True
    # Polling by default; with a URL, Telegram pushes updates to it (HTTPS through the office's proxy,
    # which forwards to webhook_listen:webhook_port). The secret comes from the environment.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443


@dataclass(frozen=True)
class WebSettings:
    """The office's web console (adapters/web), served by `run` in the same process and by `web`."""

    # On by default so that `make run` shows the demo board; an office turns it off with enabled = false.
    enabled: bool = True
    listen: str = "127.0.0.1"
    port: int = 8080
    # The address people reach it at (through the office's reverse proxy); sign-in links and calendar
    # feeds are written with it. https:// makes the session cookie Secure.
    public_url: str = "http://127.0.0.1:8080"

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")


@dataclass(frozen=True)
class Config:
    path: Path | None
    calendar: CalendarSettings
    database_url: str = DEFAULT_DATABASE_URL
    office_name: str = "Phòng Nội vụ"
    status: StatusSettings = StatusSettings()
    email: EmailSettings = EmailSettings()
    telegram: TelegramSettings = TelegramSettings()
    # Console and JSONL delivery, used for any channel that is not configured.
    outbox_jsonl: Path | None = None
    # The incoming-register folder the daemon watches; None switches the intake guard off.
    watch_dir: Path | None = None
    escalation: Policy = field(default_factory=Policy)
    web: WebSettings = WebSettings()


class ConfigError(UserError):
    pass


_SECTIONS: dict[str, set[str]] = {
    "calendar": {"directive", "directives_dir", "extra_days_off", "extra_working_days"},
    "database": {"url"},
    "office": {"name"},
    "status": {"due_soon_working_days"},
    "email": {"host", "port", "security", "username", "from_address", "from_name", "timeout_seconds",
              "connections"},
    "telegram": {"enabled", "base_url", "bot_username", "chat_bot", "webhook_url", "webhook_listen", "webhook_port"},
    "delivery": {"jsonl"},
    "register": {"watch_dir"},
    "escalation": ESCALATION_KEYS,
    "web": {"enabled", "listen", "port", "public_url"},
}


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    env_url = env.get(DATABASE_URL_ENV, "").strip() or None
    if path is None:
        return Config(path=None, calendar=CalendarSettings(), database_url=env_url or DEFAULT_DATABASE_URL)
    text, data = _read(path)
    reader = _Reader(path, text)
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        reader.fail(f"mục [{unknown[0]}] không được hỗ trợ; các mục hợp lệ: {', '.join(sorted(_SECTIONS))}",
                    None, unknown[0])
    calendar = reader.section(data, "calendar")
    base = path.parent
    directives_dir = reader.text(calendar, "calendar", "directives_dir")
    database = reader.section(data, "database")
    office = reader.section(data, "office")
    status = reader.section(data, "status")
    email = reader.section(data, "email")
    telegram = reader.section(data, "telegram")
    delivery = reader.section(data, "delivery")
    register = reader.section(data, "register")
    security = reader.text(email, "email", "security") or "starttls"
    if security not in {"starttls", "tls", "none"}:
        reader.fail('[email].security phải là "starttls", "tls" hoặc "none"', "email", "security")
    jsonl = reader.text(delivery, "delivery", "jsonl")
    watch_dir = reader.text(register, "register", "watch_dir")
    escalation = parse_policy(reader.section(data, "escalation"), reader.fail)
    web = _web(reader, reader.section(data, "web"))
    return Config(
        path=path,
        database_url=env_url or reader.text(database, "database", "url") or DEFAULT_DATABASE_URL,
        office_name=reader.text(office, "office", "name") or "Phòng Nội vụ",
        status=StatusSettings(reader.integer(status, "status", "due_soon_working_days", 5, 0, 60)),
        email=EmailSettings(
            host=reader.text(email, "email", "host"),
            port=reader.integer(email, "email", "port", 465 if security == "tls" else 587, 1, 65535),
            security=security,
            username=reader.text(email, "email", "username"),
            from_address=reader.text(email, "email", "from_address") or "noreply@localhost",
            from_name=reader.text(email, "email", "from_name") or "Phòng Nội vụ",
            timeout_seconds=reader.integer(email, "email", "timeout_seconds", 30, 1, 600),
            connections=reader.integer(email, "email", "connections", 4, 1, 16),
        ),
        telegram=TelegramSettings(
            enabled=reader.boolean(telegram, "telegram", "enabled", False),
            base_url=reader.text(telegram, "telegram", "base_url") or "https://api.telegram.org/bot",
            bot_username=reader.text(telegram, "telegram", "bot_username"),
            chat_bot=reader.boolean(telegram, "telegram", "chat_bot", True),
            webhook_url=_webhook_url(reader, telegram),
            webhook_listen=reader.text(telegram, "telegram", "webhook_listen") or "127.0.0.1",
            webhook_port=reader.integer(telegram, "telegram", "webhook_port", 8443, 1, 65535),
        ),
        outbox_jsonl=(base / jsonl) if jsonl else None,
        watch_dir=(base / watch_dir) if watch_dir else None,
        escalation=escalation,
        web=web,
        calendar=CalendarSettings(
            directive=reader.text(calendar, "calendar", "directive") or "cchc",
            directives_dir=(base / directives_dir) if directives_dir else None,
            extra_days_off=reader.dates(calendar, "calendar", "extra_days_off"),
            extra_working_days=reader.dates(calendar, "calendar", "extra_working_days"),
        ),
    )


def _webhook_url(reader: _Reader, telegram: dict[str, Any]) -> str | None:
    url = reader.text(telegram, "telegram", "webhook_url")
    if url is not None and not url.startswith("https://"):
        reader.fail('[telegram].webhook_url phải là địa chỉ https://…, ví dụ "https://cchc.example.gov.vn/telegram"',
                    "telegram", "webhook_url")
    return url


def _web(reader: _Reader, web: dict[str, Any]) -> WebSettings:
    listen = reader.text(web, "web", "listen") or "127.0.0.1"
    port = reader.integer(web, "web", "port", 8080, 1, 65535)
    url = reader.text(web, "web", "public_url")
    if url is None:
        shown = "127.0.0.1" if listen in {"0.0.0.0", "::"} else listen
        url = f"http://{shown}:{port}"
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        reader.fail('[web].public_url phải là địa chỉ http(s)://… mà cán bộ mở trong trình duyệt, '
                    'ví dụ "https://cchc.example.gov.vn"', "web", "public_url")
    return WebSettings(enabled=reader.boolean(web, "web", "enabled", True), listen=listen, port=port,
                       public_url=url.rstrip("/"))


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"Không đọc được tệp cấu hình {path} ({os_reason(exc)}). "
            f"Hãy kiểm tra đường dẫn trong --config hoặc biến môi trường {CONFIG_ENV}."
        ) from None
    try:
        text = raw.decode("utf-8")
        return text, tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError(f"Tệp cấu hình {path} không ở mã UTF-8; hãy lưu lại với mã UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        where = f", dòng {found.group(1)}" if found else ""
        raise ConfigError(
            f"Tệp cấu hình {path}{where}: sai cú pháp TOML ({exc}). Hãy sửa dòng này rồi chạy lại."
        ) from None


_HEADER = re.compile(r"^\s*\[\s*([^\[\]#]+?)\s*\]\s*(?:#.*)?$")


def _line_of(text: str, section: str | None, key: str) -> int | None:
    """The line where ``key`` is set in ``[section]`` (None: at the top, or the header ``[key]``), for
    messages: tomllib keeps no positions. None when it cannot be found (a dotted key, an inline table)."""
    current: str | None = None
    assignment = re.compile(rf'^\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*=')
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace('"', "").replace(" ", "")
            if current.split(".")[: 1 if section is None else 2] == ([key] if section is None else [section, key]):
                return number  # the table [key], or the sub-table [section.key]
        elif current == section and assignment.match(line):
            return number
    return None


class _Reader:
    def __init__(self, path: Path, source: str = "") -> None:
        self.path = path
        self.source = source

    def fail(self, message: str, section: str | None = None, key: str | None = None) -> NoReturn:
        """``section`` and ``key`` say where the mistake is, so that the message can name its line."""
        line = _line_of(self.source, section, key) if key is not None else None
        where = f", dòng {line}" if line is not None else ""
        raise ConfigError(f"Tệp cấu hình {self.path}{where}: {message}")

    def section(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            self.fail(f"[{name}] phải là một mục (bảng), ví dụ dòng [{name}]", None, name)
        unknown = sorted(set(value) - _SECTIONS[name])
        if unknown:
            self.fail(
                f'khóa "{unknown[0]}" trong [{name}] không được hỗ trợ; '
                f"các khóa hợp lệ: {', '.join(sorted(_SECTIONS[name]))}", name, unknown[0]
            )
        return value

    def text(self, section: dict[str, Any], name: str, key: str) -> str | None:
        value = section.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            self.fail(f'[{name}].{key} phải là một chuỗi không rỗng, ví dụ {key} = "..."', name, key)
        return value

    def integer(self, section: dict[str, Any], name: str, key: str, default: int, low: int, high: int) -> int:
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"[{name}].{key} phải là số nguyên từ {low} đến {high}, ví dụ {key} = {default}", name, key)
        return value

    def boolean(self, section: dict[str, Any], name: str, key: str, default: bool) -> bool:
        value = section.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"[{name}].{key} phải là true hoặc false", name, key)
        return value

    def dates(self, section: dict[str, Any], name: str, key: str) -> tuple[date, ...]:
        value = section.get(key, [])
        if not isinstance(value, list):
            self.fail(f"[{name}].{key} phải là một danh sách ngày, ví dụ {key} = [2026-12-31]", name, key)
        days = []
        for index, item in enumerate(value, start=1):
            day = parse_day(item) if isinstance(item, str | date) else None
            if day is None:
                self.fail(
                    f'[{name}].{key}, phần tử thứ {index} ("{item}") không phải là ngày hợp lệ; '
                    "hãy viết dạng 2026-12-31 hoặc \"31/12/2026\"", name, key
                )
            days.append(day)
        return tuple(days)


def parse_day(value: str | date) -> date | None:
    """A civil date in the one grammar people type (datetext), or None."""
    if isinstance(value, datetime):
        return None  # a time of day means the writer meant something other than a civil date
    if isinstance(value, date):
        return value
    try:
        return read_date(value)
    except DateError:
        return None
