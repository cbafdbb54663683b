"""The outbox dispatcher on SQLite and PostgreSQL: delivered once, retried with backoff, given up when it
must, never sent twice by two dispatchers, nothing lost on stop; and the rate limiter on virtual time."""

from __future__ import annotations

import asyncio
import io
import json
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from reminder_service.adapters.console import ConsoleNotifier, JsonlNotifier
from reminder_service.app import App
from reminder_service.services.db.models import DeliveryAttempt, OutboxMessage, Person
from reminder_service.services.outbox import (
    DEFAULT_LIMITS,
    TELEGRAM_LIMITS,
    ChannelLimits,
    Dispatcher,
    DispatchReport,
    RateLimiter,
    RetryPolicy,
)
from reminder_service.services.outbox.notifier import Notifier, OutgoingMessage, TransportError

START = datetime(2026, 3, 16, 8, 0)


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class VirtualTime:
    """A monotonic clock that only moves when someone sleeps: waits cost nothing and are exact.
    ``wall``, if given, is a FakeClock that moves with it."""

    def __init__(self, wall: FakeClock | None = None) -> None:
        self.now = 0.0
        self.slept = 0.0
        self.wall = wall

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        if self.wall is not None:
            self.wall.advance(seconds)
        await asyncio.sleep(0)


class ScriptedNotifier(Notifier):
    """A test double for a channel: raises the scripted errors in turn (None = deliver), then delivers."""

    def __init__(self, channel: str, script: list[Exception | None] | None = None,
                 fail_for: dict[str, Exception] | None = None, delay: float = 0.0) -> None:
        self.channel = channel
        self.delay = delay
        self.script = list(script or [])
        self.fail_for = fail_for or {}
        self.delivered: list[OutgoingMessage] = []
        self.calls = 0

    async def send(self, message: OutgoingMessage) -> None:
        self.calls += 1
        error = self.fail_for.get(message.address) or (self.script.pop(0) if self.script else None)
        await asyncio.sleep(self.delay)  # a real send yields to the event loop
        if error is not None:
            raise error
        self.delivered.append(message)


_serial = iter(range(1_000_000))


