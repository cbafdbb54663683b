"""The same decisions whatever the server's time zone.

Dates are Vietnamese civil dates (Asia/Ho_Chi_Minh) and times Vietnamese wall time everywhere, so the
machine's zone must change nothing. Each zone gets the same fresh database and the same commands, in
processes of their own with TZ (and PostgreSQL's session zone, PGTZ) set: the demo district loaded as of
16/03/2021, `simulate --year 2021 --format json`, then two `run --once --at …` passes delivering to a JSONL
file — at 08:00 on 16/03, when it is still the 15th in Los Angeles, and at 16:30 on 18/03, when it is
already the 19th on Kiritimati. The replay, the messages written and every decision recorded must be
identical, byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from reminder_service.services.db.models import Base, LadderStep, Obligation, OutboxMessage, Unit
from tests.conftest import ROOT

# None: whatever the machine has (TZ unset).
ZONES: list[str | None] = [None, "UTC", "America/Los_Angeles", "Pacific/Kiritimati"]
PASSES = ("16/03/2021 08:00", "18/03/2021 16:30")


def _cli(db_url: str, zone: str | None, *args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"TZ", "PGTZ", "REMINDER_SERVICE_CONFIG"}}
    env["REMINDER_SERVICE_DATABASE_URL"] = db_url
    env["PYTHONPATH"] = str(ROOT)
    if zone is not None:
        env["TZ"] = env["PGTZ"] = zone
    done = subprocess.run([sys.executable, "-m", "reminder_service", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{zone}: {args}: {done.stderr}"
    return done.stdout


def _fresh(db_url: str, sqlite_template: Path, folder: Path) -> str:
    """An empty, migrated database: a copy of the template on SQLite, the test's database emptied on PostgreSQL."""
    if make_url(db_url).get_backend_name() == "sqlite":
        path = folder / "service.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    engine = create_engine(db_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return db_url


def _decisions(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What was decided, in service time: obligations, rungs and messages (not which process sent them)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return {
                "obligations": [tuple(r) for r in connection.execute(
                    select(Unit.code, Obligation.code, Obligation.year, Obligation.nominal_deadline,
                           Obligation.effective_deadline, Obligation.active)
                    .join(Unit, Obligation.unit_id == Unit.id).order_by(Unit.code, Obligation.year, Obligation.code))],
                "ladder": [tuple(r) for r in connection.execute(
                    select(Unit.code, Obligation.code, LadderStep.series, LadderStep.stage, LadderStep.occurrence,
                           LadderStep.due_on, LadderStep.outcome, LadderStep.decided_at)
                    .join(Obligation, LadderStep.obligation_id == Obligation.id)
                    .join(Unit, Obligation.unit_id == Unit.id)
                    .order_by(Unit.code, Obligation.code, LadderStep.series, LadderStep.stage, LadderStep.occurrence))],
                "outbox": [tuple(r) for r in connection.execute(
                    select(OutboxMessage.dedupe_key, OutboxMessage.stage, OutboxMessage.channel, OutboxMessage.address,
                           OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html,
                           OutboxMessage.state, OutboxMessage.attempts, OutboxMessage.next_attempt_at,
                           OutboxMessage.created_at, OutboxMessage.sent_at, OutboxMessage.last_error)
                    .order_by(OutboxMessage.dedupe_key))],
            }
    finally:
        engine.dispose()


def test_the_same_decisions_in_every_time_zone(db_url: str, sqlite_template: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    results: dict[str | None, tuple[str, list[str], dict[str, list[tuple[Any, ...]]]]] = {}
    for zone in ZONES:
        folder = tmp_path / (zone or "default").replace("/", "-")
        folder.mkdir()
        url = _fresh(db_url, sqlite_template, folder)
        (folder / "config.toml").write_text('[delivery]\njsonl = "outbox.jsonl"\n', encoding="utf-8")
        _cli(url, zone, "init", "--demo", "--as-of", "16/03/2021", cwd=folder)
        replay = _cli(url, zone, "simulate", "--year", "2021", "--format", "json", cwd=folder)
        for moment in PASSES:
            _cli(url, zone, "--config", "config.toml", "run", "--once", "--at", moment, cwd=folder)
        # The dispatcher sends concurrently: the file's order is the sends', the set is the decision.
        lines = sorted((folder / "outbox.jsonl").read_text(encoding="utf-8").splitlines())
        results[zone] = (replay, lines, _decisions(url))

    reference, *others = ZONES
    replay, lines, decisions = results[reference]
    messages = json.loads(replay)
    print(f"\n[time zones, {make_url(db_url).get_backend_name()}] {', '.join(z or 'default' for z in ZONES)}: "
          f"simulate 2021 {len(messages):,} messages, 2 passes {len(lines)} messages delivered, "
          f"{len(decisions['ladder'])} rungs and {len(decisions['outbox'])} outbox rows — identical in every zone; "
          f"{time.monotonic() - started:.1f} s")
    assert len(messages) > 1000 and lines and decisions["ladder"] and decisions["outbox"]
    assert all(m["at"].endswith("+07:00") for m in messages)
    for zone in others:
        assert results[zone][0] == replay, f"simulate differs under TZ={zone}"
        assert results[zone][1] == lines, f"the delivered messages differ under TZ={zone}"
        assert results[zone][2] == decisions, f"the recorded decisions differ under TZ={zone}"
