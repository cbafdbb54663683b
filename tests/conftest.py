"""Shared fixtures: running the real CLI in-process and as a separate process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reminder_service.adapters.cli import run_cli
from reminder_service.app import App

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """Run ``reminder-service ARGS`` in this process; no config unless the test gives one, and an
    empty database of its own, never the developer's ./var/ one."""
    monkeypatch.delenv("REMINDER_SERVICE_CONFIG", raising=False)
    monkeypatch.setenv("REMINDER_SERVICE_DATABASE_URL", f"sqlite:///{tmp_path}/cli-default.sqlite3")

    def invoke(*args: str) -> Result:
        code = run_cli(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI as its own process, e.g. under another time zone or locale."""
    base = {k: v for k, v in os.environ.items() if k != "REMINDER_SERVICE_CONFIG"}
    base.setdefault("REMINDER_SERVICE_DATABASE_URL", "sqlite:///:memory:")
    return subprocess.run(
        [sys.executable, "-m", "reminder_service", *args],
        env={**base, **(env or {})},
        capture_output=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )


# ---------------------------------------------------------------------------------------------------
# Databases: every database test runs on SQLite and on PostgreSQL.

PG_ADMIN_URL = os.environ.get("REMINDER_SERVICE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test: cheaper than migrating every time."""
    from reminder_service.services.db.engine import make_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database created for this test session on 127.0.0.1:5432, migrated once."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from reminder_service.services.db.engine import make_engine, upgrade

    name = f"rs_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the message must say how to get PostgreSQL, not just fail
        pytest.fail(f"PostgreSQL is needed at {PG_ADMIN_URL} for the database tests ({exc}); .ci/run starts it")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated database of each engine."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    from reminder_service.services.db.models import Base

    url: str = request.getfixturevalue("pg_url")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    """The service's composition root on a test database, with the built-in directives."""
    from reminder_service.config import CalendarSettings, Config

    application = App.from_config(Config(path=None, calendar=CalendarSettings(), database_url=db_url))
    yield application
    application.engine.dispose()


@pytest.fixture
def db_cli(cli: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI in this process, pointed at the test database through the environment."""
    monkeypatch.setenv("REMINDER_SERVICE_DATABASE_URL", db_url)
    return cli
