"""A synthetic province of 10,000 units on SQLite and PostgreSQL: sync, read side, query counts."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

from reminder_service.app import App
from reminder_service.config import CalendarSettings, Config
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, Submission, Unit
from reminder_service.services.demo import outcome, received_on
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.present.status_view import row_json, to_json
from reminder_service.services.readside import Filters, overdue_rows

UNITS = 10_000
YEAR = 2021
AS_OF = date(2021, 12, 31)
NOW = datetime(2021, 12, 31, 9, 0)
ACTOR = Actor("bench", "cli")
PG_ADMIN = os.environ.get("REMINDER_SERVICE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
Row = tuple[str, str, str]


class QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


@contextmanager
def databases() -> Iterator[list[tuple[str, str]]]:
    """(label, url) for a fresh SQLite file and a fresh PostgreSQL database, removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        name = f"rs_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            pg = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
            yield [("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}"), ("PostgreSQL", pg)]
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def build_units(app: App, first: int, count: int) -> None:
    rows = [
        {"code": f"U{i:05d}", "name": f"UBND xã Thử Nghiệm {i}", "kind": "monitor" if i % 50 == 0 else "commune",
         "sections": "", "active": True, "updated_at": NOW}
        for i in range(first, first + count)
    ]
    with app.session() as session:
        session.execute(insert(Unit), rows)


def build_submissions(app: App) -> int:
    """The demo's mix of on-time, late and missing submissions, written in bulk."""
    with app.session() as session:
        owed = session.execute(select(Obligation.id, Obligation.code, Obligation.effective_deadline, Unit.code)
                               .join(Unit).where(Obligation.year == YEAR)).all()
        rows = []
        for obligation_id, code, effective, unit_code in owed:
            if effective is None:
                continue
            day = received_on(effective, outcome(unit_code, code, YEAR), app.workdays)
            if day is not None and day < AS_OF:
                rows.append({"obligation_id": obligation_id, "received_at": datetime.combine(day, clock_time(9)),
                             "state": "accepted", "channel": "cli", "actor": "bench", "created_at": NOW})
        session.execute(insert(Submission), rows)
    return len(rows)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def sync(app: App) -> None:
    with app.session() as session:
        sync_obligations(session, app.calendar(YEAR), ACTOR, NOW)


def overdue_json(app: App) -> str:
    with app.session() as session:
        rows = overdue_rows(session, Filters(as_of=AS_OF), app.workdays, app.config.status.due_soon_working_days)
    return to_json([row_json(r) for r in rows])


def command_seconds(url: str, *args: str) -> float:
    """The whole command as an operator runs it, Python start-up included."""
    env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reminder_service", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(label: str, url: str, rows: list[Row]) -> None:
    app = App.from_config(Config(path=None, calendar=CalendarSettings(), database_url=url))
    app.upgrade_schema()
    counter = QueryCounter(app.engine)
    build_units(app, 0, 100)
    before = counter.count
    sync(app)
    small = counter.count - before
    build_units(app, 100, UNITS - 100)
    before = counter.count
    rows.append((f"obligations sync, {UNITS:,} units ({label})", f"{timed(lambda: sync(app)):.2f} s", "< 10 s"))
    rows.append((f"  statements: 100 units / {UNITS:,} units ({label})", f"{small} / {counter.count - before}",
                 "equal"))
    rows.append((f"obligations re-sync, nothing to do ({label})", f"{timed(lambda: sync(app)):.2f} s", "—"))
    build_submissions(app)
    overdue_json(app)  # warm the working-day cache as a running service would have it
    before = counter.count
    seconds = min(timed(lambda: overdue_json(app)) for _ in range(3))
    rows.append((f"overdue JSON, in process ({label})", f"{seconds:.2f} s", "< 1 s"))
    rows.append((f"  statements for overdue ({label})", str((counter.count - before) // 3), "constant"))
    whole = min(command_seconds(url, "overdue", "--as-of", AS_OF.isoformat(), "--format", "json")
                for _ in range(2))
    rows.append((f"overdue --format json, whole command ({label})", f"{whole:.2f} s", "—"))
    app.close()


def run(rows: list[Row]) -> None:
    with databases() as engines:
        for label, url in engines:
            measure(label, url, rows)
