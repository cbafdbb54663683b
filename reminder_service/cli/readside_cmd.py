"""``reminder-service status``, ``overdue`` and ``report timeliness`` (placeholder until they land)."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
