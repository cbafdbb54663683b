"""Command arguments as officers write them: reporting periods ("quý I", "6 tháng đầu năm", "q1"),
years, days and dates, and one parser per command that takes arguments. Pure: ``today`` is passed in.

Every error is a ``CommandError`` whose message says what is accepted and gives an example; the
per-command parsers add the command's usage line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from reminder_service.adapters.telegram.commands import CommandError, echo, usage_error
from reminder_service.domain.datetext import DateError, read_date
from reminder_service.domain.periods import read_period
from reminder_service.domain.textfold import compact, fold

# Deadline order within a year, for listing what exists; other codes (ad-hoc ones) follow.
_ORDER = ("plan", "q1", "q2", "h1", "q3", "q4", "annual", "supplement")
# What each code is called in a list: an ASCII word anyone can type back.
_SHOWN = {"plan": "kehoach", "annual": "nam", "supplement": "bosung"}
_LONGEST_PERIOD = 5  # words in "sáu tháng đầu năm" and the like
_FIRST_YEAR, _LAST_YEAR = 2000, 2100
_YEAR = re.compile(r"[0-9]{4}")
# A date is digits and separators only; anything with a letter ("15/BC-UBND") is a document number.
_DATE_LIKE = re.compile(r"[0-9]+(?:[/.\-][0-9]+)+")
# "Quý I/2021", "q1-2021": a period word with its year attached.
_WITH_YEAR = re.compile(r"(.*[^\W\d_].*?)[/\-.]([0-9]{4})")
DEFAULT_UPCOMING_DAYS = 14
MAX_UNIT_TEXT = 100


@dataclass(frozen=True)
class OverdueArgs:
    obligation: str | None


@dataclass(frozen=True)
class UnitArgs:
    query: str
    year: int


@dataclass(frozen=True)
class StatusArgs:
    obligation: str | None
    year: int


@dataclass(frozen=True)
class SubmittedArgs:
    unit: str
    obligation: str
    year: int
    doc_no: str | None
    received: date | None


def _sort_key(code: str) -> tuple[int, str, tuple[int, ...]]:
    if code in _ORDER:
        return (_ORDER.index(code), "", ())
    # Natural order so adhoc2 comes before adhoc10.
    return (len(_ORDER), re.sub(r"[0-9]+", "", code), tuple(int(n) for n in re.findall(r"[0-9]+", code)))


def period_names(codes: Collection[str]) -> list[str]:
    """The periods that exist, as a person would type them, in deadline order."""
    return [_SHOWN.get(code, code) for code in sorted(set(codes), key=_sort_key)]


def resolve_period(word: str, codes: Collection[str]) -> str:
    """The obligation code among ``codes`` that ``word`` names."""
    code = read_period(word, codes)
    if code is not None and code in codes:
        return code
    if not codes:
        raise CommandError(f"Không có kỳ báo cáo “{echo(word)}”: hiện chưa có kỳ báo cáo nào.")
    listed = ", ".join(period_names(codes))
    raise CommandError(f"Không có kỳ báo cáo “{echo(word)}”. Các kỳ: {listed} (hoặc mã nghĩa vụ).")


def parse_year(word: str, today: date) -> int:
    """A year: "2021", "năm 2021", or "năm nay" for ``today``'s."""
    if fold(word) in {"nay", "nam nay", "namnay"}:
        return today.year
    found = re.fullmatch(r"\s*(\D*?)\s*([0-9]{4})\s*", word)
    if found and (not found.group(1) or fold(found.group(1)) == "nam"):
        year = int(found.group(2))
        if _FIRST_YEAR <= year <= _LAST_YEAR:
            return year
    raise CommandError(f"Năm “{echo(word)}” không hợp lệ. Ghi năm bằng bốn chữ số, từ {_FIRST_YEAR} "
                       f"đến {_LAST_YEAR}, ví dụ: 2021.")


def parse_day(word: str, today: date) -> date:
    """A date in datetext's grammar; in chat the year may be left out (15/03 is this year)."""
    try:
        return read_date(word, default_year=today.year)
    except DateError as error:
        raise CommandError(str(error)) from None


def parse_days(word: str) -> int:
    """A number of days ahead for /sapden: "30" or "30 ngày", from 1 to 366."""
    found = re.fullmatch(r"\s*([0-9]{1,3})\s*(\D*?)\s*", word)
    if found and (not found.group(2) or fold(found.group(2)) == "ngay") and 1 <= int(found.group(1)) <= 366:
        return int(found.group(1))
    raise CommandError(f"Số ngày “{echo(word)}” không hợp lệ: ghi một số từ 1 đến 366, ví dụ: 30.")