def add_rows(app: App, count: int, *, channel: str = "email", address: Callable[[int], str] | None = None,
             at: datetime = START, **fields: object) -> list[int]:
    with app.session() as session:
        rows = [
            OutboxMessage(
                dedupe_key=f"o1:overdue:0:p{next(_serial)}:{channel}", stage="overdue", channel=channel,
                address=address(i) if address else f"nguoi{i}@xa.example.vn", subject=f"Tiêu đề {i}",
                body_text=f"Kính gửi: đơn vị {i}", body_html=f"<p>Kính gửi: đơn vị {i}</p>",
                **{"state": "pending", "attempts": 0, "next_attempt_at": at, "created_at": at, **fields},
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def outbox(app: App) -> list[OutboxMessage]:
    with app.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def attempts(app: App) -> list[DeliveryAttempt]:
    with app.session() as session:
        return list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


def unlimited() -> RateLimiter:
    return RateLimiter({}, clock=VirtualTime(), sleep=VirtualTime().sleep)


def dispatcher(app: App, notifier: Notifier, clock: FakeClock, **options: object) -> Dispatcher:
    options.setdefault("limiter", unlimited())
    return Dispatcher(app, {notifier.channel: notifier}, clock, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------


def test_delivered_once_and_marked_sent(app: App, tmp_path: Path) -> None:
    clock = FakeClock()
    with app.session() as session:
        person = Person(name="Nguyễn Văn An", role="focal", email="an@xa.example.vn")
        session.add(person)
        session.flush()
        person_id = person.id
    add_rows(app, 3, person_id=person_id)
    path = tmp_path / "out" / "outbox.jsonl"
    sender = dispatcher(app, JsonlNotifier("email", path), clock)

    report = asyncio.run(sender.run_once())
    again = asyncio.run(sender.run_once())

    assert (report.claimed, report.sent, report.retried, report.dead, report.released) == (3, 3, 0, 0, 0)
    assert again.claimed == 0
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    keys = [row.dedupe_key for row in outbox(app)]
    assert [line["key"] for line in lines] == keys
    assert lines[0] == {
        "key": keys[0], "channel": "email", "address": "nguoi0@xa.example.vn",
        "recipient": "Nguyễn Văn An", "subject": "Tiêu đề 0", "text": "Kính gửi: đơn vị 0",
        "html": "<p>Kính gửi: đơn vị 0</p>",
    }
    assert "Nguyễn Văn An" in path.read_text(encoding="utf-8")  # not \u-escaped
    for row in outbox(app):
        assert (row.state, row.attempts, row.sent_at, row.lease_until) == ("sent", 1, START, None)
        assert row.claimed_by == sender.worker_id
    assert [(a.attempt, a.outcome, a.at) for a in attempts(app)] == [(1, "sent", START)] * 3


def test_transient_failure_is_retried_after_backoff_then_sent(app: App) -> None:
    clock = FakeClock()
    (row_id,) = add_rows(app, 1)
    notifier = ScriptedNotifier("email", [TransportError("451 thử lại sau", permanent=False)])
    policy = RetryPolicy(base_seconds=30)
    sender = dispatcher(app, notifier, clock, policy=policy, rng=random.Random(7))
    expected_wait = policy.backoff(1, random.Random(7))

    first = asyncio.run(sender.run_once())
    (row,) = outbox(app)
    assert (first.retried, row.state, row.attempts, row.last_error) == (1, "pending", 1, "451 thử lại sau")
    assert row.next_attempt_at == START + timedelta(seconds=expected_wait)
    assert 1.0 <= expected_wait <= 30.0
    assert (row.lease_until, row.claimed_by) == (None, None)

    clock.now = row.next_attempt_at - timedelta(microseconds=1)
    assert asyncio.run(sender.run_once()).claimed == 0  # not due yet
    clock.now = row.next_attempt_at
    assert asyncio.run(sender.run_once()).sent == 1

    (row,) = outbox(app)
    assert (row.state, row.attempts, row.last_error, row.sent_at) == ("sent", 2, None, clock.now)
    assert [(a.outbox_id, a.attempt, a.outcome, a.error) for a in attempts(app)] == [
        (row_id, 1, "retry", "451 thử lại sau"), (row_id, 2, "sent", None),
    ]


def test_retry_after_is_honoured_and_pauses_that_chat(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 2, channel="telegram", address=lambda i: "42")
    add_rows(app, 1, channel="telegram", address=lambda i: "43")
    flood = TransportError("Flood control exceeded", permanent=False, retry_after=600)
    notifier = ScriptedNotifier("telegram", [flood])
    time = VirtualTime()
    sender = dispatcher(app, notifier, clock, limiter=RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep))

    report = asyncio.run(sender.run_once())

    first, second, other = outbox(app)
    assert (first.state, first.next_attempt_at, first.attempts) == ("pending", START + timedelta(seconds=600), 1)
    assert attempts(app)[0].retry_after == 600
    # The same chat's next message is not sent into the flood: it is handed back, due when the pause ends.
    assert (second.state, second.attempts, second.next_attempt_at) == ("pending", 0, START + timedelta(seconds=600))
    assert other.state == "sent"  # another chat is not held up
    assert (report.retried, report.released, report.sent) == (1, 1, 1)
    assert [m.address for m in notifier.delivered] == ["43"]


def test_permanent_error_is_dead_at_once(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 1)
    notifier = ScriptedNotifier("email", [TransportError("550 hộp thư không tồn tại", permanent=True)])
    report = asyncio.run(dispatcher(app, notifier, clock).run_once())
    (row,) = outbox(app)
    assert (report.dead, row.state, row.attempts, row.last_error) == (1, "dead", 1, "550 hộp thư không tồn tại")
    assert [a.outcome for a in attempts(app)] == ["dead"]
    clock.advance(10 * 86400)
    assert asyncio.run(dispatcher(app, notifier, clock).run_once()).claimed == 0


def test_after_max_attempts_the_row_is_dead_with_the_last_error(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 1)
    errors: list[Exception | None] = [TransportError(f"421 lần {n}", permanent=False) for n in range(1, 10)]
    notifier = ScriptedNotifier("email", errors)
    policy = RetryPolicy(max_attempts=3, base_seconds=30, cap_seconds=120)
    sender = dispatcher(app, notifier, clock, policy=policy, rng=random.Random(1))
    for _ in range(5):
        asyncio.run(sender.run_once())
        clock.advance(120)
    (row,) = outbox(app)
    assert (row.state, row.attempts, row.last_error, notifier.calls) == ("dead", 3, "421 lần 3", 3)
    assert [(a.attempt, a.outcome) for a in attempts(app)] == [(1, "retry"), (2, "retry"), (3, "dead")]


def test_a_notifier_bug_never_blocks_the_rest(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 5)
    notifier = ScriptedNotifier("email", fail_for={"nguoi2@xa.example.vn": ZeroDivisionError("division by zero")})
    report = asyncio.run(dispatcher(app, notifier, clock).run_once())
    states = [(row.state, row.last_error) for row in outbox(app)]
    assert (report.sent, report.retried) == (4, 1)
    assert states[2] == ("pending", "ZeroDivisionError: division by zero")
    assert [s for s, _ in states] == ["sent", "sent", "pending", "sent", "sent"]


def test_a_bot_token_in_an_unexpected_error_is_not_stored(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 1)
    token = "123456789:AAEhBOweik6ad9r_QWERTYuiopASDFghjkl0"
    leak = OSError(f"POST https://api.telegram.org/bot{token}/sendMessage: connection reset")
    asyncio.run(dispatcher(app, ScriptedNotifier("email", [leak]), clock).run_once())
    (row,) = outbox(app)
    assert row.last_error is not None and token not in row.last_error
    assert row.last_error.startswith("OSError: POST https://api.telegram.org/bot[đã ẩn]/sendMessage")


def test_a_password_the_service_read_is_not_stored_in_an_unexpected_error(app: App) -> None:
    """Whatever part of the code read a secret, no error text stored in the outbox shows it."""
    from reminder_service.secrets import SMTP_PASSWORD, read_secret

    password = "Mk-HoaSen-2021!"
    assert read_secret(SMTP_PASSWORD, {SMTP_PASSWORD: password}) == password
    add_rows(app, 1)
    leak = RuntimeError(f"AUTH PLAIN noivu {password} rejected by relay")  # a library bug quoting it
    asyncio.run(dispatcher(app, ScriptedNotifier("email", [leak]), FakeClock()).run_once())
    (row,) = outbox(app)
    assert row.last_error == "RuntimeError: AUTH PLAIN noivu [đã ẩn] rejected by relay"


def test_a_hanging_send_times_out_and_is_retried(app: App) -> None:
    class Hanging(Notifier):
        channel = "email"

        async def send(self, message: OutgoingMessage) -> None:
            await asyncio.sleep(30)

    clock = FakeClock()
    add_rows(app, 1)
    report = asyncio.run(dispatcher(app, Hanging(), clock, send_timeout=0.05).run_once())
    (row,) = outbox(app)
    assert (report.retried, row.state, row.last_error) == (1, "pending", "TimeoutError")


def test_a_crashed_senders_row_is_reclaimed_once_its_lease_expires(app: App) -> None:
    clock = FakeClock()
    expired, live = add_rows(app, 2, state="sending", claimed_by="may-chet:1:abc")
    with app.session() as session:
        session.get_one(OutboxMessage, expired).lease_until = START - timedelta(seconds=1)
        session.get_one(OutboxMessage, live).lease_until = START + timedelta(seconds=60)
    notifier = ScriptedNotifier("email")
    sender = dispatcher(app, notifier, clock)

    report = asyncio.run(sender.run_once())
    assert report.claimed == 1
    assert [(r.state, r.claimed_by) for r in outbox(app)] == [
        ("sent", sender.worker_id), ("sending", "may-chet:1:abc"),
    ]
    clock.advance(61)
    assert asyncio.run(sender.run_once()).sent == 1
    assert [m.address for m in notifier.delivered] == ["nguoi0@xa.example.vn", "nguoi1@xa.example.vn"]


def test_two_dispatchers_never_send_the_same_row_twice(app: App, tmp_path: Path) -> None:
    clock = FakeClock()
    add_rows(app, 300)
    # Sends that take a little real time, as real ones do, so that on a loaded machine one instance cannot
    # drain all 300 rows before the other has started.
    notifiers = [ScriptedNotifier("email", delay=0.005), ScriptedNotifier("email", delay=0.005)]
    senders = [dispatcher(app, n, clock, batch_size=25, concurrency=4) for n in notifiers]
    reports = []
    barrier = threading.Barrier(2)

    def instance(sender: Dispatcher) -> None:  # each instance has its own thread and event loop
        barrier.wait()
        total = DispatchReport()
        while any(row.state == "pending" for row in outbox(app)):
            total.add(asyncio.run(sender.run_once()))
        reports.append(total)

    threads = [threading.Thread(target=instance, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    keys = [m.key for n in notifiers for m in n.delivered]
    assert len(keys) == len(set(keys)) == 300
    assert sum(r.sent for r in reports) == 300 and sum(r.lost for r in reports) == 0
    assert {row.state for row in outbox(app)} == {"sent"}
    assert len(attempts(app)) == 300
    by_worker = {a.worker for a in attempts(app)}
    assert by_worker <= {s.worker_id for s in senders}
    assert all(n.delivered for n in notifiers)  # both took part: the test really raced them


def test_request_stop_releases_claimed_rows_and_lets_in_flight_sends_finish(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 10)

    class Gated(Notifier):
        channel = "email"

        def __init__(self) -> None:
            self.started = 0
            self.three_started = asyncio.Event()
            self.gate = asyncio.Event()
            self.delivered: list[str] = []

        async def send(self, message: OutgoingMessage) -> None:
            self.started += 1
            if self.started == 3:
                self.three_started.set()
            await self.gate.wait()
            self.delivered.append(message.key)

    async def scenario() -> tuple[Gated, Dispatcher, DispatchReport]:
        notifier = Gated()
        sender = dispatcher(app, notifier, clock, concurrency=3)
        run = asyncio.create_task(sender.run_once())
        await notifier.three_started.wait()
        sender.request_stop()  # what the daemon's SIGTERM handler does
        notifier.gate.set()
        report = await run
        assert await sender.run_once() == DispatchReport()  # claims nothing once stopping
        return notifier, sender, report

    notifier, _, report = asyncio.run(scenario())
    rows = outbox(app)
    assert len(notifier.delivered) == 3
    assert [r.state for r in rows].count("sent") == 3
    released = [r for r in rows if r.state != "sent"]
    assert len(released) == 7 and report.released == 7
    assert {(r.state, r.lease_until, r.claimed_by, r.attempts) for r in released} == {("pending", None, None, 0)}
    assert len(attempts(app)) == 3  # a release is not an attempt

    # Nothing lost: the next instance delivers the rest.
    follower = ScriptedNotifier("email")
    assert asyncio.run(dispatcher(app, follower, clock).run_once()).sent == 7
    assert {m.key for m in follower.delivered}.isdisjoint(notifier.delivered)


class StampingNotifier(ScriptedNotifier):
    """Notes the moment (monotonic) each message went out."""

    def __init__(self) -> None:
        super().__init__("telegram")
        self.stamps: dict[str, list[float]] = {}

    async def send(self, message: OutgoingMessage) -> None:
        await super().send(message)
        self.stamps.setdefault(message.address, []).append(monotonic())


@pytest.mark.parametrize("lanes", [2, 1])
def test_drain_sends_the_next_batch_while_a_chat_waits_for_its_turn(app: App, lanes: int) -> None:
    """The first batch ends with a second message to chat A, allowed 0.6 s after the first; the next
    batch's chats need not wait for it (with one lane they do, and the channel's capacity idles).
    Real time: on virtual time a wait would pass while the next claim is still in its thread."""
    addresses = ["A", *(f"b{i}" for i in range(8)), "A", *(f"c{i}" for i in range(10))]
    add_rows(app, 20, channel="telegram", address=lambda i: addresses[i])
    notifier = StampingNotifier()
    limiter = RateLimiter({"telegram": ChannelLimits(per_address_interval=0.6)})
    sender = dispatcher(app, notifier, FakeClock(), limiter=limiter, batch_size=10)

    started = monotonic()
    report = asyncio.run(sender.drain(lanes=lanes))

    assert report.sent == 20 and notifier.stamps["A"][1] - notifier.stamps["A"][0] >= 0.6
    latest = max(notifier.stamps[f"c{i}"][0] for i in range(10)) - started
    assert latest < 0.4 if lanes == 2 else latest >= 0.6


def test_a_send_the_lease_would_not_cover_is_handed_back(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 15, channel="telegram", address=lambda i: "42")
    time = VirtualTime(wall=clock)
    notifier = ScriptedNotifier("telegram")
    limiter = RateLimiter({"telegram": TELEGRAM_LIMITS}, clock=time, sleep=time.sleep)
    sender = dispatcher(app, notifier, clock, limiter=limiter, lease_seconds=40, send_timeout=30)

    report = asyncio.run(sender.run_once())

    # One a second to one chat; a send starts only while 30 s of the 40 s lease remain: t = 0 … 10 s.
    assert (report.sent, report.released) == (11, 4)
    rows = outbox(app)
    assert [r.state for r in rows] == ["sent"] * 11 + ["pending"] * 4
    assert {(r.attempts, r.claimed_by, r.next_attempt_at) for r in rows[11:]} == {
        (0, None, START + timedelta(seconds=11)),
    }


def test_a_cancelled_batch_hands_its_rows_back(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 4)

    class Stuck(Notifier):
        channel = "email"

        def __init__(self) -> None:
            self.started = asyncio.Event()

        async def send(self, message: OutgoingMessage) -> None:
            self.started.set()
            await asyncio.sleep(3600)

    async def scenario() -> None:
        notifier = Stuck()
        run = asyncio.create_task(dispatcher(app, notifier, clock, concurrency=2).run_once())
        await notifier.started.wait()
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(scenario())
    assert {(r.state, r.lease_until, r.attempts) for r in outbox(app)} == {("pending", None, 0)}


class FailingWrites:
    """Fails the dispatcher's outcome writes as a database that is down, or locked by a long reader, does
    (a transient OperationalError) while ``failing`` is set; and, for its data (which no retry mends), the
    write of any outcome whose values contain ``refuse``."""

    def __init__(self, app: App, *, failing: bool = False, refuse: str | None = None, signal_after: int = 1) -> None:
        self.failing = failing
        self.refuse = refuse
        self.failures = 0
        self.signal_after = signal_after
        self.failed = threading.Event()  # set once ``signal_after`` writes have failed (they run in a thread)
        event.listen(app.engine, "before_cursor_execute", self._before)

    def _before(self, _conn: object, _cursor: object, statement: str, parameters: Any, *_args: object) -> None:
        head, _, where = statement.partition("WHERE")
        if not (head.startswith("UPDATE outbox SET") and "outbox.claimed_by =" in where):
            return  # not an outcome (claims and the retry_after pause are other statements)
        if self.failing:
            self.failures += 1
            if self.failures >= self.signal_after:
                self.failed.set()
            raise OperationalError(statement, parameters, Exception("database is locked"))
        if self.refuse is not None and self.refuse in repr(parameters):
            raise ValueError("the database refused this value")


def test_nothing_new_is_sent_while_outcomes_cannot_be_written(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 40)
    writes = FailingWrites(app, failing=True, signal_after=3)  # the database stays down for a few retries

    class Watching(ScriptedNotifier):
        started_while_failing = 0

        async def send(self, message: OutgoingMessage) -> None:
            self.started_while_failing += writes.failing
            await super().send(message)

    notifier = Watching("email", delay=0.01)
    sender = dispatcher(app, notifier, clock, concurrency=4, batch_size=10)

    async def scenario() -> DispatchReport:
        run = asyncio.create_task(sender.drain(lanes=2))
        assert await asyncio.to_thread(writes.failed.wait, 30)
        writes.failing = False
        return await run

    report = asyncio.run(scenario())
    # Only what was in flight when the first write failed: the places of two lanes, not the batches.
    assert 0 < notifier.started_while_failing <= 4 * 2
    assert report.sent == 40 and report.unwritten == report.lost == 0
    assert sorted(m.key for m in notifier.delivered) == sorted(r.dedupe_key for r in outbox(app))
    assert {r.state for r in outbox(app)} == {"sent"} and len(attempts(app)) == 40


def test_an_outcome_the_database_refuses_is_set_aside_and_the_others_recorded(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 5)
    FailingWrites(app, refuse="unstorable reply")
    refused = TransportError("unstorable reply", permanent=False)
    notifier = ScriptedNotifier("email", fail_for={"nguoi2@xa.example.vn": refused})

    report = asyncio.run(dispatcher(app, notifier, clock, concurrency=5).run_once())

    assert (report.sent, report.unwritten) == (4, 1)
    states = [r.state for r in outbox(app)]
    # Its row waits for its lease like a crashed sender's; the other four are recorded as usual.
    assert states == ["sent", "sent", "sending", "sent", "sent"]
    assert len(attempts(app)) == 4


def test_a_stop_waits_for_the_database_only_so_long(app: App) -> None:
    clock = FakeClock()
    add_rows(app, 10)
    writes = FailingWrites(app, failing=True)
    notifier = ScriptedNotifier("email", delay=0.01)
    sender = dispatcher(app, notifier, clock, concurrency=2, write_stop_grace=0.3)

    async def scenario() -> DispatchReport:
        run = asyncio.create_task(sender.run_once())
        assert await asyncio.to_thread(writes.failed.wait, 30)
        sender.request_stop()  # SIGTERM while the database is unreachable
        return await run

    report = asyncio.run(scenario())

    # Nothing was written; every row stays under its lease and comes back when it ends, none is lost.
    assert report.unwritten == 10 and len(notifier.delivered) <= 2
    assert {r.state for r in outbox(app)} == {"sending"}
    writes.failing = False
    clock.advance(sender.lease_seconds + 1)
    again = ScriptedNotifier("email")
    assert asyncio.run(dispatcher(app, again, clock).run_once()).sent == 10


def test_every_attempt_is_recorded(app: App) -> None:
    clock = FakeClock()
    first, second, third = add_rows(app, 3)
    transient = TransportError("451", permanent=False)
    notifier = ScriptedNotifier("email", [transient, None, TransportError("550", permanent=True), transient])
    sender = dispatcher(app, notifier, clock, concurrency=1, policy=RetryPolicy(cap_seconds=60))
    for _ in range(3):
        asyncio.run(sender.run_once())
        clock.advance(60)
    log = [(a.outbox_id, a.attempt, a.outcome) for a in attempts(app)]
    assert len(log) == notifier.calls == 5
    assert sorted(log) == [
        (first, 1, "retry"), (first, 2, "retry"), (first, 3, "sent"), (second, 1, "sent"), (third, 1, "dead"),
    ]


# --- notifiers that need no credentials ---------------------------------------------------------------


def test_console_notifier_prints_a_readable_vietnamese_block() -> None:
    stream = io.StringIO()
    message = OutgoingMessage("k1", "email", "an@xa.example.vn", "Nguyễn Văn An", "Nhắc hạn báo cáo CCHC quý I",
                              "Kính gửi: UBND xã A\nĐề nghị gửi báo cáo.", "<p>…</p>")
    asyncio.run(ConsoleNotifier("email", stream).send(message))
    asyncio.run(ConsoleNotifier("telegram", stream).send(
        OutgoingMessage("k2", "telegram", "12345", "Trần Thị Bình", "", "Báo cáo đã quá hạn.", "")))
    out = stream.getvalue()
    assert "Gửi qua e-mail tới Nguyễn Văn An <an@xa.example.vn>: Nhắc hạn báo cáo CCHC quý I\n" in out
    assert "Kính gửi: UBND xã A\nĐề nghị gửi báo cáo.\n" in out
    assert "Gửi qua Telegram tới Trần Thị Bình (chat 12345)\n" in out


def test_jsonl_notifier_failure_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    notifier = JsonlNotifier("email", blocker / "outbox.jsonl")  # a folder that cannot be created
    with pytest.raises(TransportError) as caught:
        asyncio.run(notifier.send(OutgoingMessage("k", "email", "a@b", "A", "s", "t", "h")))
    assert caught.value.permanent is False


# --- the rate limiter, on virtual time --------------------------------------------------------------


def run_senders(limiter: RateLimiter, time: VirtualTime, addresses: list[str], workers: int,
                channel: str = "telegram") -> list[tuple[float, str]]:
    """``workers`` concurrent tasks sending to ``addresses`` in turn; returns (virtual time, address)."""
    sent: list[tuple[float, str]] = []
    queue = list(addresses)

    async def worker() -> None:
        while queue:
            address = queue.pop(0)
            assert await limiter.acquire(channel, address)
            sent.append((time(), address))
            await asyncio.sleep(0)
            limiter.finished(channel, address)  # the request completes in no virtual time

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(workers)))

    asyncio.run(main())
    return sent


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_limiter_never_lets_more_than_30_a_second_through_overall() -> None:
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    sent = run_senders(limiter, time, [str(i) for i in range(600)], workers=40)
    assert len(sent) == 600
    assert max_in_window([t for t, _ in sent]) == 30


def test_limiter_reaches_telegrams_rate() -> None:
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    sent = run_senders(limiter, time, [str(i) for i in range(300)], workers=1)
    assert max_in_window([t for t, _ in sent]) == 30
    assert sent[-1][0] == pytest.approx(9.0)  # 300 messages: windows of 30, the tenth at t=9


@pytest.mark.parametrize("seed", range(5))
def test_limiter_keeps_the_limits_at_the_server_whatever_each_request_takes(seed: int) -> None:
    """Requests take 0-300 ms and reach the server at any moment between their grant and their answer;
    counting each from its answer keeps what the server sees within 30/s and 1/s per chat."""
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    rng = random.Random(seed)
    chats = [f"chat{rng.randrange(40)}" for _ in range(400)]
    arrivals: list[tuple[float, str]] = []

    async def worker() -> None:
        while chats:
            chat = chats.pop(0)
            assert await limiter.acquire("telegram", chat)
            granted, latency = time(), rng.uniform(0.0, 0.3)
            arrivals.append((granted + rng.uniform(0.0, latency), chat))
            await time.sleep(latency)
            limiter.finished("telegram", chat)

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(32)))

    asyncio.run(main())
    assert len(arrivals) == 400
    assert max_in_window([t for t, _ in arrivals]) <= 30
    for chat in {c for _, c in arrivals}:
        assert max_in_window([t for t, c in arrivals if c == chat]) == 1


