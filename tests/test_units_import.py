"""`units import` and `units list`: CSV and YAML, idempotence, deactivation, and every refusal."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select

from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import AuditEntry, Obligation, Person, Unit
from reminder_service.services.registry import UnitRow, apply_units, parse_units
from tests.conftest import Cli

HEADER = "code,name,kind,head_name,head_email,head_telegram,focal_name,focal_email,focal_telegram,sections"
AN_BINH = "XA_AN_BINH,UBND xã An Bình,commune,Nguyễn Văn An,an.nv@anbinh.gov.vn,123456789,Lê Thị Cúc,,,"
PHU_LOC = "TT_PHU_LOC,UBND thị trấn Phú Lộc,commune,,,,,,,"
VHTT = "VHTT,Phòng Văn hóa – Thông tin,monitor,Trần Thị Bích,bich.tt@huyen.gov.vn,-1001234567,,,,7.1"
NOI_VU = 'NV,Phòng Nội vụ,monitor,,,,Đỗ Văn Hải,hai.dv@huyen.gov.vn,,"1.1;1.2;4;5"'
ORIGINAL = [AN_BINH, PHU_LOC, VHTT, NOI_VU]


def write(tmp_path: Path, lines: list[str], name: str = "don-vi.csv", prefix: str = "") -> Path:
    path = tmp_path / name
    path.write_text(prefix + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(app: App) -> dict[str, int]:
    with app.session() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Unit, Person, AuditEntry, Obligation)}


def units_by_code(app: App) -> dict[str, Unit]:
    with app.session() as session:
        found = session.scalars(select(Unit)).all()
        session.expunge_all()
    return {u.code: u for u in found}


def import_people(app: App) -> dict[tuple[str, str], Person]:
    with app.session() as session:
        rows = session.execute(select(Person, Unit.code).join(Unit, Person.unit_id == Unit.id)).all()
        session.expunge_all()
    return {(code, person.role): person for person, code in rows}


def actions(app: App) -> list[tuple[str, str]]:
    with app.session() as session:
        return [(a, s) for a, s in session.execute(select(AuditEntry.action, AuditEntry.subject)
                                                   .order_by(AuditEntry.id))]


def test_csv_import_creates_units_heads_and_focal_officers(app: App, db_cli: Cli, tmp_path: Path) -> None:
    result = db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL])))
    assert result.code == 0, result.err
    assert "thêm mới 4, cập nhật 0, ngừng hoạt động 0, giữ nguyên 0" in result.out
    units = units_by_code(app)
    assert set(units) == {"XA_AN_BINH", "TT_PHU_LOC", "VHTT", "NV"}
    assert units["XA_AN_BINH"].name == "UBND xã An Bình" and units["XA_AN_BINH"].kind == "commune"
    assert units["NV"].section_list == ["1.1", "1.2", "4", "5"]
    assert units["VHTT"].sections == "7.1" and units["TT_PHU_LOC"].sections == ""
    people = import_people(app)
    head = people[("VHTT", "unit_head")]
    assert (head.name, head.email, head.telegram_chat_id, head.source) == (
        "Trần Thị Bích", "bich.tt@huyen.gov.vn", "-1001234567", "import")
    assert people[("XA_AN_BINH", "focal")].name == "Lê Thị Cúc"
    assert people[("XA_AN_BINH", "focal")].email is None
    assert len(people) == 4  # nobody invented for Phú Lộc, whose columns are empty
    with app.session() as session:
        entries = session.scalars(select(AuditEntry)).all()
        assert {(e.action, e.subject, e.channel) for e in entries} == {
            ("unit_created", code, "cli") for code in ("XA_AN_BINH", "TT_PHU_LOC", "VHTT", "NV")}


def test_reimporting_the_same_file_changes_nothing(app: App, db_cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, *ORIGINAL])
    assert db_cli("units", "import", str(path)).code == 0
    before = counts(app)
    stamps = {code: u.updated_at for code, u in units_by_code(app).items()}
    again = db_cli("units", "import", str(path))
    assert again.code == 0, again.err
    assert "thêm mới 0, cập nhật 0, ngừng hoạt động 0, giữ nguyên 4" in again.out
    assert "obligations sync" not in again.out
    assert counts(app) == before
    assert {code: u.updated_at for code, u in units_by_code(app).items()} == stamps


def test_yaml_list_and_units_mapping_match_the_csv(app: App, db_cli: Cli, tmp_path: Path) -> None:
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    before = counts(app)
    items = """\
  - code: xa_an_binh
    name: UBND xã An Bình
    kind: commune
    head_name: Nguyễn Văn An
    head_email: an.nv@anbinh.gov.vn
    head_telegram: 123456789
    focal_name: Lê Thị Cúc
  - {code: TT_PHU_LOC, name: UBND thị trấn Phú Lộc, kind: commune}
  - code: VHTT
    name: Phòng Văn hóa – Thông tin
    kind: monitor
    sections: 7.1
    head_name: Trần Thị Bích
    head_email: bich.tt@huyen.gov.vn
    head_telegram: -1001234567
  - code: NV
    name: Phòng Nội vụ
    kind: monitor
    sections: [5, 4, 1.2, "1.1"]
    focal_name: Đỗ Văn Hải
    focal_email: hai.dv@huyen.gov.vn
