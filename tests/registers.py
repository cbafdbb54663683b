"""Register exports as files, built the way document systems write them, for the hostile-file tests.

``package`` writes an .xlsx part by part as Excel does (shared strings, a styles part with a date format,
the title block above the header), so a test can break exactly one part: truncate the sheet, give it a
DTD, inflate it. ``repack`` rebuilds a package with some parts replaced.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TITLE = ["ỦY BAN NHÂN DÂN HUYỆN SÔNG LAM", "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"]
HEADER = ["STT", "Số đến", "Ngày đến", "Số, ký hiệu", "Cơ quan ban hành", "Trích yếu"]
# An Excel serial day (12/03/2021 is 44267) in a cell styled as a date, as Excel stores "Ngày đến".
Row = Sequence[str | int]
ROWS: list[Row] = [
    [1, 112, 44267, "45/BC-UBND", "UBND xã An Bình", "Báo cáo kết quả CCHC quý I năm 2021"],
    [2, 118, 44271, "21/BC-UBND", "UBND TT Phú Lộc", "Báo cáo tình hình thực hiện công tác CCHC Quý I/2021"],
    [3, 121, 44272, "102/GM-UBND", "UBND xã Tân Lập", "Giấy mời dự hội nghị tổng kết công tác năm"],
]
DATE_COLUMN = 2  # zero-based: "Ngày đến"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
    '<sheets><sheet name="So den" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    f'<Relationship Id="rId3" Type="{DOC_RELS}/styles" Target="styles.xml"/></Relationships>'
)
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Times New Roman"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    "</styleSheet>"
)


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_xml(rows: Sequence[Row], strings: list[str], dimension: str = "A1:F7", extra: str = "") -> str:
    """The sheet part; text goes to ``strings`` (the shared-string table) as Excel does."""
    out = []
    lines = [[t] for t in TITLE] + [[], list(HEADER), *rows]
    for number, cells in enumerate(lines, start=1):
        parts = []
        for index, value in enumerate(cells):
            ref = f"{_column(index)}{number}"
            if isinstance(value, int):
                style = ' s="1"' if number > len(TITLE) + 2 and index == DATE_COLUMN else ""
                parts.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
            else:
                strings.append(value)
                parts.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        out.append(f'<row r="{number}">{"".join(parts)}</row>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">'
            f'<dimension ref="{dimension}"/><sheetData>{"".join(out)}{extra}</sheetData></worksheet>')


def strings_xml(strings: Sequence[str]) -> str:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>')


def parts(rows: Sequence[Row] = ROWS, dimension: str = "A1:F7", extra: str = "") -> dict[str, bytes]:
    strings: list[str] = []
    sheet = sheet_xml(rows, strings, dimension, extra)
    return {
        "[Content_Types].xml": CONTENT_TYPES.encode(), "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": WORKBOOK.encode(), "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.encode(),
        "xl/styles.xml": STYLES.encode(), STRINGS: strings_xml(strings).encode(), SHEET: sheet.encode(),
    }


def zipped(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def package(rows: Sequence[Row] = ROWS, dimension: str = "A1:F7", extra: str = "") -> bytes:
    """A genuine .xlsx register export."""
    return zipped(parts(rows, dimension, extra))


def repack(data: bytes, changes: Mapping[str, bytes | None]) -> bytes:
    """``data`` with parts replaced or added (``None`` drops one)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name, value in changes.items():
        if value is None:
            members.pop(name, None)
        else:
            members[name] = value
    return zipped(members)


def bomb(data: bytes, part: str, after: bytes, size: int) -> bytes:
    """``data`` with ``size`` spaces inside ``part`` after ``after``, written in chunks: a zip bomb built
    without holding it inflated."""
    buffer = io.BytesIO()
    chunk = b" " * (1024 * 1024)
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name != part:
                target.writestr(name, content)
                continue
            head, found, tail = content.partition(after)
            assert found, f"{after!r} is not in {part}"
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(info, "w", force_zip64=True) as sink:
                sink.write(head + after)
                for start in range(0, size, len(chunk)):
                    sink.write(chunk[: min(len(chunk), size - start)])
                sink.write(tail)
    return buffer.getvalue()


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)
