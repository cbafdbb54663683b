"""Rendering each message form once per tick gives every reader exactly the text a full render gives."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from typing import Any

import pytest

from reminder_service.domain.messages import memo as memo_module
from reminder_service.domain.messages.context import ReminderContext, reminder_context, reminder_facts, row_facts
from reminder_service.domain.messages.form import Formed
from reminder_service.domain.messages.memo import ReminderMemo
from reminder_service.domain.messages.render import CHANNELS, Rendered, render_reminder
from tests.test_messages import STAGE_DAYS, WORKDAYS, Person, Row, UnitRow, calendar, row

UNITS = [
    UnitRow("XA_AN_BINH", "UBND xã An Bình", "commune"),
    UnitRow("XA_HOA_LOI", "UBND xã Hòa Lợi Tây", "commune"),
    UnitRow("TT_PHU", "Ủy ban nhân dân thị trấn Phú", "commune"),
    UnitRow("XA_LE", "Xã Lê", "commune"),
    UnitRow("X", "Đồng", "commune"),
    UnitRow("XA_AMP", "UBND xã A&B <Thôn \"2\"> 'Tây'", "commune"),
    UnitRow("VHTT", "Phòng Văn hóa và Thông tin", "monitor", "7.1"),
    UnitRow("TCKH", "Phòng Tài chính - Kế hoạch", "monitor", "7.1;7.2"),
    UnitRow("VP", "Văn phòng HĐND và UBND", "monitor"),
    UnitRow("CA", "Công an huyện", "monitor"),
    # Never filled in, always rendered in full: whitespace that folding would change, a line break.
    UnitRow("XA_SPACES", "UBND xã  Hai  Khoảng", "commune"),
    UnitRow("XA_BREAK", "UBND xã Một\nDòng", "commune"),
]
PEOPLE = [Person("Nguyễn Văn An", "unit_head"), Person("Lê Thị <Bích> & Cúc", "focal"), None]


def _build(obligation: Row, unit: UnitRow, person: Person | None, role: str, missing: str | None,
           stage: str) -> ReminderContext:
    return reminder_context(obligation, unit, person, calendar=calendar(2021), office_name="Phòng Nội vụ",
                            today=STAGE_DAYS[stage], workdays=WORKDAYS, role=role, missing=missing)


def _render(memo: ReminderMemo, unit: UnitRow, person: Person | None, stage: str, channel: str,
            role: str = "unit_head", missing: str | None = None, built: list[ReminderContext] | None = None
            ) -> tuple[Rendered, ReminderContext]:
    """What the tick does for one message: facts from the inputs, a context built only when asked for."""
    obligation = row("q1", unit.kind)

    def build() -> ReminderContext:
        ctx = _build(obligation, unit, person, role, missing, stage)
        if built is not None:
            built.append(ctx)
        return ctx

    facts = reminder_facts(row_facts(obligation, unit), person, role=role, missing=missing,
                           leadership_informed=False, reminder_round=1)
    got = memo.render_facts(facts, unit.name, unit.code, person.name if person else None, build, stage, channel)
    text = got.rendered() if isinstance(got, Formed) else got
    return text, _build(obligation, unit, person, role, missing, stage)


def test_every_reader_gets_the_text_a_full_render_gives() -> None:
    memo = ReminderMemo()
    built: list[ReminderContext] = []
    after: list[int] = []
    # Twice over: the second pass builds a context (and renders in full) only for the names never filled in.
    for _ in range(2):
        for stage in STAGE_DAYS:
            for unit in UNITS:
                for person in PEOPLE:
                    role = person.role if person is not None else "unit_head"
                    missing = "Phụ lục 3B" if stage.startswith("incomplete") else None
                    for channel in CHANNELS:
                        got, ctx = _render(memo, unit, person, stage, channel, role, missing, built)
                        assert got == render_reminder(ctx, stage, channel), (unit.name, stage, channel)
        after.append(len(built))
    unfillable = len(STAGE_DAYS) * 2 * len(PEOPLE) * len(CHANNELS)  # XA_SPACES and XA_BREAK
    assert after[1] - after[0] == unfillable


def test_a_notice_day_builds_and_renders_each_form_once_not_each_message() -> None:
    memo = ReminderMemo()
    built: list[ReminderContext] = []
    for i in range(200):
        person = Person(f"Trần Văn Thủ {i}", "unit_head")
        for channel in CHANNELS:
            got, _ = _render(memo, UnitRow(f"U{i:05d}", f"UBND xã Thử Nghiệm {i}", "commune"), person, "notice",
                             channel, built=built)
            assert f"UBND xã Thử Nghiệm {i}" in got.subject and person.name in got.text
    # One form per channel, each rendered once more in full to check it.
    assert memo.rendered == len(built) == len(CHANNELS)


def test_a_form_that_does_not_reproduce_the_full_text_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A template that changed a name (here: to capitals) would make a form wrong for every other unit."""
    def shouting(ctx: ReminderContext, stage: str, channel: str) -> Rendered:
        return render_reminder(replace(ctx, unit_name=ctx.unit_name.upper()), stage, channel)

    monkeypatch.setattr(memo_module, "render_reminder", shouting)
    memo = ReminderMemo()
    for unit in UNITS[:3]:
        got, ctx = _render(memo, unit, PEOPLE[0], "notice", "email")
        assert got == shouting(ctx, "notice", "email")
    assert memo.rendered == 3


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, date):
        return date(value.year, value.month, value.day % 27 + 1)
    if value is None:
        return date(2021, 1, 4)
    return f"{value}x"


