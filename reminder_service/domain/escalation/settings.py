"""The escalation policy from the config file's [escalation] section; the defaults are in
docs/ARCHITECTURE.md, "The ladder".

    [escalation]
    send_from = "08:00"
    send_until = "17:30"
    max_repeats = 40
    [[escalation.stage]]          # any [[escalation.stage]] replaces the whole default ladder
    name = "notice"
    anchor = "nominal"            # nominal (before the deadline) or effective (after it)
    offset = -5                   # working days; 0 with nominal = last working day on or before it
    roles = ["focal", "unit_head"]
    channels = ["telegram", "email"]
    repeat_every = 3              # optional, working days
    template = "notice"           # optional, a template in message_templates/reminders/
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from importlib.resources import files
from typing import Any, NoReturn

from reminder_service.domain.escalation.policy import CHANNEL_NAMES, ROLE_NAMES, Policy, Stage

KEYS = {"send_from", "send_until", "max_repeats", "stage"}
STAGE_KEYS = {"name", "anchor", "offset", "roles", "channels", "repeat_every", "template"}
_HOUR = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _templates() -> set[str]:
    folder = files("message_templates").joinpath("reminders", "email")
    return {entry.name.removesuffix(".j2") for entry in folder.iterdir() if not entry.name.startswith("_")}


def parse_policy(section: dict[str, Any], fail: Callable[[str], NoReturn]) -> Policy:
    unknown = sorted(set(section) - KEYS)
    if unknown:
        fail(f'khóa "{unknown[0]}" trong [escalation] không được hỗ trợ; các khóa hợp lệ: {", ".join(sorted(KEYS))}')
    defaults = Policy()

    def hour(key: str, default: time) -> time:
        value = section.get(key)
        if value is None:
            return default
        found = _HOUR.match(value) if isinstance(value, str) else None
        if not found:
            fail(f'[escalation].{key} phải có dạng giờ:phút, ví dụ {key} = "08:00"')
        return time(int(found.group(1)), int(found.group(2)))

    send_from, send_until = hour("send_from", defaults.send_from), hour("send_until", defaults.send_until)
    if send_from >= send_until:
        fail("[escalation].send_from phải sớm hơn send_until")
    repeats = section.get("max_repeats", defaults.max_repeats)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not 0 <= repeats <= 1000:
        fail("[escalation].max_repeats phải là số nguyên từ 0 đến 1000")
    stages = defaults.stages
    if "stage" in section:
        raw = section["stage"]
        if not isinstance(raw, list) or not raw:
            fail("[[escalation.stage]] phải là một danh sách bậc nhắc, mỗi bậc một mục [[escalation.stage]]")
        stages = tuple(_stage(item, index, fail) for index, item in enumerate(raw, start=1))
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            fail("[[escalation.stage]]: tên bậc nhắc bị lặp lại")
    return Policy(stages=stages, send_from=send_from, send_until=send_until, max_repeats=repeats)


def _stage(item: Any, index: int, fail: Callable[[str], NoReturn]) -> Stage:
    where = f"[[escalation.stage]] thứ {index}"
    if not isinstance(item, dict):
        fail(f"{where} phải là một bảng khóa–giá trị")
    unknown = sorted(set(item) - STAGE_KEYS)
    if unknown:
        fail(f'{where}: khóa "{unknown[0]}" không được hỗ trợ; các khóa hợp lệ: {", ".join(sorted(STAGE_KEYS))}')
    missing = sorted({"name", "anchor", "offset", "roles"} - set(item))
    if missing:
        fail(f"{where}: thiếu {', '.join(missing)}")
    name, anchor, offset = item["name"], item["anchor"], item["offset"]
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        fail(f"{where}: name phải là chữ thường không dấu, ví dụ \"notice\"")
    if anchor not in {"nominal", "effective"}:
        fail(f'{where}: anchor phải là "nominal" (trước hạn nộp) hoặc "effective" (sau hạn thực tế)')
    if isinstance(offset, bool) or not isinstance(offset, int) or not -60 <= offset <= 60:
        fail(f"{where}: offset phải là số ngày làm việc, từ -60 đến 60")
    if (anchor == "nominal" and offset > 0) or (anchor == "effective" and offset < 1):
        fail(f"{where}: với anchor = \"{anchor}\", offset phải "
             + ("từ 0 trở xuống (trước hạn nộp)" if anchor == "nominal" else "từ 1 trở lên (sau hạn thực tế)"))
    roles = _names(item["roles"], ROLE_NAMES, f"{where}: roles", fail)
    channels = _names(item.get("channels", list(CHANNEL_NAMES)), CHANNEL_NAMES, f"{where}: channels", fail)
    repeat = item.get("repeat_every")
    if repeat is not None and (isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 60):
        fail(f"{where}: repeat_every phải là số ngày làm việc từ 1 đến 60")
    template = item.get("template", name)
    if template not in _templates():
        fail(f'{where}: không có mẫu tin nhắn "{template}"; các mẫu có sẵn: {", ".join(sorted(_templates()))}')
    return Stage(name, anchor, offset, roles, channels, repeat, template)


def _names(value: Any, allowed: tuple[str, ...], where: str, fail: Callable[[str], NoReturn]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        fail(f"{where} phải là danh sách gồm: {', '.join(allowed)}")
    return tuple(value)
