"""The demo organisation for `make run` (being written)."""

from __future__ import annotations

from datetime import datetime

from reminder_service.app import App
from reminder_service.audit import Actor


def load_demo(app: App, actor: Actor, now: datetime) -> str:
    raise RuntimeError("demo data not written yet")
