"""Importing a read register into the database: submissions for what is certain, review items for the rest.

Each row has a stable identity (``register_key``), so importing the same export — or a later export that
repeats earlier rows — adds nothing twice. The number of SELECT statements does not grow with the
number of rows: units and the relevant obligations are loaded once, known keys in large batches.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reminder_service.domain.clock import wall
from reminder_service.domain.periods import ON_REQUEST, SUPPLEMENT, pick, report_name
from reminder_service.domain.textfold import fold
from reminder_service.services import audit
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, RegisterImport, ReviewItem, Submission, Unit
from reminder_service.services.register.classify import Classification, Guess, classify
from reminder_service.services.register.match import UnitMatch, UnitMatcher, UnitRef
from reminder_service.services.register.read import RegisterFile, RegisterRow
from reminder_service.services.register.review import Option, ReviewView, encode, view
from reminder_service.services.submissions import received_problem, record_submission

_T = TypeVar("_T")
_BATCH = 500  # keys or ids per IN (…): well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class RecordedRow:
    row_no: int
    unit_code: str
    unit_name: str
    obligation_code: str
    year: int
    title: str
    received_at: datetime
    doc_no: str | None


@dataclass(frozen=True)
class ImportSummary:
    import_id: int
    file_name: str
    rows: int
    recorded: tuple[RecordedRow, ...]
    already: int  # imported before (or the same row twice in the file, or recorded by hand)
    ignored: int  # not CCHC reports
    review: tuple[ReviewView, ...]
    previous_import: datetime | None  # when this very file was imported before, if it was


def register_key(row: RegisterRow) -> str:
    """The row's identity: Số đến, Ngày đến, Số ký hiệu, sender and trích yếu, normalised, hashed."""
    received = row.received_at.date().isoformat() if row.received_at else row.received_text
    parts = (row.incoming_no, received, row.doc_no, row.sender, row.summary)
    text = "\x1f".join(" ".join(unicodedata.normalize("NFC", p).casefold().split()) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Pending:
    row: RegisterRow
    key: str
    result: Classification
    match: UnitMatch


@dataclass(frozen=True)
class _Review:
    reason: str
    note: str
    options: tuple[Option, ...]


def import_register(session: Session, register: RegisterFile, actor: Actor, now: datetime) -> ImportSummary:
    previous = session.scalar(
        select(func.max(RegisterImport.imported_at)).where(RegisterImport.file_sha256 == register.sha256))
    batch = RegisterImport(file_name=register.name[:255], file_sha256=register.sha256, imported_at=wall(now))
    session.add(batch)
    session.flush()
    keyed = [(row, register_key(row)) for row in register.rows]
    known = _known_keys(session, [key for _, key in keyed])
    units = {u.id: u for u in session.scalars(select(Unit))}
    matcher = UnitMatcher(UnitRef(u.id, u.code, u.name) for u in units.values())
    already = ignored = 0
    pending: list[_Pending] = []
    for row, key in keyed:
        if key in known:
            already += 1
            continue
        known.add(key)
        result = classify(row.summary, row.received_at.date() if row.received_at else None)
        if result.outcome == "not_cchc":
            ignored += 1
            continue
        pending.append(_Pending(row, key, result, matcher.match(row.sender)))
    obligations = _load_obligations(session, pending)
    recorded: list[RecordedRow] = []
    reviews: list[ReviewItem] = []
    for item in pending:
        decision = _decide(item, obligations, wall(now).date())
        if isinstance(decision, _Review):
            reviews.append(_review_item(batch, item, decision))
            continue
        assert item.row.received_at is not None  # rows without a readable date are always reviewed
        unit = units[decision.unit_id]
        done = record_submission(session, decision, received_at=item.row.received_at, doc_no=item.row.doc_no[:120],
                                 note=f"Sổ văn bản đến: {register.name}, dòng {item.row.row_no}", actor=actor,
                                 now=now, register_key=item.key)
        if not done.created:
            already += 1
            continue
        recorded.append(RecordedRow(item.row.row_no, unit.code, unit.name, decision.code, decision.year,
                                    decision.title, done.submission.received_at, done.submission.doc_no))
    session.add_all(reviews)
    session.flush()
    batch.rows, batch.matched, batch.ignored = len(register.rows), len(recorded), ignored
    batch.review, batch.duplicates = len(reviews), already
    audit.record(session, actor, now, "register_imported", register.name, import_id=batch.id,
                 rows=batch.rows, recorded=batch.matched, already=already, ignored=ignored, review=batch.review)
    return ImportSummary(batch.id, register.name, len(register.rows), tuple(recorded), already, ignored,
                         tuple(view(r, register.name) for r in reviews), previous)


def _chunks(items: Sequence[_T], size: int = _BATCH) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _known_keys(session: Session, keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(set(keys))
    for chunk in _chunks(wanted):
        found.update(k for k in session.scalars(select(Submission.register_key).where(
            Submission.register_key.in_(chunk))) if k is not None)
        found.update(session.scalars(select(ReviewItem.register_key).where(ReviewItem.register_key.in_(chunk))))
    return found


_Index = dict[tuple[int, int], list[Obligation]]


def _load_obligations(session: Session, pending: Sequence[_Pending]) -> _Index:
    """Every obligation of the matched units in the years the rows speak of, with their submissions."""
    years: set[int] = set()
    unit_ids: set[int] = set()
    for item in pending:
        if item.match.unit is not None:
            unit_ids.add(item.match.unit.id)
            years.update(g.year for g in _guesses(item.result) if g.year is not None)
    index: _Index = defaultdict(list)
    if not years:
        return index
    for chunk in _chunks(sorted(unit_ids)):
        query = (select(Obligation).where(Obligation.unit_id.in_(chunk), Obligation.year.in_(sorted(years)))
                 .options(selectinload(Obligation.submissions)).order_by(Obligation.id))
        for obligation in session.scalars(query):
            index[(obligation.unit_id, obligation.year)].append(obligation)
    return index


def _guesses(result: Classification) -> tuple[Guess, ...]:
    if result.outcome == "matched" and result.code is not None:
        return (Guess(result.code, result.year),)
    return result.candidates


def _options(units: Sequence[UnitRef], guesses: Sequence[Guess]) -> tuple[Option, ...]:
    if not units:
        return tuple(Option(obligation=g.code, year=g.year) for g in guesses)
    if not guesses:
        return tuple(Option(u.code, u.name) for u in units)
    return tuple(Option(u.code, u.name, g.code, g.year) for u in units for g in guesses)


def _decide(item: _Pending, index: _Index, today: date) -> Obligation | _Review:
    row, result, match = item.row, item.result, item.match
    unit = match.unit
    if row.problems:
        units = (unit,) if unit else match.candidates
        note = "; ".join(row.problems)
        if row.received_at is None:
            note += "; khi xử lý, hãy ghi ngày nhận bằng --received"
        return _Review("bad_row", note, _options(units, _guesses(result)))
    if unit is None:
        if match.candidates:
            names = ", ".join(u.code for u in match.candidates)
            note = f'"{row.sender}" khớp với {len(match.candidates)} đơn vị: {names}'
        else:
            note = (f'không có đơn vị nào khớp với "{row.sender}"; nếu là đơn vị mới, hãy thêm bằng '
                    "reminder-service units import")
        return _Review(match.reason or "unknown_unit", note, _options(match.candidates, _guesses(result)))
    guesses = _guesses(result)
    on_request = {g.code for g in guesses} <= set(ON_REQUEST) and len({g.code for g in guesses}) == 1
    if on_request and result.outcome in ("matched", "ambiguous_obligation"):
        return _on_request(unit, guesses, index)
    if result.outcome != "matched" or result.code is None or result.year is None:
        return _Review(result.outcome, result.note, _titled(unit, guesses, index))
    owned = index.get((unit.id, result.year), [])
    code = pick(result.code, {o.code for o in owned})
    found = next((o for o in owned if o.code == code), None)
    if found is not None:
        assert row.received_at is not None  # a row without a readable date has a problem, reviewed above
        problem = received_problem(row.received_at.date(), year=found.year, window_start=found.window_start,
                                   today=today)
        if problem is not None:
            return _Review("received_out_of_range", f"{problem} Hãy kiểm tra ngày nhận trong sổ.",
                           (Option(unit.code, unit.name, found.code, found.year, found.title),))
        return found
    return _missing(unit, code, result.year, index)


def _titled(unit: UnitRef, guesses: Sequence[Guess], index: _Index) -> tuple[Option, ...]:
    options = []
    for guess in guesses:
        found = next((o for o in index.get((unit.id, guess.year or 0), []) if o.code == guess.code), None)
        options.append(Option(unit.code, unit.name, guess.code, guess.year, found.title if found else None))
    return tuple(options)


def _missing(unit: UnitRef, code: str, year: int, index: _Index) -> _Review:
    owned = index.get((unit.id, year), [])
    if not owned:
        note = (f"đơn vị {unit.code} chưa có nghĩa vụ nào của năm {year} trong cơ sở dữ liệu; nếu là nghĩa vụ "
                f"theo văn bản, hãy chạy: reminder-service obligations sync --year {year}")
        return _Review("unknown_obligation", note, (Option(unit.code, unit.name, code, year),))
    note = f"đơn vị {unit.code} không có nghĩa vụ {report_name(code)} năm {year}; hãy chọn một nghĩa vụ của đơn vị"
    options = tuple(Option(unit.code, unit.name, o.code, o.year, o.title) for o in owned)
    return _Review("unknown_obligation", note, options)


def _on_request(unit: UnitRef, guesses: Sequence[Guess], index: _Index) -> Obligation | _Review:
    """A supplement or ad hoc report: recorded only when exactly one of the unit's requests fits."""
    code = guesses[0].code
    years = sorted({g.year for g in guesses if g.year is not None})
    requested = [o for y in years for o in index.get((unit.id, y), []) if o.origin == "adhoc" or o.code == code]
    word, other = ("bo sung", "dot xuat") if code == SUPPLEMENT else ("dot xuat", "bo sung")
    named = [o for o in requested if word in fold(o.title)]
    # A request titled plainly ("Báo cáo số liệu CCHC") may be either kind; one titled as the other is not.
    fits = named or [o for o in requested if other not in fold(o.title)]
    if len(fits) == 1:
        return fits[0]
    shown = " hoặc ".join(str(y) for y in years)
    options = tuple(Option(unit.code, unit.name, o.code, o.year, o.title) for o in fits)
    if fits:
        return _Review("ambiguous_obligation",
                       f"đơn vị {unit.code} có {len(fits)} nghĩa vụ {report_name(code)} có thể khớp", options)
    return _Review("unknown_obligation",
                   f"đơn vị {unit.code} chưa có nghĩa vụ {report_name(code)} năm {shown}; hãy tạo bằng "
                   "reminder-service obligations add rồi xử lý mục này", ())


def _review_item(batch: RegisterImport, item: _Pending, decision: _Review) -> ReviewItem:
    row = item.row
    return ReviewItem(
        import_id=batch.id, row_no=row.row_no, register_key=item.key, sender=row.sender, summary=row.summary,
        doc_no=row.doc_no[:120] or None, received_at=row.received_at, reason=decision.reason,
        candidates=encode(decision.note, decision.options), state="open",
    )
