"""The database fails while the dispatcher writes what it sent: nothing is sent twice, nothing is lost.

300 e-mails are due. The daemon's dispatcher delivers them to an SMTP server in a process of its own,
which writes down the Message-ID of every message it accepts. Meanwhile the database fails the writes
that record the outcomes, in the two ways an office meets:

- PostgreSQL: the backend serving a write is terminated while it is idle in the write's transaction (a
  database restart, a failover, an administrator's pg_terminate_backend); a claim is cut the same way.
- SQLite: a reader (a backup, a DB browser left open) holds a read transaction for 12 seconds, longer than
  the 10-second busy timeout, so writes fail with "database is locked".

A send whose outcome is not written stays "sending" and goes out again when its lease ends. The
dispatcher retries the write on a fresh connection and, until it succeeds, claims and sends nothing new,
so the only messages that could go twice are those already in flight (at most concurrency × lanes); as
the write succeeds before any lease ends, none does. The loop below is the daemon's dispatch job: a pass
that fails is logged and the next one starts; if rows were left under a lease, time moves past it.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from reminder_service.adapters.email.notifier import EmailNotifier
from reminder_service.app import App
from reminder_service.config import EmailSettings
from reminder_service.services.db.models import DeliveryAttempt, OutboxMessage
from reminder_service.services.outbox import Dispatcher
from tests.reliability.conftest import TIMEOUT, fill_outbox, receipts

MESSAGES = 300
START = datetime(2021, 3, 16, 9, 0)
FROM_ADDRESS = "noivu@songlam.example"
_DEFAULTS = inspect.signature(Dispatcher.__init__).parameters
LEASE = float(_DEFAULTS["lease_seconds"].default)
IN_FLIGHT = int(_DEFAULTS["concurrency"].default) * int(inspect.signature(Dispatcher.drain).parameters["lanes"].default)
# PostgreSQL: the outcome writes (counted from 1) whose backend is terminated before the write's last statement,
# and the claim cut the same way.
CUT_WRITES = (2, 3, 5, 8)
CUT_CLAIM = 4
# SQLite: the reader takes its lock once this many messages have arrived, and holds it this long.
LOCK_AFTER = 40
LOCK_SECONDS = 12.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _states(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(dict(connection.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()))


class PostgresCutter:
    """Terminates, from a connection of its own, the backend of the dispatcher's connection just before the
    last statement of chosen transactions: the backend is then idle in that transaction, its work uncommitted."""

    def __init__(self, engine: Engine, db_url: str) -> None:
        self.admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
        self.writes = self.claims = 0
        self.cut: list[str] = []
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = " ".join(statement.split())[:60].upper()
        if head.startswith("INSERT INTO DELIVERY_ATTEMPTS"):
            self.writes += 1
            if self.writes in CUT_WRITES:
                self._terminate(connection, f"write {self.writes}")
        elif head.startswith("SELECT OUTBOX.ID, OUTBOX.DEDUPE_KEY"):
            self.claims += 1
            if self.claims == CUT_CLAIM:
                self._terminate(connection, f"claim {self.claims}")

    def _terminate(self, connection: Any, what: str) -> None:
        pid = connection.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            assert admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + TIMEOUT
            while admin.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                assert time.monotonic() < deadline, "the terminated backend never went away"
                time.sleep(0.01)
        self.cut.append(what)


class SqliteReader:
    """Holds a read transaction on the database file for LOCK_SECONDS once LOCK_AFTER messages arrived."""

    def __init__(self, path: str, received: Path) -> None:
        self.held: float = 0.0
        self._thread = threading.Thread(target=self._run, args=(path, received), daemon=True)
        self._thread.start()

    def _run(self, path: str, received: Path) -> None:
        deadline = time.monotonic() + TIMEOUT
        while len(receipts(received)) < LOCK_AFTER and time.monotonic() < deadline:
            time.sleep(0.001)
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("BEGIN")
            connection.execute("SELECT count(*) FROM outbox").fetchone()  # takes the shared lock
            started = time.monotonic()
            time.sleep(LOCK_SECONDS)
            connection.execute("COMMIT")
            self.held = time.monotonic() - started
        finally:
            connection.close()

    def join(self) -> None:
        self._thread.join(TIMEOUT)


async def _dispatch_until_done(dispatcher: Dispatcher, engine: Engine, clock: Clock,
                               failures: list[str]) -> tuple[int, int]:
    """The daemon's dispatch job, run again until the outbox is empty. Returns (passes, leases waited out)."""
    passes = leases = 0
    while True:
        passes += 1
        assert passes <= 30, f"still undelivered after 30 passes: {_states(engine)}"
        try:
            await dispatcher.drain()
        except Exception as exc:  # the daemon logs "job_failed" and runs the job again 10 s later
            failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        states = _states(engine)
        if set(states) <= {"sent"}:
            return passes, leases
        if states["sending"] and not states["pending"]:
            clock.now += timedelta(seconds=LEASE + 1)  # rows held by a lease come back when it ends
            leases += 1


