"""Persistence: the schema, engines for SQLite and PostgreSQL, and migrations."""
