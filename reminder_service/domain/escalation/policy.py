"""The escalation policy as data: stages, when each falls, who hears it, through which channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Literal

Anchor = Literal["nominal", "effective", "marked"]
ROLE_NAMES = ("unit_head", "focal", "receiver", "leadership")
# The roles of a unit's own people (the others belong to the office): they see and answer only their unit.
UNIT_ROLES = frozenset({"unit_head", "focal"})
CHANNEL_NAMES = ("telegram", "email")


@dataclass(frozen=True)
class Stage:
    """One rung of a ladder.

    ``offset`` counts working days from the anchor, not counting the anchor itself: -5 is "5 working
    days before the nominal deadline", 3 is "3 working days after the effective deadline". With
    ``offset`` 0 and anchor "nominal" the rung falls on the last working day on or before the nominal
    deadline (due_today); with anchor "marked", on the first working day on or after the mark.
    """

    name: str
    anchor: Anchor
    offset: int
    roles: tuple[str, ...]
    channels: tuple[str, ...] = CHANNEL_NAMES
    repeat_every: int | None = None
    template: str = ""

    @property
    def template_name(self) -> str:
        return self.template or self.name


DEFAULT_STAGES = (
    Stage("notice", "nominal", -5, ("focal", "unit_head")),
    Stage("reminder", "nominal", -2, ("unit_head", "focal")),
    Stage("due_today", "nominal", 0, ("unit_head", "focal")),
    Stage("overdue", "effective", 1, ("unit_head", "receiver")),
    Stage("escalated", "effective", 3, ("unit_head", "leadership", "receiver"), repeat_every=3),
)
# An incomplete mark reopens the obligation with a short ladder of its own.
DEFAULT_INCOMPLETE_STAGES = (
    Stage("incomplete", "marked", 0, ("unit_head", "focal")),
    Stage("incomplete_reminder", "marked", 2, ("unit_head", "focal"), repeat_every=3),
)
# Stages that say "you are late": held back while the incoming register is stale (the intake guard).
LATE_STAGES = frozenset({"overdue", "escalated"})
# The office's own people hear of escalations once a day, not once per unit: their deliveries of these
# stages go into the day's roll-up (leadership: one message; the receiver: inside the daily digest).
# The first overdue day still sends the receiver its copy, with the "Chi tiết" button.
ROLLUP_ROLES = frozenset({"leadership", "receiver"})
ROLLUP_STAGES = frozenset({"escalated"})


@dataclass(frozen=True)
class Policy:
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    incomplete_stages: tuple[Stage, ...] = DEFAULT_INCOMPLETE_STAGES
    # Messages go out on working days between these hours only (Vietnamese time).
    send_from: time = time(8, 0)
    send_until: time = time(17, 30)
    # A repeating stage stops after this many occurrences: a unit years late is not messaged forever.
    max_repeats: int = 40
    digest_roles: tuple[str, ...] = ("receiver",)
    weekly_roles: tuple[str, ...] = ("leadership",)
    channels: tuple[str, ...] = field(default=CHANNEL_NAMES)

    def stage(self, name: str) -> Stage:
        for stage in (*self.stages, *self.incomplete_stages):
            if stage.name == name:
                return stage
        raise KeyError(name)
