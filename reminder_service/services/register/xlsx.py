"""The first sheet of an .xlsx register, read in bounded memory and time whatever the file holds.

openpyxl trusts the package it is given: a part inflates to whatever its data says, the XML parser expands
a DTD's entities, the parts it parses whole (workbook, styles, relationships) become trees of any size,
and a sheet's ``<dimension>`` (A1:XFD1048576 in a 5 KB file) makes it pad every row to that width. So,
before openpyxl sees the file, the package is checked with zipfile and one streaming expat pass over
each part openpyxl will read: sizes and compression ratio, no DTD (Office Open XML forbids them, so a
genuine file never has one), well-formed XML, and element counts that keep what openpyxl builds small.
The sheet is then streamed (read-only mode) with its dimension ignored and rows cut at SHEET_WIDTH.
Whatever still goes wrong inside openpyxl is a broken file: a UserError naming it, never a traceback.
"""

from __future__ import annotations

import io
import posixpath
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from xml.parsers import expat

from reminder_service.domain.errors import UserError
from reminder_service.services.register.limits import MIB, Limits, megabytes, thousands

# Columns read from each row. A register has about ten; 256 was Excel 97–2003's limit, so an export
# made for either never goes further. Cells beyond (a stray one at XFD) are ignored.
SHEET_WIDTH = 256
# Rows taken from openpyxl under one warnings filter: its per-row warnings (unsupported extensions, a
# date out of range) say nothing to the person importing.
_BATCH = 1_000
_CHUNK = 64 * 1024
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97–2003, and any password-protected workbook
CONTENT_TYPES = "[Content_Types].xml"
_STREAMED_TYPES = ("spreadsheetml.worksheet+xml", "spreadsheetml.sharedStrings+xml")
# Relationships whose targets openpyxl (read-only, without external links) parses; it never reads the
# others (images, VML, printer settings, pivot caches) as XML.
_STREAMED_RELATIONS = ("/worksheet", "/sharedStrings")
_TREE_RELATIONS = ("/officeDocument", "/chartsheet", "/drawing", "/chart", "/styles", "/core-properties",
                   "/custom-properties")
# Parts openpyxl reads by name.
_TREE_PARTS = ("xl/workbook.xml", "xl/styles.xml", "docProps/core.xml", "docProps/custom.xml")
_UNITS = ("row", "si")  # what openpyxl clears as it streams a sheet or the shared strings
_FIX = "hãy mở tệp bằng Excel hoặc LibreOffice, lưu lại dạng .xlsx (hoặc xuất CSV) rồi nhập lại"
_REEXPORT = "hãy xuất lại sổ văn bản đến từ phần mềm quản lý văn bản rồi nhập lại"
_SPLIT = ("hãy xuất sổ văn bản đến theo từng khoảng thời gian ngắn hơn (ví dụ từng tháng) "
          "rồi nhập từng tệp")


# A sheet's rows as they come: (row or line number, cells).
Cells = Generator[tuple[int, Sequence[object]], None, None]


class _Refused(Exception):
    """A part breaks a rule: the Vietnamese reason."""


