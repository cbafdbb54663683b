"""The daemon: one asyncio process running the scheduler's jobs and the chat bot.

Jobs: the reconcile tick (decide what is due, write the outbox, daily digest and weekly summary),
the dispatcher, the incoming-register folder, and obligations sync for this year and next. Database
work runs in worker threads so the event loop stays responsive. SIGTERM or SIGINT: stop claiming, let
in-flight sends finish, hand claimed-but-unsent messages back, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from reminder_service.app import App
from reminder_service.audit import Actor
from reminder_service.bot.service import ChatBot
from reminder_service.clock import TIMEZONE, wall
from reminder_service.escalation.policy import Policy
from reminder_service.messages.summary import IntakeState
from reminder_service.notifiers.base import Notifier
from reminder_service.obligations import sync_obligations
from reminder_service.outbox.dispatch import Dispatcher, DispatchReport
from reminder_service.outbox.ratelimit import RateLimiter
from reminder_service.reconcile import TickReport, load_recipients, tick
from reminder_service.reminders import TemplateRenderer
from reminder_service.summaries import write_summaries
from reminder_service.watch import check_folder, last_import, set_state

log = structlog.get_logger(__name__)
SERVICE_ACTOR = Actor("reminder-service", "daemon")


@dataclass(frozen=True)
class Intervals:
    tick_seconds: int = 300
    dispatch_seconds: int = 10
    watch_seconds: int = 300


class Daemon:
    def __init__(self, app: App, notifiers: Mapping[str, Notifier], *, clock: Callable[[], datetime],
                 policy: Policy | None = None, intervals: Intervals = Intervals(),
                 bot: Callable[[RateLimiter], ChatBot | None] | None = None) -> None:
        """``bot`` builds the chat bot (or none) around the limiter the dispatcher uses, so reminders
        and answers together stay within Telegram's limits."""
        self.app = app
        self.notifiers = notifiers
        self.clock = clock
        self.policy = policy or app.config.escalation
        self.intervals = intervals
        limiter = RateLimiter()
        self.dispatcher = Dispatcher(app, notifiers, clock, limiter=limiter)
        self.bot = bot(limiter) if bot is not None else None
        self._stop = asyncio.Event()
        self._dispatching: asyncio.Task[DispatchReport] | None = None

    # -- jobs (synchronous ones run in a worker thread) ------------------------------------------

    def sync_years(self) -> None:
        now = self.clock()
        for year in (now.year, now.year + 1):
            with self.app.session() as session:
                result = sync_obligations(session, self.app.calendar(year), SERVICE_ACTOR, now)
            log.info("obligations_synced", year=year, created=result.created, updated=result.updated,
                     deactivated=result.deactivated)

    def reconcile(self) -> TickReport:
        now = self.clock()
        local = wall(now)
        watch_dir = self.app.config.watch_dir
        renderer = TemplateRenderer(self.app.calendar, self.app.config.office_name, self.app.workdays, local.date())
        with self.app.session() as session:
            imported = last_import(session)
            report = tick(session, policy=self.policy, workdays=self.app.workdays,
                          due_soon=self.app.config.status.due_soon_working_days, now=now,
                          renderer=renderer.for_decisions, intake_checked_on=imported.date() if imported else None,
                          intake_guard=watch_dir is not None)
            # The digest and the weekly summary go to office people only: no need to load every unit's.
            _, office = load_recipients(session, office_only=True)
            intake = IntakeState(watched=watch_dir is not None, last_import=imported)
            summaries = write_summaries(
                session, recipients=office, policy=self.policy, workdays=self.app.workdays,
                due_soon=self.app.config.status.due_soon_working_days, now=now,
                office_name=self.app.config.office_name, issuer=self.app.calendar(local.year).directive.issued_by,
                intake=intake, held=report.held)
            set_state(session, "last_tick", local.isoformat(), now)
        if summaries.digests or summaries.weekly:
            log.info("summaries_written", digests=summaries.digests, weekly=summaries.weekly)
        return report

    def watch(self) -> None:
        folder = self.app.config.watch_dir
        if folder is not None:
            check_folder(folder, self.app.session, self.clock())

    async def dispatch(self) -> DispatchReport:
        # Kept as a task so that stopping can wait for the sends already in flight.
        self._dispatching = asyncio.ensure_future(self.dispatcher.drain())
        return await self._dispatching

    async def _guarded(self, name: str, job: Callable[[], object]) -> None:
        """A failing job is logged and retried at its next run; it never stops the daemon."""
        try:
            result = job()
            if asyncio.iscoroutine(result):
                await result
        except Exception as exc:
            log.error("job_failed", job=name, error=f"{exc.__class__.__name__}: {exc}")

    # -- lifecycle -------------------------------------------------------------------------------

    async def once(self) -> tuple[TickReport, DispatchReport]:
        """One pass: sync, import, reconcile, dispatch. What `run --once` and tests use."""
        await asyncio.to_thread(self.sync_years)
        await asyncio.to_thread(self.watch)
        report = await asyncio.to_thread(self.reconcile)
        delivered = await self.dispatch()
        return report, delivered

    async def keep_bot(self) -> None:
        """Start the chat bot if it is not running: Telegram unreachable at start-up (or a bad token)
        must not keep the reminders from going out, so the bot is retried every minute."""
        if self.bot is None or self.bot.started or self._stop.is_set():
            return
        try:
            await self.bot.start()
        except Exception as exc:
            log.error("bot_start_failed", error=f"{exc.__class__.__name__}: {exc}")
            with contextlib.suppress(Exception):
                await self.bot.stop()

    def stop(self) -> None:
        if self._stop.is_set():
            return  # a second Ctrl+C while stopping changes nothing
        log.info("daemon_stopping")
        self.dispatcher.request_stop()
        self._stop.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        scheduler = AsyncIOScheduler(timezone=TIMEZONE)
        # The default misfire grace of 1 s would silently skip a job whenever the loop is busy.
        common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        first = self.clock()
        scheduler.add_job(self._guarded, "interval", args=("sync", lambda: asyncio.to_thread(self.sync_years)),
                          hours=6, next_run_time=first, **common)
        scheduler.add_job(self._guarded, "interval", args=("watch", lambda: asyncio.to_thread(self.watch)),
                          seconds=self.intervals.watch_seconds, next_run_time=first, **common)
        scheduler.add_job(self._guarded, "interval", args=("reconcile", lambda: asyncio.to_thread(self.reconcile)),
                          seconds=self.intervals.tick_seconds, next_run_time=first, **common)
        scheduler.add_job(self._guarded, "interval", args=("dispatch", self.dispatch),
                          seconds=self.intervals.dispatch_seconds, next_run_time=first, **common)
        if self.bot is not None:
            scheduler.add_job(self.keep_bot, "interval", seconds=60, next_run_time=first, **common)
        scheduler.start()
        log.info("daemon_started", tick_seconds=self.intervals.tick_seconds,
                 channels=sorted(self.notifiers))
        try:
            await self._stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            if self.bot is not None and self.bot.started:
                await self.bot.stop()
            # A dispatch under way finishes its in-flight sends and hands the rest back.
            if self._dispatching is not None and not self._dispatching.done():
                await asyncio.wait([self._dispatching])
            for notifier in self.notifiers.values():
                await notifier.close()
            # The handlers stay until the loop closes, so a second signal during shutdown is absorbed.
            log.info("daemon_stopped")
