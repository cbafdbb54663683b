"""Two instances on one database, as real `reminder-service run` processes.

PostgreSQL: exactly one leads; killed with SIGKILL, the other takes over within 30 s. Through a simulated
week, two instances deciding and dispatching at the same moments decide nothing twice and deliver
nothing twice. SQLite: a second instance on the same file is refused with exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from structlog.testing import capture_logs

from reminder_service.app import App
from reminder_service.channels import build_notifiers
from reminder_service.daemon import Daemon as Service
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import LadderStep, OutboxMessage, ServiceState
from reminder_service.services.demo import load_demo
from tests.conftest import ROOT

TAKEOVER_LIMIT = 30.0
# The week around 2021 Q1's deadline (nominal Sat 13/03, effective Mon 15/03): due_today on Fri 12/03,
# a weekend, overdue on Tue 16/03, escalated on Thu 18/03, and daily digests throughout.
WEEK = [date(2021, 3, 12) + timedelta(days=n) for n in range(7)]
MOMENTS = ("08:00", "10:30", "16:00")


def _env(database_url: str, config: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMINDER_SERVICE_")}
    env["REMINDER_SERVICE_DATABASE_URL"] = database_url
    if config is not None:
        env["REMINDER_SERVICE_CONFIG"] = str(config)
    return env


def _config(tmp_path: Path, name: str) -> Path:
    """Console delivery, and every delivered message as a JSON line in ``<name>.jsonl``."""
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[delivery]\njsonl = "{name}.jsonl"\n', encoding="utf-8")
    return path


class Daemon:
    """A `reminder-service run` process whose log events are read as they come, with their arrival time."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen([sys.executable, "-m", "reminder_service", "run"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Both pipes drained all the time: a full pipe would block the daemon in the middle of a write.
        self._readers = [threading.Thread(target=self._read_log, daemon=True),
                         threading.Thread(target=self._drain_stdout, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                self.errors.append(line)
                continue
            with self._changed:
                self.events.append((time.monotonic(), event))
                self._changed.notify_all()

    def _drain_stdout(self) -> None:
        assert self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    def first(self, *names: str, timeout: float) -> tuple[float, str]:
        """When the first of these events was logged, and which; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for at, event in self.events:
                    if event.get("event") in names:
                        return at, str(event["event"])
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    pytest.fail(f"{self.name}: none of {names} in {timeout} s; log: {self.events[-10:]} {self.errors}")
                self._changed.wait(min(left, 0.2))

    def logged(self, name: str) -> int:
        with self._changed:
            return sum(1 for _, event in self.events if event.get("event") == name)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def _postgresql(test: Any) -> Any:
    return pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)(test)


@_postgresql
def test_one_leader_and_a_takeover_within_30_s_of_a_kill_9(app: App, tmp_path: Path, daemons: list[Daemon]) -> None:
    for name in ("a", "b"):
        daemons.append(Daemon(name, _env(app.config.database_url, _config(tmp_path, name))))
    roles = {d.name: d.first("leadership_acquired", "leadership_standby", timeout=60)[1] for d in daemons}
    assert sorted(roles.values()) == ["leadership_acquired", "leadership_standby"], roles
    leader = next(d for d in daemons if roles[d.name] == "leadership_acquired")
    follower = next(d for d in daemons if d is not leader)

    killed_at = time.monotonic()
    leader.process.send_signal(signal.SIGKILL)
    acquired_at, _ = follower.first("leadership_acquired", timeout=TAKEOVER_LIMIT + 5)
    takeover = acquired_at - killed_at
    print(f"takeover after kill -9: {takeover:.2f} s")
    assert takeover < TAKEOVER_LIMIT
    leader.kill()
    time.sleep(0.5)  # the new leader's jobs start: the reconcile tick runs at once
    assert follower.stop() == 0
    assert follower.logged("daemon_stopped") == 1 and follower.logged("leadership_lost") == 0


@_postgresql
def test_two_instances_through_a_week_decide_and_deliver_nothing_twice(app: App, tmp_path: Path) -> None:
    """Both instances run each pass at the same moments: both decide, both dispatch, concurrently."""
    load_demo(app, Actor("test", "cli"), datetime(2021, 3, 11, 8, 0))
    configs = {name: _config(tmp_path, name) for name in ("a", "b")}
    conflicts = 0
    for day in WEEK:
        for moment in MOMENTS:
            at = f"{day:%d/%m/%Y} {moment}"
            passes = [subprocess.Popen([sys.executable, "-m", "reminder_service", "run", "--once", "--at", at],
                                       cwd=ROOT, env=_env(app.config.database_url, config), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
                      for config in configs.values()]
            for one in passes:
                _, err = one.communicate(timeout=120)
                assert one.returncode == 0, f"{at}: {err[-3000:]}"
                assert "Traceback" not in err
                conflicts += sum(json.loads(line).get("conflicts", 0) for line in err.splitlines()
                                 if '"reconcile_tick"' in line)

    with app.session() as session:
        rungs = session.execute(select(LadderStep.obligation_id, LadderStep.series, LadderStep.stage,
                                       LadderStep.occurrence, func.count()).group_by(
            LadderStep.obligation_id, LadderStep.series, LadderStep.stage, LadderStep.occurrence)).all()
        keys = session.execute(select(OutboxMessage.dedupe_key, func.count()).group_by(OutboxMessage.dedupe_key)).all()
        sent = set(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.state == "sent")))
        unsent = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.state.not_in(("sent", "skipped"))))
    def lines(name: str) -> list[str]:
        # An instance that never won a claim delivered nothing and wrote no file (fewer messages since
        # the day's roll-up, so one instance may drain them all).
        path = tmp_path / f"{name}.jsonl"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    delivered = Counter(json.loads(line)["key"] for name in configs for line in lines(name))
    per_instance = {name: len(lines(name)) for name in configs}
    print(f"rungs {len(rungs)}, messages {len(keys)}, delivered {sum(delivered.values())} {per_instance}, "
          f"decisions lost to the other instance {conflicts}")
    assert rungs and all(count == 1 for *_, count in rungs)
    assert keys and all(count == 1 for _, count in keys)
    assert [key for key, count in delivered.items() if count > 1] == []
    assert set(delivered) == sent and unsent == 0  # everything decided was delivered, once
    stages = {stage for _, _, stage, _, _ in rungs}
    assert {"due_today", "overdue", "escalated"} <= stages


@_postgresql
def test_a_pass_that_loses_a_write_race_tries_again(app: App) -> None:
    """Another instance inserts the last-tick mark in the same instant: the pass's own insert waits on
    the unique key, fails when the other commits, and the pass tries once more instead of crashing."""
    service = Service(app, build_notifiers(app.config), clock=lambda: datetime(2021, 3, 16, 9, 0))
    outcome: list[object] = []

    def one_pass() -> None:
        try:
            outcome.append(asyncio.run(service.once()))
        except Exception as exc:
            outcome.append(exc)

    with app.engine.connect() as other, capture_logs() as logged:
        racing = other.begin()
        other.execute(insert(ServiceState).values(key="last_tick", value="x", updated_at=datetime(2021, 3, 16)))
        runner = threading.Thread(target=one_pass)
        runner.start()
        deadline = time.monotonic() + 30
        # Autocommit: PostgreSQL keeps one pg_stat_activity snapshot for a whole transaction.
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            while not watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar():
                assert time.monotonic() < deadline and runner.is_alive(), outcome
                time.sleep(0.02)
        racing.commit()
        runner.join(timeout=30)
    assert len(outcome) == 1 and not isinstance(outcome[0], Exception), outcome
    assert [e["job"] for e in logged if e["event"] == "job_retried_after_conflict"] == ["reconcile"]


def test_a_second_instance_on_one_sqlite_file_exits_2(tmp_path: Path, sqlite_template: Path,
                                                      daemons: list[Daemon]) -> None:
    database = tmp_path / "office.sqlite3"
    shutil.copyfile(sqlite_template, database)
    env = _env(f"sqlite:///{database}", None)
    daemons.append(Daemon("first", env))
    daemons[0].first("leadership_acquired", timeout=60)
    for args in (["run"], ["run", "--once"]):
        second = subprocess.run([sys.executable, "-m", "reminder_service", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 2, second.stderr
        assert "một phiên reminder-service khác đang chạy" in second.stderr and str(database) in second.stderr
        assert '"instance_refused"' in second.stderr and "Traceback" not in second.stderr
        assert "Dịch vụ đang chạy" not in second.stdout
    assert daemons[0].stop() == 0
    after = subprocess.run([sys.executable, "-m", "reminder_service", "run", "--once"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert after.returncode == 0, after.stderr  # the lock went with the daemon


def test_the_same_sqlite_file_under_another_name_is_refused_too(tmp_path: Path, sqlite_template: Path,
                                                                daemons: list[Daemon]) -> None:
    """A hard link, a symlink, a relative path or a file: URI is still the same file: the second daemon
    exits 2, naming the file, and the URI leaves no stray "file:" folder behind."""
    database = tmp_path / "office.sqlite3"
    shutil.copyfile(sqlite_template, database)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.link(database, elsewhere / "hard.sqlite3")
    (elsewhere / "soft.sqlite3").symlink_to(database)
    daemons.append(Daemon("first", _env(f"sqlite:///{database}", None)))
    daemons[0].first("leadership_acquired", timeout=60)
    names = {  # URL, run from ``elsewhere`` -> the file the refusal names
        "sqlite:///hard.sqlite3": elsewhere / "hard.sqlite3",
        f"sqlite:///{elsewhere}/soft.sqlite3": database,
        "sqlite:///../office.sqlite3": database,
        f"sqlite:///file:{database}?mode=rwc&uri=true": database,
        "sqlite:///file:../office.sqlite3?mode=rwc&uri=true": database,
    }
    for url, named in names.items():
        second = subprocess.run([sys.executable, "-m", "reminder_service", "run"], cwd=elsewhere,
                                env={**_env(url, None), "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                                timeout=30, check=False)
        assert second.returncode == 2, (url, second.stderr)
        assert "một phiên reminder-service khác đang chạy" in second.stderr and str(named) in second.stderr, url
        assert "Traceback" not in second.stderr and "Dịch vụ đang chạy" not in second.stdout
    assert sorted(p.name for p in elsewhere.iterdir()) == ["hard.sqlite3", "soft.sqlite3"]
    assert daemons[0].stop() == 0
