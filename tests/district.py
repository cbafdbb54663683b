"""A one-commune district for the daemon tests: XA_AN_BINH, the people a test names, 2021 synced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Person, Unit
from reminder_service.services.obligations import sync_obligations

SETUP = datetime(2021, 1, 4, 9, 0)
UNIT_ROLES = {"unit_head", "focal"}


def person(name: str, role: str, email: str | None = None, telegram: str | None = None,
           channels: str = "telegram,email") -> dict[str, Any]:
    return {"name": name, "role": role, "email": email, "telegram_chat_id": telegram, "channels": channels}


HEAD = person("Nguyễn Văn An", "unit_head", "an@songlam.example")
RECEIVER = person("Nguyễn Thị Thanh", "receiver", "noivu@songlam.example", channels="email")
LEADER = person("Lê Văn Quyết", "leadership", "chutich@songlam.example", channels="email")


def district(app: App, *people: dict[str, Any], unit_name: str = "UBND xã An Bình") -> None:
    with app.session() as session:
        unit = Unit(code="XA_AN_BINH", name=unit_name, kind="commune", updated_at=SETUP)
        session.add(unit)
        session.flush()
        session.add_all(
            Person(**spec, unit_id=unit.id if spec["role"] in UNIT_ROLES else None,
                   source="import" if spec["role"] in UNIT_ROLES else "manual")
            for spec in people
        )
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), Actor("test", "cli"), SETUP)