def test_the_facts_change_with_every_input_the_message_may_state_and_not_with_the_names() -> None:
    obligation, unit, person = row("q1", "monitor"), UnitRow("VHTT", "Phòng Văn hóa và Thông tin", "monitor", "7.1"), \
        Person("Nguyễn Văn An", "unit_head")

    def facts(o: Row = obligation, u: UnitRow = unit, p: Person | None = person, **extra: Any) -> tuple[object, ...]:
        given = {"role": "unit_head", "missing": None, "leadership_informed": False, "reminder_round": 1} | extra
        return reminder_facts(row_facts(o, u), p, **given)

    base = facts()
    for field in fields(Row):
        assert facts(o=replace(obligation, **{field.name: _changed(getattr(obligation, field.name))})) != base, field
    assert facts(u=replace(unit, kind="commune")) != base
    assert facts(u=replace(unit, sections="7.2")) != base
    assert facts(p=Person(person.name, "focal")) != base
    assert facts(p=None) != base
    assert facts(missing="Phụ lục 3B") != base
    assert facts(leadership_informed=True) != base
    assert facts(reminder_round=2) != base
    # The names are filled in afterwards: they must not split the forms.
    assert facts(u=replace(unit, code="TCKH", name="Phòng Tài chính - Kế hoạch"), p=Person("Lê Thị Cúc", "unit_head")) \
        == base


class _Recorder:
    """Stands for a row and notes which attributes the context reads from it."""

    def __init__(self, kind: str, target: object, seen: set[tuple[str, str]]) -> None:
        self._kind, self._target, self._seen = kind, target, seen

    def __getattr__(self, name: str) -> Any:
        self._seen.add((self._kind, name))
        return getattr(self._target, name)


def test_the_context_reads_nothing_from_its_rows_that_the_facts_or_the_names_leave_out() -> None:
    """Otherwise two messages with equal facts could differ in more than the names the memo fills in."""
    seen: set[tuple[str, str]] = set()
    obligation, unit = row("q1", "monitor"), UnitRow("VHTT", "Phòng Văn hóa và Thông tin", "monitor", "7.1")
    reminder_context(_Recorder("obligation", obligation, seen), _Recorder("unit", unit, seen),
                     _Recorder("recipient", Person("Nguyễn Văn An", "unit_head"), seen),
                     calendar=calendar(2021), office_name="Phòng Nội vụ", today=STAGE_DAYS["notice"],
                     workdays=WORKDAYS)
    covered = {("obligation", f.name) for f in fields(Row)} | {("unit", "kind"), ("unit", "sections"),
                                                               ("recipient", "role")}
    names = {("unit", "code"), ("unit", "name"), ("recipient", "name")}
    assert seen <= covered | names, seen - covered - names
