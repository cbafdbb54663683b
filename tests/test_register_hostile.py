"""Register files an attacker or a bad day produces: read in bounded memory, or refused with a Vietnamese
message that names the file and says what to do — never another exception, never unbounded memory.

The bounds (reminder_service.services.register.limits) are tested with their real values where a real file is cheap
to make (a 25 MB file, a 50 MB part inflated from a few KB, a stray cell at XFD1048576) and with small ones
where it is not (the total inflated size, the number of rows and parts).
"""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminder_service.domain.errors import UserError
from reminder_service.services.register.limits import LIMITS, Limits
from reminder_service.services.register.read import RegisterFile, read_register
from tests.registers import ROWS, SHEET, STRINGS, member, package, repack, zipped

MiB = 1024 * 1024
GOOD = package()
GOOD_SHEET = member(GOOD, SHEET)
LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
    + "]>"
)


WIDE = "".join(f"<c><v>{n}</v></c>" for n in range(70_000)).encode()


def _with_doctype(xml: bytes, doctype: str) -> bytes:
    declaration, _, rest = xml.partition(b"\n")
    return declaration + b"\n" + doctype.encode() + rest


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _refusal(path: Path, limits: Limits = LIMITS) -> str:
    with pytest.raises(UserError) as caught:
        read_register(path, limits)
    return str(caught.value)


def test_a_genuine_export_reads_with_its_title_block_and_shared_strings(tmp_path: Path) -> None:
    register = read_register(_write(tmp_path, "so-den.xlsx", GOOD))
    assert register.header_row == 4
    assert [(r.row_no, r.incoming_no, r.sender) for r in register.rows] == [
        (5, "112", "UBND xã An Bình"), (6, "118", "UBND TT Phú Lộc"), (7, "121", "UBND xã Tân Lập")]
    assert register.rows[0].received_at is not None and register.rows[0].received_at.day == 12