def _run(app: App, db_url: str, port: int, received: Path, fault: Callable[[], object]) -> None:
    engine = app.engine
    keys = fill_outbox(engine, MESSAGES, START)
    notifier = EmailNotifier(EmailSettings(host="127.0.0.1", port=port, from_address=FROM_ADDRESS, security="none"))
    key_of = {notifier.message_id(key): key for key in keys}
    clock = Clock()
    dispatcher = Dispatcher(app, {"email": notifier}, clock)
    failures: list[str] = []
    started = time.monotonic()
    with capture_logs() as logged:
        injected = fault()

        async def dispatch() -> tuple[int, int]:
            try:
                return await _dispatch_until_done(dispatcher, engine, clock, failures)
            finally:
                await notifier.close()

        passes, leases = asyncio.run(dispatch())
        if isinstance(injected, SqliteReader):
            injected.join()
    elapsed = time.monotonic() - started

    delivered = receipts(received)
    counts = Counter(delivered)
    duplicates = len(delivered) - len(counts)
    with engine.connect() as connection:
        sent_attempts = connection.scalar(
            select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.outcome == "sent"))
    failed_writes = [e for e in logged if e["event"] == "outbox.outcome_write_failed"]
    recovered = [e for e in logged if e["event"] == "outbox.outcomes_written_after_failure"]
    unwritten = [e for e in logged if e["event"] == "outbox.outcomes_unwritten"]
    lost = set(key_of) - set(counts)
    label = make_url(db_url).get_backend_name()
    print(f"\n[failed outcome write, {label}] {MESSAGES} e-mails: delivered {len(counts)}, lost {len(lost)}, "
          f"duplicates {duplicates} (bound {IN_FLIGHT} in flight); {len(failed_writes)} failed writes, "
          f"{len(recovered)} recovered, {len(unwritten)} given up; {len(failures)} failed passes "
          f"({'; '.join(failures) or 'none'}); {passes} passes, {leases} leases waited out; {elapsed:.1f} s")

    assert not set(counts) - set(key_of), "the server received a message nobody wrote"
    assert not lost, f"{len(lost)} messages never arrived"
    assert _states(engine) == Counter({"sent": MESSAGES})
    assert sent_attempts == MESSAGES, "each message is recorded sent exactly once"
    assert duplicates <= IN_FLIGHT
    # The writes succeed before any lease ends: nothing waits for one, so nothing goes twice.
    assert leases == 0 and duplicates == 0
    assert failed_writes, "the fault never reached an outcome write"
    assert not unwritten


def test_a_failed_outcome_write_sends_nothing_twice(app: App, db_url: str, recorder: tuple[int, Path]) -> None:
    port, received = recorder
    if app.engine.dialect.name == "postgresql":
        cutter = PostgresCutter(app.engine, db_url)
        try:
            _run(app, db_url, port, received, lambda: cutter)
        finally:
            cutter.admin.dispose()
        assert len(cutter.cut) == len(CUT_WRITES) + 1, cutter.cut
        return
    path = make_url(db_url).database
    assert path
    readers: list[SqliteReader] = []

    def lock() -> SqliteReader:
        readers.append(SqliteReader(path, received))
        return readers[0]

    _run(app, db_url, port, received, lock)
    assert readers[0].held >= LOCK_SECONDS
