"""What a trích yếu says: a CCHC report or not, for which period, of which year. Pure: no database, no clock.

A row is matched only when the text names exactly one reporting period and the year is certain (written,
or implied by when the document arrived). Everything else goes to the review list with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from reminder_service.domain.periods import (
    ADHOC,
    MENTIONS,
    NOT_OBLIGATIONS,
    ON_REQUEST,
    PERIOD_LABELS,
    QUARTER_WORD,
    SUPPLEMENT,
    quarter,
    report_name,
)
from reminder_service.domain.textfold import SUMMARY_ABBREVIATIONS, expand, fold

_ANNUAL = re.compile(r"\bnam (?:19|20)\d\d\b|\b(?:ca nam|hang nam|tong ket|cuoi nam)\b|\bnam\s*$")
_YEARS = (
    re.compile(r"\bnam ((?:19|20)\d\d)\b"),
    re.compile(r"\bnam (?:19|20)\d\d ((?:19|20)\d\d)\b"),  # "năm 2020 - 2021" names two years
    re.compile(rf"\bquy {QUARTER_WORD} ((?:19|20)\d\d)\b"),
    re.compile(r"\bq ?(?:[1-4]|i{1,3}|iv) ((?:19|20)\d\d)\b"),
    re.compile(r"\b(?:cai cach hanh chinh|ke hoach|bao cao) ((?:19|20)\d\d)\b"),
)
# Another document's date inside the text ("… Kế hoạch số 10/KH-UBND ngày 22/01/2021") is not the period.
_DATES = re.compile(r"\bngay \d{1,2} thang \d{1,2} nam \d{4}\b|\b\d{1,2} \d{1,2} \d{4}\b")
# What follows is next period's direction ("… năm 2021 và phương hướng nhiệm vụ năm 2022").
_FOLLOW_UP = re.compile(r"\b(?:va )?phuong huong\b|\bva (?:nhiem vu|ke hoach)\b")
# CCHC documents that are not the periodic reports of the directive.
_OTHER_TOPICS = (
    ("chi so", "chỉ số CCHC"), ("cham diem", "chấm điểm"), ("tu danh gia", "tự đánh giá"),
    ("kiem tra", "kiểm tra"), ("tuyen truyen", "tuyên truyền"), ("giai doan", "kế hoạch giai đoạn"),
    ("gop y", "góp ý"), ("du thao", "dự thảo"),
)
# The earliest month a report for year Y can arrive in year Y; before it, the report may be last year's.
_FIRST_MONTH = {"plan": 1, "q1": 1, "q2": 5, "h1": 5, "q3": 8, "m9": 8, "q4": 11, "annual": 6}
# A plan for next year arrives from this month on.
_PLAN_NEXT_YEAR_FROM = 10
_ON_REQUEST_EARLY = 2  # a supplement received in January or February may be last year's


@dataclass(frozen=True)
class Guess:
    code: str
    year: int | None


@dataclass(frozen=True)
class Classification:
    outcome: str  # not_cchc | matched | unknown_obligation | ambiguous_obligation
    code: str | None = None
    year: int | None = None
    candidates: tuple[Guess, ...] = ()
    note: str = ""  # Vietnamese: why a person must decide


def is_cchc_report(text: str) -> bool:
    return "cai cach hanh chinh" in text and ("bao cao" in text or "ke hoach" in text)


def classify(summary: str, received: date | None) -> Classification:
    text = expand(fold(summary), SUMMARY_ABBREVIATIONS)[0]
    if not is_cchc_report(text):
        return Classification("not_cchc")
    text = _DATES.sub(" ", text)
    cut = _FOLLOW_UP.search(text)
    head, tail = (text[:cut.start()], text[cut.start():]) if cut else (text, "")
    for words, label in _OTHER_TOPICS:
        if re.search(rf"\b{words}\b", head):
            return Classification("unknown_obligation",
                                  note=f"văn bản về CCHC ({label}) nhưng không phải báo cáo định kỳ")
    codes = _codes(head)
    years = _years(head) or _years(tail)
    if len(years) > 1:
        listed = ", ".join(str(y) for y in sorted(years))
        return Classification("ambiguous_obligation", candidates=_guesses(codes, sorted(years)),
                              note=f"trích yếu nêu nhiều năm: {listed}")
    if len(codes) != 1:
        guesses = _guesses(codes, sorted(years))
        if codes:
            listed = ", ".join(PERIOD_LABELS[c] for c in codes)
            return Classification("ambiguous_obligation", candidates=guesses,
                                  note=f"trích yếu nêu nhiều kỳ báo cáo: {listed}")
        return Classification("unknown_obligation", note="trích yếu không nêu rõ kỳ báo cáo")
    code = codes[0]
    if code in NOT_OBLIGATIONS:
        return Classification("unknown_obligation", candidates=_guesses(codes, sorted(years)),
                              note=f"{report_name(code)} không có trong chế độ báo cáo CCHC")
    if years:
        year = next(iter(years))
        if received is not None and not received.year - 2 <= year <= received.year + 1:
            return Classification("unknown_obligation", candidates=(Guess(code, year),),
                                  note=f"năm {year} ghi trong trích yếu không khớp với ngày đến "
                                       f"{received:%d/%m/%Y}")
        return Classification("matched", code, year)
    if received is None:
        return Classification("ambiguous_obligation", candidates=(Guess(code, None),),
                              note="trích yếu không ghi năm và không rõ ngày đến")
    possible = _implied_years(code, received)
    if len(possible) == 1:
        return Classification("matched", code, possible[0])
    shown = " hoặc ".join(str(y) for y in possible)
    return Classification("ambiguous_obligation", candidates=_guesses(codes, possible),
                          note=f"trích yếu không ghi năm; {report_name(code)} nhận ngày "
                               f"{received:%d/%m/%Y} có thể thuộc năm {shown}")


def _codes(head: str) -> list[str]:
    found: list[str] = []

    def add(code: str) -> None:
        if code not in found:
            found.append(code)

    if "bo sung" in head:
        add(SUPPLEMENT)
    if "dot xuat" in head:
        add(ADHOC)
    for pattern, code in MENTIONS:
        for match in pattern.finditer(head):
            add(code or f"q{quarter(match.group(1))}")
    if not found and "bao cao" not in head and "ke hoach" in head:
        add("plan")
    if not found and _ANNUAL.search(head):
        add("annual")
    return found


def _years(text: str) -> set[int]:
    return {int(m.group(1)) for pattern in _YEARS for m in pattern.finditer(text)}


def _guesses(codes: list[str], years: list[int]) -> tuple[Guess, ...]:
    wanted = [c for c in codes if c not in NOT_OBLIGATIONS] or (["annual"] if "h2" in codes else [])
    if not years:
        return tuple(Guess(c, None) for c in wanted)
    return tuple(Guess(c, y) for c in wanted for y in years)


def _implied_years(code: str, received: date) -> list[int]:
    """The year a report without one written must be for, judged by when it arrived."""
    year, month = received.year, received.month
    if code == "plan":
        return [year, year + 1] if month >= _PLAN_NEXT_YEAR_FROM else [year]
    if code in ON_REQUEST:
        return [year - 1, year] if month <= _ON_REQUEST_EARLY else [year]
    return [year] if month >= _FIRST_MONTH.get(code, 1) else [year - 1, year]
