"""What the console is handed by the process that serves it (docs/ARCHITECTURE.md, "Layers")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reminder_service.domain.escalation.policy import Policy
from reminder_service.services.workspace import Workspace


@dataclass(frozen=True)
class Console:
    workspace: Workspace
    # Vietnamese wall time now (or the day `run --as-of` plays); the console never reads the clock itself.
    clock: Callable[[], datetime]
    # Where people reach the console: sign-in links are written with it; https makes the cookie Secure.
    public_url: str
    office_name: str
    due_soon_working_days: int
    policy: Policy
    # The directive's unit kinds and their Vietnamese names, for the kind filter.
    kinds: dict[str, str]
    # The bot's @username without the @: invitations then carry a t.me link (and its QR code).
    bot_username: str | None = None
    # Whether the chat bot runs at all: an invitation handed out before it does cannot be redeemed yet.
    telegram_enabled: bool = False
    # Called when the console has read rows it will keep (its board cache): the process's garbage
    # collector treats them as long-lived (webserver.settle).
    settle: Callable[[], None] | None = None

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")