"""
    listed = tmp_path / "don-vi.yaml"
    listed.write_text(items.replace("\n  ", "\n").lstrip(), encoding="utf-8")
    mapped = tmp_path / "don-vi.yml"
    mapped.write_text("units:\n" + items, encoding="utf-8")
    for path in (listed, mapped):
        result = db_cli("units", "import", str(path))
        assert result.code == 0, result.err
        assert "giữ nguyên 4" in result.out
    assert counts(app) == before
    assert units_by_code(app)["NV"].sections == "1.1;1.2;4;5"
    assert "XA_AN_BINH" in units_by_code(app)  # the stored spelling of the code is kept


def test_yaml_into_an_empty_registry(app: App, db_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "don-vi.yaml"
    path.write_text("- code: TCKH\n  name: Phòng Tài chính – Kế hoạch\n  kind: monitor\n  sections: '6'\n",
                    encoding="utf-8")
    result = db_cli("units", "import", str(path))
    assert result.code == 0, result.err
    assert units_by_code(app)["TCKH"].sections == "6"


def test_absent_unit_is_deactivated_with_its_history_then_reactivated(
    app: App, db_cli: Cli, tmp_path: Path
) -> None:
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    assert db_cli("obligations", "sync", "--year", "2021").code == 0
    with app.session() as session:
        owed = session.scalar(select(func.count()).select_from(Obligation).join(Unit)
                              .where(Unit.code == "TT_PHU_LOC"))
    assert owed

    smaller = write(tmp_path, [HEADER, AN_BINH, VHTT, NOI_VU], name="moi.csv")
    result = db_cli("units", "import", str(smaller))
    assert result.code == 0, result.err
    assert "ngừng hoạt động 1, giữ nguyên 3" in result.out
    assert "obligations sync" in result.out
    phu_loc = units_by_code(app)["TT_PHU_LOC"]
    assert phu_loc.active is False
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(Obligation)
                              .where(Obligation.unit_id == phu_loc.id)) == owed
    assert actions(app)[-1] == ("unit_deactivated", "TT_PHU_LOC")
    assert "TT_PHU_LOC" not in db_cli("units", "list").out
    assert "ngừng" in db_cli("units", "list", "--all").out

    assert "giữ nguyên 3" in db_cli("units", "import", str(smaller)).out  # absent and inactive: nothing new
    back = db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL])))
    assert "hoạt động trở lại 1" in back.out
    assert units_by_code(app)["TT_PHU_LOC"].active is True
    assert actions(app)[-1] == ("unit_reactivated", "TT_PHU_LOC")


def test_changes_update_in_place_and_emptied_contacts_are_retired(app: App, db_cli: Cli, tmp_path: Path) -> None:
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    people = import_people(app)
    stamp = units_by_code(app)["XA_AN_BINH"].updated_at
    changed = "xa_an_binh,Ủy ban nhân dân xã An Bình,commune,Nguyễn Văn An,an.nguyen@anbinh.gov.vn,123456789,,,,"
    result = db_cli("units", "import", str(write(tmp_path, [HEADER, changed, PHU_LOC, VHTT, NOI_VU])))
    assert result.code == 0, result.err
    assert "cập nhật 1, ngừng hoạt động 0, giữ nguyên 3" in result.out
    unit = units_by_code(app)["XA_AN_BINH"]
    assert unit.name == "Ủy ban nhân dân xã An Bình" and unit.updated_at >= stamp
    after = import_people(app)
    head = after[("XA_AN_BINH", "unit_head")]
    assert head.id == people[("XA_AN_BINH", "unit_head")].id and head.email == "an.nguyen@anbinh.gov.vn"
    assert after[("XA_AN_BINH", "focal")].active is False
    with app.session() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    details = json.loads(entry.details)
    assert (entry.action, entry.subject) == ("unit_updated", "XA_AN_BINH")
    assert details["changes"]["name"] == ["UBND xã An Bình", "Ủy ban nhân dân xã An Bình"]
    assert details["changes"]["focal"] == ["Lê Thị Cúc", None]
    assert details["changes"]["head_email"] == ["an.nv@anbinh.gov.vn", "an.nguyen@anbinh.gov.vn"]


def test_bom_and_semicolon_delimiter(app: App, db_cli: Cli, tmp_path: Path) -> None:
    lines = [HEADER.replace(",", ";"), "XA_AN_BINH;UBND xã An Bình;commune;;;;;;;",
             'NV;Phòng Nội vụ;monitor;;;;;;;"1.1;1.2"', "TP;Phòng Tư pháp;monitor;;;;;;;2"]
    result = db_cli("units", "import", str(write(tmp_path, lines, prefix="\ufeff")))
    assert result.code == 0, result.err
    units = units_by_code(app)
    assert set(units) == {"XA_AN_BINH", "NV", "TP"}
    assert units["NV"].sections == "1.1;1.2"
    windows = tmp_path / "excel.csv"  # Excel: BOM, CRLF, comma-separated sections
    windows.write_bytes("\ufeffcode,name,kind,sections\r\nTP,Phòng Tư pháp,monitor,2\r\n"
                        "NV,Phòng Nội vụ,monitor,\"1.2, 1.1\"\r\n".encode())
    assert "giữ nguyên 2" in db_cli("units", "import", str(windows)).out


GOOD = [HEADER, AN_BINH, PHU_LOC]
BAD_CASES: list[tuple[str, list[str], list[str]]] = [
    ("unknown kind", [HEADER, AN_BINH, PHU_LOC.replace(",commune,", ",truong,")],
     ['dòng 3, cột kind: loại đơn vị "truong" không hợp lệ; hãy ghi một trong: commune', "monitor"]),
    ("duplicate code", [HEADER, AN_BINH, PHU_LOC, AN_BINH.replace("XA_AN_BINH", "xa_an_binh")],
     ['dòng 4, cột code: mã đơn vị "xa_an_binh" trùng với mã ở dòng 2']),
    ("malformed e-mail", [HEADER, AN_BINH.replace("an.nv@anbinh.gov.vn", "an.nv@anbinh"), PHU_LOC],
     ['dòng 2, cột head_email: "an.nv@anbinh" không phải là địa chỉ thư điện tử hợp lệ']),
    ("empty name", [HEADER, AN_BINH, "TT_PHU_LOC,  ,commune"],
     ["dòng 3, cột name: tên đơn vị không được để trống"]),
    ("empty code", [HEADER, AN_BINH, ",UBND thị trấn Phú Lộc,commune"],
     ["dòng 3, cột code: mã đơn vị không được để trống"]),
    ("code with spaces", [HEADER, AN_BINH.replace("XA_AN_BINH", "XA AN BINH")],
     ['dòng 2, cột code: mã đơn vị "XA AN BINH" không hợp lệ', "không có dấu cách"]),
    ("code with diacritics", [HEADER, AN_BINH.replace("XA_AN_BINH", "XÃ_AN_BÌNH")],
     ['dòng 2, cột code: mã đơn vị "XÃ_AN_BÌNH" không hợp lệ']),
    ("missing column", ["code,name,head_name", "XA_AN_BINH,UBND xã An Bình,"],
     ["dòng 1: dòng tiêu đề thiếu cột bắt buộc: kind"]),
    ("unknown column", [HEADER + ",ghi_chu", AN_BINH + ","],
     ['dòng 1, cột ghi_chu: cột "ghi_chu" không được hỗ trợ']),
    ("sections of a commune", [HEADER, AN_BINH + "7.1"],
     ["dòng 2, cột sections: đơn vị loại commune không cung cấp riêng mục nào của Phụ lục 3B"]),
    ("unknown section", [HEADER, VHTT.replace(",7.1", ',"7.1;7.3;9"')],
     ['dòng 2, cột sections: mục "7.3", "9" không có trong Phụ lục 3B; các mục hợp lệ: 1.1, 1.2, 1.3, 1.5, 2,']),
    ("telegram not a chat id", [HEADER, PHU_LOC, AN_BINH.replace("123456789", "abc")],
     ['dòng 3, cột head_telegram: "abc" không phải là mã trò chuyện Telegram (chat id) hợp lệ']),
    ("telegram username", [HEADER, AN_BINH.replace("123456789", "@nguyenvanan")],
     ["dòng 2, cột head_telegram:", "tên người dùng (@…) không dùng được"]),
    ("contact without a name", [HEADER, "TT_PHU_LOC,UBND thị trấn Phú Lộc,commune,,,,,cuc@phuloc.gov.vn,,"],
     ["dòng 2, cột focal_name: có địa chỉ liên lạc của công chức đầu mối nhưng thiếu họ tên"]),
    ("too many cells", [HEADER, AN_BINH + ",thừa"],
     ["dòng 2: dòng có 11 ô nhưng dòng tiêu đề chỉ có 10 cột"]),
    ("header only", [HEADER], ["tệp không có đơn vị nào"]),
    ("one chat for two rows", [HEADER, AN_BINH, PHU_LOC.replace(",commune,,,,", ",commune,Võ Minh Tuấn,,123456789")],
     ["dòng 3, cột head_telegram: mã trò chuyện Telegram 123456789 đã ghi cho thủ trưởng đơn vị Nguyễn Văn An ở "
      "dòng 2 (cột head_telegram); mỗi mã trò chuyện chỉ thuộc về một người"]),
    ("one chat for the head and the focal officer", [HEADER, AN_BINH.replace(",,,", ",,123456789,", 1)],
     ["dòng 2, cột focal_telegram: mã trò chuyện Telegram 123456789 đã ghi cho thủ trưởng đơn vị Nguyễn Văn An ở "
      "dòng 2 (cột head_telegram)"]),
    ("line break in a unit name", [HEADER, AN_BINH.replace("UBND xã An Bình", '"UBND xã\nAn Bình"'), PHU_LOC],
     ["dòng 2, cột name: tên đơn vị chứa ký tự điều khiển (xuống dòng) ở vị trí thứ 8; hãy xóa ký tự này"]),
    ("right-to-left override in a head's name", [HEADER, AN_BINH.replace("Nguyễn Văn An", "Nguyễn \u202eVăn An")],
     ["dòng 2, cột head_name: họ tên thủ trưởng đơn vị chứa ký tự điều khiển (đổi chiều viết U+202E) ở vị trí thứ 8"]),
    ("tab in a focal officer's name", [HEADER, AN_BINH.replace("Lê Thị Cúc", '"Lê Thị\tCúc"')],
     ["dòng 2, cột focal_name: họ tên công chức đầu mối chứa ký tự điều khiển (tab) ở vị trí thứ 7"]),
    ("isolate in a unit name", [HEADER, PHU_LOC.replace("Phú Lộc", "\u2067Phú Lộc\u2069")],
     ["dòng 2, cột name: tên đơn vị chứa ký tự điều khiển (đổi chiều viết U+2067) ở vị trí thứ 15"]),
    ("bidi mark in a code", [HEADER, AN_BINH.replace("XA_AN_BINH", "XA_\u200fAN_BINH")],
     ["dòng 2, cột code: mã đơn vị chứa ký tự điều khiển (đổi chiều viết U+200F) ở vị trí thứ 4"]),
    ("bidi override in an e-mail", [HEADER, AN_BINH.replace("an.nv@", "an.nv\u202d@")],
     ["dòng 2, cột head_email: địa chỉ thư điện tử chứa ký tự điều khiển (đổi chiều viết U+202D)"]),
    ("control character in a kind", [HEADER, PHU_LOC.replace(",commune,", ",com\x07mune,")],
     ["dòng 2, cột kind: loại đơn vị chứa ký tự điều khiển (U+0007) ở vị trí thứ 4"]),
]


@pytest.mark.parametrize(("lines", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_file_is_refused_whole_with_the_line(
    app: App, db_cli: Cli, tmp_path: Path, lines: list[str], expected: list[str]
) -> None:
    assert db_cli("units", "import", str(write(tmp_path, GOOD, name="cu.csv"))).code == 0
    before, stamps = counts(app), {c: (u.name, u.active, u.updated_at) for c, u in units_by_code(app).items()}
    result = db_cli("units", "import", str(write(tmp_path, lines)))
    assert result.code == 2
    assert result.err.startswith("Lỗi: tệp ") and "không được nhập, cơ sở dữ liệu chưa thay đổi gì" in result.err
    for fragment in expected:
        assert fragment in result.err
    assert "Traceback" not in result.err + result.out
    # The message never repeats an invisible control: it would garble the terminal line that names it.
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", result.err)
    assert counts(app) == before
    assert {c: (u.name, u.active, u.updated_at) for c, u in units_by_code(app).items()} == stamps


def test_every_error_of_the_file_is_listed_in_line_order(app: App, db_cli: Cli, tmp_path: Path) -> None:
    lines = [HEADER, AN_BINH, "XA AN,UBND xã An,truong", "", PHU_LOC.replace("TT_PHU_LOC", "xa_an_binh"),
             VHTT.replace("bich.tt@huyen.gov.vn", "bich.tt@@huyen.gov.vn").replace("-1001234567", '"1,2E+09"')]
    result = db_cli("units", "import", str(write(tmp_path, lines)))
    assert result.code == 2
    listed = [line.strip() for line in result.err.splitlines()[1:]]
    assert [entry.split(":")[0] for entry in listed] == [
        "dòng 3, cột code", "dòng 3, cột kind", "dòng 5, cột code", "dòng 6, cột head_email",
        "dòng 6, cột head_telegram",
    ]
    assert "Hãy sửa 5 lỗi sau rồi nhập lại" in result.err
    assert "trùng với mã ở dòng 2" in listed[2]
    assert "lũy thừa" in listed[4]
    assert counts(app)["units"] == 0


def test_yaml_errors_name_the_item_line(app: App, db_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "don-vi.yaml"
    path.write_text(
        "units:\n"
        "  - code: XA_AN_BINH\n    name: UBND xã An Bình\n    kind: commune\n"
        "  - code: TP\n    name: Phòng Tư pháp\n    kind: monitor\n    head_email: tp@\n    ghi_chu: x\n"
        "  - code: xa_an_binh\n    name: ''\n    kind: commune\n"
        "  - [1, 2]\n",
        encoding="utf-8",
    )
    result = db_cli("units", "import", str(path))
    assert result.code == 2
    assert "dòng 5, khóa head_email:" in result.err
    assert 'dòng 5, khóa ghi_chu: khóa "ghi_chu" không được hỗ trợ' in result.err
    assert "dòng 10, khóa code: mã đơn vị \"xa_an_binh\" trùng với mã ở dòng 2" in result.err
    assert "dòng 10, khóa name: tên đơn vị không được để trống" in result.err
    assert "dòng 13: mỗi đơn vị cần là một bảng" in result.err
    assert counts(app)["units"] == 0


def test_controls_are_named_on_the_row_a_spreadsheet_shows(app: App, db_cli: Cli, tmp_path: Path) -> None:
    """A quoted cell spanning two physical lines is still one spreadsheet row: the next unit is row 3."""
    lines = [HEADER, AN_BINH.replace("UBND xã An Bình", '"UBND xã An Bình\r\n(cũ)"'),
             PHU_LOC.replace("UBND thị trấn Phú Lộc", "UBND thị trấn \u202ecoL úhP")]
    result = db_cli("units", "import", str(write(tmp_path, lines)))
    assert result.code == 2
    assert "dòng 2, cột name: tên đơn vị chứa ký tự điều khiển (về đầu dòng CR) ở vị trí thứ 16" in result.err
    assert "dòng 3, cột name: tên đơn vị chứa ký tự điều khiển (đổi chiều viết U+202E) ở vị trí thứ 15" in result.err
    assert counts(app)["units"] == 0
    # Whitespace and line breaks around a value are trimmed, as spreadsheets leave them: only inside is refused.
    padded = AN_BINH.replace("UBND xã An Bình", '"  UBND xã An Bình\r\n"').replace("Lê Thị Cúc", '"\tLê Thị Cúc "')
    lines = [HEADER, padded]
    fixed = db_cli("units", "import", str(write(tmp_path, lines)))
    assert fixed.code == 0, fixed.err
    assert units_by_code(app)["XA_AN_BINH"].name == "UBND xã An Bình"
    assert import_people(app)[("XA_AN_BINH", "focal")].name == "Lê Thị Cúc"


def test_yaml_escapes_cannot_smuggle_controls(app: App, db_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "don-vi.yaml"
    path.write_text('- code: XA_AN_BINH\n  name: "UBND xã\\nAn Bình"\n  kind: commune\n'
                    '- code: TP\n  name: Phòng Tư pháp\n  kind: monitor\n  head_name: "Trần \\u202eThị"\n',
                    encoding="utf-8")
    result = db_cli("units", "import", str(path))
    assert result.code == 2
    assert "dòng 1, khóa name: tên đơn vị chứa ký tự điều khiển (xuống dòng) ở vị trí thứ 8" in result.err
    assert ("dòng 4, khóa head_name: họ tên thủ trưởng đơn vị chứa ký tự điều khiển (đổi chiều viết U+202E)"
            in result.err)
    assert counts(app)["units"] == 0


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("rong.csv", b"", "tệp rỗng"),
    ("trang.csv", b"\xef\xbb\xbf\r\n  \r\n", "tệp rỗng"),
    ("rong.yaml", "# chưa có gì\n".encode(), "tệp rỗng"),
    ("sai.yaml", b"units:\n  - code: XA\n   name: x\n", "dòng 3: sai cú pháp YAML"),
    ("khong-phai-danh-sach.yaml", b"code: XA\n", "ở đầu tệp chỉ dùng khóa units"),
    ("don-vi.xlsx", b"PK\x03\x04", "không đọc được tệp Excel"),
    ("don-vi.csv", b"PK\x03\x04\x00\x00", "đây là tệp Excel nhưng không mang đuôi .xlsx"),
])
def test_unreadable_files_are_refused(
    app: App, db_cli: Cli, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = db_cli("units", "import", str(path))
    assert result.code == 2
    assert expected in result.err and "Traceback" not in result.err
    assert counts(app)["units"] == 0


def test_missing_file_and_directory(db_cli: Cli, tmp_path: Path) -> None:
    missing = db_cli("units", "import", str(tmp_path / "khong-co.csv"))
    assert missing.code == 2 and "không tìm thấy tệp" in missing.err
    folder = tmp_path / "thu-muc.csv"
    folder.mkdir()
    directory = db_cli("units", "import", str(folder))
    assert directory.code == 2 and "thư mục" in directory.err


NOW = datetime(2021, 3, 1, 9, 0)


def _statements(app: App, rows: list[UnitRow]) -> int:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        with app.session() as session:
            apply_units(session, rows, Actor("test", "cli"), NOW, label="synthetic.csv", confirmed=True)
    finally:
        event.remove(app.engine, "before_cursor_execute", count)
    return len(seen)


def _rows(app: App, size: int, name: str, offset: int = 0) -> list[UnitRow]:
    lines = [HEADER] + [f"XA{i:05d},{name} {i},commune,Chủ tịch {i},ct{i}@xa.gov.vn,{1000 + i},Đầu mối {i},,,"
                        for i in range(offset, offset + size)]
    return parse_units("\n".join(lines).encode(), "synthetic.csv", ".csv", app.calendar(2021).directive)


def _sequence(app: App, size: int) -> list[int]:
    """Statements for: create, rename all, re-import unchanged, half replaced (create + deactivate)."""
    phases = [("UBND xã", 0), ("Ủy ban nhân dân xã", 0), ("Ủy ban nhân dân xã", 0), ("Ủy ban nhân dân xã", size)]
    return [_statements(app, _rows(app, size, name, offset)) for name, offset in phases]


def test_statement_count_does_not_grow_with_units(app: App) -> None:
    small = _sequence(app, 3)
    with app.session() as session:
        for model in (AuditEntry, Person, Unit):
            session.execute(delete(model))
    large = _sequence(app, 150)
    assert small == large
    assert small[2] == 2  # an unchanged file costs one read of the units and one of their people
    assert counts(app)["units"] == 300


def test_units_list_table_and_json(app: App, db_cli: Cli, tmp_path: Path) -> None:
    empty = db_cli("units", "list")
    assert empty.code == 0 and "Chưa có đơn vị nào" in empty.out
    assert db_cli("units", "list", "--format", "json").out.strip() == "[]"
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    table = db_cli("units", "list")
    assert table.code == 0
    assert "Phòng Văn hóa – Thông tin" in table.out and "Trần Thị Bích" in table.out
    assert "1.1; 1.2; 4; 5" in table.out and "Tổng cộng 4 đơn vị" in table.out
    data = json.loads(db_cli("units", "list", "-f", "json").out)
    by_code = {u["code"]: u for u in data}
    assert by_code["NV"]["sections"] == ["1.1", "1.2", "4", "5"]
    assert by_code["NV"]["focal"]["email"] == "hai.dv@huyen.gov.vn" and by_code["NV"]["head"] is None
    assert by_code["XA_AN_BINH"]["head"]["telegram_chat_id"] == "123456789"
    assert set(by_code["VHTT"]) == {"code", "name", "kind", "sections", "active", "head", "focal"}


def test_reimport_keeps_a_chat_linked_with_an_invite_code(app: App, db_cli: Cli, tmp_path: Path) -> None:
    """The register's file does not know chats linked through the bot: an empty cell keeps the link for
    the same person, while a new head (another name) does not inherit the previous one's chat."""
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    with app.session() as session:
        focal = session.scalars(select(Person).where(Person.name == "Lê Thị Cúc")).one()
        focal.telegram_chat_id = "555001"  # what /start CODE does
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    assert import_people(app)[("XA_AN_BINH", "focal")].telegram_chat_id == "555001"

    new_focal = AN_BINH.replace("Lê Thị Cúc", "Phạm Văn Dũng")
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, new_focal, PHU_LOC, VHTT, NOI_VU]))).code == 0
    replaced = import_people(app)[("XA_AN_BINH", "focal")]
    assert (replaced.name, replaced.telegram_chat_id) == ("Phạm Văn Dũng", None)


