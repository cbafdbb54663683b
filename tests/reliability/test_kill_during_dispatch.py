"""kill -9 in the middle of a dispatch, again and again: nothing is lost, and the only duplicates are the
messages that were in flight at each kill.

1,000 e-mails wait in the outbox. `reminder-service run --once` (a real process, so SIGKILL is real)
delivers them to an SMTP server in a process of its own, which writes down the Message-ID of every message
before it answers 250. Each pass is killed with SIGKILL at a random moment after its first delivery; the
next pass is started later in service time (`--at`), past the killed sender's 120 s lease, so its claimed
rows come back, exactly as they would for a daemon restarted by systemd a few minutes later. After ten
kills a final pass runs to the end.

The accounting is exact: a message the server received but whose row the killed pass had not yet marked
sent will be sent again. Counted per kill, those are the duplicates, and they can be no more than the
dispatcher has in flight: a send keeps its place (concurrency per batch, two batches under way) until its
outcome is written, so at most concurrency × lanes messages are delivered and not yet recorded.
"""

from __future__ import annotations

import inspect
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from reminder_service.adapters.email.notifier import EmailNotifier
from reminder_service.config import EmailSettings
from reminder_service.services.db.models import DeliveryAttempt, OutboxMessage
from reminder_service.services.outbox import Dispatcher
from tests.conftest import ROOT
from tests.reliability.conftest import TIMEOUT, fill_outbox
from tests.reliability.conftest import receipts as read_receipts

