"""Reading YAML with line numbers, so every complaint about a directive file names its line.

PyYAML's composer keeps the position of every node; we walk the node tree ourselves instead of
constructing plain Python objects, which would lose those positions.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import yaml

from calendars.words import os_reason

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"
_DECIMAL = re.compile(r"[-+]?[0-9]+")
PLACEHOLDERS = frozenset({"year", "previous_year", "next_year"})
# A directive needs about eight levels (obligations, owed_by, a kind, window, from, ...). PyYAML's
# composer recurses once per level: without a bound, a few thousand brackets end in RecursionError.
MAX_DEPTH = 32
# PyYAML's most common complaints, in words an office clerk editing the file can act on.
_YAML_PROBLEMS = (
    ("found character '\\t' that cannot start any token", "có ký tự tab; YAML chỉ thụt lề bằng dấu cách"),
    ("mapping values are not allowed here",
     "dấu hai chấm không đúng chỗ; một chuỗi có dấu \":\" cần đặt trong ngoặc kép"),
    ("found unexpected end of stream", "tệp kết thúc khi dấu ngoặc kép hoặc ngoặc chưa được đóng"),
    ("found undefined alias", "tham chiếu *tên chưa được định nghĩa bằng &tên"),
    ("expected <block end>", "thụt lề không khớp hoặc có ký tự thừa"),
    ("expected ',' or '}'", "thiếu dấu phẩy hoặc dấu } trong bảng viết trên một dòng"),
    ("expected ',' or ']'", "thiếu dấu phẩy hoặc dấu ] trong danh sách viết trên một dòng"),
)


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


class Invalid(Exception):
    """One problem at one place; the loader collects them into a DirectiveError."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(line, message)


