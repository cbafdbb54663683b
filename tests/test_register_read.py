"""Reading incoming-register exports: encodings, delimiters, header variants, title blocks, bad files."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from reminder_service.domain.errors import UserError
from reminder_service.services.register.dates import parse_moment
from reminder_service.services.register.read import header_field, read_register

HEADER = ["STT", "Số đến", "Ngày đến", "Số ký hiệu", "Ngày văn bản", "Cơ quan ban hành", "Trích yếu"]
ROWS = [
    ["1", "12", "12/03/2021", "45/BC-UBND", "11/03/2021", "UBND xã An Bình", "Báo cáo kết quả CCHC quý I năm 2021"],
    ["2", "13", "12/03/2021 14:30", "", "", "UBND TT Phú Lộc", "Giấy mời họp giao ban"],
]


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    def cell(value: str) -> str:
        return f'"{value}"' if any(c in value for c in f'{delimiter}"\n') else value

    return "\r\n".join(delimiter.join(cell(v) for v in row) for row in rows) + "\r\n"


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letters precomposed, tone marks combining."""
    out = []
    for char in text:
        try:
            char.encode("cp1258")
            out.append(char)
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tones = "".join(c for c in parts if c in TONE_MARKS)
            out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS)) + tones)
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-8", "\t"), ("cp1258", ","), ("utf-16", "\t")],
)
def test_csv_in_common_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    text = _csv([HEADER, *ROWS], delimiter)
    path = tmp_path / "so-den.csv"
    path.write_bytes(_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    register = read_register(path)
    assert register.header_row == 1
    assert [r.row_no for r in register.rows] == [2, 3]
    first, second = register.rows
    assert first.sender == "UBND xã An Bình"
    assert first.summary == "Báo cáo kết quả CCHC quý I năm 2021"
    assert first.incoming_no == "12" and first.doc_no == "45/BC-UBND"
    assert first.received_at == datetime(2021, 3, 12)
    assert first.doc_date == date(2021, 3, 11)
    assert second.received_at == datetime(2021, 3, 12, 14, 30)
    assert first.problems == second.problems == ()
    assert len(register.sha256) == 64


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Số đến", "incoming_no"), ("SỐ ĐẾN", "incoming_no"), ("Số văn bản đến", "incoming_no"),
        ("Ngày đến", "received"), ("Ngày đến (dd/mm/yyyy)", "received"), ("ngay nhan", "received"),
        ("Số ký hiệu", "doc_no"), ("Số, ký hiệu", "doc_no"), ("Số hiệu văn bản", "doc_no"),
        ("Số và ký hiệu", "doc_no"), ("Ngày văn bản", "doc_date"), ("Ngày ban hành", "doc_date"),
        ("Cơ quan ban hành", "sender"), ("Nơi gửi", "sender"), ("Đơn vị gửi", "sender"),
        ("Cơ quan, tổ chức ban hành", "sender"), ("Trích yếu", "summary"), ("Trích yếu nội dung", "summary"),
        ("Tên loại và trích yếu nội dung", "summary"), ("TRÍCH YẾU (*)", "summary"),
        ("STT", None), ("Người nhận", None), ("Ghi chú", None),
    ],
)
def test_header_names_match_loosely(header: str, field: str | None) -> None:
    assert header_field(header) == field


def test_csv_header_variants_and_a_quoted_multiline_cell(tmp_path: Path) -> None:
    rows = [
        ["Số văn bản đến", "Ngày nhận", "Số, ký hiệu", "Nơi gửi", "Trích yếu nội dung"],
        ["5", "2021-06-11", "30/BC-VHTT", "P. Văn hóa - Thông tin", "Báo cáo CCHC\n6 tháng đầu năm 2021"],
        ["", "", "", "", ""],
        ["6", "14/6/2021", "31/BC", "UBND xã An Bình", "Báo cáo CCHC 6 tháng đầu năm 2021"],
        ["Số văn bản đến", "Ngày nhận", "Số, ký hiệu", "Nơi gửi", "Trích yếu nội dung"],  # page header again
        ["", "", "", "", "Tổng cộng: 2 văn bản"],
    ]
    path = tmp_path / "register.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    register = read_register(path)
    assert [(r.row_no, r.incoming_no) for r in register.rows] == [(2, "5"), (5, "6"), (7, "")]
    assert register.rows[0].summary == "Báo cáo CCHC 6 tháng đầu năm 2021"
    assert register.rows[1].received_at == datetime(2021, 6, 14)
    assert register.rows[2].problems == ("thiếu Ngày đến", "thiếu Cơ quan ban hành (Nơi gửi)")


def test_a_separate_time_column_is_joined_to_the_date(tmp_path: Path) -> None:
    path = tmp_path / "gio.csv"
    path.write_text("Ngày đến,Giờ đến,Nơi gửi,Trích yếu\n12/03/2021,14h05,UBND xã An Bình,Báo cáo CCHC quý I\n",
                    encoding="utf-8")
    assert read_register(path).rows[0].received_at == datetime(2021, 3, 12, 14, 5)


