"""Leader election: the advisory lock on PostgreSQL, the file lock on SQLite, and the daemon following
its leadership (leader jobs and the chat bot start and stop with it; the dispatcher always runs)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from reminder_service.adapters.telegram.service import ChatBot
from reminder_service.app import App
from reminder_service.channels import build_notifiers
from reminder_service.config import CalendarSettings, Config
from reminder_service.daemon import LEADER_JOBS, Daemon, Intervals
from reminder_service.leader import Election, FileLock, InstanceRunning, PgElector, Sole, claim, lock_key

MOMENT = datetime(2021, 3, 16, 9, 0)


def test_the_lock_key_is_a_fixed_signed_64_bit_number_per_schema() -> None:
    key = lock_key("public")
    assert key == lock_key("public") and -(2**63) <= key < 2**63
    assert lock_key("huyen_song_lam") != key


# -- PostgreSQL ------------------------------------------------------------------------------------

@pytest.fixture
def electors(pg_url: str) -> Iterator[Callable[[], PgElector]]:
    made: list[PgElector] = []

    def make() -> PgElector:
        made.append(PgElector(make_url(pg_url)))
        return made[-1]

    yield make
    for elector in made:
        elector.release()


def _holder_pid(pg_url: str, key: int) -> int | None:
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    engine = create_engine(pg_url)
    try:
        with engine.connect() as connection:
            pid = connection.execute(text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = CAST(:h AS oid) "
                "AND objid = CAST(:l AS oid) AND objsubid = 1"), {"h": unsigned >> 32, "l": unsigned & 0xFFFF_FFFF}
            ).scalar()
    finally:
        engine.dispose()
    return int(pid) if pid is not None else None


def test_of_two_electors_one_wins(electors: Callable[[], PgElector]) -> None:
    first, second = electors(), electors()
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    assert first.holds() and not second.holds()
    assert first.try_acquire() is True  # asking again while leading changes nothing
    assert second.try_acquire() is False


def test_when_the_winners_connection_dies_the_other_wins_on_its_next_try(
    electors: Callable[[], PgElector], pg_url: str
) -> None:
    winner, other = electors(), electors()
    assert winner.try_acquire() and not other.try_acquire()
    assert winner.key is not None
    pid = _holder_pid(pg_url, winner.key)
    assert pid is not None
    engine = create_engine(pg_url)
    try:
        with engine.connect() as connection:  # as if the holder's host or process had died
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()
    deadline = time.monotonic() + 10
    while _holder_pid(pg_url, winner.key) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    with capture_logs() as logged:
        assert winner.holds() is False  # the dead connection is leadership lost
    assert [e["event"] for e in logged] == ["leader_connection_failed"]
    assert other.try_acquire() is True
    assert winner.try_acquire() is False  # reconnects, and now follows


def test_a_released_lock_goes_to_the_next_one_to_try(electors: Callable[[], PgElector]) -> None:
    first, second = electors(), electors()
    assert first.try_acquire()
    first.release()
    assert second.try_acquire() and second.holds()


def test_an_unreachable_server_is_no_leadership_and_no_exception() -> None:
    elector = PgElector(make_url("postgresql+psycopg://postgres@127.0.0.1:1/none"))
    try:
        assert elector.try_acquire() is False
        assert elector.holds() is False
    finally:
        elector.release()


# -- SQLite ----------------------------------------------------------------------------------------

def test_a_second_instance_on_one_sqlite_file_is_refused(tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "office.sqlite3"
    shutil.copyfile(sqlite_template, database)
    url = make_url(f"sqlite:///{database}")
    first = claim(url)
    try:
        assert isinstance(first, Sole) and first.try_acquire() and first.holds()
        assert not (tmp_path / "office.sqlite3.lock").exists()  # the database file itself is locked
        with capture_logs() as logged, pytest.raises(InstanceRunning) as refused:
            claim(url, once=True)  # a one-off pass would race the daemon's tick: refused as well
        message = str(refused.value)
        assert str(database) in message and "một phiên reminder-service khác đang chạy" in message
        assert logged[0]["event"] == "instance_refused" and logged[0]["database"] == str(database)
        assert logged[0]["holder_pid"] == str(os.getpid())
    finally:
        first.release()
    again = claim(url)  # released: the next start goes ahead
    again.release()


def test_the_file_lock_is_per_file(tmp_path: Path) -> None:
    one, two = FileLock(tmp_path / "a.sqlite3"), FileLock(tmp_path / "b.sqlite3")
    one.acquire()
    two.acquire()
    one.release()
    two.release()
    one.release()  # twice is harmless


def test_the_file_lock_follows_the_file_and_leaves_sqlites_own_locks_alone(tmp_path: Path,
                                                                          sqlite_template: Path) -> None:
    database = tmp_path / "office.sqlite3"
    shutil.copyfile(sqlite_template, database)
    (tmp_path / "other").mkdir()
    os.link(database, tmp_path / "other" / "hard.sqlite3")
    first = FileLock(database)
    first.acquire()
    with pytest.raises(InstanceRunning) as refused:
        FileLock(tmp_path / "other" / "hard.sqlite3").acquire()
    assert str(tmp_path / "other" / "hard.sqlite3") in str(refused.value)
    # SQLite's locks are POSIX locks, which the kernel drops when the process closes ANY descriptor
    # of the file: releasing ours must not hand another process the write lock this one holds.
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        first.release()
        attempt = "import sqlite3, sys; sqlite3.connect(sys.argv[1], timeout=0).execute('BEGIN IMMEDIATE')"
        probe = subprocess.run([sys.executable, "-c", attempt, str(database)], capture_output=True, text=True,
                               check=False, timeout=60)
        assert probe.returncode == 1 and "database is locked" in probe.stderr
    finally:
        writer.close()
    again = FileLock(tmp_path / "other" / "hard.sqlite3")
    again.acquire()  # released: any name of the file may take it now
    again.release()


def test_what_claim_returns(pg_url: str) -> None:
    assert isinstance(claim(make_url("sqlite:///:memory:")), Sole)
    assert isinstance(claim(make_url(pg_url), once=True), Sole)  # a one-off pass takes no lock on PostgreSQL
    elector = claim(make_url(pg_url))
    try:
        assert isinstance(elector, PgElector)
    finally:
        elector.release()


# -- the election loop and the daemon ----------------------------------------------------------------

class Switch:
    """An elector whose leadership the test turns on and off."""

    database = "switch"

    def __init__(self) -> None:
        self.available = True
        self.leading = False
        self.released = 0

    def try_acquire(self) -> bool:
        self.leading = self.available
        return self.leading

    def holds(self) -> bool:
        self.leading = self.leading and self.available
        return self.leading

    def release(self) -> None:
        self.released += 1


async def _until(condition: Callable[[], bool], within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


def test_the_election_calls_back_on_every_change_and_releases_at_the_end() -> None:
    switch = Switch()
    changes: list[str] = []

    async def acquired() -> None:
        changes.append("acquired")

    async def lost() -> None:
        changes.append("lost")

    async def scenario() -> None:
        stop = asyncio.Event()
        election = Election(switch, acquired, lost, retry=0.01, check=0.01)
        with capture_logs() as logged:
            task = asyncio.ensure_future(election.run(stop))
            await _until(lambda: changes == ["acquired"])
            switch.available = False
            await _until(lambda: changes == ["acquired", "lost"])
            await asyncio.sleep(0.1)  # many failed retries, one log line
            switch.available = True
            await _until(lambda: changes == ["acquired", "lost", "acquired"])
            stop.set()
            await task
        events = [e["event"] for e in logged]
        assert events == ["leadership_acquired", "leadership_lost", "leadership_standby", "leadership_acquired"]

    asyncio.run(scenario())
    assert switch.released == 1


class FakeBot:
    def __init__(self) -> None:
        self.started = False
        self.starts = 0

    async def start(self) -> None:
        self.started, self.starts = True, self.starts + 1

    async def stop(self) -> None:
        self.started = False


def test_the_daemon_leads_and_follows_with_its_election(tmp_path: Path, sqlite_template: Path) -> None:
    """Leader jobs and the chat bot run only while leading; the dispatcher runs throughout."""
    database = tmp_path / "daemon.sqlite3"
    shutil.copyfile(sqlite_template, database)
    app = App.from_config(Config(path=None, calendar=CalendarSettings(), database_url=f"sqlite:///{database}"))
    switch, bot = Switch(), FakeBot()
    switch.available = False
    daemon = Daemon(app, build_notifiers(app.config), clock=lambda: MOMENT, elector=switch,
                    intervals=Intervals(tick_seconds=3600, dispatch_seconds=3600, watch_seconds=3600),
                    bot=lambda _limiter: cast(ChatBot, bot))
    daemon.election.retry = daemon.election.check = 0.02

    def jobs() -> set[str]:
        assert daemon._scheduler is not None
        return {job.id for job in daemon._scheduler.get_jobs()}

    async def scenario() -> None:
        running = asyncio.ensure_future(daemon.run())
        await _until(lambda: daemon._scheduler is not None and daemon._scheduler.running)
        await asyncio.sleep(0.1)
        assert not daemon.election.leading and not bot.started
        assert not jobs() & set(LEADER_JOBS)  # a follower only dispatches
        switch.available = True
        await _until(lambda: bot.started)
        assert set(LEADER_JOBS) <= jobs()
        switch.available = False
        await _until(lambda: not daemon.election.leading)
        assert not bot.started and not jobs() & set(LEADER_JOBS)
        switch.available = True
        await _until(lambda: bot.started)
        assert bot.starts == 2
        daemon.stop()
        await running

    try:
        asyncio.run(scenario())
    finally:
        app.close()
    assert switch.released == 1 and not bot.started
