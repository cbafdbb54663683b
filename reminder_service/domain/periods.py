"""Reporting periods as people write them: one vocabulary, read two ways. Pure: no database, no clock.

The chat bot reads a period strictly: the whole argument is one period ("quý I", "q1", "6 tháng đầu
năm"), looked up among the folded, space-free ``SPELLINGS``. The register import reads it leniently:
a document's trích yếu mentions a period somewhere in a sentence ("Báo cáo kết quả CCHC quý I năm
2021"), found by the ``MENTIONS`` patterns over folded text. Both take their quarter words from the
same table, and both settle a word that means different reports under different directives with
``pick``: "9 tháng" is the nine-month report where a directive has one (Decree 09's m9), and the
third-quarter report where it does not (the CCHC directive's, which covers the first nine months).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from reminder_service.domain.textfold import compact

# Obligation kinds that are not materialised by the directive: the receiver creates them on request
# (`obligations add`), so they are found among the unit's ad hoc obligations.
SUPPLEMENT = "supplement"
ADHOC = "adhoc"
ON_REQUEST = (SUPPLEMENT, ADHOC)

PERIOD_LABELS = {
    "plan": "kế hoạch CCHC",
    "q1": "quý I",
    "q2": "quý II",
    "q3": "quý III",
    "q4": "quý IV",
    "h1": "6 tháng đầu năm",
    "h2": "6 tháng cuối năm",
    "m9": "9 tháng",
    "annual": "năm",
    "month": "tháng",
    SUPPLEMENT: "báo cáo bổ sung",
    ADHOC: "báo cáo đột xuất",
}
# Periods a text may name that no directive makes an obligation of.
NOT_OBLIGATIONS = ("month", "h2")
# A word naming several reports, the most specific first: the first the directive has is meant.
ALTERNATIVES = {"m9": ("m9", "q3")}

# Quarter numbers as written after "quý": Roman (as the directive and every title writes them), digits,
# and words ("quý tư" is how the fourth is said).
QUARTER_NUMBER = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4,
                  "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4}
QUARTER_WORD = r"(?:i{1,3}|iv|0?[1-4]|mot|hai|ba|bon|tu)"

_QUARTERS = {f"{prefix}{token}": f"q{n}" for token, n in QUARTER_NUMBER.items()
             for prefix in ("quy", *(("q",) if not token.isalpha() or set(token) <= set("iv") else ()))}
# Folded, space-free whole spellings (the strict reading). "nửa năm" is the half-year report.
SPELLINGS: dict[str, str] = {
    **_QUARTERS,
    **dict.fromkeys(("9thang", "chinthang"), "m9"),
    **dict.fromkeys(("h1", "6thang", "6thangdaunam", "sauthang", "sauthangdaunam", "nuanam", "6t"), "h1"),
    **dict.fromkeys(("nam", "canam", "annual", "baocaonam"), "annual"),
    **dict.fromkeys(("kehoach", "plan", "kh"), "plan"),
    **dict.fromkeys(("bosung", "supplement"), "supplement"),
}
# Mentions inside folded text (the lenient reading); None: a quarter, numbered by the first group.
MENTIONS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(rf"\bquy ({QUARTER_WORD})\b"), None),
    (re.compile(r"\bq ?([1-4]|i{1,3}|iv)\b"), None),
    (re.compile(r"\b(?:0?6|sau) thang\b(?! cuoi)|\bnua dau nam\b"), "h1"),
    (re.compile(r"\b(?:0?6|sau) thang cuoi\b|\bnua cuoi nam\b"), "h2"),
    (re.compile(r"\b(?:0?9|chin) thang\b"), "m9"),
    (re.compile(r"(?<!\d )(?<!sau )(?<!chin )\bthang (?:0?[1-9]|1[0-2])\b"), "month"),
)


def read_period(text: str, codes: Collection[str]) -> str | None:
    """The strict reading: the report the whole ``text`` names — one of ``codes`` by its code ("q1",
    "adhoc2"), or by a spelling ("quý I", "9 tháng"), settled among ``codes`` by ``pick``. The code a
    spelling names is returned even when it is not among ``codes`` (the caller says it does not exist);
    None for words that name no report."""
    key = compact(text)
    if not key:
        return None
    for code in codes:
        if compact(code) == key:
            return code
    spelled = SPELLINGS.get(key)
    return pick(spelled, codes) if spelled is not None else None


def unknown_report(text: str, when: str, codes: Collection[str], none_yet: str = "chưa có") -> str:
    """Why ``text`` names no report of ``when`` ("năm 2021", "đến năm 2021"), with the codes there are."""
    listed = ", ".join(codes) if codes else none_yet
    return f'không có báo cáo mã "{text}" {when}; các mã hiện có: {listed}'


def quarter(token: str) -> int:
    """The quarter a word after "quý" names ("iii", "3", "03", "ba")."""
    return QUARTER_NUMBER.get(token) or int(token)


def pick(code: str, existing: Collection[str]) -> str:
    """The report ``code`` means among the ``existing`` ones: the first of its alternatives that exists,
    or ``code`` itself when none does (the caller then says it does not exist)."""
    return next((c for c in ALTERNATIVES.get(code, ()) if c in existing), code)


def report_name(code: str) -> str:
    """ "báo cáo quý I", "kế hoạch CCHC": how a message names the document."""
    label = PERIOD_LABELS.get(code, code)
    return label if code in ("plan", *ON_REQUEST) else f"báo cáo {label}"