# ---------------------------------------------------------------------------------------------------
# One Telegram chat, one person: a file may not hand a chat to someone while another person keeps it.

NEW_HEAD = PHU_LOC.replace(",commune,,,,", ",commune,Võ Minh Tuấn,,{chat}")


def person_id(app: App, name: str) -> int:
    with app.session() as session:
        return session.scalars(select(Person.id).where(Person.name == name)).one()


def refused_unchanged(app: App, db_cli: Cli, path: Path) -> str:
    before = counts(app)
    chats = {(p.name, p.telegram_chat_id) for p in import_people(app).values()}
    result = db_cli("units", "import", str(path))
    assert result.code == 2 and "Traceback" not in result.err
    assert "không được nhập, cơ sở dữ liệu chưa thay đổi gì" in result.err
    assert counts(app) == before
    assert {(p.name, p.telegram_chat_id) for p in import_people(app).values()} == chats
    return result.err


def test_chat_of_a_receiver_is_refused_naming_the_receiver(app: App, db_cli: Cli, tmp_path: Path) -> None:
    assert db_cli("people", "add", "--name", "Nguyễn Thị Hạnh", "--role", "receiver", "--telegram", "777").code == 0
    hanh = person_id(app, "Nguyễn Thị Hạnh")
    err = refused_unchanged(app, db_cli, write(tmp_path, [HEADER, AN_BINH, NEW_HEAD.format(chat="777")]))
    assert (f"dòng 3, cột head_telegram: mã trò chuyện Telegram 777 đã thuộc về cán bộ nhận báo cáo Nguyễn Thị Hạnh "
            f"(số {hanh}); mỗi mã trò chuyện chỉ thuộc về một người: hãy kiểm tra lại mã, hoặc nếu người đó không "
            f"còn dùng mã này thì hủy liên kết trước bằng: reminder-service people unlink {hanh}") in err