def test_a_stray_cell_at_xfd1048576_is_ignored_and_the_sheet_read_in_bounded_memory(tmp_path: Path) -> None:
    # The 5 KB file: the sheet declares A1:XFD1048576 and holds one cell there. Read whole, it took
    # 55 s and 2.7 GB before a MemoryError.
    data = package(dimension="A1:XFD1048576",
                   extra='<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    path = _write(tmp_path, "o-le.xlsx", data)
    assert path.stat().st_size < 5000
    tracemalloc.start()
    try:
        register = read_register(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.incoming_no for r in register.rows] == [str(row[1]) for row in ROWS]
    assert peak < 64 * MiB, f"peak {peak / MiB:.0f} MiB"


HOSTILE: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "billion laughs in the sheet": (
        lambda: repack(GOOD, {SHEET: _with_doctype(GOOD_SHEET, LAUGHS).replace(b"<v>112</v>", b"<v>&lol9;</v>")}),
        ("khai báo DTD", SHEET, "có thể là tệp độc hại", "hãy xuất lại sổ văn bản đến")),
    "external entity in the content types": (
        lambda: repack(GOOD, {"[Content_Types].xml": _with_doctype(
            member(GOOD, "[Content_Types].xml"), '<!DOCTYPE Types [<!ENTITY x SYSTEM "file:///etc/passwd">]>')}),
        ("khai báo DTD", "[Content_Types].xml")),
    "truncated sheet XML": (
        lambda: repack(GOOD, {SHEET: GOOD_SHEET[: len(GOOD_SHEET) // 2]}),
        ("tệp hỏng hoặc không phải định dạng .xlsx", SHEET, "lưu lại dạng .xlsx")),
    "truncated shared strings": (
        lambda: repack(GOOD, {STRINGS: member(GOOD, STRINGS)[:-40]}),
        ("tệp hỏng hoặc không phải định dạng .xlsx", STRINGS)),
    "truncated file": (lambda: GOOD[: len(GOOD) * 2 // 3], ("tệp hỏng hoặc không phải định dạng .xlsx",)),
    "a zip of a CSV": (
        lambda: zipped({"so-den.csv": "Số đến,Ngày đến\n1,12/03/2021\n".encode()}),
        ("không có phần [Content_Types].xml",)),
    "zip bomb": (
        # 50 MB of the sheet inflated from about 50 KB: under the 100 MB total, far over the 100:1 ratio.
        lambda: repack(GOOD, {SHEET: GOOD_SHEET.replace(b"<sheetData>", b"<sheetData>" + b" " * (50 * MiB))}),
        ("tỉ lệ nén bất thường", SHEET, "zip bomb")),
    "password-protected workbook": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088), ("đặt mật khẩu", "Excel 97–2003")),
    "a row of 70,000 cells": (
        lambda: repack(GOOD, {SHEET: GOOD_SHEET.replace(
            b"</sheetData>", b'<row r="9">' + WIDE + b"</row></sheetData>")}),
        ("vượt giới hạn đọc", SHEET, "xóa các dòng, cột thừa")),
    "a workbook without a sheet": (
        lambda: repack(GOOD, {"xl/workbook.xml": member(GOOD, "xl/workbook.xml").replace(
            b'<sheet name="So den" sheetId="1" r:id="rId1"/>', b"")}),
        ("không có trang tính nào",)),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_xlsx_is_refused_with_a_message_that_names_the_file(tmp_path: Path, case: str) -> None:
    build, expected = HOSTILE[case]
    message = _refusal(_write(tmp_path, "so-den.xlsx", build()))
    assert "so-den.xlsx" in message
    for words in expected:
        assert words in message, message


@pytest.mark.parametrize("name", ["so-den.xlsx", "so-den.csv"])
def test_a_file_over_20_mb_is_refused_before_it_is_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with path.open("wb") as handle:
        handle.truncate(25 * MiB + 300 * 1024)  # sparse: 25 MB to the reader, nothing on the disk
    message = _refusal(path)
    assert f"tệp {name} quá lớn (25,3 MB, giới hạn 20 MB)" in message
    assert "hãy xuất sổ văn bản đến theo từng khoảng thời gian ngắn hơn" in message


def test_the_inflated_size_of_all_parts_is_bounded(tmp_path: Path) -> None:
    path = _write(tmp_path, "so-den.xlsx", GOOD)
    limit = Limits(unpacked_bytes=4096)
    message = _refusal(path, limit)
    assert "tệp Excel so-den.xlsx quá lớn khi giải nén" in message
    assert isinstance(read_register(path, Limits(unpacked_bytes=len(GOOD) * 20)), RegisterFile)


def test_a_package_of_too_many_parts_is_refused(tmp_path: Path) -> None:
    data = repack(GOOD, {f"xl/media/image{n}.png": b"\x89PNG" for n in range(10)})
    message = _refusal(_write(tmp_path, "so-den.xlsx", data), Limits(members=12))
    assert "có 17 phần (giới hạn 12)" in message


def test_parts_built_as_trees_are_bounded_rows_and_strings_are_not(tmp_path: Path) -> None:
    # styles.xml (15 elements) becomes a tree; the sheet's 7 rows and the 17 shared strings are streamed,
    # so only their few elements outside any row or string count.
    path = _write(tmp_path, "so-den.xlsx", GOOD)
    assert "phần xl/styles.xml có hơn 14 phần tử, vượt giới hạn đọc" in _refusal(path, Limits(tree_elements=14))
    assert len(read_register(path, Limits(tree_elements=15)).rows) == 3
    assert "tệp có hơn 100 phần tử XML (tính đến phần xl/worksheets/sheet1.xml)" in _refusal(
        path, Limits(package_elements=100))


@pytest.mark.parametrize("name", ["so-den.xlsx", "so-den.csv"])
def test_rows_past_the_bound_are_refused_naming_the_first_one(tmp_path: Path, name: str) -> None:
    if name.endswith(".xlsx"):
        path = _write(tmp_path, name, GOOD)
        beyond = 7  # the third data row, under the title block and the header
    else:
        lines = ["Số đến,Ngày đến,Cơ quan ban hành,Trích yếu"]
        lines += [f"{n},12/03/2021,UBND xã An Bình,Báo cáo CCHC quý I năm 2021" for n in range(1, 4)]
        path = _write(tmp_path, name, "\n".join(lines).encode())
        beyond = 4
    message = _refusal(path, Limits(rows=2))
    assert f"tệp {name}, dòng {beyond}: quá 2 dòng dữ liệu" in message
    assert len(read_register(path, Limits(rows=3)).rows) == 3


def test_empty_rows_and_columns_after_the_table_are_not_counted(tmp_path: Path) -> None:
    # A template formatted down to row 60,000 and across to column Z: empty styled cells, nothing else.
    blank = "".join(f'<row r="{n}"><c r="Z{n}" s="1"/></row>' for n in range(8, 60_001))
    path = _write(tmp_path, "so-den.xlsx", package(dimension="A1:Z60000", extra=blank))
    assert len(read_register(path, Limits(rows=3)).rows) == 3


def test_a_csv_with_stray_nul_bytes_is_read_without_them(tmp_path: Path) -> None:
    text = "Số đến,Ngày đến,Cơ quan ban hành,Trích yếu\n1,12/03/2021,UBND xã An\x00 Bình\x00,Báo cáo CCHC quý I\n"
    register = read_register(_write(tmp_path, "so-den.csv", text.encode()))
    assert register.rows[0].sender == "UBND xã An Bình"


def test_a_csv_that_is_mostly_nul_bytes_is_refused(tmp_path: Path) -> None:
    data = "Số đến,Ngày đến,Cơ quan ban hành,Trích yếu\n".encode() + bytes(3000) + b"1,2,3,4\n"
    message = _refusal(_write(tmp_path, "so-den.csv", data))
    assert "tệp so-den.csv không phải tệp văn bản CSV" in message and "byte NUL" in message


# -- fuzzing ------------------------------------------------------------------------------------------

PART_NAMES = sorted(zipfile.ZipFile(io.BytesIO(GOOD)).namelist())
INSERTS = [LAUGHS.encode(), b"<!DOCTYPE x>", b'<!ENTITY e SYSTEM "/etc/passwd">', b"&e;", b"<", b"]]>", b"\x00",
           b"\xff\xfe", b'<row r="1048576"><c r="XFD1"><v>1</v></c></row>', b"</sheetData>", b"<c r=\"A0\">"]


def _read_or_refuse(data: bytes) -> None:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-{os.getpid()}.xlsx"
    path.write_bytes(data)
    try:
        read_register(path)
    except UserError as exc:
        assert "fuzz-" in str(exc)
    finally:
        path.unlink()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, len(GOOD)), flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)),
                                                      max_size=6))
def test_fuzz_truncated_and_byte_flipped_packages(cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for position, value in flips:
        data[position] = value
    _read_or_refuse(bytes(data[:cut] if cut else data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(part=st.sampled_from(PART_NAMES), cut=st.integers(0, 4000), insert=st.sampled_from([b"", *INSERTS]),
       at=st.integers(0, 4000), garble=st.binary(max_size=8))
def test_fuzz_garbled_xml_parts(part: str, cut: int, insert: bytes, at: int, garble: bytes) -> None:
    xml = member(GOOD, part)
    at = min(at, len(xml))
    changed = xml[:at] + insert + garble + xml[at:]
    if cut:
        changed = changed[: len(changed) - min(cut, len(changed))]
    _read_or_refuse(repack(GOOD, {part: changed}))
