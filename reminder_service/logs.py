"""structlog set-up: key-value lines in a terminal, JSON lines under systemd, secrets never shown."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from reminder_service.domain.clock import TIMEZONE
from reminder_service.domain.redaction import remember, scrub
from reminder_service.secrets import SMTP_PASSWORD, TELEGRAM_TOKEN, read_secret


class Redactor:
    """Replaces every secret the process knows (redaction.remember), and anything shaped like a bot
    token, in any logged value, tracebacks included."""

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return {self._clean(key): self._clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(item) for item in value]
        # An exception, a URL object…: the renderers print its repr, so that is what is checked; one
        # that carries a secret is logged as its scrubbed repr.
        text = repr(value)
        cleaned = scrub(text)
        return value if cleaned == text else cleaned

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
        return {key: self._clean(value) for key, value in event.items()}


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time, as the structlog loggers do."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


# Libraries that log every request or job run at INFO: kept to warnings, or the journal drowns.
_CHATTY = ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater", "tornado.access")


def _vietnam_time(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """A terminal's lines in the office's time, offset shown: a person reads 09:00, not 02:00Z."""
    event["timestamp"] = datetime.now(ZoneInfo(TIMEZONE)).isoformat(sep=" ", timespec="seconds")
    return event


def _bridge_stdlib(level: int, processors: list[Any], stamp: Any) -> None:
    """python-telegram-bot, httpx, APScheduler and tornado log through the standard library: their lines
    go through the same redaction and rendering, so the journal holds one format and no secret."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, stamp],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *processors],
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def configure(*, json: bool | None = None, level: int = logging.INFO, environ: Mapping[str, str] | None = None,
              also_hide: Iterable[str] = ()) -> None:
    """``also_hide``: secrets that come from neither variable, such as the database URL's password."""
    env = os.environ if environ is None else environ
    if json is None:
        # systemd sets JOURNAL_STREAM for a service's stdout/stderr.
        json = "JOURNAL_STREAM" in env or not sys.stderr.isatty()
    # Reading them makes the redactor know them, before any line is logged.
    read_secret(TELEGRAM_TOKEN, env)
    read_secret(SMTP_PASSWORD, env)
    remember(*also_hide)
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(
        colors=False)
    # The journal keeps UTC (machines compare it); a terminal shows Vietnam time.
    stamp: Any = structlog.processors.TimeStamper(fmt="iso", utc=True) if json else _vietnam_time
    _bridge_stdlib(level, [structlog.processors.format_exc_info, Redactor(), renderer], stamp)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            structlog.processors.format_exc_info,
            Redactor(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # sys.stderr looked up at each call: tests and daemons may swap the stream after set-up.
        logger_factory=lambda *_args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
