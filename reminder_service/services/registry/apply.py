"""Writing a validated units file: upsert by code, deactivate the absent, never delete.

A fixed number of statements whatever the size of the file: one read of the units, one of the
imported people, then bulk inserts and updates. An office of ten thousand units imports as fast,
in statements, as one of ten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from reminder_service.domain.clock import wall
from reminder_service.domain.errors import UserError
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import CHANNELS, Person, Unit, table_of
from reminder_service.services.registry.people import chat_taken
from reminder_service.services.registry.source import Problem, UnitsFileError
from reminder_service.services.registry.validate import Contact, UnitRow

IMPORT_ROLES = {"head": "unit_head", "focal": "focal"}
_PERSON_FIELDS = ("name", "email", "telegram_chat_id", "active")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    reactivated: int
    deactivated: int
    unchanged: int
    # The codes behind the counts, for --dry-run and for the refusal of a mass deactivation.
    created_codes: tuple[str, ...] = ()
    updated_codes: tuple[str, ...] = ()
    deactivated_codes: tuple[str, ...] = ()
    # Why the import needs --yes (too many units or a monitor office would stop being followed), or None.
    needs_confirmation: str | None = None


class MassDeactivation(UserError):
    """The file would stop following many units, or a monitor office: likely a short or wrong file."""


def mass_deactivation(absent: Sequence[Any], active: int) -> str | None:
    """Why deactivating ``absent`` needs confirming: more than a third of the ``active`` units, or any
    monitor office, would stop being followed (most likely a short or wrong file). None when it need not."""
    monitors = [u.code for u in absent if u.kind == "monitor"]
    if not absent or (len(absent) * 3 <= active and not monitors):
        return None
    names = ", ".join(u.code for u in absent[:30]) + (f" … (và {len(absent) - 30} đơn vị khác)"
                                                       if len(absent) > 30 else "")
    why = (f"{len(absent)}/{active} đơn vị đang hoạt động" if len(absent) * 3 > active
           else f"phòng theo dõi {', '.join(monitors)}")
    return f"sẽ ngừng theo dõi {why} vì không có trong tệp: {names}"


def _person_columns(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {"name": contact.name, "email": contact.email, "telegram_chat_id": contact.telegram, "active": True}


def _keep_linked_chat(wanted: dict[str, Any], person: Any) -> dict[str, Any]:
    if not wanted["telegram_chat_id"] and person.telegram_chat_id and person.name == wanted["name"]:
        # A chat linked with an invite code is not in the register's file: an empty cell keeps it.
        return {**wanted, "telegram_chat_id": person.telegram_chat_id}
    return wanted


def _person_changes(prefix: str, wanted: dict[str, Any] | None, person: Any, inserts: list[dict[str, Any]],
                    updates: list[dict[str, Any]], identity: dict[str, Any]) -> dict[str, list[Any]]:
    """Queue the insert or update that makes one head or focal officer match the file; say what changed."""
    if person is None:
        if wanted is None:
            return {}
        inserts.append({**identity, **wanted})
        return {prefix: [None, wanted["name"]]}
    if wanted is None:
        if not person.active:
            return {}
        # Emptied columns retire the person but keep the row: audit entries and past messages name it.
        updates.append({"id": person.id, **{f: getattr(person, f) for f in _PERSON_FIELDS}, "active": False})
        return {prefix: [person.name, None]}
    wanted = _keep_linked_chat(wanted, person)
    diff = {f"{prefix}_{f}": [getattr(person, f), wanted[f]] for f in _PERSON_FIELDS if getattr(person, f) != wanted[f]}
    if diff:
        updates.append({"id": person.id, **wanted})
    return diff


def _taken_chats(rows: Sequence[UnitRow], units: dict[str, Any], people: dict[tuple[int, str], Any],
                 holders: dict[str, list[Any]]) -> list[Problem]:
    """Chats the file gives to one person while another still holds them once the file is applied.

    Judged on the outcome, so a file may move a chat from one unit's head to another's, or swap two."""
    slots: list[tuple[UnitRow, str, Contact | None, Any]] = []
    after: dict[int, str | None] = {}
    for row in rows:
        stored = units.get(row.code.lower())
        for prefix, role in IMPORT_ROLES.items():
            person = people.get((stored.id, role)) if stored is not None else None
            contact: Contact | None = getattr(row, prefix)
            slots.append((row, prefix, contact, person))
            wanted = _person_columns(contact)
            if person is not None and wanted is not None:
                after[person.id] = _keep_linked_chat(wanted, person)["telegram_chat_id"]
    codes = {unit.id: unit.code for unit in units.values()}
    problems: list[Problem] = []
    for row, prefix, contact, person in slots:
        if contact is None or contact.telegram is None:
            continue
        chat = contact.telegram
        # Retired people count too: their chat is theirs until unlinked (the file could bring them back).
        others = [h for h in holders.get(chat, ()) if (person is None or h.id != person.id)
                  and after.get(h.id, h.telegram_chat_id) == chat]
        if others:
            holder = others[0]
            problems.append(Problem(row.line, f"{prefix}_telegram", chat_taken(
                chat, person_id=holder.id, name=holder.name, role=holder.role, unit=codes.get(holder.unit_id),
                active=holder.active)))
    return problems


def apply_units(session: Session, rows: Sequence[UnitRow], actor: Actor, now: datetime, *,
                label: str, dry_run: bool = False, confirmed: bool = False) -> ImportResult:
    """Make the registry match the file; one audit entry per unit that actually changed.

    ``label`` names the file in the refusal when a chat it gives already belongs to someone else.
    ``dry_run``: work out what would change and write nothing. Unless ``confirmed``, a file that would
    deactivate more than a third of the active units, or any monitor office, is refused (nothing written)."""
    stamp = wall(now)
    log: list[dict[str, Any]] = []
    units = {
        row.code.lower(): row
        for row in session.execute(select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.sections, Unit.active))
    }
    people: dict[tuple[int, str], Any] = {}
    holders: dict[str, list[Any]] = {}
    # Everyone in one read: the file's own people, and whoever holds a chat the file might give away.
    for found in session.execute(
        select(Person.id, Person.unit_id, Person.role, Person.source, *[getattr(Person, f) for f in _PERSON_FIELDS])
        .order_by(Person.id)
    ):
        if found.telegram_chat_id:
            holders.setdefault(found.telegram_chat_id, []).append(found)
        if found.source == "import" and found.role in IMPORT_ROLES.values() and found.unit_id is not None:
            # Only the oldest imported row per unit and role is the file's; any other is left as it is.
            people.setdefault((found.unit_id, found.role), found)
    taken = _taken_chats(rows, units, people, holders)
    if taken:
        raise UnitsFileError(label, taken)

    new_units: list[UnitRow] = []
    unit_updates: list[dict[str, Any]] = []
    person_inserts: list[dict[str, Any]] = []
    person_updates: list[dict[str, Any]] = []
    counts = {"updated": 0, "reactivated": 0, "unchanged": 0}
    for row in rows:
        stored = units.get(row.code.lower())
        if stored is None:
            new_units.append(row)
            continue
        changes = {name: [getattr(stored, name), value] for name, value in
                   (("name", row.name), ("kind", row.kind), ("sections", ";".join(row.sections)))
                   if getattr(stored, name) != value}
        for prefix, role in IMPORT_ROLES.items():
            changes.update(_person_changes(prefix, _person_columns(getattr(row, prefix)),
                                           people.get((stored.id, role)), person_inserts, person_updates,
                                           {"unit_id": stored.id, "role": role, "source": "import"}))
        if not stored.active:
            changes["active"] = [False, True]
        if not changes:
            counts["unchanged"] += 1
            continue
        unit_updates.append({"id": stored.id, "name": row.name, "kind": row.kind,
                             "sections": ";".join(row.sections), "active": True, "updated_at": stamp})
        action = "unit_reactivated" if not stored.active else "unit_updated"
        counts["reactivated" if not stored.active else "updated"] += 1
        log.append(audit.entry(actor, now, action, stored.code, line=row.line, changes=changes))

    present = {row.code.lower() for row in rows}
    absent = [u for key, u in units.items() if key not in present and u.active]
    changed_ids = {u["id"] for u in unit_updates}
    result = ImportResult(
        created=len(new_units), updated=counts["updated"], reactivated=counts["reactivated"],
        deactivated=len(absent), unchanged=counts["unchanged"], created_codes=tuple(r.code for r in new_units),
        updated_codes=tuple(u.code for u in units.values() if u.id in changed_ids),
        deactivated_codes=tuple(u.code for u in absent),
        needs_confirmation=mass_deactivation(absent, sum(1 for u in units.values() if u.active)))
    if dry_run:
        return result
    if result.needs_confirmation is not None and not confirmed:
        raise MassDeactivation(
            f"tệp {label} {result.needs_confirmation}. Nếu tệp thiếu đơn vị, hãy bổ sung rồi nhập lại; xem trước "
            "bằng --dry-run; nếu đúng là cần ngừng theo dõi, chạy lại với --yes. Chưa có gì được ghi.")
    for unit in absent:
        # Every update row carries the same columns, so each table takes a single executemany.
        unit_updates.append({"id": unit.id, "name": unit.name, "kind": unit.kind, "sections": unit.sections,
                             "active": False, "updated_at": stamp})
        log.append(audit.entry(actor, now, "unit_deactivated", unit.code, reason="không có trong tệp nhập mới"))

    if new_units:
        session.execute(insert(table_of(Unit)), [
            {"code": r.code, "name": r.name, "kind": r.kind, "sections": ";".join(r.sections), "active": True,
             "updated_at": stamp} for r in new_units])
        # Reading the ids back costs one query; RETURNING in parameter order degrades to one INSERT per row.
        ids = {code.lower(): unit_id for unit_id, code in session.execute(select(Unit.id, Unit.code))}
        for row in new_units:
            unit_id = ids[row.code.lower()]
            for prefix, role in IMPORT_ROLES.items():
                wanted = _person_columns(getattr(row, prefix))
                if wanted is not None:
                    person_inserts.append({"unit_id": unit_id, "role": role, "source": "import", **wanted})
            log.append(audit.entry(actor, now, "unit_created", row.code, line=row.line, name=row.name, kind=row.kind,
                       sections=list(row.sections), head=row.head.name if row.head else None,
                       focal=row.focal.name if row.focal else None))
    if unit_updates:
        session.execute(update(Unit), unit_updates)
    if person_inserts:
        session.execute(insert(table_of(Person)), [{"channels": CHANNELS, **p} for p in person_inserts])
    if person_updates:
        session.execute(update(Person), person_updates)
    audit.record_many(session, log)
    return result
