"""Persistence: the schema, engines for SQLite and PostgreSQL, and migrations."""

# Every table in the one metadata, whichever module of the package is imported first: the chat bot's
# tables live in their own module, which builds on models (models never imports it back).
from reminder_service.services.db import chat as _chat  # noqa: F401