def test_limiter_counts_a_slow_send_from_its_completion() -> None:
    """A request still on its way may reach the server late: nothing to that chat until it completes,
    and it occupies a place in the overall window meanwhile."""
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    assert asyncio.run(limiter.acquire("telegram", "42")) is True
    assert limiter.delay("telegram", "42") > 0  # still in flight
    time.now = 5.0
    limiter.finished("telegram", "42")
    assert limiter.delay("telegram", "42") == pytest.approx(1.0)  # counted from the completion at t=5


def test_limiter_never_sends_twice_a_second_to_one_chat() -> None:
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    chats = [f"chat{i % 3}" for i in range(30)]
    sent = run_senders(limiter, time, chats, workers=10)
    for chat in {"chat0", "chat1", "chat2"}:
        assert max_in_window([t for t, a in sent if a == chat]) == 1


def test_limiter_pauses_a_chat_or_the_whole_channel() -> None:
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    limiter.pause("telegram", "42", 5)
    assert limiter.delay("telegram", "42") == 5 and limiter.delay("telegram", "43") == 0
    assert asyncio.run(limiter.acquire("telegram", "42", max_wait=4)) is False
    assert time.now == 0  # giving up costs no wait and takes no turn
    assert asyncio.run(limiter.acquire("telegram", "42")) is True and time.now == 5
    limiter.pause_channel("telegram", 30)
    assert limiter.delay("telegram", "99") == 30
    assert limiter.delay("email", "a@b") == 0