def _with_usage(key: str, error: CommandError) -> CommandError:
    return usage_error(key, error.message)


def parse_overdue(args: Sequence[str], codes: Collection[str]) -> OverdueArgs:
    """``/quahan [kỳ]``: the period may take several words ("quý I")."""
    if not args:
        return OverdueArgs(None)
    if any(_is_year(arg) for arg in args) or _WITH_YEAR.fullmatch(args[-1].strip()):
        raise usage_error("overdue", "Lệnh /quahan chỉ nhận kỳ báo cáo của năm nay, không nhận năm. "
                          "Để xem năm khác, dùng /tinhhinh [kỳ] [năm].")
    try:
        return OverdueArgs(resolve_period(" ".join(args), codes))
    except CommandError as exc:
        raise _with_usage("overdue", exc) from None


def _is_year(word: str) -> bool:
    return _YEAR.fullmatch(word.strip()) is not None or compact(word) == "namnay"


def _join_this_year(words: Sequence[str]) -> list[str]:
    """Words with "năm nay" (this year) made one word, as a year."""
    joined: list[str] = []
    for word in words:
        if joined and compact(joined[-1]) == "nam" and compact(word) == "nay":
            joined[-1] = f"{joined[-1]} {word}"
        else:
            joined.append(word)
    return joined


def _detach_years(words: Sequence[str]) -> list[str]:
    """Words with "Quý I/2021" cut into "Quý I", "2021". Only where no document number can be among
    the words: "BC-2021" is a number, not a period and a year."""
    detached: list[str] = []
    for word in words:
        attached = _WITH_YEAR.fullmatch(word.strip())
        detached.extend(attached.groups() if attached is not None else (word,))
    return detached


def parse_status(args: Sequence[str], codes: Collection[str], today: date) -> StatusArgs:
    """``/tinhhinh [kỳ] [năm]`` in either order: "q1 2021", "2021 quý I", "quý I năm 2021"."""
    try:
        period, year = _period_and_year(_join_this_year(_detach_years(args)), codes, today)
    except CommandError as exc:
        raise _with_usage("status", exc) from None
    return StatusArgs(period, year if year is not None else today.year)


def _period_and_year(words: list[str], codes: Collection[str], today: date) -> tuple[str | None, int | None]:
    year: int | None = None
    rest: list[str] = []
    for word in words:
        if not _is_year(word):
            rest.append(word)
            continue
        if year is not None:
            raise CommandError("Chỉ ghi một năm, ví dụ: 2021.")
        year = parse_year(word, today)
        # "quý I năm 2021": "năm" marks the year, unless it ends the period's own name ("cả năm").
        if rest and compact(rest[-1]) == "nam" and (len(rest) == 1 or read_period(" ".join(rest[:-1]), codes)):
            rest.pop()
    return (resolve_period(" ".join(rest), codes) if rest else None), year


def parse_upcoming(args: Sequence[str]) -> int:
    """``/sapden [số ngày]``, 14 days when not given."""
    if not args:
        return DEFAULT_UPCOMING_DAYS
    if len(args) > 2:
        raise usage_error("upcoming", "Lệnh /sapden chỉ nhận một số ngày.")
    try:
        return parse_days(" ".join(args))
    except CommandError as exc:
        raise _with_usage("upcoming", exc) from None


def parse_unit(args: Sequence[str], today: date) -> UnitArgs:
    """``/donvi <mã hoặc tên> [năm]``: the words to look the unit up by, and the year (this year when
    not given; "năm 2021" or "2021" at the end)."""
    words = _join_this_year(args)
    year: int | None = None
    if len(words) > 1 and _is_year(words[-1]):
        try:
            year = parse_year(words.pop(), today)
        except CommandError as exc:
            raise _with_usage("unit", exc) from None
        if len(words) > 1 and compact(words[-1]) == "nam":
            words.pop()
    text = " ".join(" ".join(words).split())
    if not text:
        raise usage_error("unit", "Cần ghi mã hoặc tên đơn vị.")
    if len(text) > MAX_UNIT_TEXT:
        raise usage_error("unit", f"Mã hoặc tên đơn vị dài quá {MAX_UNIT_TEXT} ký tự.")
    return UnitArgs(text, year if year is not None else today.year)