def test_chat_kept_by_another_unit_is_refused_but_a_move_or_swap_is_not(
    app: App, db_cli: Cli, tmp_path: Path
) -> None:
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    an = person_id(app, "Nguyễn Văn An")
    # An empty cell keeps the chat of the same person (it may have been linked by invite code), so An Bình's
    # head still holds 123456789 after this file: Phú Lộc's new head cannot have it too.
    kept = AN_BINH.replace(",123456789,", ",,")
    err = refused_unchanged(app, db_cli, write(tmp_path, [HEADER, kept, NEW_HEAD.format(chat="123456789"),
                                                          VHTT, NOI_VU]))
    assert ("dòng 3, cột head_telegram: mã trò chuyện Telegram 123456789 đã thuộc về thủ trưởng đơn vị "
            f"Nguyễn Văn An (số {an}, đơn vị XA_AN_BINH)") in err
    # Nor can a unit the file leaves out (deactivated, its head keeps the chat) pass it on silently.
    err = refused_unchanged(app, db_cli, write(tmp_path, [HEADER, NEW_HEAD.format(chat="123456789"), VHTT, NOI_VU]))
    assert "dòng 2, cột head_telegram: mã trò chuyện Telegram 123456789 đã thuộc về thủ trưởng đơn vị" in err

    # The same file may move the chat: An Bình's head gets another one, Phú Lộc's new head this one.
    moved = AN_BINH.replace(",123456789,", ",987654321,")
    result = db_cli("units", "import", str(write(tmp_path, [HEADER, moved, NEW_HEAD.format(chat="123456789"),
                                                            VHTT, NOI_VU])))
    assert result.code == 0, result.err
    people = import_people(app)
    assert people[("XA_AN_BINH", "unit_head")].telegram_chat_id == "987654321"
    assert people[("TT_PHU_LOC", "unit_head")].telegram_chat_id == "123456789"
    # ... or swap two chats in one go.
    swapped = [HEADER, AN_BINH, NEW_HEAD.format(chat="987654321"), VHTT, NOI_VU]
    assert db_cli("units", "import", str(write(tmp_path, swapped))).code == 0
    assert db_cli("units", "import", str(write(tmp_path, swapped))).out.count("giữ nguyên 4") == 1
    people = import_people(app)
    assert people[("XA_AN_BINH", "unit_head")].telegram_chat_id == "123456789"
    assert people[("TT_PHU_LOC", "unit_head")].telegram_chat_id == "987654321"