def test_limiter_lets_unlimited_email_through_without_waiting() -> None:
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    sent = run_senders(limiter, time, ["same@x.vn"] * 500, workers=8, channel="email")
    assert len(sent) == 500 and time.slept == 0


def test_limiter_abort_stops_the_wait() -> None:
    time = VirtualTime()
    limiter = RateLimiter({"email": ChannelLimits(max_per_period=1, period=60)}, clock=time, sleep=time.sleep)
    assert asyncio.run(limiter.acquire("email", "a")) is True
    assert asyncio.run(limiter.acquire("email", "b", abort=lambda: time.now >= 2)) is False
    assert 2 <= time.now < 3  # noticed within one polling slice, long before the minute is up


def test_limiter_lets_a_group_chat_have_at_most_20_messages_a_minute() -> None:
    """Telegram's group rule: a burst to one group spreads over minutes; people and other groups are
    not held up by it."""
    time = VirtualTime()
    limiter = RateLimiter(DEFAULT_LIMITS, clock=time, sleep=time.sleep)
    group = "-1001234567890"
    sent = [t for t, _ in run_senders(limiter, time, [group] * 45, workers=1)]
    assert len(sent) == 45
    assert max_in_window(sent, window=60.0) == 20
    assert max_in_window(sent, window=1.0) == 1
    # 20 in the first minute (one a second), 20 more once the first has left the window, the rest after.
    assert sent[19] == pytest.approx(19.0)
    assert sent[20] == pytest.approx(60.0) and sent[40] == pytest.approx(120.0)
    assert limiter.delay("telegram", group) > 0
    assert limiter.delay("telegram", "-4001") == 0  # another group
    assert limiter.delay("telegram", "1001") == 0  # a person


def test_limiter_counts_a_group_send_in_flight() -> None:
    time = VirtualTime()
    limits = {"telegram": ChannelLimits(group_max_per_period=2, group_period=60.0)}
    limiter = RateLimiter(limits, clock=time, sleep=time.sleep)
    group = "-4001"
    assert asyncio.run(limiter.acquire("telegram", group)) is True
    limiter.finished("telegram", group)
    assert asyncio.run(limiter.acquire("telegram", group)) is True  # the second, still on its way
    assert limiter.delay("telegram", group) == pytest.approx(60.0)  # the third waits for the first to age
    assert limiter.delay("telegram", "4001") == 0  # a person's chat: no group rule
    time.now = 2.0
    limiter.finished("telegram", group)
    assert limiter.delay("telegram", group) == pytest.approx(58.0)
