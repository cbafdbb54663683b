"""The interface every channel implements, and the error that says whether retrying can help."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from reminder_service.domain.buttons import Buttons


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message for one person on one channel; ``key`` is the outbox dedupe key; ``buttons``
    only Telegram shows (an inline keyboard), e-mail and the console leave them out or just name them."""

    key: str
    channel: str
    address: str
    recipient_name: str
    subject: str
    text: str
    html: str
    buttons: Buttons = ()


class TransportError(Exception):
    """Delivery failed. ``permanent``: retrying cannot help (chat not found, mailbox rejected);
    ``retry_after``: the server asked us to wait this many seconds before trying again; ``moved_to``: the
    address is gone for good but the same recipient is now reached at this one (a Telegram group that
    became a supergroup), so the message and every later one go there."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None,
                 moved_to: str | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.moved_to = moved_to


class Notifier(ABC):
    channel: str

    @abstractmethod
    async def send(self, message: OutgoingMessage) -> None:
        """Deliver one message or raise TransportError."""

    async def close(self) -> None:  # noqa: B027 - most notifiers hold nothing to release
        """Release connections kept open across a batch."""