def test_a_retired_persons_chat_is_theirs_until_unlinked(app: App, db_cli: Cli, tmp_path: Path) -> None:
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    emptied = VHTT.replace("Trần Thị Bích,bich.tt@huyen.gov.vn,-1001234567", ",,")
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, AN_BINH, PHU_LOC, emptied, NOI_VU]))).code == 0
    bich = person_id(app, "Trần Thị Bích")
    moved = NOI_VU.replace("Đỗ Văn Hải,hai.dv@huyen.gov.vn,", "Đỗ Văn Hải,hai.dv@huyen.gov.vn,-1001234567")
    path = write(tmp_path, [HEADER, AN_BINH, PHU_LOC, emptied, moved])
    err = refused_unchanged(app, db_cli, path)
    assert (f"dòng 5, cột focal_telegram: mã trò chuyện Telegram -1001234567 đã thuộc về thủ trưởng đơn vị Trần Thị "
            f"Bích (số {bich}, đơn vị VHTT, đã ngừng nhận thông báo)") in err
    assert f"reminder-service people unlink {bich}" in err
    assert db_cli("people", "unlink", str(bich)).code == 0
    result = db_cli("units", "import", str(path))
    assert result.code == 0, result.err
    assert import_people(app)[("NV", "focal")].telegram_chat_id == "-1001234567"


