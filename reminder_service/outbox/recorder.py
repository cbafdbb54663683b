"""Recording delivery outcomes off the event loop, batched, while sends go on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from reminder_service.outbox.store import OutboxStore, Outcome


class Recorder:
    """Writes outcomes from a worker thread while sends go on; outcomes that finish during a write go
    together into the next transaction, so a fast channel is not held to one commit per message.

    ``written`` runs once an outcome's transaction has ended (or can no longer happen): the dispatcher
    frees the outcome's place among the sends in flight only then, so the messages a crash would send
    twice (delivered, not yet recorded) never outnumber those places."""

    def __init__(self, store: OutboxStore) -> None:
        self._store = store
        self._queue: list[tuple[Outcome, Callable[[], None] | None]] = []
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self.lost: list[Outcome] = []

    def add(self, outcome: Outcome, written: Callable[[], None] | None = None) -> None:
        self._queue.append((outcome, written))
        if self._error is not None:
            self._done(self._queue)  # nothing more will be written: never keep a place waiting for it
            self._queue = []
        elif self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    @staticmethod
    def _done(batch: list[tuple[Outcome, Callable[[], None] | None]]) -> None:
        for _, written in batch:
            if written is not None:
                written()

    async def _drain(self) -> None:
        while self._queue and self._error is None:
            batch, self._queue = self._queue, []
            try:
                self.lost += await asyncio.to_thread(self._store.write, [outcome for outcome, _ in batch])
            except Exception as exc:  # the database is down: the rows stay leased and come back later
                self._error = exc
                batch += self._queue
                self._queue = []
            finally:
                self._done(batch)

    async def flush(self) -> None:
        while self._task is not None and not self._task.done():
            await self._task
        if self._queue and self._error is None:
            self._task = asyncio.create_task(self._drain())
            await self._task
        if self._error is not None:
            raise self._error
