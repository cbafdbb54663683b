"""Reading a units file (CSV, Excel .xlsx or YAML) into records that carry the line a person would look at.

Column names may be the English ones (code, name, kind, …) or Vietnamese (mã, tên, loại, …, with or
without diacritics); a CSV may be UTF-8 or the Windows-1258 older Vietnamese Windows saves.

Nothing here knows what a valid unit is; it only turns bytes into named cells and says, with the
line, why a file cannot even be read that far.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from calendars.yaml_nodes import _syntax_problem
from reminder_service.domain.errors import UserError, os_reason
from reminder_service.domain.textfold import fold
from reminder_service.services.register.limits import Limits
from reminder_service.services.register.xlsx import xlsx_rows

REQUIRED = ("code", "name", "kind")
OPTIONAL = ("head_name", "head_email", "head_telegram", "focal_name", "focal_email", "focal_telegram", "sections")
COLUMNS = REQUIRED + OPTIONAL
CSV_SUFFIXES = (".csv", ".txt")
YAML_SUFFIXES = (".yaml", ".yml")
XLSX_SUFFIXES = (".xlsx",)
# Vietnamese column names, folded (no diacritics, words joined by "_"), to the file's English ones.
VIETNAMESE_COLUMNS = {
    "ma": "code", "ma_don_vi": "code", "ten": "name", "ten_don_vi": "name", "loai": "kind",
    "loai_don_vi": "kind", "thu_truong": "head_name", "ho_ten_thu_truong": "head_name",
    "email_thu_truong": "head_email", "telegram_thu_truong": "head_telegram", "dau_moi": "focal_name",
    "cong_chuc_dau_moi": "focal_name", "ho_ten_dau_moi": "focal_name", "email_dau_moi": "focal_email",
    "telegram_dau_moi": "focal_telegram", "muc_3b": "sections", "cac_muc_3b": "sections", "muc_phu_luc_3b": "sections",
}
_NULL_TAG = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Problem:
    line: int
    column: str | None
    message: str


@dataclass(frozen=True)
class Record:
    line: int
    values: dict[str, str]


@dataclass
class Table:
    # How the file calls a field: spreadsheet users think in columns, YAML editors in keys.
    field_word: str
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class UnitsFileError(UserError):
    """A units file refused as a whole, with every problem found and where it is."""

    def __init__(self, label: str, problems: list[Problem], field_word: str = "cột") -> None:
        self.label = label
        self.field_word = field_word
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"tệp {self.label} không được nhập, cơ sở dữ liệu chưa thay đổi gì"
        if len(self.problems) == 1 and not self.problems[0].line and not self.problems[0].column:
            return f"{head}: {self.problems[0].message}."
        count = len(self.problems)
        lines = [f"{head}. Hãy sửa {f'{count} lỗi' if count > 1 else 'lỗi'} sau rồi nhập lại:"]
        for p in self.problems:
            where = f"dòng {p.line}" if p.line else "toàn tệp"
            if p.column:
                where += f", {self.field_word} {p.column}"
            lines.append(f"  {where}: {p.message}")
        return "\n".join(lines)


def read_table(raw: bytes, label: str, suffix: str) -> Table:
    """The file's records, or UnitsFileError when it is not a readable CSV or YAML file at all."""
    suffix = suffix.lower()
    if suffix not in CSV_SUFFIXES + YAML_SUFFIXES + XLSX_SUFFIXES:
        raise UnitsFileError(label, [Problem(0, None, f'không nhận dạng được loại tệp "{suffix or "(không có đuôi)"}"; '
                                                      "hãy dùng tệp .csv, .xlsx hoặc .yaml/.yml")])
    if suffix in XLSX_SUFFIXES:
        return _xlsx(raw, label)
    text = _decode(raw, label)
    if suffix in YAML_SUFFIXES:
        return _yaml(text, label)
    return _csv(text, label)