def _cp1258(text: str) -> bytes:
    """Text as Windows-1258 stores it: letters with a circumflex, breve or horn precomposed, tones apart."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            base, marks = decomposed[0], decomposed[1:]
            shape = "".join(m for m in marks if m in "\u0302\u0306\u031b")
            tone = "".join(m for m in marks if m not in "\u0302\u0306\u031b")
            out += unicodedata.normalize("NFC", base + shape).encode("cp1258") + tone.encode("cp1258")
    return out


def test_vietnamese_headers_kinds_windows_1258_and_xlsx(app: App, db_cli: Cli, tmp_path: Path) -> None:
    import openpyxl

    # Older Vietnamese Windows saves CSV in Windows-1258, with letters as a base and a combining mark.
    legacy = tmp_path / "don-vi-cu.csv"
    legacy.write_bytes(_cp1258("Mã;Tên;Loại;Thủ trưởng\nXA_AN_BINH;UBND xã An Bình;xã;Nguyễn Văn An\n"
                               "TP;Phòng Tư pháp;phòng;\n"))
    result = db_cli("units", "import", str(legacy))
    assert result.code == 0, result.err
    listed = {u["code"]: u for u in json.loads(db_cli("units", "list", "-f", "json").out)}
    assert listed["XA_AN_BINH"]["name"] == "UBND xã An Bình" and listed["XA_AN_BINH"]["kind"] == "commune"
    assert listed["TP"]["kind"] == "monitor"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["mã đơn vị", "tên đơn vị", "loại"], ["XA_AN_BINH", "UBND xã An Bình", "commune"],
                ["TP", "Phòng Tư pháp", "monitor"], ["XA_MOI", "UBND xã Mới", "Xã"]):
        sheet.append(row)
    book = tmp_path / "don-vi.xlsx"
    workbook.save(book)
    result = db_cli("units", "import", str(book))
    assert result.code == 0, result.err
    assert "thêm mới 1" in result.out
    assert {u["code"] for u in json.loads(db_cli("units", "list", "-f", "json").out)} == {"XA_AN_BINH", "TP", "XA_MOI"}


def test_a_short_file_cannot_silently_stop_following_the_other_units(app: App, db_cli: Cli, tmp_path: Path) -> None:
    assert db_cli("units", "import", str(write(tmp_path, [HEADER, *ORIGINAL]))).code == 0
    before = counts(app)
    short = write(tmp_path, [HEADER, ORIGINAL[0]], name="mot-dong.csv")
    preview = db_cli("units", "import", str(short), "--dry-run")
    assert preview.code == 0, preview.err
    assert "Chưa ghi gì" in preview.out and "Ngừng theo dõi (3)" in preview.out
    assert "phải chạy lại với --yes" in preview.out
    refused = db_cli("units", "import", str(short))
    assert refused.code == 2 and "--yes" in refused.err and "Chưa có gì được ghi" in refused.err
    assert counts(app) == before
    listed = json.loads(db_cli("units", "list", "-f", "json").out)
    assert all(u["active"] for u in listed)
    confirmed = db_cli("units", "import", str(short), "--yes")
    assert confirmed.code == 0 and "ngừng hoạt động 3" in confirmed.out
