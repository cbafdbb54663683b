"""Finding a person or a report from what an operator typed: shared by the commands that name one."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminder_service.domain.periods import read_period, unknown_report
from reminder_service.domain.textfold import fold
from reminder_service.services.db.models import Person
from reminder_service.services.readside import known_codes
from reminder_service.services.registry import ROLE_LABELS


def _describe(person: Person) -> str:
    where = person.unit.code if person.unit is not None else None
    details = ", ".join(x for x in (ROLE_LABELS[person.role], where, person.email) if x)
    return f"số {person.id}: {person.name} ({details}{'' if person.active else ', đã ngừng'})"


def find_person(session: Session, key: str, ctx: click.Context) -> Person:
    """One person by id, e-mail or exact name (any case, with or without diacritics).

    When both active and retired people match, the active ones are meant: re-imported heads leave
    their retired rows behind under the same name."""
    text = key.strip()
    found: list[Person]
    if text.isdigit():
        # A number too big for the id column is no one's id; PostgreSQL would refuse the query.
        person = session.get(Person, int(text)) if len(text) <= 9 else None
        found = [person] if person is not None else []
    elif "@" in text:
        found = list(session.scalars(select(Person).where(func.lower(Person.email) == text.lower())
                                     .order_by(Person.id)))
    else:
        wanted = fold(text)
        found = [p for p in session.scalars(select(Person).order_by(Person.id)) if wanted and fold(p.name) == wanted]
    candidates = [p for p in found if p.active] or found
    command = ctx.command_path
    if not candidates:
        raise click.UsageError(f'không tìm thấy người "{key}" theo số, thư điện tử hoặc họ tên; xem số của từng '
                               "người bằng: reminder-service people list --all", ctx)
    if len(candidates) > 1:
        listed = "\n".join(f"  {_describe(p)}" for p in candidates)
        raise click.UsageError(f'có {len(candidates)} người khớp với "{key}":\n{listed}\nhãy ghi số của người '
                               f"cần chọn, ví dụ: {command} {candidates[0].id}", ctx)
    return candidates[0]


def find_report(session: Session, text: str, year: int | None, as_of: date) -> str:
    """The report code ``text`` names among the reports of ``year`` (every year up to ``as_of``'s when
    None), by its code or as people write it ("quý I"); a typo is pointed out with the codes there are,
    rather than answered with an empty list that looks like good news."""
    codes = known_codes(session, year, as_of)
    code = read_period(text, codes)
    if code is None or code not in codes:
        when = f"năm {year}" if year is not None else f"đến năm {as_of.year}"
        none_yet = f"chưa có; hãy chạy reminder-service obligations sync --year {year or as_of.year}"
        raise click.BadParameter(unknown_report(text, when, codes, none_yet), param_hint="--obligation")
    return code