class _Broken(Exception):
    """A part that cannot be read: cut short, not XML, a bad checksum."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


def broken(name: str, detail: str = "") -> UserError:
    where = f" ({detail})" if detail else ""
    return UserError(f"không đọc được tệp Excel {name}: tệp hỏng hoặc không phải định dạng .xlsx{where}; {_FIX}")


def xlsx_rows(name: str, data: bytes, limits: Limits) -> Cells:
    """Each row of the first sheet with its number in the sheet, SHEET_WIDTH cells; UserError if the file
    breaks a bound or cannot be read."""
    check_package(name, data, limits)
    return _sheet_rows(name, data)


def check_package(name: str, data: bytes, limits: Limits) -> None:
    if data.startswith(_OLE):
        raise UserError(f"tệp {name} mang đuôi .xlsx nhưng là tệp Excel 97–2003 hoặc tệp Excel đã đặt mật khẩu; "
                        "hãy mở bằng Excel, bỏ mật khẩu nếu có, lưu lại dạng .xlsx rồi nhập lại")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_members(name, archive.infolist(), limits)
            _check_parts(archive, limits)
    except _Refused as refusal:
        raise UserError(f"tệp Excel {name} bị từ chối: {refusal}") from None
    except _Broken as exc:
        raise broken(name, f"phần {exc.part} bị cắt cụt hoặc sai cấu trúc") from None
    except UserError:
        raise
    except Exception:  # zipfile's view of a damaged archive: BadZipFile, but also OSError, ValueError…
        raise broken(name) from None


def _check_members(name: str, members: Sequence[zipfile.ZipInfo], limits: Limits) -> None:
    if len(members) > limits.members:
        raise UserError(f"tệp Excel {name} có {thousands(len(members))} phần (giới hạn {thousands(limits.members)}): "
                        f"không phải một bản xuất sổ văn bản đến thông thường; {_REEXPORT}")
    unpacked = sum(info.file_size for info in members)
    if unpacked > limits.unpacked_bytes:
        raise UserError(f"tệp Excel {name} quá lớn khi giải nén ({megabytes(unpacked)} MB, giới hạn "
                        f"{megabytes(limits.unpacked_bytes)} MB); {_SPLIT}")
    for info in members:
        # zipfile stops inflating a part at its declared size, so the declared sizes bound the work.
        if info.file_size > MIB and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _Refused(f"phần {info.filename} có tỉ lệ nén bất thường ({thousands(ratio)}:1, giới hạn "
                           f"{limits.ratio}:1), dấu hiệu của tệp độc hại (zip bomb); {_REEXPORT}")
    if CONTENT_TYPES not in {info.filename for info in members}:
        raise broken(name, f"tệp nén không có phần {CONTENT_TYPES} của một tệp Excel")


@dataclass
class _Map:
    """Which parts openpyxl will read, and how: streamed (sheets, shared strings) or as one tree."""

    streamed: set[str] = field(default_factory=set)
    tree: set[str] = field(default_factory=lambda: set(_TREE_PARTS))

    def content_type(self, attributes: Mapping[str, str]) -> None:
        part, kind = attributes.get("PartName", "").lstrip("/"), attributes.get("ContentType", "")
        if kind.endswith(_STREAMED_TYPES):
            self.streamed.add(part)
        elif kind.endswith(".main+xml"):  # the workbook, found by its content type
            self.tree.add(part)

    def relationship(self, source: str, attributes: Mapping[str, str]) -> None:
        if attributes.get("TargetMode") == "External":
            return
        kind, target = attributes.get("Type", ""), attributes.get("Target", "")
        # Resolved as openpyxl resolves it (packaging.relationship.get_dependents).
        if target.startswith("/"):
            target = target[1:]
        else:
            target = posixpath.normpath(posixpath.join(posixpath.split(posixpath.dirname(source))[0], target))
        if kind.endswith(_STREAMED_RELATIONS):
            self.streamed.add(target)
        elif kind.endswith(_TREE_RELATIONS):
            self.tree.add(target)


def _check_parts(archive: zipfile.ZipFile, limits: Limits) -> None:
    names = set(archive.namelist())
    parts = _Map()
    counter = _Counter(limits)
    counter.scan(archive, CONTENT_TYPES, streamed=False, visit=_collect("Override", parts.content_type))
    for rels in sorted(n for n in names if n.endswith(".rels")):
        counter.scan(archive, rels, streamed=False, visit=_collect("Relationship", partial(parts.relationship, rels)))
    for part in sorted((parts.tree | parts.streamed) & names):
        counter.scan(archive, part, streamed=part not in parts.tree)


def _collect(element: str, keep: Callable[[Mapping[str, str]], None]) -> Callable[[str, Mapping[str, str]], None]:
    def visit(local: str, attributes: Mapping[str, str]) -> None:
        if local == element:
            keep(attributes)

    return visit


class _Counter:
    """Streams parts through expat, counting their elements, and refuses a DTD at its first character.

    In a streamed part, what is inside one row (or shared string) is counted apart: openpyxl drops it
    once the row ends. Everything else is what openpyxl keeps, or builds as a tree."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0  # the whole package: bounds the time the checks and openpyxl can take
        self.part = ""
        self.streamed = False
        self.visit: Callable[[str, Mapping[str, str]], None] | None = None
        self.depth = self.unit_depth = self.outside = self.inside = self.units = 0

    def scan(self, archive: zipfile.ZipFile, part: str, streamed: bool,
             visit: Callable[[str, Mapping[str, str]], None] | None = None) -> None:
        self.part, self.streamed, self.visit = part, streamed, visit
        self.depth = self.unit_depth = self.outside = self.inside = self.units = 0
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.doctype
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        try:
            with archive.open(part) as source:
                while chunk := source.read(_CHUNK):
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Refused:
            raise
        except Exception:  # ExpatError, a bad CRC, a damaged deflate stream
            raise _Broken(part) from None

    def doctype(self, *_: object) -> None:
        raise _Refused(f"phần {self.part} chứa khai báo DTD (thực thể XML), điều tệp Excel thật không bao giờ "
                       f"có: có thể là tệp độc hại; {_REEXPORT}")

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        self.total += 1
        local = name.rpartition(":")[2]
        if self.unit_depth:
            self.inside += 1
            self._bound(self.inside, self.limits.unit_elements, "phần tử trong một dòng")
        elif self.streamed and local in _UNITS:
            self.unit_depth, self.inside = self.depth, 0
            self.units += 1
            self._bound(self.units, self.limits.units, "dòng")
        else:
            self.outside += 1
            self._bound(self.outside, self.limits.tree_elements, "phần tử")
        if self.total > self.limits.package_elements:
            raise _Refused(f"tệp có hơn {thousands(self.limits.package_elements)} phần tử XML (tính đến phần "
                           f"{self.part}), vượt giới hạn đọc; {_SPLIT}")
        if self.visit is not None:
            self.visit(local, attributes)

    def end(self, _name: str) -> None:
        if self.depth == self.unit_depth:
            self.unit_depth = 0
        self.depth -= 1

    def _bound(self, count: int, limit: int, what: str) -> None:
        if count > limit:
            raise _Refused(f"phần {self.part} có hơn {thousands(limit)} {what}, vượt giới hạn đọc; hãy mở tệp bằng "
                           "Excel hoặc LibreOffice, xóa các dòng, cột thừa, lưu lại dạng .xlsx (hoặc xuất CSV) "
                           "rồi nhập lại")


def _sheet_rows(name: str, data: bytes) -> Cells:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # exports often lack styles; openpyxl says so and copes
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # the package passed the checks, yet openpyxl finds it inconsistent
        raise broken(name) from None
    try:
        if not workbook.worksheets:
            raise UserError(f"tệp Excel {name} không có trang tính nào; hãy xuất lại sổ văn bản đến ra .xlsx "
                            "hoặc CSV rồi nhập lại")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = enumerate(sheet.iter_rows(max_col=SHEET_WIDTH, values_only=True), start=1)
        yield from _batched(name, rows)
    finally:
        workbook.close()


def _batched(name: str, rows: Iterator[tuple[int, Sequence[object]]]) -> Iterable[tuple[int, Sequence[object]]]:
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                batch = list(islice(rows, _BATCH))
            except Exception:
                raise broken(name) from None
        if not batch:
            return
        # The rows openpyxl makes up for a gap (a million of them before a cell at row 1048576) are
        # dropped here, before anything else spends time on them.
        yield from (item for item in batch if item[1].count(None) != len(item[1]))
