"""The [escalation] section: a custom ladder works, every mistake names the stage and what to fix."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from reminder_service.config import ConfigError, load_config
from reminder_service.domain.escalation.policy import DEFAULT_STAGES


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={})


def test_defaults_are_design_section_5(tmp_path: Path) -> None:
    config = load_config(None, environ={})
    assert config.escalation.stages == DEFAULT_STAGES
    assert [(s.name, s.anchor, s.offset, s.repeat_every) for s in DEFAULT_STAGES] == [
        ("notice", "nominal", -5, None), ("reminder", "nominal", -2, None), ("due_today", "nominal", 0, None),
        ("overdue", "effective", 1, None), ("escalated", "effective", 3, 3)]
    assert (config.escalation.send_from, config.escalation.send_until) == (time(8), time(17, 30))


def test_a_custom_ladder_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[escalation]\nsend_from = "07:30"\n'
        '[[escalation.stage]]\nname = "notice"\nanchor = "nominal"\noffset = -10\nroles = ["focal"]\n'
        'channels = ["email"]\n'
        '[[escalation.stage]]\nname = "escalated"\nanchor = "effective"\noffset = 2\nroles = ["leadership"]\n'
        "repeat_every = 5\n", encoding="utf-8")
    policy = load_config(path, environ={}).escalation
    assert policy.send_from == time(7, 30)
    assert [(s.name, s.offset, s.roles, s.channels, s.repeat_every) for s in policy.stages] == [
        ("notice", -10, ("focal",), ("email",), None), ("escalated", 2, ("leadership",), ("telegram", "email"), 5)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[escalation]\nsend_from = "8h"\n', 'send_from phải có dạng giờ:phút'),
        ('[escalation]\nsend_from = "18:00"\n', "send_from phải sớm hơn send_until"),
        ("[escalation]\nladder = 1\n", 'khóa "ladder" trong [escalation] không được hỗ trợ'),
        ('[[escalation.stage]]\nname = "x"\nanchor = "nominal"\noffset = 3\nroles = ["focal"]\n',
         "thứ 1: với anchor = \"nominal\", offset phải từ 0 trở xuống"),
        ('[[escalation.stage]]\nname = "x"\nanchor = "deadline"\noffset = 0\nroles = ["focal"]\n',
         'anchor phải là "nominal"'),
        ('[[escalation.stage]]\nname = "x"\nanchor = "effective"\noffset = 1\nroles = ["mayor"]\n',
         "roles phải là danh sách gồm: unit_head, focal, receiver, leadership"),
        ('[[escalation.stage]]\nname = "x"\nanchor = "effective"\noffset = 1\nroles = ["focal"]\n'
         'template = "khong_co"\n', 'không có mẫu tin nhắn "khong_co"'),
        ('[[escalation.stage]]\nname = "x"\nanchor = "effective"\noffset = 1\n', "thứ 1: thiếu roles"),
    ],
)
def test_mistakes_name_the_place(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert expected in str(caught.value)
    assert "config.toml" in str(caught.value)