def parse_mine(args: Sequence[str], today: date) -> int:
    """``/cuatoi [năm]``, this year when not given."""
    if not args:
        return today.year
    try:
        return parse_year(" ".join(args), today)
    except CommandError as exc:
        raise _with_usage("mine", exc) from None


def parse_calendar(args: Sequence[str], today: date) -> int:
    """``/lich [năm]``, this year when not given."""
    if not args:
        return today.year
    if len(args) > 2:
        raise usage_error("calendar", "Lệnh /lich chỉ nhận một năm.")
    try:
        return parse_year(" ".join(args), today)
    except CommandError as exc:
        raise _with_usage("calendar", exc) from None


def parse_submitted(args: Sequence[str], codes: Collection[str], today: date) -> SubmittedArgs:
    """``/danop <đơn vị> <kỳ> [năm] [số ký hiệu] [ngày nhận]``; the number and the date in either order."""
    try:
        return _submitted(args, codes, today)
    except CommandError as exc:
        raise _with_usage("submitted", exc) from None


def _submitted(args: Sequence[str], codes: Collection[str], today: date) -> SubmittedArgs:
    if len(args) < 2:
        raise CommandError("Cần ghi đơn vị và kỳ báo cáo.")
    # A unit's name may be several words without quotes ("lam thuy q1 …"): the unit is the shortest
    # run of leading words after which the rest reads as a whole /danop; quotes still make one word.
    first_problem: CommandError | None = None
    for split in range(1, len(args)):
        try:
            return _submitted_after(" ".join(" ".join(args[:split]).split()), list(args[split:]), codes, today)
        except CommandError as exc:
            first_problem = first_problem or exc
    assert first_problem is not None
    raise first_problem


def _submitted_after(unit: str, tail: list[str], codes: Collection[str], today: date) -> SubmittedArgs:
    if len(unit) > MAX_UNIT_TEXT:
        raise CommandError(f"Mã hoặc tên đơn vị dài quá {MAX_UNIT_TEXT} ký tự.")
    taken, obligation, year_text = _leading_period(tail, codes)
    if obligation is None:
        raise CommandError(f"Không nhận ra kỳ báo cáo ở “{echo(' '.join(tail))}”. Các kỳ: "
                           f"{', '.join(period_names(codes)) or 'chưa có'}.")
    year = parse_year(year_text, today) if year_text is not None else None
    doc_no: str | None = None
    received: date | None = None
    remaining = _join_this_year(tail[taken:])
    for index, word in enumerate(remaining):
        if compact(word) == "nam" and index + 1 < len(remaining) and _is_year(remaining[index + 1]):
            continue  # "năm 2021": the next word is the year
        if _is_year(word):
            if year is not None:
                raise CommandError("Chỉ ghi một năm, ví dụ: 2021.")
            year = parse_year(word, today)
        elif _DATE_LIKE.fullmatch(word.strip()):
            if received is not None:
                raise CommandError("Chỉ ghi một ngày nhận, ví dụ: 12/03/2021.")
            received = parse_day(word, today)
        elif doc_no is not None:
            raise CommandError(f"Thừa “{echo(word)}”: chỉ ghi một số ký hiệu văn bản, ví dụ: 15/BC-UBND.")
        else:
            doc_no = " ".join(word.split())
    if received is not None and received > today:
        raise CommandError(f"Ngày nhận {received:%d/%m/%Y} chưa đến (hôm nay là {today:%d/%m/%Y}). "
                           "Ghi ngày đã nhận báo cáo, ví dụ: 12/03/2021.")
    if year is None:
        year = received.year if received is not None else today.year
    return SubmittedArgs(unit, resolve_period(obligation, codes), year, doc_no, received)


def _leading_period(words: list[str], codes: Collection[str]) -> tuple[int, str | None, str | None]:
    """(words taken, the period's text, a year attached as in "Quý I/2021") for the longest run of
    words at the front that names a period; (0, None, None) when none does."""
    for size in range(min(_LONGEST_PERIOD, len(words)), 0, -1):
        text = " ".join(words[:size])
        if read_period(text, codes) is not None:
            return size, text, None
        attached = _WITH_YEAR.fullmatch(words[size - 1].strip())
        if attached is not None:
            text = " ".join([*words[:size - 1], attached.group(1)])
            if read_period(text, codes) is not None:
                return size, text, attached.group(2)
    return 0, None, None
