"""The schema migrates on both engines and the App reaches it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from reminder_service.app import App
from reminder_service.services.db.engine import SCHEMA_HEAD, alembic_head, is_current, upgrade
from reminder_service.services.db.models import Base


def test_schema_is_at_head_and_upgrade_is_idempotent(app: App) -> None:
    assert is_current(app.engine)
    upgrade(app.engine)
    tables = set(inspect(app.engine).get_table_names())
    assert {"units", "people", "obligations", "submissions", "audit_log", "review_items"} <= tables


def test_schema_head_constant_follows_the_migrations(app: App) -> None:
    assert alembic_head(app.engine) == SCHEMA_HEAD


def test_the_migrations_build_the_schema_the_models_declare(app: App) -> None:
    """A column or index added to a model without its migration (or the other way round) shows here."""
    with app.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
