"""The schema migrates on both engines and the App reaches it."""

from __future__ import annotations

from sqlalchemy import inspect

from reminder_service.app import App
from reminder_service.services.db.engine import SCHEMA_HEAD, alembic_head, is_current, upgrade


def test_schema_is_at_head_and_upgrade_is_idempotent(app: App) -> None:
    assert is_current(app.engine)
    upgrade(app.engine)
    tables = set(inspect(app.engine).get_table_names())
    assert {"units", "people", "obligations", "submissions", "audit_log", "review_items"} <= tables


def test_schema_head_constant_follows_the_migrations(app: App) -> None:
    assert alembic_head(app.engine) == SCHEMA_HEAD
