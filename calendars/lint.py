"""Oddities of a directive's text, reported as warnings: the calendar reproduces them as written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from calendars.model import Directive, KindTerms, ObligationSpec
from calendars.rules import Window
from calendars.words import weekday_dmy as _dmy
from calendars.workdays import WorkCalendar


@dataclass(frozen=True)
class Finding:
    line: int
    severity: str  # "warning": looks wrong or is missing in the text; "info": worth knowing
    subject: str
    message: str


def lint(directive: Directive, workdays: WorkCalendar) -> list[Finding]:
    """Findings for the directive's own year, in file order."""
    findings = [Finding(n.line, "warning", "văn bản", n.text) for n in directive.notes if n.oddity]
    for spec in directive.obligations:
        for terms in spec.terms:
            findings.extend(_terms_findings(directive.year, spec, terms, workdays))
    return sorted(findings, key=lambda f: f.line)


def _terms_findings(year: int, spec: ObligationSpec, terms: KindTerms, workdays: WorkCalendar) -> list[Finding]:
    subject = f"{spec.id} ({terms.kind})"
    found = [Finding(n.line, "warning", subject, n.text) for n in terms.notes if n.oddity]
    rule = terms.deadline.rule
    if rule is None:
        return found
    nominal = rule.resolve(year, spec.period)
    if terms.deadline.interpreted:
        found.append(Finding(terms.line, "warning", subject,
                             f"hạn nộp {_dmy(nominal)} là cách hiểu, văn bản không nêu rõ"))
    window = _resolved(terms.window, year, spec)
    if window is not None and window[1] > nominal:
        found.append(Finding(terms.line, "warning", subject,
                             f"thời gian chốt số liệu kết thúc {_dmy(window[1])}, sau hạn nộp {_dmy(nominal)}"))
    if window is not None and nominal < window[0]:
        found.append(Finding(terms.line, "warning", subject,
                             f"hạn nộp {_dmy(nominal)} trước khi bắt đầu chốt số liệu {_dmy(window[0])}"))
    effective = workdays.effective_deadline(nominal)
    if effective != nominal:
        found.append(Finding(terms.line, "info", subject,
                             f"hạn nộp {_dmy(nominal)} là ngày nghỉ; thời hạn kết thúc {_dmy(effective)}"))
    return found


def _resolved(window: Window | None, year: int, spec: ObligationSpec) -> tuple[date, date] | None:
    if window is None:
        return None
    return window.start.resolve(year, spec.period), window.end.resolve(year, spec.period)