class DirectiveError(Exception):
    """A directive file that cannot be used, with every problem found and where it is."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.path}, dòng {p.line}: {p.message}" if p.line else f"{self.path}: {p.message}"
                         for p in self.problems)


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_DEPTH before the composer recurses into it."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            raise _TooDeep(int(self.peek_event().start_mark.line) + 1)  # type: ignore[no-untyped-call]
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _shortened(raw: str, limit: int = 24) -> str:
    return raw if len(raw) <= limit else f"{raw[:limit]}… ({len(raw)} ký tự)"


class Node:
    """A view of one YAML node that converts it to a value or explains, with its line, why not."""

    def __init__(self, node: yaml.Node, where: str) -> None:
        self._node = node
        self.where = where

    @property
    def line(self) -> int:
        return int(self._node.start_mark.line) + 1

    def fail(self, message: str) -> NoReturn:
        raise Invalid(self.line, f"{self.where}: {message}" if self.where else message)

    def child(self, node: yaml.Node, name: str) -> Node:
        return Node(node, f"{self.where}.{name}" if self.where else name)

    @property
    def is_null(self) -> bool:
        return isinstance(self._node, yaml.ScalarNode) and self._node.tag == _NULL_TAG

    @property
    def is_mapping(self) -> bool:
        return isinstance(self._node, yaml.MappingNode)

    @property
    def is_scalar(self) -> bool:
        return isinstance(self._node, yaml.ScalarNode)

    def _scalar(self) -> str:
        if not isinstance(self._node, yaml.ScalarNode):
            self.fail("cần một giá trị đơn (chuỗi hoặc số), không phải danh sách hay bảng")
        return str(self._node.value)

    def mapping(self, allowed: set[str], required: frozenset[str] = frozenset()) -> dict[str, Node]:
        if not isinstance(self._node, yaml.MappingNode):
            self.fail(f"cần một bảng khóa–giá trị với các khóa: {', '.join(sorted(allowed))}")
        found: dict[str, Node] = {}
        for key_node, value_node in self._node.value:
            key = Node(key_node, self.where)._scalar()
            if key in found:
                Node(key_node, self.where).fail(f'khóa "{key}" bị lặp lại')
            if key not in allowed:
                Node(key_node, self.where).fail(
                    f'khóa "{key}" không hợp lệ; các khóa được dùng: {", ".join(sorted(allowed))}'
                )
            found[key] = self.child(value_node, key)
        missing = sorted(required - found.keys())
        if missing:
            self.fail(f"thiếu khóa bắt buộc: {', '.join(missing)}")
        return found

    def pairs(self) -> Iterator[tuple[Node, Node]]:
        """Key and value nodes of a mapping whose keys are data (unit kinds, codes)."""
        if not isinstance(self._node, yaml.MappingNode):
            self.fail("cần một bảng khóa–giá trị")
        seen: set[str] = set()
        for key_node, value_node in self._node.value:
            key = Node(key_node, self.where)
            name = key.text()
            if name in seen:
                key.fail(f'khóa "{name}" bị lặp lại')
            seen.add(name)
            yield key, self.child(value_node, name)

    def items(self) -> list[Node]:
        if not isinstance(self._node, yaml.SequenceNode):
            self.fail("cần một danh sách (mỗi mục bắt đầu bằng dấu gạch ngang)")
        return [Node(item, f"{self.where}[{i + 1}]") for i, item in enumerate(self._node.value)]

    def text(self) -> str:
        value = self._scalar().strip()
        if not value or self._node.tag == _NULL_TAG:
            self.fail("không được để trống")
        return value

    def template(self) -> str:
        """A text that may contain {year}, {previous_year} or {next_year}, and nothing else in braces."""
        value = self.text()
        try:
            fields = list(string.Formatter().parse(value))
        except ValueError:
            self.fail("dấu ngoặc nhọn { } không cân đối; muốn viết dấu ngoặc thật hãy viết {{ hoặc }}")
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if name not in PLACEHOLDERS or spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                self.fail(
                    f"chỗ thay thế {shown} không được hỗ trợ; chỉ dùng {{year}}, {{previous_year}} hoặc {{next_year}}"
                )
        return value

    def integer(self, low: int, high: int) -> int:
        raw = self._scalar().strip()
        # Plain decimal only: YAML 1.1 would also read 0x0D, 0b1101 or 1:30 as numbers, and "09" as text.
        if not _DECIMAL.fullmatch(raw):
            self.fail(f'cần một số nguyên từ {low} đến {high}, nhận được "{_shortened(raw)}"')
        # Checked before int(): beyond 4,300 digits int() raises ValueError, and any number longer
        # than the bounds is out of them anyway.
        if len(raw.lstrip("+-").lstrip("0")) > max(len(str(abs(low))), len(str(abs(high)))):
            self.fail(f"cần một số nguyên từ {low} đến {high}, nhận được {_shortened(raw)}")
        value = int(raw, 10)
        if not low <= value <= high:
            self.fail(f"cần một số nguyên từ {low} đến {high}, nhận được {value}")
        return value

    def boolean(self) -> bool:
        raw = self._scalar()
        if self._node.tag != _BOOL_TAG:
            self.fail(f'cần true hoặc false, nhận được "{raw}"')
        return raw.lower() in {"true", "yes", "on", "y"}

    def choice(self, options: tuple[str, ...]) -> str:
        value = self._scalar()
        if self._node.tag != _STR_TAG or value not in options:
            self.fail(f'cần một trong các giá trị: {", ".join(options)}; nhận được "{value}"')
        return value

    def texts(self) -> tuple[str, ...]:
        if self.is_scalar:
            return (self.template(),)
        values = tuple(item.template() for item in self.items())
        if not values:
            self.fail("danh sách không được để trống")
        return values


def read_document(path: Path) -> Node:
    """Parse one YAML file into a Node, or raise DirectiveError naming the file and the line."""
    label = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DirectiveError(label, [Problem(0, f"không đọc được tệp ({os_reason(exc)})")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DirectiveError(
            label, [Problem(line, "tệp không ở mã UTF-8; hãy lưu lại tệp với mã UTF-8")]
        ) from exc
    try:
        root = yaml.compose(text, Loader=_BoundedLoader)
    except _TooDeep as exc:
        message = (f"cấu trúc lồng nhau quá sâu (hơn {MAX_DEPTH} cấp danh sách hoặc bảng) từ dòng này; hãy kiểm tra "
                   "các dấu [ và { chưa đóng hoặc thụt lề thừa")
        raise DirectiveError(label, [Problem(exc.line, message)]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        message = f"tệp chứa ký tự điều khiển không được phép (mã {exc.character!r}); hãy xóa ký tự này"
        raise DirectiveError(label, [Problem(line, message)]) from None
    except yaml.MarkedYAMLError as exc:
        raise DirectiveError(label, [_syntax_problem(exc)]) from None
    except yaml.YAMLError as exc:
        raise DirectiveError(label, [Problem(1, f"sai cú pháp YAML ({exc})")]) from None
    except Exception as exc:
        # Not expected past the depth bound, but a file must never crash the service (exit 1 has
        # systemd restart it forever): whatever else the parser raises is a problem of this file.
        message = f"không đọc được nội dung tệp ({exc.__class__.__name__}); hãy kiểm tra lại cú pháp YAML"
        raise DirectiveError(label, [Problem(1, message)]) from None
    if root is None:
        raise DirectiveError(label, [Problem(1, "tệp rỗng; cần có id, year, unit_kinds và obligations")])
    return Node(root, "")


def _syntax_problem(exc: yaml.MarkedYAMLError) -> Problem:
    problem = exc.problem or ""
    explained = next((vi for en, vi in _YAML_PROBLEMS if en in problem), None)
    detail = f"{explained} ({problem})" if explained else problem or "không rõ"
    line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
    context = exc.context or ""
    # For an unclosed quote or bracket PyYAML notices the problem lines later, often at the end of the
    # file; where the construct opened is the line the writer must fix.
    if exc.context_mark is not None and context.startswith(("while scanning", "while parsing a flow")):
        opened = exc.context_mark.line + 1
        if opened != line:
            message = f"sai cú pháp YAML: {detail}; phần mở ở dòng này chưa được đóng (lỗi lộ ra ở dòng {line})"
            return Problem(opened, message)
    return Problem(line, f"sai cú pháp YAML: {detail}")
