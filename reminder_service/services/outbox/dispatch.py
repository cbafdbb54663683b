"""The dispatcher: claims due outbox rows, delivers each through its channel, records every attempt.

A batch is claimed with a lease, so a sender that dies mid-batch only delays its rows: once the lease
runs out any dispatcher claims them again. Sends run concurrently across addresses and one after another
for the same address (Telegram allows one message a second per chat, and a person reads them in order).
Nothing a single row does (a notifier raising anything at all) stops the rest of the batch. While the
outcomes of sends cannot be written (see recorder.py), nothing new is claimed or sent.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import secrets
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy import Engine

from reminder_service.domain.clock import wall
from reminder_service.domain.redaction import scrub
from reminder_service.services.outbox.notifier import Notifier, OutgoingMessage, TransportError
from reminder_service.services.outbox.ratelimit import RateLimiter
from reminder_service.services.outbox.recorder import Recorder, WriteHealth
from reminder_service.services.outbox.retry import SERVICE_RETRY, RetryPolicy
from reminder_service.services.outbox.store import Claimed, OutboxStore, Outcome

log = structlog.get_logger(__name__)

_MAX_ERROR = 2000


def _error_text(exc: BaseException, *, with_class: bool) -> str:
    text = str(exc)
    if with_class or not text:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    # PostgreSQL refuses a NUL in a text column: the outcome could never be written.
    # A token inside an unexpected exception's text (a URL in a network error) must not reach the outbox
    # table, the digest or the logs; notifiers scrub their own errors, this catches the rest.
    return scrub(text).replace("\x00", "")[:_MAX_ERROR]


class HasEngine(Protocol):
    @property
    def engine(self) -> Engine: ...


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    # Handed back unsent: a stop was requested, the lease would not cover the wait, or the chat is paused.
    released: int = 0
    # Results another sender had overtaken (our lease ran out first): the message may have gone twice.
    lost: int = 0
    # Results that could not be written even after retrying: their rows come back when the lease ends.
    unwritten: int = 0

    def add(self, other: DispatchReport) -> None:
        for name in ("claimed", "sent", "retried", "dead", "released", "lost", "unwritten"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Dispatcher:
    def __init__(
        self,
        database: Engine | HasEngine,
        notifiers: Mapping[str, Notifier],
        clock: Callable[[], datetime],
        *,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        lease_seconds: float = 120.0,
        batch_size: int = 100,
        concurrency: int = 16,
        send_timeout: float = 30.0,
        max_limiter_wait: float = 10.0,
        worker_id: str | None = None,
        write_stop_grace: float = 20.0,
        on_moved: Callable[[str, str, str], None] | None = None,
        stages: Iterable[str] | None = None,
    ) -> None:
        """``clock`` gives the current instant (aware, or naive Vietnamese wall time); rows are stored
        in wall time. ``send_timeout`` bounds one send, and a send only starts while the lease still
        covers it. A row whose turn under the rate limits is more than ``max_limiter_wait`` seconds
        away (a paused chat) is handed back, due again when its turn comes. Outcomes that cannot be written
        are retried until they are, or for ``write_stop_grace`` seconds once a stop is requested.
        ``on_moved(channel, old, new)`` saves an address that moved for good (it runs in a worker thread).
        ``stages`` limits it to rows of those stages (the console served alone sends only sign-in links)."""
        if lease_seconds <= send_timeout:
            raise ValueError("lease_seconds must exceed send_timeout, or no send could start")
        engine = database if isinstance(database, Engine) else database.engine
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:80]
        self._store = OutboxStore(engine, self.worker_id)
        self._notifiers = dict(notifiers)
        self._clock = clock
        self.policy = policy or SERVICE_RETRY
        self._limiter = limiter or RateLimiter()
        self._rng = rng or random.Random()
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.send_timeout = send_timeout
        self.max_limiter_wait = max_limiter_wait
        self.write_stop_grace = write_stop_grace
        self._on_moved = on_moved
        self._stages = None if stages is None else frozenset(stages)
        self._moves: dict[tuple[str, str], str] = {}
        self._stopping = False

    def _now(self) -> datetime:
        return wall(self._clock())

    def request_stop(self) -> None:
        """Claim nothing more; rows claimed but not yet being sent go back to pending; sends already
        under way finish and are recorded. Safe to call from a signal handler on the event loop."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def run_once(self) -> DispatchReport:
        """Claim one batch of due rows and deliver it."""
        rows = await self._claim()
        return await self._send_batch(rows, WriteHealth()) if rows else DispatchReport()

    async def drain(self, max_batches: int = 1000, lanes: int = 2) -> DispatchReport:
        """Run batches until nothing is due (or nothing due can be delivered now) or a stop is requested.
        A short batch is not the end: another instance may have taken part of what was due.

        Up to ``lanes`` claimed batches are under way at once: while one batch's last rows wait for a
        chat's turn and its outcomes are written, the next already sends, so a rate-limited channel
        does not idle at batch boundaries. Claims stay one at a time (two claims racing for the same
        rows would leave one empty-handed); the limiter is shared, so the limits hold across batches."""
        total = DispatchReport()
        health = WriteHealth()  # one per drain: its event belongs to this event loop
        running: set[asyncio.Task[DispatchReport]] = set()
        claims, progress = 0, True

        def count(report: DispatchReport) -> None:
            nonlocal progress
            total.add(report)
            if report.sent + report.retried + report.dead == 0:
                progress = False  # everything was handed back: claiming again at once would spin

        async def settle_one() -> None:
            nonlocal running
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                count(task.result())

        try:
            while claims < max_batches and progress and not self._stopping:
                if len(running) >= max(1, lanes):
                    await settle_one()
                    continue
                if not health.ok:
                    # Outcomes are not being written: a new claim would only add rows that may go out twice.
                    await health.wait()
                    continue
                rows = await self._claim()
                if rows:
                    claims += 1
                    running.add(asyncio.create_task(self._send_batch(rows, health)))
                elif running:
                    await settle_one()  # nothing due now; what a running batch retries may fall due
                else:
                    break
        except asyncio.CancelledError:
            for task in running:
                task.cancel()  # each batch hands back what it has not sent
            raise
        finally:
            for result in await asyncio.gather(*running, return_exceptions=True):
                if isinstance(result, DispatchReport):
                    count(result)
        return total

    async def _claim(self) -> list[Claimed]:
        if self._stopping or not self._notifiers:
            return []
        now = self._now()
        lease_until = now + timedelta(seconds=self.lease_seconds)
        return await asyncio.to_thread(self._store.claim, now, lease_until, self._notifiers, self.batch_size,
                                       self._stages)

    async def _send_batch(self, rows: list[Claimed], health: WriteHealth) -> DispatchReport:
        report = DispatchReport(claimed=len(rows))
        recorder = Recorder(self._store, health, stopping=lambda: self._stopping,
                            stop_grace=self.write_stop_grace)
        unfinished = {row.id: row for row in rows}
        # The gate bounds sends in flight, not waits: a chat waiting for its turn holds no place. A place is
        # taken when a send starts and given back once its outcome is written, not when the send ends:
        # what a kill -9 would deliver twice is at most ``concurrency`` messages per batch under way.
        gate = asyncio.Semaphore(self.concurrency)
        holding: set[int] = set()  # rows whose send took a place in the gate

        def finish(outcome: Outcome) -> None:
            unfinished.pop(outcome.row.id, None)
            _count(report, outcome)
            held = outcome.row.id in holding
            holding.discard(outcome.row.id)
            recorder.add(outcome, gate.release if held else None)

        groups: dict[tuple[str, str], list[Claimed]] = {}
        for row in rows:
            groups.setdefault((row.channel, row.address), []).append(row)

        async def run_group(group: list[Claimed]) -> None:
            for row in group:
                try:
                    outcome = await self._deliver(row, gate, holding, health)
                except Exception as exc:  # a bug of ours costs this row a retry, never the batch
                    log.exception("outbox.dispatch_error", outbox_id=row.id, key=row.key)
                    outcome = self._failed(row, _error_text(exc, with_class=True), False, None)
                finish(outcome)

        try:
            await asyncio.gather(*(run_group(group) for group in groups.values()))
        finally:
            # Cancelled mid-batch: hand back what never got an outcome rather than wait for its lease.
            for row in list(unfinished.values()):
                finish(Outcome(row, "release", self._now()))
            await recorder.flush()
            report.lost = len(recorder.lost)
            report.unwritten = len(recorder.unwritten)
            for outcome in recorder.lost:
                log.warning("outbox.overtaken", outbox_id=outcome.row.id, key=outcome.row.key, outcome=outcome.kind)
        return report

    async def _deliver(self, row: Claimed, gate: asyncio.Semaphore, holding: set[int], health: WriteHealth
                       ) -> Outcome:
        """Deliver one row. A send holds a place in ``gate`` (its id goes into ``holding``) until the
        caller has its outcome written. No send starts while outcomes cannot be written. An address that
        moved (a group that became a supergroup) is followed once: the move is saved, the row is resent."""
        if not health.ok and not self._stopping:
            await health.wait()
        # Rows claimed before a move was saved still carry the old address: go straight to the new one.
        address = self._moves.get((row.channel, row.address), row.address)
        for hop in range(2):
            if self._stopping:
                return Outcome(row, "release", self._now())
            # Do not start a send the lease might not cover: another dispatcher could take the row meanwhile.
            budget = (row.lease_until - self._now()).total_seconds() - self.send_timeout
            granted = await self._limiter.acquire(
                row.channel, address, max_wait=max(0.0, min(budget, self.max_limiter_wait)),
                abort=lambda: self._stopping,
            )
            if not granted:
                now = self._now()
                if self._stopping:
                    return Outcome(row, "release", now)
                turn = self._limiter.delay(row.channel, address)
                return Outcome(row, "release", now, next_attempt_at=now + timedelta(seconds=turn) if turn else None)
            message = OutgoingMessage(row.key, row.channel, address, row.recipient, row.subject, row.text, row.html,
                                      row.buttons)
            try:
                try:
                    if hop == 0:
                        await gate.acquire()
                        holding.add(row.id)
                    if self._stopping or not health.ok:  # stopped, or writes failed, while it queued for a place
                        return Outcome(row, "release", self._now())
                    await asyncio.wait_for(self._notifiers[row.channel].send(message), self.send_timeout)
                finally:
                    self._limiter.finished(row.channel, address)
            except TransportError as exc:
                if exc.moved_to and hop == 0:
                    await self._moved(row, address, exc.moved_to)
                    address = exc.moved_to
                    continue
                return self._failed(row, _error_text(exc, with_class=False), exc.permanent, exc.retry_after)
            except Exception as exc:  # a notifier bug or a timeout: retry later, never stop the batch
                error = _error_text(exc, with_class=True)
                log.warning("outbox.notifier_error", outbox_id=row.id, key=row.key, channel=row.channel, error=error)
                return self._failed(row, error, permanent=False, retry_after=None)
            log.info("outbox.sent", outbox_id=row.id, key=row.key, channel=row.channel, attempt=row.attempts + 1)
            return Outcome(row, "sent", self._now())
        raise AssertionError("unreachable: the second hop returns")

    async def _moved(self, row: Claimed, old: str, new: str) -> None:
        """Save where the recipient moved (when the owner gave a way to), so later messages go there."""
        log.info("outbox.address_moved", outbox_id=row.id, key=row.key, channel=row.channel, new_address=new)
        if len(self._moves) > 10_000:  # bounded: the saved move is what lasts
            self._moves.clear()
        self._moves[(row.channel, old)] = new
        if self._on_moved is None:
            return
        try:
            await asyncio.to_thread(self._on_moved, row.channel, old, new)
        except Exception as exc:  # the resend still goes to the new address; the next failure tries again
            log.error("outbox.address_move_unsaved", outbox_id=row.id, channel=row.channel,
                      error=_error_text(exc, with_class=True))

    def _failed(self, row: Claimed, error: str, permanent: bool, retry_after: float | None) -> Outcome:
        now = self._now()
        attempt = row.attempts + 1
        if retry_after is not None and retry_after > 0:
            # Later rows for this chat in the batch wait too, instead of provoking more 429s.
            self._limiter.pause(row.channel, row.address, retry_after)
        fields = {"outbox_id": row.id, "key": row.key, "channel": row.channel, "attempt": attempt, "error": error}
        trying_for = (now - row.created_at).total_seconds() if row.created_at is not None else math.inf
        if permanent or self.policy.gives_up(attempt, trying_for):
            log.error("outbox.dead", permanent=permanent, **fields)
            return Outcome(row, "dead", now, error=error, retry_after=retry_after)
        wait = max(retry_after or 0.0, self.policy.backoff(attempt, self._rng))
        log.warning("outbox.retry", wait_seconds=round(wait, 1), **fields)
        return Outcome(row, "retry", now, error=error, retry_after=retry_after,
                       next_attempt_at=now + timedelta(seconds=wait))


def _count(report: DispatchReport, outcome: Outcome) -> None:
    if outcome.kind == "sent":
        report.sent += 1
    elif outcome.kind == "retry":
        report.retried += 1
    elif outcome.kind == "dead":
        report.dead += 1
    else:
        report.released += 1
