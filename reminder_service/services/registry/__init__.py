"""The organisation registry: units read from a file, and the people who receive messages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from reminder_service.services.audit import Actor
from reminder_service.services.registry.apply import ImportResult, apply_units
from reminder_service.services.registry.fields import code_problem, email_problem, parse_channels, telegram_problem
from reminder_service.services.registry.people import (
    MANUAL_ROLES,
    ROLE_LABELS,
    ChatTaken,
    PersonView,
    UnitView,
    add_person,
    list_people,
    list_units,
    office_name,
)
from reminder_service.services.registry.source import Problem, UnitsFileError
from reminder_service.services.registry.validate import Contact, UnitRow, load_units, parse_units
from reminder_service.services.workspace import Workspace

__all__ = [
    "MANUAL_ROLES",
    "ROLE_LABELS",
    "ChatTaken",
    "Contact",
    "ImportResult",
    "PersonView",
    "Problem",
    "UnitRow",
    "UnitView",
    "UnitsFileError",
    "add_person",
    "apply_units",
    "code_problem",
    "email_problem",
    "import_units_file",
    "list_people",
    "list_units",
    "load_units",
    "office_name",
    "parse_channels",
    "parse_units",
    "telegram_problem",
]


def import_units_file(app: Workspace, path: Path, actor: Actor, now: datetime) -> int:
    """Validate and apply a units file in one transaction (the demo loader's entry point).

    Returns how many units were new; the CLI uses ``load_units`` and ``apply_units`` for the full tally.
    """
    rows = load_units(path, app.calendar(now.year).directive)
    with app.session() as session:
        return apply_units(session, rows, actor, now, label=str(path)).created
