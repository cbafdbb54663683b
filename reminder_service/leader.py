"""Which instance leads: the one that decides (reconcile, register folder, obligations sync, digests)
and polls Telegram for chat commands. Every instance dispatches the outbox.

PostgreSQL: a session-level advisory lock held on a connection of its own, outside the session pool,
so that nothing else ever runs on it and its death is exactly the loss of the lock. Followers retry
every 10 s; the server frees the lock as soon as the holder's connection drops, so a dead leader is
replaced within one retry. The leader checks its hold every 5 s and stops leading the moment it fails.

SQLite: one instance per database file, enforced by an exclusive ``flock`` on the database file itself,
so that any name of the file (hard link, symlink, relative path, ``file:`` URI) meets the same lock. A
second instance could not lead, and SQLite gives it nothing to share the outbox safely with, so it refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import structlog
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from reminder_service.domain.errors import UserError, os_reason
from reminder_service.services.db.urls import shown, sqlite_file

log = structlog.get_logger(__name__)

APP_NAME = "reminder-service"
RETRY_SECONDS = 10.0
CHECK_SECONDS = 5.0
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"


def lock_key(schema: str) -> int:
    """A fixed signed 64-bit key per (application, schema): two deployments in different schemas of one
    database elect their leaders independently, and other applications' keys are unlikely to collide."""
    digest = hashlib.blake2b(f"{APP_NAME}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class InstanceRunning(UserError):
    """Another instance holds this SQLite database."""

    def __init__(self, database: Path) -> None:
        super().__init__(
            f"một phiên reminder-service khác đang chạy trên cơ sở dữ liệu {database}; với SQLite, mỗi tệp "
            "cơ sở dữ liệu chỉ được một phiên sử dụng. Đề nghị dừng phiên đang chạy (ví dụ: systemctl stop "
            "reminder-service) rồi chạy lại, hoặc dùng PostgreSQL nếu cần chạy nhiều phiên.")
        self.database = database


class Elector(Protocol):
    database: str  # for the logs; never with a password

    def try_acquire(self) -> bool:
        """Become the leader if nobody is; True if this instance now leads. Never raises."""

    def holds(self) -> bool:
        """Whether this instance still leads. Never raises."""

    def release(self) -> None: ...


# One descriptor per database file (device, inode) for the life of the process, never closed: closing
# ANY descriptor of a file drops every POSIX lock the process holds on it, and SQLite's locks on the
# database are POSIX locks; a close while a transaction is open would let another writer in.
_DESCRIPTORS: dict[tuple[int, int], int] = {}
_HELD: set[tuple[int, int]] = set()  # flock does not refuse its own descriptor: this process's holds


def _descriptor(path: Path) -> tuple[tuple[int, int], int]:
    with contextlib.suppress(OSError):
        status = os.stat(path)
        if (status.st_dev, status.st_ino) in _DESCRIPTORS:
            return (status.st_dev, status.st_ino), _DESCRIPTORS[(status.st_dev, status.st_ino)]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise UserError(f"không mở được tệp cơ sở dữ liệu {path} ({os_reason(exc)}); hãy kiểm tra đường dẫn và "
                        "quyền truy cập.") from None
    status = os.fstat(fd)
    identity = (status.st_dev, status.st_ino)
    # Known after all (the name was re-pointed between stat and open): this one stays open too, unused.
    return identity, _DESCRIPTORS.setdefault(identity, fd)


def _locked(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(identity: tuple[int, int]) -> str:
    """The pid holding the flock on that file, from /proc/locks (Linux); "" when it cannot be told."""
    device, inode = identity
    wanted = f"{os.major(device):02x}:{os.minor(device):02x}:{inode}"
    try:
        lines = Path("/proc/locks").read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    # "1: FLOCK  ADVISORY  WRITE 4242 fe:00:2146374 0 EOF"
    return next((f[4] for f in map(str.split, lines) if len(f) > 5 and f[1] == "FLOCK" and f[5] == wanted), "")


class FileLock:
    """An exclusive, non-blocking ``flock`` on the database file itself: the lock belongs to the file
    (device, inode), not to a name of it, and the kernel drops it when the process dies, however it
    dies, so a crashed daemon never leaves a stale lock behind.

    flock, not fcntl: SQLite takes fcntl (POSIX) locks on the same file, and on Linux the two kinds
    never interfere. (On NFS the kernel emulates flock with POSIX locks; SQLite is unsafe there anyway.)
    A missing file is created empty (mode 0600), which SQLite reads as an empty database."""

    def __init__(self, database: Path) -> None:
        self.database = database.resolve()
        self._identity: tuple[int, int] | None = None

    def acquire(self) -> None:
        identity, fd = _descriptor(self.database)
        if identity in _HELD or not _locked(fd):
            log.warning("instance_refused", database=str(self.database), holder_pid=_holder(identity))
            raise InstanceRunning(self.database)
        _HELD.add(identity)
        self._identity = identity

    def release(self) -> None:
        if self._identity is not None:
            fcntl.flock(_DESCRIPTORS[self._identity], fcntl.LOCK_UN)
            _HELD.discard(self._identity)
            self._identity = None


class Sole:
    """The only possible instance: SQLite behind its file lock, or a one-off pass that needs no election."""

    def __init__(self, lock: FileLock | None = None) -> None:
        self.lock = lock
        self.database = str(lock.database) if lock is not None else ""

    def try_acquire(self) -> bool:
        return True

    def holds(self) -> bool:
        return True

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


class PgElector:
    """``pg_try_advisory_lock`` on a dedicated autocommit connection (session-level: held until released
    or until the connection ends)."""

    def __init__(self, url: URL) -> None:
        # Keepalives on both ends and a statement timeout bound how long a silent network can leave either
        # side believing the connection alive; the leader, checking every 5 s, notices first.
        server = "-c statement_timeout=5000 -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 " \
                 "-c tcp_keepalives_count=3"
        options = f"{url.query['options']} {server}" if isinstance(url.query.get("options"), str) else server
        connect_args: dict[str, Any] = {
            "application_name": f"{APP_NAME} leader {INSTANCE}"[:63], "connect_timeout": 5, "options": options,
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
        }
        self.database = shown(url.render_as_string(hide_password=False))
        self._engine: Engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                             connect_args=connect_args)
        self._connection: Connection | None = None
        self.key: int | None = None

    def _connect(self) -> Connection:
        if self._connection is None:
            connection = self._engine.connect()
            schema = str(connection.execute(text("SELECT current_schema()")).scalar() or "public")
            self._connection, self.key = connection, lock_key(schema)
        return self._connection

    def _drop(self, error: Exception) -> None:
        log.warning("leader_connection_failed", database=self.database, error=f"{error.__class__.__name__}: {error}")
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None

    def try_acquire(self) -> bool:
        try:
            connection = self._connect()
            return bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
        except Exception as exc:
            self._drop(exc)
            return False

    def holds(self) -> bool:
        if self._connection is None or self.key is None:
            return False
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        # pg_locks shows a bigint key as its high half in classid and its low half in objid.
        query = text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                     "AND pid = pg_backend_pid() AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid) "
                     "AND objsubid = 1)")
        try:
            held = bool(self._connection.execute(query, {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF})
                        .scalar())
        except Exception as exc:
            self._drop(exc)
            return False
        return held

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
        self._engine.dispose()


