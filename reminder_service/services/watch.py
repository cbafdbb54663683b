"""The incoming-register folder: each new CSV/XLSX export is imported, then moved aside with a report."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from reminder_service.domain.clock import wall
from reminder_service.domain.errors import UserError
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import ServiceState

log = structlog.get_logger(__name__)
LAST_IMPORT = "register_last_import"
# When the daemon last finished a tick (daemon.Daemon.reconcile); health and the console read it.
LAST_TICK = "last_tick"
SUFFIXES = {".csv", ".xlsx"}
REGISTER_ACTOR = Actor("sổ văn bản đến", "register")


@dataclass(frozen=True)
class WatchReport:
    imported: int
    rejected: int


def state_moment(value: str | None) -> datetime | None:
    """A time kept in service_state (ISO, as the daemon writes it) in Vietnamese wall time; None if absent
    or garbled (a value edited by hand must not stop a tick or a page)."""
    try:
        return wall(datetime.fromisoformat(value)) if value else None
    except ValueError:
        return None


def state_moments(session: Session, *keys: str) -> dict[str, datetime | None]:
    stored = dict(session.execute(select(ServiceState.key, ServiceState.value).where(ServiceState.key.in_(keys))).all())
    return {key: state_moment(stored.get(key)) for key in keys}


def last_import(session: Session) -> datetime | None:
    return state_moments(session, LAST_IMPORT)[LAST_IMPORT]


def set_state(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(ServiceState, key)
    if row is None:
        session.add(ServiceState(key=key, value=value, updated_at=wall(now)))
    else:
        row.value, row.updated_at = value, wall(now)


def _move(path: Path, folder: Path, report: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():  # never overwrite an earlier export of the same name
        target = folder / f"{path.stem}-{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    target.with_name(target.name + ".txt").write_text(report, encoding="utf-8")
    return target


def check_folder(folder: Path, session_scope: Callable[[], AbstractContextManager[Session]], now: datetime
                 ) -> WatchReport:
    """Import every export waiting in ``folder``; ``session_scope`` is App.session."""
    imported = rejected = 0
    if not folder.is_dir():
        log.warning("watch_dir_missing", folder=str(folder))
        return WatchReport(0, 0)
    waiting = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if waiting:
        # The import (seven modules, openpyxl) loads when a file arrives: a daemon without a watched
        # folder, or with an empty one, never pays for it.
        from reminder_service.services.register.apply import import_register
        from reminder_service.services.register.read import read_register
    for path in waiting:
        try:
            register = read_register(path)
            with session_scope() as session:
                summary = import_register(session, register, REGISTER_ACTOR, now)
                set_state(session, LAST_IMPORT, wall(now).isoformat(), now)
        except UserError as exc:
            target = _move(path, folder / "rejected", f"Không nhập được tệp {path.name}:\n{exc}\n")
            log.warning("register_rejected", file=path.name, moved_to=str(target), reason=str(exc))
            rejected += 1
            continue
        report = (f"Đã nhập {summary.rows} dòng từ {path.name}: ghi nhận {len(summary.recorded)}, "
                  f"đã có {summary.already}, không phải báo cáo CCHC {summary.ignored}, "
                  f"cần xem xét {len(summary.review)}.\n")
        target = _move(path, folder / "processed", report)
        log.info("register_imported", file=path.name, import_id=summary.import_id, recorded=len(summary.recorded),
                 review=len(summary.review), moved_to=str(target))
        imported += 1
    return WatchReport(imported, rejected)


@dataclass(frozen=True)
class FiledExport:
    """An export the folder has handled: where it went (processed or rejected) and what its report says."""

    name: str
    outcome: str  # "processed" | "rejected"
    moved_at: datetime  # when its report was written (the move keeps the export's own time), Vietnamese wall time
    report: tuple[str, ...]  # the report's first lines


@dataclass(frozen=True)
class FolderView:
    path: str
    exists: bool
    waiting: tuple[str, ...] = ()  # exports not imported yet (the first names, alphabetically)
    waiting_total: int = 0
    recent: tuple[FiledExport, ...] = ()  # the latest handled, newest first
    error: str | None = None  # why the folder could not be read


REPORT_LINES = 4


def _stamp(path: Path) -> float:
    """When the service handled an export: its report's time (a move keeps the export's own time)."""
    try:
        return path.with_name(path.name + ".txt").stat().st_mtime
    except OSError:  # no report (removed by hand): the export's own time is the best left
        return path.stat().st_mtime


def _report(path: Path) -> tuple[str, ...]:
    try:
        with path.with_name(path.name + ".txt").open(encoding="utf-8", errors="replace") as handle:
            return tuple(line.strip()[:300] for _, line in zip(range(REPORT_LINES), handle, strict=False))
    except OSError:
        return ()


def folder_view(folder: Path, limit: int = 10, waiting_shown: int = 30) -> FolderView:
    """What an operator wants to see of the watched folder: the exports waiting and the latest ones handled
    with their reports' first lines. Reads only the folder (never the clock); never raises."""
    try:
        if not folder.is_dir():
            return FolderView(str(folder), False)
        waiting = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        handled: list[tuple[float, str, Path]] = []
        for outcome in ("processed", "rejected"):
            place = folder / outcome
            if place.is_dir():
                handled += [(_stamp(p), outcome, p) for p in place.iterdir()
                            if p.is_file() and p.suffix.lower() in SUFFIXES]
        # Only the reports shown are opened: years of daily exports pile up in processed/.
        handled.sort(key=lambda item: (item[0], item[2].name), reverse=True)
        recent = tuple(FiledExport(p.name, outcome, wall(datetime.fromtimestamp(stamp, UTC)), _report(p))
                       for stamp, outcome, p in handled[:limit])
    except OSError as exc:
        return FolderView(str(folder), True, error=exc.strerror or type(exc).__name__)
    return FolderView(str(folder), True, tuple(waiting[:waiting_shown]), len(waiting), recent)
