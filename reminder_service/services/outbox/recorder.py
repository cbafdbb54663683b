"""Recording delivery outcomes off the event loop, batched, while sends go on; and holding the sends back
while outcomes cannot be written.

A message delivered but not yet recorded as sent is delivered again once its lease runs out. So when a
write fails (the database restarted or cut the connection, or a backup holds SQLite's lock longer than the
busy timeout) the recorder keeps retrying on a fresh connection, and until the outcomes are written the
dispatcher claims nothing and starts no send: what could go out twice is only what was already in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from reminder_service.services.outbox.store import OutboxStore, Outcome

log = structlog.get_logger(__name__)

Written = Callable[[], None] | None


def transient(exc: BaseException) -> bool:
    """Whether trying the same write again can succeed: the connection or the lock failed, not the data."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class WriteHealth:
    """Shared by the batches under way: set while every recorder can write, cleared while one cannot."""

    def __init__(self) -> None:
        self._failing: set[int] = set()
        self._ok = asyncio.Event()
        self._ok.set()

    @property
    def ok(self) -> bool:
        return not self._failing

    def failing(self, recorder: object) -> None:
        self._failing.add(id(recorder))
        self._ok.clear()

    def recovered(self, recorder: object) -> None:
        self._failing.discard(id(recorder))
        if not self._failing:
            self._ok.set()

    async def wait(self) -> None:
        await self._ok.wait()


class Recorder:
    """Writes outcomes from a worker thread while sends go on; outcomes that finish during a write go
    together into the next transaction, so a fast channel is not held to one commit per message.

    ``written`` runs once an outcome is written (or given up): the dispatcher frees the outcome's place
    among the sends in flight only then, so the messages a crash would send twice (delivered, not yet
    recorded) never outnumber those places.

    A write that fails for a transient reason is retried, backing off up to ``max_backoff`` seconds, for as
    long as the dispatcher runs; once it is stopping, for ``stop_grace`` seconds more (systemd's stop
    timeout must not pass), after which the rows stay leased and come back when the lease ends. A write
    that fails for its data (which retrying cannot mend) is split so that one bad outcome does not take the
    others with it."""

    def __init__(self, store: OutboxStore, health: WriteHealth | None = None, *,
                 stopping: Callable[[], bool] = lambda: False, first_backoff: float = 0.2,
                 max_backoff: float = 5.0, stop_grace: float = 20.0) -> None:
        self._store = store
        self._health = health or WriteHealth()
        self._stopping = stopping
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._stop_grace = stop_grace
        self._queue: list[tuple[Outcome, Written]] = []
        self._task: asyncio.Task[None] | None = None
        self.lost: list[Outcome] = []
        # Outcomes that could not be written at all: their rows stay "sending" until the lease ends.
        self.unwritten: list[Outcome] = []
        self.failed_writes = 0

    def add(self, outcome: Outcome, written: Written = None) -> None:
        self._queue.append((outcome, written))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._write([outcome for outcome, _ in batch])
            finally:
                for _, written in batch:
                    if written is not None:
                        written()

    async def _write(self, outcomes: Sequence[Outcome]) -> None:
        failed_since: float | None = None
        stop_seen: float | None = None
        delay = self._first_backoff
        try:
            while True:
                try:
                    self.lost += await asyncio.to_thread(self._store.write, outcomes)
                    if failed_since is not None:
                        log.info("outbox.outcomes_written_after_failure", rows=len(outcomes),
                                 failed_for=round(time.monotonic() - failed_since, 1))
                    return
                except Exception as exc:
                    self.failed_writes += 1
                    if not transient(exc):
                        await self._write_apart(outcomes, exc)
                        return
                    now = time.monotonic()
                    if failed_since is None:
                        failed_since = now
                        self._health.failing(self)
                    if self._stopping() and stop_seen is None:
                        stop_seen = now
                    if stop_seen is not None and now - stop_seen >= self._stop_grace:
                        self._give_up(outcomes, exc)
                        return
                    log.warning("outbox.outcome_write_failed", rows=len(outcomes), retry_in=round(delay, 2),
                                error=f"{type(exc).__name__}: {_first_line(exc)}")
                    await asyncio.sleep(delay)
                    delay = min(self._max_backoff, delay * 2)
        finally:
            if failed_since is not None:
                self._health.recovered(self)

    async def _write_apart(self, outcomes: Sequence[Outcome], exc: BaseException) -> None:
        if len(outcomes) == 1:
            self._give_up(outcomes, exc)
            return
        for outcome in outcomes:
            await self._write([outcome])

    def _give_up(self, outcomes: Sequence[Outcome], exc: BaseException) -> None:
        self.unwritten += outcomes
        log.error("outbox.outcomes_unwritten", outbox_ids=[o.row.id for o in outcomes],
                  outcomes=[o.kind for o in outcomes], error=f"{type(exc).__name__}: {_first_line(exc)}")

    async def flush(self) -> None:
        while self._task is not None and not self._task.done():
            await self._task
        if self._queue:
            self._task = asyncio.create_task(self._drain())
            await self._task


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]