def _decode(raw: bytes, label: str) -> str:
    if raw.startswith(b"PK\x03\x04"):
        raise UnitsFileError(label, [Problem(0, None, "đây là tệp Excel nhưng không mang đuôi .xlsx; hãy đổi "
                                                      "đuôi tệp thành .xlsx rồi nhập lại")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Vietnamese Windows saves CSV in Windows-1258, as the register import also reads it; almost
        # any bytes decode as it, so it is only tried when UTF-8 fails.
        text = raw.decode("cp1258", errors="replace")
    # Windows-1258 writes many letters as a base and a combining mark: compose them, as people type them.
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise UnitsFileError(label, [Problem(0, None, "tệp rỗng; cần dòng tiêu đề code,name,kind và ít nhất "
                                                      "một đơn vị")])
    return text


def _delimiter(text: str) -> str:
    # The header decides: Excel in a Vietnamese locale saves with ";", elsewhere with ",".
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _column_name(cell: str) -> str:
    name = re.sub(r"[\s\-]+", "_", cell.strip().lstrip("\ufeff").strip().lower())
    return VIETNAMESE_COLUMNS.get(fold(cell).replace(" ", "_"), name)


def _header(cells: list[str], line: int, table: Table) -> list[str | None] | None:
    names: list[str | None] = []
    seen: set[str] = set()
    for cell in cells:
        name = _column_name(cell)
        if not name:
            names.append(None)
        elif name not in COLUMNS:
            table.problems.append(Problem(line, name, f'cột "{cell.strip()}" không được hỗ trợ; các cột được dùng: '
                                                       f"{', '.join(COLUMNS)}"))
            names.append(None)
        elif name in seen:
            table.problems.append(Problem(line, name, "cột bị lặp lại trong dòng tiêu đề; hãy giữ một cột"))
            names.append(None)
        else:
            seen.add(name)
            names.append(name)
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        table.problems.append(Problem(line, None, f"dòng tiêu đề thiếu cột bắt buộc: {', '.join(missing)}; "
                                                  "dòng đầu tiên của tệp phải ghi tên các cột, ví dụ code,name,kind"))
        return None
    return names


def _xlsx(raw: bytes, label: str) -> Table:
    """The first sheet of a workbook, read with the register's bounded streaming reader."""
    table = Table("cột")
    rows = ((line, ["" if c is None else _cell_text(c) for c in cells])
            for line, cells in xlsx_rows(label, raw, Limits()))
    return _fill(table, rows)


def _cell_text(cell: object) -> str:
    # Excel stores a code typed as 7 as the number 7.0: write it as a person typed it.
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _csv(text: str, label: str) -> Table:
    table = Table("cột")
    # Rows are numbered as a spreadsheet shows them: every record one row, blank ones included.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    line = 0

    def numbered() -> Iterator[tuple[int, list[str]]]:
        nonlocal line
        for cells in reader:
            line += 1
            yield line, cells

    try:
        return _fill(table, numbered())
    except csv.Error as exc:
        table.problems.append(Problem(line + 1, None, f"không đọc được dòng này như CSV ({exc}); hãy lưu lại tệp "
                                                      "dạng CSV từ bảng tính"))
    return table


def _fill(table: Table, rows: Iterable[tuple[int, list[str]]]) -> Table:
    header: list[str | None] | None = None
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = _header(cells, line, table)
            if header is None:
                return table
            continue
        extra = [c for c in cells[len(header):] if c.strip()]
        if extra:
            table.problems.append(Problem(line, None, f"dòng có {len(cells)} ô nhưng dòng tiêu đề chỉ có "
                                                      f"{len(header)} cột; hãy xóa ô thừa, hoặc đặt giá trị có "
                                                      "dấu phân cách trong ngoặc kép"))
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if name}
        table.records.append(Record(line, values))
    return table


def _yaml(text: str, label: str) -> Table:
    table = Table("khóa")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise UnitsFileError(label, [Problem(line, None, "tệp chứa ký tự điều khiển không được phép; hãy xóa "
                                                         "ký tự này")], "khóa") from None
    except yaml.MarkedYAMLError as exc:
        problem = _syntax_problem(exc)
        raise UnitsFileError(label, [Problem(problem.line, None, problem.message)], "khóa") from None
    except yaml.YAMLError as exc:
        raise UnitsFileError(label, [Problem(1, None, f"sai cú pháp YAML ({exc})")], "khóa") from None
    if root is None:
        raise UnitsFileError(label, [Problem(0, None, "tệp rỗng; cần một danh sách đơn vị")], "khóa")
    items = root
    if isinstance(root, yaml.MappingNode):
        found = [(k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "units"]
        others = [k for k, _ in root.value if not (isinstance(k, yaml.ScalarNode) and k.value == "units")]
        for key in others:
            table.problems.append(Problem(key.start_mark.line + 1, None, "ở đầu tệp chỉ dùng khóa units: "
                                                                         "(danh sách đơn vị)"))
        if not found:
            return table
        items = found[0][1]
    if not isinstance(items, yaml.SequenceNode):
        table.problems.append(Problem(items.start_mark.line + 1, None, "cần một danh sách đơn vị, mỗi đơn vị bắt "
                                                                       "đầu bằng dấu gạch ngang (- code: …)"))
        return table
    for item in items.value:
        record = _yaml_item(item, table)
        if record is not None:
            table.records.append(record)
    return table


def _yaml_item(item: yaml.Node, table: Table) -> Record | None:
    line = int(item.start_mark.line) + 1
    if not isinstance(item, yaml.MappingNode):
        table.problems.append(Problem(line, None, f"mỗi đơn vị cần là một bảng với các khóa {', '.join(REQUIRED)}…"))
        return None
    values: dict[str, str] = {}
    for key_node, value_node in item.value:
        key = _column_name(str(key_node.value)) if isinstance(key_node, yaml.ScalarNode) else ""
        if key not in COLUMNS:
            table.problems.append(Problem(line, key or None, f'khóa "{key}" không được hỗ trợ; các khóa được dùng: '
                                                             f"{', '.join(COLUMNS)}"))
        elif key in values:
            table.problems.append(Problem(line, key, "khóa bị lặp lại trong cùng một đơn vị"))
        elif isinstance(value_node, yaml.ScalarNode):
            values[key] = "" if value_node.tag == _NULL_TAG else str(value_node.value).strip()
        elif (key == "sections" and isinstance(value_node, yaml.SequenceNode)
              and all(isinstance(v, yaml.ScalarNode) for v in value_node.value)):
            values[key] = ";".join(str(v.value).strip() for v in value_node.value)
        else:
            table.problems.append(Problem(line, key, "cần một giá trị đơn (chuỗi hoặc số)"))
    return Record(line, values)


def read_file(path: Path) -> bytes:
    label = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        reason = "không tìm thấy tệp; hãy kiểm tra đường dẫn"
    except IsADirectoryError:
        reason = "đây là một thư mục, không phải tệp"
    except PermissionError:
        reason = "không có quyền đọc tệp"
    except OSError as exc:
        reason = f"không đọc được tệp ({os_reason(exc)})"
    raise UnitsFileError(label, [Problem(0, None, reason)])
