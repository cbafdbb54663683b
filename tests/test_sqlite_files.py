"""The SQLite files the service works on: the file a URL names, however it is written, no stray folder
on the way, and nothing readable by other accounts when created outside systemd (whose unit sets UMask)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import Cli

URL_ENV = "REMINDER_SERVICE_DATABASE_URL"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, where a relative URL points."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("written", [
    "sqlite:///office.sqlite3",
    "sqlite:///du-lieu/office.sqlite3",
    "sqlite:///{work}/office.sqlite3",
    "sqlite:///so%20van%20ban.sqlite3",
    "sqlite:///file:du-lieu/office.sqlite3?mode=rwc&uri=true",
    "sqlite:///file:{work}/office.sqlite3?mode=rwc&uri=true",
    "sqlite:///file://{work}/office.sqlite3?mode=rwc&uri=true",
    "sqlite:///file://localhost{work}/office.sqlite3?mode=rwc&uri=true",
    "sqlite:///file:so%2520van%2520ban.sqlite3?mode=rwc&uri=true",  # %25 for SQLAlchemy, %20 for SQLite
    "sqlite:///file:office.sqlite3?mode=rwc&uri=true&timeout=5",
])
def test_the_file_of_a_sqlite_url_is_the_one_sqlite_opens(workdir: Path, written: str) -> None:
    from reminder_service.services.db.engine import make_engine
    from reminder_service.services.db.urls import sqlite_file

    url = written.format(work=workdir)
    (workdir / "du-lieu").mkdir(exist_ok=True)  # SQLite creates the file, not its folder
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            opened = connection.execute(text("PRAGMA database_list")).fetchall()[0][2]
    finally:
        engine.dispose()
    derived = sqlite_file(make_url(url))
    assert derived is not None and derived.resolve() == Path(opened)


@pytest.mark.parametrize("written", [
    "sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true",
    "sqlite:///file:cchc?mode=memory&cache=shared&uri=true",
])
def test_a_database_in_memory_has_no_file(written: str) -> None:
    from reminder_service.services.db.urls import sqlite_file

    assert sqlite_file(make_url(written)) is None


@pytest.mark.parametrize("written", [
    "sqlite:///file:{work}/du-lieu/office.sqlite3?mode=rwc&uri=true",
    "sqlite:///file:du-lieu/office.sqlite3?mode=rwc&uri=true",
])
def test_a_file_uri_creates_its_folder_and_no_stray_file_folder(
    cli: Cli, workdir: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.setenv(URL_ENV, written.format(work=workdir))
    result = cli("init")
    assert result.code == 0, result.err
    assert (workdir / "du-lieu" / "office.sqlite3").is_file()
    assert [p.name for p in workdir.iterdir()] == ["du-lieu"]


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """A login shell's umask: files 0644 and folders 0755 unless the service says otherwise."""
    saved = os.umask(0o022)
    yield
    os.umask(saved)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("command", [["init"], ["db", "upgrade"]])
def test_a_database_the_service_creates_is_readable_by_its_owner_only(
    cli: Cli, workdir: Path, usual_umask: None, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv(URL_ENV, "sqlite:///var/office.sqlite3")
    cli(*command)
    database = workdir / "var" / "office.sqlite3"
    assert (_mode(workdir / "var"), _mode(database)) == (0o700, 0o600)
    # An operator's choice for an existing file (0640 for the service's group) is kept.
    database.chmod(0o640)
    cli(*command)
    assert _mode(database) == 0o640


@pytest.mark.parametrize("command", [["status"], ["today"], ["health"], ["overdue"], ["submissions", "list"],
                                     ["units", "list"], ["outbox", "list"], ["waivers", "list"]])
def test_a_read_only_command_never_creates_a_database(cli: Cli, workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                      command: list[str]) -> None:
    # A typo in the path used to leave an empty database file (and its folder) behind.
    monkeypatch.setenv(URL_ENV, "sqlite:///sai/duong/dan.sqlite3")
    result = cli(*command)
    assert not (workdir / "sai").exists()
    assert "Traceback" not in result.err
    if command[0] not in ("today", "health"):
        assert result.code == 2
        assert "không có tệp cơ sở dữ liệu sai/duong/dan.sqlite3" in result.err
        assert "reminder-service init" in result.err


def test_the_journal_files_are_as_private_as_the_database(cli: Cli, workdir: Path, usual_umask: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "sqlite:///office.sqlite3")
    assert cli("init").code == 0
    database = workdir / "office.sqlite3"
    # SQLite creates each journal when a write begins and gives it the database file's mode.
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO service_state (key, value, updated_at) VALUES ('probe', 'x', '2021-03-16')")
        assert _mode(workdir / "office.sqlite3-journal") == 0o600
        writer.execute("ROLLBACK")
        writer.execute("PRAGMA journal_mode=WAL")  # an operator may switch to WAL: -wal and -shm appear
        writer.execute("INSERT INTO service_state (key, value, updated_at) VALUES ('probe', 'x', '2021-03-16')")
        assert (_mode(workdir / "office.sqlite3-wal"), _mode(workdir / "office.sqlite3-shm")) == (0o600, 0o600)
    finally:
        writer.close()


def test_db_upgrade_says_whether_it_changed_anything(cli: Cli, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs before every start of the service (the unit's ExecStartPre): the journal should tell an
    upgrade from a start on an unchanged schema."""
    monkeypatch.setenv(URL_ENV, "sqlite:///var/office.sqlite3")
    first, second = cli("db", "upgrade"), cli("db", "upgrade")
    assert (first.code, second.code) == (0, 0)
    assert first.out.startswith("Đã tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất: sqlite:///var/office")
    assert second.out.startswith("Cơ sở dữ liệu đã ở phiên bản mới nhất, không cần nâng cấp: sqlite:///var/office")
