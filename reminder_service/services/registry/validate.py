"""What a valid unit is: every record checked against the directive, every problem collected.

The whole file is judged before anything is written, so a clerk fixes all mistakes in one pass and
the database never holds half a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from calendars.model import Directive
from reminder_service.services.registry.fields import (
    code_problem,
    control_problem,
    email_problem,
    telegram_problem,
    text_problem,
    unit_kind,
)
from reminder_service.services.registry.source import Problem, Record, Table, UnitsFileError, read_file, read_table

# The only kind that supplies Phụ lục 3B sections of its own; communes report the whole form.
SECTION_KIND = "monitor"
_ROLES = (("head", "thủ trưởng đơn vị"), ("focal", "công chức đầu mối"))


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None
    telegram: str | None


@dataclass(frozen=True)
class UnitRow:
    line: int
    code: str
    name: str
    kind: str
    sections: tuple[str, ...]
    head: Contact | None
    focal: Contact | None


def load_units(path: Path, directive: Directive) -> list[UnitRow]:
    return parse_units(read_file(path), str(path), path.suffix, directive)


def parse_units(raw: bytes, label: str, suffix: str, directive: Directive) -> list[UnitRow]:
    """Every unit of the file, or UnitsFileError listing every problem with its line."""
    table = read_table(raw, label, suffix)
    sections = [s.code for office in directive.monitor_offices for s in office.sections]
    # Numeric order (1.1, 1.2, 1.3 … 7.2) is how Phụ lục 3B reads, whatever order the offices are listed in.
    ordered = sorted(set(sections), key=lambda code: [int(p) if p.isdigit() else 0 for p in code.split(".")])
    rows = validate(table, directive.unit_kinds, ordered)
    if table.problems:
        raise UnitsFileError(label, table.problems, table.field_word)
    return rows


def validate(table: Table, kinds: Mapping[str, str], section_codes: Sequence[str]) -> list[UnitRow]:
    """Valid rows; problems are appended to ``table.problems``."""
    rows: list[UnitRow] = []
    first_line: dict[str, int] = {}
    chats: dict[str, _ChatCell] = {}
    for record in table.records:
        before = len(table.problems)
        code = record.values.get("code", "")
        problem = code_problem(code)
        if problem:
            _add(table, record, "code", problem)
        elif code.lower() in first_line:
            _add(table, record, "code", f'mã đơn vị "{code}" trùng với mã ở dòng {first_line[code.lower()]} '
                                        "(không phân biệt chữ hoa, chữ thường); mỗi đơn vị chỉ được ghi một lần")
        else:
            first_line[code.lower()] = record.line
        name = record.values.get("name", "")
        problem = text_problem(name, "tên đơn vị")
        if problem:
            _add(table, record, "name", problem)
        kind = unit_kind(record.values.get("kind", ""))
        control = control_problem(kind, "loại đơn vị")
        if control:
            _add(table, record, "kind", control)
        elif kind not in kinds:
            shown = f'"{record.values.get("kind", "")}" không hợp lệ' if kind else "không được để trống"
            listed = "; ".join(f"{k} ({v})" for k, v in kinds.items())
            _add(table, record, "kind", f"loại đơn vị {shown}; hãy ghi một trong: {listed}")
        sections = _sections(table, record, kind if kind in kinds else None, section_codes)
        head, focal = (_contact(table, record, prefix, who, chats) for prefix, who in _ROLES)
        if len(table.problems) == before:
            rows.append(UnitRow(record.line, code, name, kind, sections, head, focal))
    if not table.records and not table.problems:
        table.problems.append(Problem(0, None, "tệp không có đơn vị nào; mỗi đơn vị ghi trên một dòng dưới dòng "
                                               "tiêu đề (nhập một tệp rỗng sẽ ngừng theo dõi mọi đơn vị, nên "
                                               "không được phép)"))
    return rows


@dataclass(frozen=True)
class _ChatCell:
    """Where a chat id was first given in the file, to name it when another row gives it again."""

    line: int
    column: str
    who: str


def _add(table: Table, record: Record, column: str | None, message: str) -> None:
    table.problems.append(Problem(record.line, column, message))


def _sections(table: Table, record: Record, kind: str | None, known: Sequence[str]) -> tuple[str, ...]:
    value = record.values.get("sections", "")
    given = [s for s in re.split(r"[;,\s]+", value) if s]
    if not given or kind is None:
        return ()
    control = control_problem(value, "danh sách mục Phụ lục 3B")
    if control:
        _add(table, record, "sections", control)
        return ()
    if kind != SECTION_KIND:
        _add(table, record, "sections", f"đơn vị loại {kind} không cung cấp riêng mục nào của Phụ lục 3B; "
                                        f"chỉ đơn vị loại {SECTION_KIND} mới ghi cột này, hãy để trống")
        return ()
    if not known:
        _add(table, record, "sections", "văn bản hướng dẫn đang dùng không quy định mục Phụ lục 3B nào; "
                                        "hãy để trống cột này")
        return ()
    unknown = [s for s in dict.fromkeys(given) if s not in known]
    if unknown:
        shown = ", ".join(f'"{s}"' for s in unknown)
        _add(table, record, "sections", f"mục {shown} không có trong Phụ lục 3B; các mục hợp lệ: "
                                        f"{', '.join(known)} (cách nhau bằng dấu chấm phẩy, ví dụ 1.1;1.2;4;5)")
        return ()
    # Stored in Phụ lục 3B order, so listing the same sections differently is not a change.
    return tuple(s for s in known if s in given)


def _contact(table: Table, record: Record, prefix: str, who: str, chats: dict[str, _ChatCell]) -> Contact | None:
    name = record.values.get(f"{prefix}_name", "")
    email = record.values.get(f"{prefix}_email", "")
    telegram = record.values.get(f"{prefix}_telegram", "")
    before = len(table.problems)
    named = who
    if name:
        problem = text_problem(name, f"họ tên {who}")
        if problem:
            _add(table, record, f"{prefix}_name", problem)
        else:
            named = f"{who} {name}"
    elif email or telegram:
        _add(table, record, f"{prefix}_name", f"có địa chỉ liên lạc của {who} nhưng thiếu họ tên; hãy ghi thêm "
                                              f"họ tên vào {prefix}_name")
    if email:
        problem = email_problem(email)
        if problem:
            _add(table, record, f"{prefix}_email", problem)
    if telegram:
        column = f"{prefix}_telegram"
        problem = telegram_problem(telegram)
        first = chats.setdefault(telegram, _ChatCell(record.line, column, named))
        if problem:
            _add(table, record, column, problem)
        elif first.line != record.line or first.column != column:
            _add(table, record, column, f"mã trò chuyện Telegram {telegram} đã ghi cho {first.who} ở dòng "
                                        f"{first.line} ({table.field_word} {first.column}); mỗi mã trò chuyện chỉ "
                                        "thuộc về một người, hãy kiểm tra lại mã của một trong hai người")
    if not name or len(table.problems) != before:
        return None
    return Contact(name, email or None, telegram or None)
