"""The incoming-register folder: each new CSV/XLSX export is imported, then moved aside with a report."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
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
SUFFIXES = {".csv", ".xlsx"}
REGISTER_ACTOR = Actor("sổ văn bản đến", "register")


@dataclass(frozen=True)
class WatchReport:
    imported: int
    rejected: int


def last_import(session: Session) -> datetime | None:
    value = session.scalar(select(ServiceState.value).where(ServiceState.key == LAST_IMPORT))
    return datetime.fromisoformat(value) if value else None


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
