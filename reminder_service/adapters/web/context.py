"""What the console is handed by the process that serves it (docs/ARCHITECTURE.md, "Layers")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from reminder_service.domain.escalation.policy import Policy
from reminder_service.services.workspace import Workspace


class HealthLine(Protocol):
    """One check of `reminder-service health` (health.Check), as «Vận hành» shows it."""

    @property
    def name(self) -> str: ...  # the check's code, e.g. "database" (as `health --format json` names it)

    @property
    def title(self) -> str: ...

    @property
    def state(self) -> str: ...  # ok | warning | failure

    @property
    def message(self) -> str: ...  # Vietnamese: what was found and what to do


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
    # The checks of `reminder-service health` at a moment, for «Vận hành»: blocking, up to a few seconds
    # (the channels are probed), so called in a worker thread. None: this console cannot check (no process).
    health: Callable[[datetime, bool], Sequence[HealthLine]] | None = None
    # The incoming-register folder the daemon watches ([register] watch_dir), if any.
    watch_dir: Path | None = None
    # Sends the sign-in links waiting in the outbox, when no daemon in this process dispatches them
    # (`reminder-service web` alone); under `run` the daemon's dispatch sends them within seconds.
    send_links: Callable[[], Awaitable[object]] | None = None

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")
