"""``reminder-service people``: receiver and leadership people (placeholder until the registry lands)."""

from __future__ import annotations

import click

from reminder_service.cli.base import ViGroup


@click.group(cls=ViGroup)
def people() -> None:
    """Người nhận thông báo: Phòng Nội vụ, lãnh đạo."""
