"""What the bot's logic receives and returns, free of python-telegram-bot types, so the logic is tested
without a network and the glue (``service``) stays thin."""

from __future__ import annotations

from dataclasses import dataclass

from reminder_service.domain.buttons import Buttons


@dataclass(frozen=True)
class ChatRef:
    """Where a message came from: the chat (private, group, supergroup) and the user who wrote it."""

    chat_id: str
    chat_type: str
    user_id: str
    title: str = ""

    @property
    def private(self) -> bool:
        return self.chat_type == "private"


@dataclass(frozen=True)
class Reply:
    """One message to send: Telegram HTML (every value already escaped) and optional inline buttons."""

    text: str
    buttons: Buttons = ()


@dataclass(frozen=True)
class CallbackOutcome:
    """The answer to a button press: a short notice on the user's screen, the pressed message's new
    content (a page turned, a confirmation done) and any further messages."""

    notice: str = ""
    edit: Reply | None = None
    replies: tuple[Reply, ...] = ()