def test_xlsx_with_a_title_block_and_excel_dates(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["ỦY BAN NHÂN DÂN HUYỆN SÔNG LAM"])
    sheet.append(["SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"])
    sheet.append(["Từ ngày 01/01/2021 đến ngày 31/03/2021"])
    sheet.append([])
    sheet.append(["STT", "Số đến", "Ngày đến", "Số, ký hiệu", "Ngày văn bản", "Đơn vị gửi", "Trích yếu"])
    sheet.append([1, 12, datetime(2021, 3, 12, 9, 15), "45/BC-UBND", date(2021, 3, 11), "UBND xã An Bình",
                  "Báo cáo CCHC quý I/2021"])
    sheet.append([2, 13.0, 44267, "46/BC", None, "UBND TT Phú Lộc", "Báo cáo CCHC quý I/2021"])
    sheet.append([3, 14, "31/02/2021", "47/BC", None, "Phòng Nội vụ", "Báo cáo CCHC quý I/2021"])
    sheet.merge_cells("A1:G1")
    path = tmp_path / "so-den.xlsx"
    workbook.save(path)
    register = read_register(path)
    assert register.header_row == 5
    first, second, third = register.rows
    assert (first.row_no, first.incoming_no, first.received_at) == (6, "12", datetime(2021, 3, 12, 9, 15))
    assert first.doc_date == date(2021, 3, 11)
    assert (second.incoming_no, second.received_at) == ("13", datetime(2021, 3, 12))
    assert third.received_at is None
    assert third.problems == ('Ngày đến "31/02/2021" không đọc được',)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12/03/2021", datetime(2021, 3, 12)),
        ("2/3/2021", datetime(2021, 3, 2)),
        ("02-03-2021", datetime(2021, 3, 2)),
        ("02.03.21", datetime(2021, 3, 2)),
        ("2021-03-12", datetime(2021, 3, 12)),
        ("2021-03-12T14:30", datetime(2021, 3, 12, 14, 30)),
        ("12/03/2021 14:30:05", datetime(2021, 3, 12, 14, 30, 5)),
        ("14h30 12/03/2021", datetime(2021, 3, 12, 14, 30)),
        (datetime(2021, 3, 12, 8, 0), datetime(2021, 3, 12, 8, 0)),
        (date(2021, 3, 12), datetime(2021, 3, 12)),
        (44267, datetime(2021, 3, 12)),
        ("44267", datetime(2021, 3, 12)),
        ("31/02/2021", None),
        ("12/03/2021 25:00", None),
        ("hôm qua", None),
        (12, None),
        (True, None),
        (None, None),
    ],
)
def test_dates_in_the_forms_registers_use(value: object, expected: datetime | None) -> None:
    assert parse_moment(value) == expected


def test_missing_required_column_is_named_with_the_headers_seen(tmp_path: Path) -> None:
    path = tmp_path / "thieu-cot.csv"
    path.write_text("Số đến,Ngày đến,Số ký hiệu,Trích yếu\n1,12/03/2021,45/BC,Báo cáo CCHC quý I\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        read_register(path)
    message = str(caught.value)
    assert "không tìm thấy cột Cơ quan ban hành (Nơi gửi)" in message
    assert '"Số đến", "Ngày đến", "Số ký hiệu", "Trích yếu"' in message
    assert "dòng 1" in message


def test_no_header_at_all_names_every_required_column(tmp_path: Path) -> None:
    path = tmp_path / "lung-tung.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"không tìm thấy cột Ngày đến, Cơ quan ban hành .*, Trích yếu"):
        read_register(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("khong-co.csv", None, "không tìm thấy tệp"),
        ("rong.csv", b"", "rỗng"),
        ("trang.xlsx", b"   \n", "rỗng"),
        ("cu.xls", b"\xd0\xcf\x11\xe0 old excel", "Excel 97–2003 (.xls)"),
        ("so-den.pdf", b"%PDF-1.4", 'chỉ hỗ trợ tệp .csv hoặc .xlsx (đuôi tệp hiện là ".pdf")'),
        ("hong.xlsx", b"PK\x03\x04 this is not really a workbook", "tệp hỏng hoặc không phải định dạng .xlsx"),
        ("gia.xlsx", b"STT,Ngay den\n1,2\n", "tệp hỏng hoặc không phải định dạng .xlsx"),
    ],
)
def test_unreadable_files_are_explained(tmp_path: Path, name: str, content: bytes | None, expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError) as caught:
        read_register(path)
    assert expected in str(caught.value)


def test_an_excel_file_saved_as_csv_is_recognised(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    source = tmp_path / "real.xlsx"
    workbook.save(source)
    path = tmp_path / "so-den.csv"
    path.write_bytes(source.read_bytes())
    with pytest.raises(UserError, match=r"hãy đổi đuôi thành \.xlsx"):
        read_register(path)


def test_a_directory_is_not_a_register(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="là một thư mục"):
        read_register(tmp_path)