MESSAGES = 1000
KILLS = 10
START = datetime(2021, 3, 16, 9, 0)
# What `run --once` builds: the daemon's Dispatcher with its defaults. The bound on duplicates follows them.
_DEFAULTS = inspect.signature(Dispatcher.__init__).parameters
LEASE = float(_DEFAULTS["lease_seconds"].default)
CONCURRENCY = int(_DEFAULTS["concurrency"].default)
LANES = int(inspect.signature(Dispatcher.drain).parameters["lanes"].default)
IN_FLIGHT = CONCURRENCY * LANES
# Passes are this far apart in service time: past the lease (and `--at` counts whole minutes).
STEP = timedelta(minutes=int(LEASE // 60) + 1)
# How long after a pass's first delivery it is killed: a fraction of the time the 1,000 take.
MAX_DELAY = 0.25
FROM_ADDRESS = "noivu@songlam.example"


@dataclass
class Kill:
    number: int
    at: datetime
    delay: float
    received: int  # deliveries the server recorded during this pass
    duplicates: int  # of them, those whose row was not marked sent when the pass died
    leased: int  # rows left "sending" under the dead pass's lease


def _states(engine: Engine) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for key, state in connection.execute(select(OutboxMessage.dedupe_key, OutboxMessage.state)):
            found.setdefault(state, []).append(key)
    return found


def _settle(engine: Engine) -> None:
    """Wait until a killed pass's PostgreSQL session has ended, so that whatever it committed is visible and
    no row is still locked by it (SQLite needs nothing: the next connection rolls back a hot journal)."""
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + TIMEOUT
    while True:
        with engine.connect() as connection:
            others = connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"))
        if not others:
            return
        assert time.monotonic() < deadline, "the killed dispatcher's database session never ended"
        time.sleep(0.02)


def _start(config: Path, db_url: str, at: datetime, logs: Path, number: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": db_url}
    env.pop("REMINDER_SERVICE_CONFIG", None)
    with (logs / f"pass-{number}.out").open("wb") as out, (logs / f"pass-{number}.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "reminder_service", "--config", str(config), "run", "--once",
             "--at", at.strftime("%d/%m/%Y %H:%M")], cwd=ROOT, env=env, stdout=out, stderr=err)


def test_kill_9_mid_dispatch_loses_nothing_and_duplicates_only_what_was_in_flight(
    db_url: str, tmp_path: Path, recorder: tuple[int, Path]
) -> None:
    port, received = recorder
    seed = int(os.environ.get("RELIABILITY_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    config = tmp_path / "config.toml"
    config.write_text(f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
                      f'from_address = "{FROM_ADDRESS}"\n', encoding="utf-8")
    engine = create_engine(db_url)
    message_id = EmailNotifier(EmailSettings(host="127.0.0.1", from_address=FROM_ADDRESS, security="none")).message_id
    keys = fill_outbox(engine, MESSAGES, START)
    key_of = {message_id(key): key for key in keys}
    logs = tmp_path / "passes"
    logs.mkdir()
    label = make_url(db_url).get_backend_name()
    print(f"\n[kill -9, {label}] {MESSAGES} e-mails; kill {MAX_DELAY * 1000:.0f} ms at most after a pass's first "
          f"delivery; lease {LEASE:.0f} s, in flight at most {CONCURRENCY} × {LANES} lanes = {IN_FLIGHT}; "
          f"seed {seed} (RELIABILITY_SEED)")
    started = time.monotonic()

    kills: list[Kill] = []
    at = START
    for number in range(1, KILLS + 1):
        before = len(read_receipts(received))
        if set(_states(engine)) == {"sent"}:
            break  # everything went out before ten kills
        process = _start(config, db_url, at, logs, number)
        try:
            deadline = time.monotonic() + TIMEOUT
            while len(read_receipts(received)) == before and process.poll() is None:
                assert time.monotonic() < deadline, "the pass never delivered anything"
                time.sleep(0.002)
            delay = rng.uniform(0.0, MAX_DELAY)
            time.sleep(delay)
            killed = process.poll() is None
            if killed:
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)
        _settle(engine)
        receipts = read_receipts(received)
        states = _states(engine)
        sent = {message_id(key) for key in states.get("sent", [])}
        this_pass = receipts[before:]
        if not killed:  # it finished first: nothing was in flight when it ended
            assert process.returncode == 0, (logs / f"pass-{number}.err").read_text(encoding="utf-8")
            assert all(r in sent for r in this_pass)
            print(f"  pass {number:2} at {at:%H:%M}: finished before the kill, {len(this_pass)} delivered")
            at += STEP
            continue
        assert process.returncode == -signal.SIGKILL
        leased = states.get("sending", [])
        with engine.connect() as connection:  # the dead pass's rows are held by its lease, not lost
            leases = set(connection.scalars(select(OutboxMessage.lease_until).where(OutboxMessage.state == "sending")))
        # Each under the lease of the pass that claimed it: this one, or an earlier one it died before reclaiming.
        assert leases <= {START + n * STEP + timedelta(seconds=LEASE) for n in range(number)}
        kill = Kill(number, at, delay, len(this_pass), sum(r not in sent for r in this_pass), len(leased))
        kills.append(kill)
        print(f"  kill {number:2} at {at:%H:%M}, {delay * 1000:5.1f} ms after the first delivery: "
              f"{kill.received:4} delivered in the pass, {kill.duplicates:2} of them unrecorded (will be sent again; "
              f"bound {IN_FLIGHT}), {kill.leased:3} rows left under the lease, "
              f"{len(set(receipts))}/{MESSAGES} delivered so far")
        at += STEP

    finals = 0
    while True:
        states = _states(engine)
        if not states.get("pending") and not states.get("sending"):
            break
        assert finals < 3, f"undelivered after {finals} passes: { {s: len(k) for s, k in states.items()} }"
        finals += 1
        number = KILLS + finals
        process = _start(config, db_url, at, logs, number)
        try:
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)
        assert process.returncode == 0, (logs / f"pass-{number}.err").read_text(encoding="utf-8")
        at += STEP
    elapsed = time.monotonic() - started

    receipts = read_receipts(received)
    counts = Counter(receipts)
    duplicates = len(receipts) - len(counts)
    unexplained = set(counts) - set(key_of)
    states = _states(engine)
    with engine.connect() as connection:
        sent_attempts = connection.scalar(
            select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.outcome == "sent"))
    engine.dispose()
    per_kill = [k.duplicates for k in kills]
    print(f"  {len(kills)} kills, then {finals} uninterrupted pass(es): delivered {len(counts)}/{MESSAGES} "
          f"in {len(receipts)} deliveries; duplicates {duplicates} in all, per kill {per_kill} "
          f"(most {max(per_kill, default=0)}, bound {IN_FLIGHT}); {elapsed:.1f} s")

    assert kills, "no pass was killed mid-dispatch"
    assert not unexplained, f"the server received messages nobody wrote: {sorted(unexplained)[:3]}"
    assert set(states) == {"sent"} and len(states["sent"]) == MESSAGES
    assert set(key_of) <= set(counts), "a message never arrived"  # 0 lost
    assert sent_attempts == MESSAGES  # the database records each message sent exactly once
    assert max(per_kill) <= IN_FLIGHT, per_kill
    # Every duplicate is one of the deliveries a kill left unrecorded, and nothing else.
    assert duplicates == sum(k.duplicates for k in kills)
