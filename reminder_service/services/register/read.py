"""Reading an incoming-register export (CSV or XLSX) into rows, whatever system produced it.

Document systems name their columns differently ("Nơi gửi", "Cơ quan ban hành", "Đơn vị gửi") and
often put a title block above the header ("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", the office, the period), so the
header row is found by its contents, and columns by folded synonyms.

Whatever the file holds, reading it is bounded (limits.Limits): the file is read up to its size bound,
rows are streamed (a .xlsx through xlsx.py, which checks the package first), empty rows are skipped, and
only the first rows and the register rows are kept. Anything unreadable or past a bound is a UserError
naming the file and, where there is one, the line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import chain, islice
from pathlib import Path

from reminder_service.domain.errors import UserError, os_reason
from reminder_service.domain.textfold import clean, compact
from reminder_service.services.register.dates import parse_moment, time_of_day
from reminder_service.services.register.limits import LIMITS, Limits, megabytes, thousands
from reminder_service.services.register.xlsx import Cells, xlsx_rows

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # how the message names it when it is missing
    required: bool
    synonyms: tuple[str, ...]  # compact (folded, no spaces) header texts


COLUMNS = (
    Column("incoming_no", "Số đến", False,
           ("soden", "sovanbanden", "sovbden", "sodenvanban", "sothutuden", "sodangky", "sodangkyden")),
    Column("received", "Ngày đến", True,
           ("ngayden", "ngaynhan", "ngayvanbanden", "ngayvbden", "ngaydenvanban", "ngaynhanvanban",
            "ngaythangden", "ngaythangnamden", "thoigianden", "thoigiannhan", "ngaygioden", "ngaygionhan")),
    Column("received_time", "Giờ đến", False, ("gioden", "gionhan")),
    Column("doc_no", "Số ký hiệu", False,
           ("sokyhieu", "sovakyhieu", "sokyhieuvanban", "sokyhieuvb", "sohieu", "sohieuvanban", "kyhieu",
            "sovanban", "sokyhieugoc", "sokyhieuvanbanden")),
    Column("doc_date", "Ngày văn bản", False,
           ("ngayvanban", "ngayvb", "ngaybanhanh", "ngayky", "ngaykyvanban", "ngaythangvanban",
            "ngaybanhanhvanban")),
    Column("sender", "Cơ quan ban hành (Nơi gửi)", True,
           ("coquanbanhanh", "noigui", "donvigui", "coquangui", "noibanhanh", "donvibanhanh",
            "coquanbanhanhvanban", "noiguivanban", "coquantochucbanhanh", "coquandonvigui", "noiguiden",
            "tacgia", "coquanguivanban")),
    Column("summary", "Trích yếu", True,
           ("trichyeu", "trichyeunoidung", "noidungtrichyeu", "tenloaivatrichyeunoidung", "tenloaivatrichyeu",
            "trichyeuvanban", "noidung")),
)
_BY_SYNONYM = {synonym: column.field for column in COLUMNS for synonym in column.synonyms}
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^]]*\]")
# Title blocks rarely hold two known headers in one row; a header row always does.
_HEADER_MIN = 2
_HEADER_SCAN = 40


@dataclass(frozen=True)
class RegisterRow:
    row_no: int  # line in a CSV, row in the sheet: what the person sees when they open the file
    incoming_no: str
    received_at: datetime | None
    received_text: str
    doc_no: str
    doc_date: date | None
    sender: str
    summary: str
    problems: tuple[str, ...]  # Vietnamese, for the review list


@dataclass(frozen=True)
class RegisterFile:
    name: str
    sha256: str
    header_row: int
    rows: tuple[RegisterRow, ...]


Table = list[tuple[int, list[object]]]


def header_field(text: str) -> str | None:
    """The field a header cell names, if any: "Số, ký hiệu" and "SỐ KÝ HIỆU (*)" both give doc_no."""
    return _BY_SYNONYM.get(compact(_PARENTHESES.sub(" ", text)))


def read_register(path: Path, limits: Limits = LIMITS) -> RegisterFile:
    """Every data row of the export, with its line or row number; UserError on anything unreadable or past
    ``limits``. Rows are streamed: only the first rows (to find the header) and the register rows are kept."""
    data = _read_bytes(path, limits)
    suffix = path.suffix.lower()
    table: Cells
    if suffix in XLSX_SUFFIXES:
        table = xlsx_rows(path.name, data, limits)
    elif suffix in CSV_SUFFIXES:
        table = _csv_table(path, data)
    elif suffix == ".xls":
        raise UserError(
            f"tệp {path.name} ở định dạng Excel 97–2003 (.xls), chưa đọc được; hãy mở bằng Excel hoặc "
            "LibreOffice rồi lưu lại dạng .xlsx hoặc CSV (UTF-8) và nhập lại"
        )
    else:
        raise UserError(
            f'không đọc được tệp {path.name}: chỉ hỗ trợ tệp .csv hoặc .xlsx (đuôi tệp hiện là "{path.suffix}"); '
            "hãy xuất sổ văn bản đến ra CSV hoặc Excel (.xlsx)"
        )
    with closing(table):
        head = _head(table)
        header_row, columns = _find_header(path, head)
        width = max(columns.values()) + 1
        # Past the header only its columns matter: cutting rows there makes the rest cheap to skip.
        rest = ((number, cells[:width]) for number, cells in table)
        body = chain(head, ((number, cells) for number, cells in rest if not _empty(cells)))
        rows = tuple(_bounded(path.name, _rows(body, header_row, columns), limits.rows))
    return RegisterFile(path.name, hashlib.sha256(data).hexdigest(), header_row, rows)


def _read_bytes(path: Path, limits: Limits) -> bytes:
    if path.is_dir():
        raise UserError(f"{path} là một thư mục; hãy chỉ ra tệp sổ văn bản đến (.csv hoặc .xlsx)")
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.file_bytes + 1)  # never more, whatever the file (or device) holds
            size = max(len(data), os.fstat(handle.fileno()).st_size)
    except FileNotFoundError:
        raise UserError(f"không tìm thấy tệp {path}; hãy kiểm tra lại đường dẫn") from None
    except OSError as exc:
        raise UserError(f"không đọc được tệp {path} ({os_reason(exc)})") from None
    if size > limits.file_bytes:
        raise UserError(f"tệp {path.name} quá lớn ({megabytes(size)} MB, giới hạn {megabytes(limits.file_bytes)} "
                        "MB); hãy xuất sổ văn bản đến theo từng khoảng thời gian ngắn hơn (ví dụ từng tháng) rồi "
                        "nhập từng tệp")
    if not data.strip():
        raise UserError(f"tệp {path.name} rỗng, không có dữ liệu; hãy xuất lại sổ văn bản đến từ hệ thống")
    return data


def _empty(cells: Sequence[object]) -> bool:
    return cells.count(None) + cells.count("") == len(cells)


def _trimmed(cells: Sequence[object]) -> list[object]:
    end = len(cells)
    while end and (cells[end - 1] is None or cells[end - 1] == ""):
        end -= 1
    return list(cells[:end])


def _head(table: Cells) -> Table:
    """The first rows with something in them, where the header must be."""
    head: Table = []
    for number, cells in table:
        if not _empty(cells):
            head.append((number, _trimmed(cells)))
            if len(head) == _HEADER_SCAN:
                break
    return head


def _bounded(name: str, rows: Iterable[RegisterRow], limit: int) -> Iterator[RegisterRow]:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise UserError(
                f"tệp {name}, dòng {row.row_no}: quá {thousands(limit)} dòng dữ liệu, giới hạn của một lần nhập; "
                "hãy xuất sổ văn bản đến theo từng khoảng thời gian ngắn hơn (ví dụ từng quý) rồi nhập từng tệp, "
                "hoặc xóa dữ liệu thừa ở cuối trang tính"
            )
        yield row


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise UserError(f"tệp {path.name} là tệp Excel nhưng mang đuôi {path.suffix}; hãy đổi đuôi thành .xlsx")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: Sequence[str] = ("utf-16",)  # Excel's "Unicode Text" export
    elif data.count(b"\x00") > len(data) // 10:
        # A stray NUL in a cell is dropped with the other control characters (text.clean); this many is
        # a binary file, or UTF-16 without its byte-order mark, and would be read as garbage.
        raise UserError(f"tệp {path.name} không phải tệp văn bản CSV (chứa nhiều byte NUL: có thể là tệp nhị phân "
                        "hoặc bảng mã UTF-16 không có dấu BOM); hãy mở bằng Excel rồi lưu lại dạng CSV UTF-8 "
                        "hoặc .xlsx và nhập lại")
    else:
        # Old Windows exports are in Windows-1258; almost any byte string decodes as it, so it comes last.
        encodings = ("utf-8-sig", "cp1258")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"không nhận ra bảng mã của tệp {path.name}; hãy lưu lại dạng CSV UTF-8 rồi nhập lại")


def _csv_table(path: Path, data: bytes) -> Cells:
    text = _decode(path, data)
    best: tuple[int, int, str] | None = None
    for delimiter in (",", ";", "\t"):
        sample = list(islice(_parse_csv(path, text, delimiter), _HEADER_SCAN))
        score = max((_known(cells) for _, cells in sample), default=0)
        width = max((len(cells) for _, cells in sample), default=0)
        if best is None or (score, width) > best[:2]:
            best = (score, width, delimiter)
    assert best is not None
    return _parse_csv(path, text, best[2])


def _parse_csv(path: Path, text: str, delimiter: str) -> Cells:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UserError(f"tệp {path.name}, dòng {start}: không đọc được dạng CSV ({exc})") from None


def _known(cells: Iterable[object]) -> int:
    return len({field for cell in cells if (field := header_field(_text(cell))) is not None})


def _find_header(path: Path, table: Table) -> tuple[int, dict[str, int]]:
    scanned = table[:_HEADER_SCAN]
    chosen = next(((n, cells) for n, cells in scanned if _known(cells) >= _HEADER_MIN), None)
    if chosen is None:
        # Report the most header-like row, or the first non-empty one, so the person sees what we saw.
        chosen = max(scanned, key=lambda item: (_known(item[1]), any(_text(c) for c in item[1])), default=None)
    if chosen is None:
        raise UserError(f"tệp {path.name} không có dữ liệu; hãy xuất lại sổ văn bản đến từ hệ thống")
    number, cells = chosen
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        field = header_field(_text(cell))
        if field is not None and field not in columns:
            columns[field] = index
    missing = [c.label for c in COLUMNS if c.required and c.field not in columns]
    if missing:
        seen = [f'"{t}"' for c in cells if (t := _text(c))]
        raise UserError(
            f"tệp {path.name}: không tìm thấy cột {', '.join(missing)}. Dòng tiêu đề đọc được (dòng {number}) "
            f"gồm: {', '.join(seen) or '(trống)'}. Hãy đổi tên cột cho đúng (ví dụ: Số đến, Ngày đến, Số ký hiệu, "
            "Cơ quan ban hành, Trích yếu) hoặc xuất lại sổ văn bản đến đủ các cột này"
        )
    return number, columns


def _rows(table: Iterable[tuple[int, Sequence[object]]], header_row: int, columns: dict[str, int]
          ) -> Iterable[RegisterRow]:
    for number, cells in table:
        if number <= header_row or _known(cells) >= _HEADER_MIN:
            continue  # the header itself, or the header repeated on each printed page

        def cell(field: str, cells: Sequence[object] = cells) -> object:
            index = columns.get(field)
            return cells[index] if index is not None and index < len(cells) else None

        sender, summary, received_raw = _text(cell("sender")), _text(cell("summary")), cell("received")
        received_text = _text(received_raw)
        if not (sender or summary or received_text):
            continue  # blank lines, totals and signature blocks under the table
        problems: list[str] = []
        received = parse_moment(received_raw)
        if received is not None and (clock := time_of_day(cell("received_time"))) is not None:
            received = datetime.combine(received.date(), clock)
        if received is None:
            problems.append(f'Ngày đến "{received_text}" không đọc được' if received_text else "thiếu Ngày đến")
        if not sender:
            problems.append("thiếu Cơ quan ban hành (Nơi gửi)")
        doc_date = parse_moment(cell("doc_date"))
        yield RegisterRow(
            row_no=number, incoming_no=_text(cell("incoming_no")), received_at=received,
            received_text=received_text, doc_no=_text(cell("doc_no")),
            doc_date=doc_date.date() if doc_date else None, sender=sender, summary=summary,
            problems=tuple(problems),
        )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != time() else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # "Số đến" 12 comes back from Excel as 12.0
    return clean(str(value))
