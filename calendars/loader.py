"""Turn a directive YAML file into a validated Directive, or explain every problem with its line."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from calendars.model import Directive, KindTerms, MonitorOffice, Note, ObligationSpec, Section
from calendars.rules import DateRule, Deadline, FixedDate, Period, PeriodMonthDate, Window, max_day
from calendars.yaml_nodes import DirectiveError, Invalid, Node, Problem, read_document

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_YEAR_WORDS = {"previous": -1, "same": 0, "next": 1}
_PERIOD_MONTHS = {"period_first": "first", "period_last": "last"}
# Years used to prove that a rule gives a real date whatever the year (a leap and a common year).
_PROBE_YEARS = (2021, 2024)
_TERM_KEYS = {"deadline", "window", "estimate_window", "content", "notes"}


def load_directive(path: Path) -> Directive:
    root = read_document(path)
    problems: list[Problem] = []
    try:
        directive = _directive(root, path, problems)
    except Invalid as exc:
        problems.append(exc.problem)
        raise DirectiveError(str(path), problems) from None
    if problems:
        raise DirectiveError(str(path), problems)
    return directive


def _directive(root: Node, path: Path, problems: list[Problem]) -> Directive:
    keys = root.mapping(
        {"id", "year", "title", "issued_by", "source", "unit_kinds", "how_to_send", "monitor_offices",
         "notes", "obligations"},
        frozenset({"id", "year", "title", "unit_kinds", "obligations"}),
    )
    directive_id = _slug(keys["id"])
    year = keys["year"].integer(1900, 2200)
    kinds = {_slug(key): value.text() for key, value in keys["unit_kinds"].pairs()}
    if not kinds:
        keys["unit_kinds"].fail("cần ít nhất một loại đơn vị, ví dụ commune: UBND các xã, thị trấn")
    how_to_send: dict[str, str] = {}
    if "how_to_send" in keys:
        for key, value in keys["how_to_send"].pairs():
            how_to_send[_known_kind(key, kinds)] = value.template()
    offices = tuple(_office(node) for node in keys["monitor_offices"].items()) if "monitor_offices" in keys else ()
    obligations: list[ObligationSpec] = []
    seen_ids: set[str] = set()
    for node in keys["obligations"].items():
        try:
            spec = _obligation(node, kinds)
        except Invalid as exc:
            problems.append(exc.problem)
            continue
        if spec.id in seen_ids:
            problems.append(Problem(spec.line, f'mã nghĩa vụ "{spec.id}" bị lặp lại'))
        seen_ids.add(spec.id)
        obligations.append(spec)
    if not obligations and not problems:
        keys["obligations"].fail("cần ít nhất một nghĩa vụ báo cáo")
    return Directive(
        id=directive_id,
        year=year,
        title=keys["title"].template(),
        issued_by=keys["issued_by"].text() if "issued_by" in keys else "",
        source=keys["source"].text() if "source" in keys else "",
        unit_kinds=kinds,
        how_to_send=how_to_send,
        monitor_offices=offices,
        notes=_notes(keys["notes"]) if "notes" in keys else (),
        obligations=tuple(obligations),
        path=path,
    )


def _slug(node: Node) -> str:
    value = node.text()
    if not _SLUG.match(value):
        node.fail(f'"{value}" không hợp lệ; chỉ dùng chữ thường không dấu, số và dấu gạch dưới, bắt đầu bằng chữ')
    return value


def _known_kind(node: Node, kinds: dict[str, str]) -> str:
    kind = node.text()
    if kind not in kinds:
        node.fail(f'loại đơn vị "{kind}" chưa khai báo trong unit_kinds ({", ".join(kinds)})')
    return kind


def _office(node: Node) -> MonitorOffice:
    keys = node.mapping({"code", "name", "sections"}, frozenset({"code", "name", "sections"}))
    sections = []
    for item in keys["sections"].items():
        fields = item.mapping({"code", "title"}, frozenset({"code", "title"}))
        sections.append(Section(fields["code"].text(), fields["title"].text()))
    return MonitorOffice(keys["code"].text(), keys["name"].text(), tuple(sections))


def _notes(node: Node) -> tuple[Note, ...]:
    notes = []
    for item in node.items():
        if item.is_scalar:
            notes.append(Note(item.template(), item.line))
            continue
        fields = item.mapping({"text", "oddity"}, frozenset({"text"}))
        oddity = fields["oddity"].boolean() if "oddity" in fields else False
        notes.append(Note(fields["text"].template(), item.line, oddity))
    return tuple(notes)


def _period(node: Node) -> Period:
    if node.is_scalar:
        node.choice(("year",))
        return Period("year")
    fields = node.mapping({"quarter", "half", "first_months"})
    if len(fields) != 1:
        node.fail("cần đúng một trong: year, {quarter: 1..4}, {half: 1..2}, {first_months: 1..12}")
    (name, value), = fields.items()
    if name == "quarter":
        return Period("quarter", value.integer(1, 4))
    if name == "half":
        return Period("half", value.integer(1, 2))
    return Period("first_months", value.integer(1, 12))


def _date_rule(node: Node, period: Period, extra: frozenset[str] = frozenset()) -> DateRule:
    fields = node.mapping({"day", "month", "year", "shift_months", *extra}, frozenset({"day", "month"}))
    day_node = fields["day"]
    day: int | Literal["last"]
    if day_node.is_scalar and not day_node.is_null and day_node.text() == "last":
        day = "last"
    else:
        day = day_node.integer(1, 31)
    month_node = fields["month"]
    rule: DateRule
    if month_node.is_scalar and month_node.text() in _PERIOD_MONTHS:
        if "year" in fields:
            fields["year"].fail("không dùng year cùng với month: period_first/period_last (năm theo kỳ báo cáo)")
        shift = fields["shift_months"].integer(-24, 24) if "shift_months" in fields else 0
        anchor: Literal["first", "last"] = "first" if month_node.text() == "period_first" else "last"
        rule = PeriodMonthDate(day, anchor, shift)
    else:
        if month_node.is_scalar and not month_node.text().isdigit():
            month_node.fail(f'cần tháng từ 1 đến 12, period_first hoặc period_last; nhận được "{month_node.text()}"')
        month = month_node.integer(1, 12)
        if "shift_months" in fields:
            fields["shift_months"].fail("shift_months chỉ dùng với month: period_first hoặc period_last")
        if day != "last" and day > max_day(month):
            hint = ' (năm nhuận mới có; dùng day: last để chỉ ngày cuối tháng)' if month == 2 else ""
            day_node.fail(f"tháng {month} không có ngày {day}{hint}")
        offset = _YEAR_WORDS[fields["year"].choice(tuple(_YEAR_WORDS))] if "year" in fields else 0
        rule = FixedDate(day, month, offset)
    for probe in _PROBE_YEARS:
        try:
            rule.resolve(probe, period)
        except ValueError:
            node.fail(f"ngày {day} không tồn tại ở tháng mà quy tắc này chỉ tới (thử với năm {probe})")
    return rule


def _deadline(node: Node, period: Period) -> Deadline:
    if node.is_mapping and "set_by" in _keys_of(node):
        fields = node.mapping({"set_by", "wording"}, frozenset({"set_by"}))
        fields["set_by"].choice(("request",))
        return Deadline(None, fields["wording"].template() if "wording" in fields else "")
    rule = _date_rule(node, period, frozenset({"wording", "interpreted"}))
    fields = node.mapping({"day", "month", "year", "shift_months", "wording", "interpreted"})
    wording = fields["wording"].template() if "wording" in fields else ""
    interpreted = fields["interpreted"].boolean() if "interpreted" in fields else False
    return Deadline(rule, wording, interpreted)


def _keys_of(node: Node) -> set[str]:
    return {key.text() for key, _ in node.pairs()}


def _window(node: Node, period: Period) -> Window:
    fields = node.mapping({"from", "to"}, frozenset({"from", "to"}))
    window = Window(_date_rule(fields["from"], period), _date_rule(fields["to"], period))
    for probe in _PROBE_YEARS:
        start, end = window.start.resolve(probe, period), window.end.resolve(probe, period)
        if start > end:
            node.fail(f"ngày bắt đầu ({_dmy(start)}) sau ngày kết thúc ({_dmy(end)}) khi áp dụng cho năm {probe}")
    return window


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _obligation(node: Node, kinds: dict[str, str]) -> ObligationSpec:
    fields = node.mapping(
        {"id", "title", "period", "on_request", "owed_by", *_TERM_KEYS},
        frozenset({"id", "title", "period", "owed_by"}),
    )
    obligation_id = _slug(fields["id"])
    period = _period(fields["period"])
    shared_notes = _notes(fields["notes"]) if "notes" in fields else ()
    terms = []
    for key, value in fields["owed_by"].pairs():
        kind = _known_kind(key, kinds)
        own = {} if value.is_null else value.mapping(_TERM_KEYS)
        # A kind's own terms replace the obligation's shared ones; notes add up instead.
        merged = {**fields, **own}
        notes = shared_notes + (_notes(own["notes"]) if "notes" in own else ())
        terms.append(_terms(kind, merged, period, key, notes))
    if not terms:
        fields["owed_by"].fail("cần ít nhất một loại đơn vị phải nộp")
    return ObligationSpec(
        id=obligation_id,
        title=fields["title"].template(),
        period=period,
        on_request=fields["on_request"].boolean() if "on_request" in fields else False,
        terms=tuple(terms),
        line=node.line,
    )


def _terms(
    kind: str, fields: dict[str, Node], period: Period, where: Node, notes: tuple[Note, ...]
) -> KindTerms:
    if "deadline" not in fields:
        where.fail(f'thiếu hạn nộp (deadline) cho loại đơn vị "{kind}"')
    if "content" not in fields:
        where.fail(f'thiếu nội dung cần gửi (content) cho loại đơn vị "{kind}"')
    return KindTerms(
        kind=kind,
        deadline=_deadline(fields["deadline"], period),
        window=_window(fields["window"], period) if "window" in fields else None,
        estimate_window=_window(fields["estimate_window"], period) if "estimate_window" in fields else None,
        content=fields["content"].texts(),
        notes=notes,
        line=where.line,
    )
