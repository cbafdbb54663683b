"""Obligations in the database: materialised per unit and year from the calendar, or created ad hoc.

Sync is idempotent and never deletes: an obligation whose unit was deactivated, or that the
directive no longer lists, is only marked inactive, so its submissions and history stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from calendars.model import DatedObligation, YearCalendar
from calendars.rules import DateRange
from calendars.workdays import WorkCalendar
from reminder_service.domain.clock import wall
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, Unit, table_of

# Columns sync owns; anything else on the row (waiver, submissions) belongs to people.
_SYNCED = ("directive", "title", "period", "nominal_deadline", "effective_deadline", "window_start",
           "window_end", "estimate_start", "estimate_end", "projected", "active")


@dataclass(frozen=True)
class SyncResult:
    year: int
    created: int
    updated: int
    deactivated: int
    unchanged: int


def _columns(dated: DatedObligation) -> dict[str, Any]:
    window, estimate = dated.window, dated.estimate_window
    return {
        "directive": dated.directive,
        "title": dated.title,
        "period": dated.period,
        "nominal_deadline": dated.nominal_deadline,
        "effective_deadline": dated.effective_deadline,
        "window_start": window.start if window else None,
        "window_end": window.end if window else None,
        "estimate_start": estimate.start if estimate else None,
        "estimate_end": estimate.end if estimate else None,
        "projected": dated.projected,
        "active": True,
    }


def sync_obligations(session: Session, calendar: YearCalendar, actor: Actor, now: datetime) -> SyncResult:
    """Make the year's directive obligations match the calendar and the active units.

    A fixed number of statements whatever the number of units: one read of units, one of the year's
    obligations, then bulk inserts and updates.
    """
    stamp = wall(now)
    units = session.execute(select(Unit.id, Unit.kind, Unit.active)).all()
    existing = {
        (row.unit_id, row.code): row
        for row in session.execute(
            select(Obligation.id, Obligation.unit_id, Obligation.code, *[getattr(Obligation, c) for c in _SYNCED])
            .where(Obligation.year == calendar.year, Obligation.origin == "directive")
        )
    }
    # On-request obligations (a supplement) exist only once the receiver asks: `obligations add`.
    by_kind: dict[str, list[DatedObligation]] = {}
    for dated in calendar.obligations:
        if not dated.on_request:
            by_kind.setdefault(dated.kind, []).append(dated)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    wanted: set[tuple[int, str]] = set()
    unchanged = 0
    for unit in units:
        if not unit.active:
            continue
        for dated in by_kind.get(unit.kind, []):
            key = (unit.id, dated.id)
            wanted.add(key)
            columns = _columns(dated)
            row = existing.get(key)
            if row is None:
                inserts.append({"unit_id": unit.id, "year": calendar.year, "code": dated.id,
                                "origin": "directive", "updated_at": stamp, **columns})
            elif any(getattr(row, name) != value for name, value in columns.items()):
                updates.append({"id": row.id, "updated_at": stamp, **columns})
            else:
                unchanged += 1
    stale = [row for key, row in existing.items() if key not in wanted and row.active]
    updates.extend({"id": row.id, "active": False, "updated_at": stamp} for row in stale)
    # Core statements on the table: the ORM's bulk paths split a batch wherever a row has a None
    # where its neighbour has a date (a plan has no window), costing one round trip per few rows.
    table = table_of(Obligation)
    if inserts:
        session.execute(insert(table), inserts)
    full = [u for u in updates if "title" in u]
    if full:
        session.execute(update(table).where(table.c.id == bindparam("row_id")),
                        [{"row_id": u.pop("id"), **u} for u in full])
    retired = [u for u in updates if "title" not in u]
    if retired:
        session.execute(update(table).where(table.c.id == bindparam("row_id")),
                        [{"row_id": u.pop("id"), **u} for u in retired])
    result = SyncResult(calendar.year, len(inserts), len(updates) - len(stale), len(stale), unchanged)
    if inserts or updates:
        audit.record(session, actor, now, "obligations_synced", f"năm {calendar.year}", created=result.created,
                     updated=result.updated, deactivated=result.deactivated)
    return result


def next_adhoc_code(session: Session, year: int) -> str:
    count = session.scalar(
        select(func.count(func.distinct(Obligation.code))).where(Obligation.year == year,
                                                                 Obligation.origin == "adhoc")
    )
    return f"adhoc{(count or 0) + 1}"


def add_adhoc(
    session: Session,
    *,
    code: str,
    title: str,
    units: Sequence[Unit],
    year: int,
    deadline: date,
    window: DateRange | None,
    workdays: WorkCalendar,
    actor: Actor,
    now: datetime,
) -> list[Obligation]:
    """An ad hoc or supplementary obligation for chosen units, with its own deadline and window."""
    stamp = wall(now)
    created = [
        Obligation(
            unit_id=unit.id, year=year, code=code, origin="adhoc", directive=None, title=title,
            period=f"Năm {year}", nominal_deadline=deadline, effective_deadline=workdays.effective_deadline(deadline),
            window_start=window.start if window else None, window_end=window.end if window else None,
            projected=False, active=True, updated_at=stamp,
        )
        for unit in units
    ]
    session.add_all(created)
    audit.record(session, actor, now, "obligation_added", f"{code} năm {year}", title=title,
                 deadline=deadline.isoformat(), units=[u.code for u in units])
    return created
