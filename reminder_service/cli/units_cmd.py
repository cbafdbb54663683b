"""``reminder-service units``: the reporting units (placeholder until the registry lands)."""

from __future__ import annotations

import click

from reminder_service.cli.base import ViGroup


@click.group(cls=ViGroup)
def units() -> None:
    """Đơn vị báo cáo: nhập danh sách, xem danh sách."""