def claim(url: URL, *, once: bool = False) -> Elector:
    """The elector for a starting instance. On SQLite the file lock is taken now, so a second instance is
    refused before it does anything (InstanceRunning). ``once``: a one-off pass on PostgreSQL takes no
    lock, since every decision is unique in the database and the pass must work beside running daemons."""
    if url.get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if database is None:
            return Sole()
        lock = FileLock(database)
        lock.acquire()
        return Sole(lock)
    if once:
        return Sole()
    return PgElector(url)


class Election:
    """The daemon's side of the election, on its event loop. Database calls go to worker threads."""

    def __init__(self, elector: Elector, on_acquired: Callable[[], Awaitable[None]],
                 on_lost: Callable[[], Awaitable[None]], *, retry: float = RETRY_SECONDS,
                 check: float = CHECK_SECONDS) -> None:
        self.elector = elector
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.retry = retry
        self.check = check
        self.leading = False

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``; then release the lock, so a follower takes over without waiting for a timeout."""
        standby_said = False  # said once per stretch as a follower, not every 10 s
        try:
            while not stop.is_set():
                if self.leading:
                    if not await asyncio.to_thread(self.elector.holds):
                        self.leading, standby_said = False, False
                        log.warning("leadership_lost", instance=INSTANCE, database=self.elector.database)
                        await self._call(self.on_lost)
                elif await asyncio.to_thread(self.elector.try_acquire):
                    self.leading = True
                    log.info("leadership_acquired", instance=INSTANCE, database=self.elector.database)
                    await self._call(self.on_acquired)
                elif not standby_said:
                    standby_said = True
                    log.info("leadership_standby", instance=INSTANCE, database=self.elector.database,
                             retry_seconds=self.retry)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.check if self.leading else self.retry)
        finally:
            self.leading = False
            await asyncio.to_thread(self.elector.release)

    @staticmethod
    async def _call(callback: Callable[[], Awaitable[None]]) -> None:
        # A failing callback must not end the election: the lock would stay held with nobody leading.
        try:
            await callback()
        except Exception as exc:
            log.error("leadership_callback_failed", instance=INSTANCE, error=f"{exc.__class__.__name__}: {exc}")
