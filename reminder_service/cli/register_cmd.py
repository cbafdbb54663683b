"""``reminder-service submissions import|review``: the incoming register (placeholder until it lands)."""

from __future__ import annotations

import click


def attach(group: click.Group) -> None:
    """Add the register commands to the `submissions` group."""
