"""Rendering each message form once per tick gives every reader exactly the text a full render gives."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reminder_service.domain.messages import memo as memo_module
from reminder_service.domain.messages.context import ReminderContext
from reminder_service.domain.messages.memo import ReminderMemo
from reminder_service.domain.messages.render import CHANNELS, Rendered, render_reminder
from tests.test_messages import STAGE_DAYS, Person, UnitRow, context

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


def _cases() -> list[tuple[ReminderContext, str, str]]:
    cases: list[tuple[ReminderContext, str, str]] = []
    for stage in STAGE_DAYS:
        for unit in UNITS:
            for person in PEOPLE:
                role = person.role if person is not None else "unit_head"
                missing = "Phụ lục 3B" if stage.startswith("incomplete") else None
                ctx = context(stage, unit=unit, person=person, role=role, missing=missing)
                for channel in CHANNELS:
                    cases.append((ctx, stage, channel))
    return cases


def test_every_reader_gets_the_text_a_full_render_gives() -> None:
    memo = ReminderMemo()
    cases = _cases()
    seen = []
    # Twice over: the second pass is served from the forms, except for the names never filled in.
    for _ in range(2):
        for ctx, stage, channel in cases:
            assert memo.render(ctx, stage, channel) == render_reminder(ctx, stage, channel), (ctx.unit_name, stage,
                                                                                              channel)
        seen.append(memo.rendered)
    unfillable = sum(1 for ctx, _, _ in cases if ctx.unit_code in ("XA_SPACES", "XA_BREAK"))
    assert seen[1] - seen[0] == unfillable


def test_a_notice_day_renders_each_form_once_not_each_message() -> None:
    memo = ReminderMemo()
    people = [Person(f"Trần Văn Thủ {i}", "unit_head") for i in range(200)]
    for i, person in enumerate(people):
        ctx = context("notice", unit=UnitRow(f"U{i:05d}", f"UBND xã Thử Nghiệm {i}", "commune"), person=person)
        for channel in CHANNELS:
            got = memo.render(ctx, "notice", channel)
            assert f"UBND xã Thử Nghiệm {i}" in got.subject and person.name in got.text
    # One form per channel, each rendered once more in full to check it.
    assert memo.rendered == len(CHANNELS)


def test_a_form_that_does_not_reproduce_the_full_text_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A template that changed a name (here: to capitals) would make a form wrong for every other unit."""
    def shouting(ctx: ReminderContext, stage: str, channel: str) -> Rendered:
        return render_reminder(replace(ctx, unit_name=ctx.unit_name.upper()), stage, channel)

    monkeypatch.setattr(memo_module, "render_reminder", shouting)
    memo = ReminderMemo()
    for unit in UNITS[:3]:
        ctx = context("notice", unit=unit)
        assert memo.render(ctx, "notice", "email") == shouting(ctx, "notice", "email")
    assert memo.rendered == 3
