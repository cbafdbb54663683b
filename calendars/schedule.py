"""Resolve a directive's rules into the dated obligations of one report year."""

from __future__ import annotations

from calendars.model import DatedObligation, Directive, KindTerms, ObligationSpec, YearCalendar, fill
from calendars.rules import DateRange, Period, Window
from calendars.workdays import WorkCalendar


def build_year(directive: Directive, year: int, workdays: WorkCalendar) -> YearCalendar:
    """The calendar of ``year``: exact for the directive's own year, projected with the same rules otherwise."""
    projected = year != directive.year
    dated = tuple(
        _dated(directive, spec, terms, year, workdays, projected)
        for spec in directive.obligations
        for terms in spec.terms
    )
    return YearCalendar(directive=directive, year=year, projected=projected, obligations=dated)


def _range(window: Window | None, year: int, period: Period) -> DateRange | None:
    if window is None:
        return None
    return DateRange(window.start.resolve(year, period), window.end.resolve(year, period))


def _dated(
    directive: Directive,
    spec: ObligationSpec,
    terms: KindTerms,
    year: int,
    workdays: WorkCalendar,
    projected: bool,
) -> DatedObligation:
    rule = terms.deadline.rule
    nominal = None if rule is None else rule.resolve(year, spec.period)
    start, end = spec.period.bounds(year)
    return DatedObligation(
        directive=directive.id,
        year=year,
        id=spec.id,
        kind=terms.kind,
        title=fill(spec.title, year),
        period=spec.period.label(year),
        period_range=DateRange(start, end),
        nominal_deadline=nominal,
        effective_deadline=None if nominal is None else workdays.effective_deadline(nominal),
        deadline_wording=fill(terms.deadline.wording, year),
        deadline_interpreted=terms.deadline.interpreted,
        window=_range(terms.window, year, spec.period),
        estimate_window=_range(terms.estimate_window, year, spec.period),
        on_request=spec.on_request or terms.deadline.set_by_request,
        content=tuple(fill(text, year) for text in terms.content),
        notes=tuple(fill(note.text, year) for note in terms.notes),
        how_to_send=fill(directive.how_to_send.get(terms.kind, ""), year),
        projected=projected,
    )
