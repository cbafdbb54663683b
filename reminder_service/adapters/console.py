"""Delivery with no credentials: a readable block on a terminal, or one JSON line per message in a file.

These are what a channel falls back to when it is not configured, so `make run` shows what the service
would send. Neither reads the clock: everything written comes from the message itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from reminder_service.services.outbox.notifier import Notifier, OutgoingMessage, TransportError

CHANNEL_LABELS = {"email": "e-mail", "telegram": "Telegram"}


def describe(message: OutgoingMessage) -> str:
    """The block printed for one message, in the office's language."""
    label = CHANNEL_LABELS.get(message.channel, message.channel)
    if message.channel == "email":
        where = f"<{message.address}>"
    elif message.channel == "telegram":
        where = f"(chat {message.address})"
    else:
        where = f"({message.address})"
    name = message.recipient_name or "(không rõ tên)"
    head = f"Gửi qua {label} tới {name} {where}"
    if message.subject:
        head += f": {message.subject}"
    rule = "─" * 72
    block = f"{rule}\n{head}\n\n{message.text.rstrip()}\n"
    if message.channel == "telegram" and message.buttons:
        # What the chat shows under the message, one line per row of buttons: "[Đã gửi] [Chi tiết]".
        block += "\n" + "\n".join(" ".join(f"[{label}]" for label, _ in row) for row in message.buttons) + "\n"
    return block


class ConsoleNotifier(Notifier):
    """Prints each message; ``stream`` defaults to the standard output current at send time, so a
    redirected or captured stdout receives it."""

    def __init__(self, channel: str, stream: TextIO | None = None) -> None:
        self.channel = channel
        self._stream = stream

    async def send(self, message: OutgoingMessage) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(describe(message))
        stream.flush()


def as_record(message: OutgoingMessage) -> dict[str, str]:
    return {
        "key": message.key,
        "channel": message.channel,
        "address": message.address,
        "recipient": message.recipient_name,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
    }


class JsonlNotifier(Notifier):
    """Appends one JSON object per message to ``path`` (created with its folder if missing)."""

    def __init__(self, channel: str, path: Path) -> None:
        self.channel = channel
        self.path = path

    async def send(self, message: OutgoingMessage) -> None:
        # One small local write: not worth a thread hop, and a single write() per line keeps lines
        # whole when several dispatchers append to the same file.
        self._append(json.dumps(as_record(message), ensure_ascii=False) + "\n")

    def _append(self, line: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            # A full disk or a bad path may heal; the dispatcher retries with backoff.
            raise TransportError(f"cannot append to {self.path}: {exc.strerror or exc}", permanent=False) from exc

