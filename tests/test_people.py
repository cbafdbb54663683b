"""`people add|list`: receivers and leadership by hand, unit heads and focal officers only by import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reminder_service.app import App
from reminder_service.services.db.models import AuditEntry, Office, Person
from reminder_service.services.registry import email_problem, telegram_problem
from tests.conftest import Cli


def people_count(app: App) -> int:
    with app.session() as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


def stored(app: App) -> list[Person]:
    with app.session() as session:
        found = list(session.scalars(select(Person).order_by(Person.id)).all())
        session.expunge_all()
    return found


def test_add_receiver_and_leadership(app: App, db_cli: Cli) -> None:
    result = db_cli("people", "add", "--name", "  Nguyễn Thị   Hạnh ", "--role", "receiver",
                    "--email", "hanh.nt@phuloc.gov.vn")
    assert result.code == 0, result.err
    assert 'Đã thêm cán bộ nhận báo cáo "Nguyễn Thị Hạnh"' in result.out and "qua: email" in result.out
    result = db_cli("people", "add", "--name", "Phạm Văn Đức", "--role", "LEADERSHIP", "--telegram", "-1001234567",
                    "--email", "duc.pv@phuloc.gov.vn", "--channels", "email, telegram")
    assert result.code == 0, result.err
    hanh, duc = stored(app)
    assert (hanh.name, hanh.role, hanh.email, hanh.telegram_chat_id, hanh.channels, hanh.source, hanh.unit_id) == (
        "Nguyễn Thị Hạnh", "receiver", "hanh.nt@phuloc.gov.vn", None, ("email",), "manual", None)
    assert (duc.role, duc.telegram_chat_id, duc.channels) == ("leadership", "-1001234567", ("email", "telegram"))
    with app.session() as session:
        assert session.scalars(select(Office.name)).all() == ["Phòng Nội vụ"]
        entries = session.execute(select(AuditEntry.action, AuditEntry.subject, AuditEntry.channel)).all()
    assert sorted(tuple(e) for e in entries) == [("person_added", "Nguyễn Thị Hạnh", "cli"),
                                                 ("person_added", "Phạm Văn Đức", "cli")]


def test_default_channels_follow_the_addresses_given(app: App, db_cli: Cli) -> None:
    assert db_cli("people", "add", "--name", "Trần Văn Hùng", "--role", "leadership", "--email", "hung@huyen.gov.vn",
                  "--telegram", "987654321").code == 0
    assert stored(app)[0].channels == ("telegram", "email")


@pytest.mark.parametrize("role", ["unit_head", "focal"])
def test_unit_roles_are_refused_and_pointed_to_units_import(app: App, db_cli: Cli, role: str) -> None:
    result = db_cli("people", "add", "--name", "Lê Thị Cúc", "--role", role, "--email", "cuc@anbinh.gov.vn")
    assert result.code == 2
    assert "--role" in result.err and "reminder-service units import" in result.err
    assert people_count(app) == 0


@pytest.mark.parametrize(("args", "expected"), [
    (["--email", "hanh@phuloc"], ['giá trị của --email không hợp lệ: "hanh@phuloc" không phải là địa chỉ thư điện tử']),
    (["--telegram", "abc"], ['giá trị của --telegram không hợp lệ: "abc" không phải là mã trò chuyện Telegram']),
    (["--telegram", "@hanh"], ["tên người dùng (@…) không dùng được"]),
    (["--email", "a@b.vn", "--channels", "sms"], ['giá trị của --channels không hợp lệ: kênh "sms" không hợp lệ']),
    (["--email", "a@b.vn", "--channels", "telegram"], ["kênh telegram cần địa chỉ; hãy ghi thêm --telegram"]),
    (["--email", "a@b.vn", "--channels", " , "], ["hãy ghi ít nhất một kênh"]),
    ([], ["hãy ghi ít nhất --email hoặc --telegram"]),
    (["--role", "boss", "--email", "a@b.vn"], ['"boss" không hợp lệ; chọn một trong: receiver, leadership']),
])
def test_bad_contact_details_are_refused(app: App, db_cli: Cli, args: list[str], expected: list[str]) -> None:
    role = [] if "--role" in args else ["--role", "receiver"]
    result = db_cli("people", "add", "--name", "Nguyễn Thị Hạnh", *role, *args)
    assert result.code == 2
    for fragment in expected:
        assert fragment in result.err
    assert "Traceback" not in result.err
    assert people_count(app) == 0


def test_empty_name_is_refused(app: App, db_cli: Cli) -> None:
    result = db_cli("people", "add", "--name", "   ", "--role", "receiver", "--email", "a@b.vn")
    assert result.code == 2 and "họ tên không được để trống" in result.err
    assert people_count(app) == 0


@pytest.mark.parametrize(("name", "expected"), [
    ("Nguyễn Thị\nHạnh", "họ tên chứa ký tự điều khiển (xuống dòng) ở vị trí thứ 11; hãy xóa ký tự này"),
    ("Nguyễn \u202eThị Hạnh", "họ tên chứa ký tự điều khiển (đổi chiều viết U+202E) ở vị trí thứ 8"),
    ("\u2066Nguyễn Thị Hạnh", "họ tên chứa ký tự điều khiển (đổi chiều viết U+2066) ở vị trí thứ 1"),
    ("Nguyễn\x1bThị Hạnh", "họ tên chứa ký tự điều khiển (U+001B) ở vị trí thứ 7"),
], ids=["line break", "right-to-left override", "isolate", "escape"])
def test_name_with_control_characters_is_refused(app: App, db_cli: Cli, name: str, expected: str) -> None:
    result = db_cli("people", "add", "--name", name, "--role", "receiver", "--email", "hanh@phuloc.gov.vn")
    assert result.code == 2
    assert "--name" in result.err and expected in result.err and "Traceback" not in result.err
    assert people_count(app) == 0
    # Around the name, whitespace is trimmed as before: a pasted trailing line break is harmless.
    assert db_cli("people", "add", "--name", " Nguyễn Thị Hạnh\n", "--role", "receiver",
                  "--email", "hanh@phuloc.gov.vn").code == 0
    assert stored(app)[0].name == "Nguyễn Thị Hạnh"


def test_a_chat_held_by_someone_else_is_refused_naming_them(app: App, db_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "don-vi.csv"
    path.write_text("code,name,kind,head_name,head_telegram\n"
                    "TT_PHU_LOC,UBND thị trấn Phú Lộc,commune,Võ Minh Tuấn,55501\n", encoding="utf-8")
    assert db_cli("units", "import", str(path)).code == 0
    tuan = stored(app)[0].id
    result = db_cli("people", "add", "--name", "Nguyễn Thị Hạnh", "--role", "receiver", "--telegram", "55501")
    assert result.code == 2 and "Traceback" not in result.err
    assert ("giá trị của --telegram không hợp lệ: mã trò chuyện Telegram 55501 đã thuộc về thủ trưởng đơn vị Võ Minh "
            f"Tuấn (số {tuan}, đơn vị TT_PHU_LOC); mỗi mã trò chuyện chỉ thuộc về một người") in result.err
    assert people_count(app) == 1

    assert db_cli("people", "add", "--name", "Phạm Văn Đức", "--role", "leadership", "--telegram", "42").code == 0
    duc = stored(app)[1].id
    again = db_cli("people", "add", "--name", "Nguyễn Thị Hạnh", "--role", "receiver", "--telegram", " 42 ")
    assert again.code == 2 and f"lãnh đạo Phạm Văn Đức (số {duc})" in again.err
    assert f"reminder-service people unlink {duc}" in again.err
    assert people_count(app) == 2
    assert db_cli("people", "unlink", str(duc)).code == 0
    assert db_cli("people", "add", "--name", "Nguyễn Thị Hạnh", "--role", "receiver", "--telegram", "42").code == 0


def test_same_person_twice_is_refused(app: App, db_cli: Cli) -> None:
    args = ("people", "add", "--name", "Nguyễn Thị Hạnh", "--role", "receiver", "--email", "hanh@phuloc.gov.vn")
    assert db_cli(*args).code == 0
    again = db_cli("people", "add", "--name", "nguyễn thị hạnh", "--role", "receiver", "--telegram", "42")
    assert again.code == 2 and 'đã có cán bộ nhận báo cáo "Nguyễn Thị Hạnh"' in again.err
    assert people_count(app) == 1
    assert db_cli("people", "add", "--name", "Nguyễn Thị Hạnh", "--role", "leadership", "--telegram", "42").code == 0


@pytest.mark.parametrize("value", ["an.nv@anbinh", "an nv@anbinh.gov.vn", "an..nv@anbinh.gov.vn", "@anbinh.gov.vn"])
def test_import_and_people_add_share_the_email_rule(db_cli: Cli, tmp_path: Path, value: str) -> None:
    assert email_problem(value) is not None
    path = tmp_path / "don-vi.csv"
    path.write_text(f"code,name,kind,head_name,head_email\nXA_AN_BINH,UBND xã An Bình,commune,An,{value}\n",
                    encoding="utf-8")
    assert "dòng 2, cột head_email" in db_cli("units", "import", str(path)).err
    assert "--email" in db_cli("people", "add", "--name", "An", "--role", "receiver", "--email", value).err


def test_chat_ids() -> None:
    for good in ("123456789", "-100123", "-1001234567890"):
        assert telegram_problem(good) is None
    for bad in ("abc", "0", "12.5", "1,23E+12", "", "-", "+123"):
        assert telegram_problem(bad) is not None


def test_people_list_table_and_json(db_cli: Cli, tmp_path: Path) -> None:
    empty = db_cli("people", "list")
    assert empty.code == 0 and "Chưa có người nhận thông báo nào" in empty.out
    path = tmp_path / "don-vi.csv"
    path.write_text("code,name,kind,head_name,head_telegram,focal_name,focal_email\n"
                    "TT_PHU_LOC,UBND thị trấn Phú Lộc,commune,Võ Minh Tuấn,55501,Hồ Thị Lan,lan.ht@phuloc.gov.vn\n",
                    encoding="utf-8")
    assert db_cli("units", "import", str(path)).code == 0
    assert db_cli("people", "add", "--name", "Nguyễn Thị Hạnh", "--role", "receiver",
                  "--email", "hanh@phuloc.gov.vn").code == 0
    table = db_cli("people", "list")
    assert table.code == 0
    lines = table.out.splitlines()
    assert "Cán bộ nhận báo cáo" in lines[2] and "Phòng Nội vụ" in lines[2]  # receivers first, with the office
    assert any("Võ Minh Tuấn" in line and "Thủ trưởng đơn vị" in line and "TT_PHU_LOC" in line for line in lines)
    assert "Tổng cộng 3 người" in table.out
    data = json.loads(db_cli("people", "list", "--format", "json").out)
    assert [p["role"] for p in data] == ["receiver", "unit_head", "focal"]
    assert data[1] == {"id": data[1]["id"], "name": "Võ Minh Tuấn", "role": "unit_head", "unit": "TT_PHU_LOC",
                       "email": None, "telegram_chat_id": "55501", "channels": ["telegram", "email"],
                       "active": True, "source": "import"}
    emptied = tmp_path / "moi.csv"
    emptied.write_text("code,name,kind\nTT_PHU_LOC,UBND thị trấn Phú Lộc,commune\n", encoding="utf-8")
    assert db_cli("units", "import", str(emptied)).code == 0
    assert "Võ Minh Tuấn" not in db_cli("people", "list").out
    assert "Võ Minh Tuấn" in db_cli("people", "list", "--all").out
