"""Persistence: the schema, engines for SQLite and PostgreSQL, and migrations."""

# Every table in the one metadata, whichever module of the package is imported first: the chat bot's,
# the web console's and the calendar feeds' tables live in their own modules, which build on models
# (models never imports them back).
from reminder_service.services.db import chat as _chat  # noqa: F401
from reminder_service.services.db import feeds as _feeds  # noqa: F401
from reminder_service.services.db import web as _web  # noqa: F401
