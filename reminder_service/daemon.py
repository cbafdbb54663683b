"""The daemon: one asyncio process running the scheduler's jobs and the chat bot.

Jobs: the reconcile tick (decide what is due, write the outbox, daily digest and weekly summary),
the dispatcher, the incoming-register folder, and obligations sync for this year and next. Database
work runs in worker threads so the event loop stays responsive. SIGTERM or SIGINT: stop claiming, let
in-flight sends finish, hand claimed-but-unsent messages back, exit 0.

Several instances may share a PostgreSQL database (see leader.py): all of them dispatch, only the
leader decides and runs the chat bot (Telegram serves getUpdates to one consumer only). Under systemd
(``Type=notify``) the daemon reports READY, its role in STATUS, WATCHDOG pings and STOPPING.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import IntegrityError

from reminder_service import systemd
from reminder_service.app import App
from reminder_service.domain.clock import TIMEZONE, wall
from reminder_service.domain.escalation.policy import Policy
from reminder_service.domain.messages.summary import IntakeState
from reminder_service.leader import Election, Elector, Sole
from reminder_service.services.audit import Actor
from reminder_service.services.chat_migration import follow_chat_migration
from reminder_service.services.obligations import sync_obligations
from reminder_service.services.outbox.dispatch import Dispatcher, DispatchReport
from reminder_service.services.outbox.notifier import Notifier
from reminder_service.services.outbox.ratelimit import RateLimiter
from reminder_service.services.reconcile import TickReport, load_recipients, tick
from reminder_service.services.reminders import TemplateRenderer
from reminder_service.services.summaries import write_summaries
from reminder_service.services.watch import LAST_TICK, check_folder, last_import, set_state

if TYPE_CHECKING:  # the chat bot (python-telegram-bot's Application) and the console (uvicorn) load only when used
    from reminder_service.adapters.telegram.service import ChatBot
    from reminder_service.webserver import WebServer

log = structlog.get_logger(__name__)
SERVICE_ACTOR = Actor("reminder-service", "daemon")
LEADER_JOBS = ("sync", "watch", "reconcile", "bot")
# One run at a time, missed runs folded into one, and never skipped for being late: APScheduler's default
# misfire grace of 1 s would silently drop a job whenever the event loop is busy.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
T = TypeVar("T")
STATUS_LEADER = "Phiên chính (leader): quyết định nhắc hạn, trả lời bot chat và gửi tin."
STATUS_FOLLOWER = "Phiên dự phòng (follower): chỉ gửi tin; sẵn sàng tiếp quản khi phiên chính dừng."


def _at_once() -> datetime:
    # The scheduler runs on real time whatever the daemon's clock says: a first run time taken from a
    # replayed clock would have it walk through every interval missed since then.
    return datetime.now(ZoneInfo(TIMEZONE))


async def _retried(name: str, job: Callable[[], T]) -> T:
    """On PostgreSQL a pass may run beside the daemons (it takes no lock) and insert the same new row
    (an obligation, the last-tick mark) in the same instant: the loser's transaction fails whole. The
    winner has committed by then, so one more try reads its rows and goes on."""
    try:
        return await asyncio.to_thread(job)
    except IntegrityError as exc:
        log.info("job_retried_after_conflict", job=name, error=exc.__class__.__name__)
        return await asyncio.to_thread(job)


@dataclass(frozen=True)
class Intervals:
    tick_seconds: int = 300
    dispatch_seconds: int = 10
    watch_seconds: int = 300


class Daemon:
    def __init__(self, app: App, notifiers: Mapping[str, Notifier], *, clock: Callable[[], datetime],
                 policy: Policy | None = None, intervals: Intervals = Intervals(),
                 bot: Callable[[RateLimiter], ChatBot | None] | None = None,
                 elector: Elector | None = None, web: WebServer | None = None) -> None:
        """``bot`` builds the chat bot (or none) around the limiter the dispatcher uses, so reminders
        and answers together stay within Telegram's limits. ``elector``: how this instance learns it
        leads (leader.claim); none means it is the only instance. ``web``: the console, served on every
        instance for as long as the daemon runs."""
        self.app = app
        self.notifiers = notifiers
        self.clock = clock
        self.policy = policy or app.config.escalation
        self.intervals = intervals
        limiter = RateLimiter()
        self.dispatcher = Dispatcher(app, notifiers, clock, limiter=limiter, on_moved=self.follow_move)
        self.bot = bot(limiter) if bot is not None else None
        self.election = Election(elector or Sole(), self._lead, self._follow)
        self.web = web
        self._stop = asyncio.Event()
        self._dispatching: asyncio.Task[DispatchReport] | None = None
        self._scheduler: AsyncIOScheduler | None = None
        # Jobs handed to the executor and not finished: stopping waits for them (see _quiesce).
        self._running_jobs = 0
        self._jobs_idle = asyncio.Event()
        self._jobs_idle.set()

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
            set_state(session, LAST_TICK, local.isoformat(), now)
        written = summaries.digests + summaries.weekly + summaries.rollups
        if written:
            log.info("summaries_written", digests=summaries.digests, weekly=summaries.weekly,
                     rollups=summaries.rollups)
        return replace(report, summaries=written)

    def follow_move(self, channel: str, old: str, new: str) -> None:
        """A Telegram group became a supergroup (the dispatcher met ChatMigrated): save its new id."""
        if channel == "telegram":
            with self.app.session() as session:
                follow_chat_migration(session, old, new, self.clock(), SERVICE_ACTOR)

    def watch(self) -> None:
        folder = self.app.config.watch_dir
        if folder is not None:
            check_folder(folder, self.app.session, self.clock())

    async def dispatch(self) -> DispatchReport:
        # Kept as a task so that stopping can wait for the sends already in flight.
        self._dispatching = asyncio.ensure_future(self.dispatcher.drain())
        return await self._dispatching

    @staticmethod
    def _job_failed(event: JobExecutionEvent) -> None:
        """A failing job is logged, traceback included (the log redacts secrets), and runs again at its
        next time: it never stops the daemon."""
        exc = event.exception
        log.error("job_failed", job=event.job_id, error=f"{type(exc).__name__}: {exc}", traceback=event.traceback)

    # -- lifecycle -------------------------------------------------------------------------------

    async def once(self) -> tuple[TickReport, DispatchReport]:
        """One pass: sync, import, reconcile, dispatch. What `run --once` and tests use."""
        await _retried("sync", self.sync_years)
        await asyncio.to_thread(self.watch)
        report = await _retried("reconcile", self.reconcile)
        delivered = await self.dispatch()
        return report, delivered

    async def keep_bot(self) -> None:
        """Start the chat bot if it is not running: Telegram unreachable at start-up (or a bad token)
        must not keep the reminders from going out, so the bot is retried every minute."""
        if self.bot is None or self.bot.started or self._stop.is_set() or not self.election.leading:
            return
        try:
            await self.bot.start()
        except Exception as exc:
            log.error("bot_start_failed", error=f"{exc.__class__.__name__}: {exc}")
            with contextlib.suppress(Exception):
                await self.bot.stop()
            return
        if not self.election.leading or self._stop.is_set():  # lost or stopping while Telegram answered
            await self.bot.stop()

    # -- leadership ------------------------------------------------------------------------------

    async def _lead(self) -> None:
        scheduler = self._scheduler
        if scheduler is None or self._stop.is_set():
            return
        # The year's obligations first: a tick racing the first sync would miss a new year's reports for
        # a whole tick interval (five minutes), so the jobs start only once it has run.
        try:
            await asyncio.to_thread(self.sync_years)
        except Exception:  # the scheduled sync tries again; the tick still runs on what is there
            log.exception("job_failed", job="sync")
        if self._stop.is_set() or not self.election.leading:
            return
        first = _at_once()
        # Synchronous jobs run in the event loop's worker threads (APScheduler's asyncio executor).
        jobs: dict[str, tuple[Callable[[], object], dict[str, int]]] = {
            "sync": (self.sync_years, {"hours": 6}),
            "watch": (self.watch, {"seconds": self.intervals.watch_seconds}),
            "reconcile": (self.reconcile, {"seconds": self.intervals.tick_seconds}),
        }
        if self.bot is not None:
            jobs["bot"] = (self.keep_bot, {"seconds": 60})
        for name, (function, every) in jobs.items():
            start = first + timedelta(hours=6) if name == "sync" else first
            scheduler.add_job(function, "interval", id=name, next_run_time=start, replace_existing=True, **every)
        systemd.status(STATUS_LEADER)

    async def _follow(self) -> None:
        """Leadership lost: another instance may already be deciding, so stop at once. A tick already
        in its worker thread cannot be interrupted; it ends on its own, and the unique rungs and dedupe
        keys make it harmless beside the new leader's."""
        if self._scheduler is not None:
            for name in LEADER_JOBS:
                if self._scheduler.get_job(name) is not None:
                    self._scheduler.remove_job(name)
        if self.bot is not None and self.bot.started:
            await self.bot.stop()
        systemd.status(STATUS_FOLLOWER)

    def stop(self) -> None:
        if self._stop.is_set():
            return  # a second Ctrl+C while stopping changes nothing
        log.info("daemon_stopping")
        systemd.stopping()
        self.dispatcher.request_stop()
        self._stop.set()

    def _job_event(self, event: JobEvent) -> None:
        self._running_jobs += 1 if event.code == EVENT_JOB_SUBMITTED else -1
        if self._running_jobs > 0:
            self._jobs_idle.clear()
        else:
            self._jobs_idle.set()

    async def _quiesce(self, scheduler: AsyncIOScheduler, limit: float = 60.0) -> None:
        """Let the jobs under way end before the scheduler shuts down. APScheduler's shutdown cancels
        their futures, but a job in a worker thread cannot be interrupted: it ran on regardless, and the
        cancellation was logged as a failed job with a traceback on every stop that met a tick."""
        scheduler.pause()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._jobs_idle.wait(), limit)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        scheduler = self._scheduler = AsyncIOScheduler(timezone=TIMEZONE, job_defaults=JOB_DEFAULTS)
        scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)
        scheduler.add_listener(self._job_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.add_job(self.dispatch, "interval", id="dispatch", seconds=self.intervals.dispatch_seconds,
                          next_run_time=_at_once())
        watchdog = systemd.watchdog_interval()
        if watchdog is not None:
            # A job, not a thread: pings stop when the event loop stalls, which is what systemd should see.
            scheduler.add_job(self._ping, "interval", id="watchdog", seconds=watchdog, next_run_time=_at_once())
        # What start-up loaded (modules, calendars, templates) lives as long as the process: out of the
        # collector's reach, a full collection no longer walks it, which took ~95 ms off every few answers.
        gc.collect()
        gc.freeze()
        scheduler.start()
        log.info("daemon_started", tick_seconds=self.intervals.tick_seconds,
                 channels=sorted(self.notifiers))
        systemd.status(STATUS_FOLLOWER)
        systemd.ready()
        election = asyncio.ensure_future(self.election.run(self._stop))
        serving = asyncio.ensure_future(self.web.serve()) if self.web is not None else None
        try:
            await self._stop.wait()
        finally:
            await self._quiesce(scheduler)
            scheduler.shutdown(wait=False)
            if self.web is not None and serving is not None:
                self.web.stop()
                await asyncio.wait([serving])
            if self.bot is not None and self.bot.started:
                await self.bot.stop()
            # Leadership goes only once the bot has stopped polling, then the lock is released at once.
            await asyncio.wait([election])
            # A dispatch under way finishes its in-flight sends and hands the rest back.
            if self._dispatching is not None and not self._dispatching.done():
                await asyncio.wait([self._dispatching])
            for notifier in self.notifiers.values():
                await notifier.close()
            # The handlers stay until the loop closes, so a second signal during shutdown is absorbed.
            log.info("daemon_stopped")

    async def _ping(self) -> None:
        systemd.watchdog()
