"""`reminder-service calendar show` and `run`: what the receiving office reads and what machines parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, run_process

# The seed directive's 2021 calendar, to the day: (id, kind) -> nominal, effective, window, estimate window.
EXPECTED_2021 = {
    ("plan", "commune"): ("2021-01-30", "2021-02-01", None, None),
    ("q1", "commune"): ("2021-03-13", "2021-03-15", ("2020-12-15", "2021-03-10"), None),
    ("q1", "monitor"): ("2021-03-13", "2021-03-15", ("2020-12-15", "2021-03-10"), None),
    ("h1", "commune"): ("2021-06-13", "2021-06-14", ("2020-12-15", "2021-06-10"), None),
    ("h1", "monitor"): ("2021-06-13", "2021-06-14", ("2020-12-15", "2021-06-10"), None),
    ("q3", "commune"): ("2021-09-13", "2021-09-13", ("2021-06-15", "2021-09-10"), None),
    ("q3", "monitor"): ("2021-09-13", "2021-09-13", ("2021-06-15", "2021-09-10"), None),
    ("annual", "commune"): ("2021-11-15", "2021-11-15", ("2020-12-15", "2021-11-20"), ("2021-11-15", "2021-12-14")),
    ("annual", "monitor"): ("2021-11-15", "2021-11-15", ("2020-12-15", "2021-12-14"), None),
    ("supplement", "commune"): (None, None, ("2021-12-01", "2021-12-14"), None),
    ("supplement", "monitor"): (None, None, ("2021-12-01", "2021-12-14"), None),
}


def _pair(window: dict[str, str] | None) -> tuple[str, str] | None:
    return None if window is None else (window["start"], window["end"])


def test_json_for_2021_matches_the_directive_to_the_day(cli: Cli) -> None:
    result = cli("calendar", "show", "--year", "2021", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["directive"], data["year"], data["projected"], data["timezone"]) == (
        "cchc", 2021, False, "Asia/Ho_Chi_Minh")
    got = {
        (o["id"], o["kind"]): (o["nominal_deadline"], o["effective_deadline"], _pair(o["window"]),
                               _pair(o["estimate_window"]))
        for o in data["obligations"]
    }
    assert got == EXPECTED_2021
    by_key = {(o["id"], o["kind"]): o for o in data["obligations"]}
    assert by_key[("q1", "commune")]["title"] == "Báo cáo CCHC Quý I/2021"
    assert by_key[("annual", "monitor")]["deadline_interpreted"] is True
    assert by_key[("annual", "commune")]["deadline_interpreted"] is False
    assert by_key[("supplement", "commune")]["on_request"] is True
    assert any("Phụ lục 2A" in line for line in by_key[("q1", "commune")]["content"])
    assert any("Phụ lục 3A" in line for line in by_key[("q1", "monitor")]["content"])
    offices = {o["name"]: [s["code"] for s in o["sections"]] for o in data["monitor_offices"]}
    assert offices["Phòng Văn hóa – Thông tin"] == ["7.1"]
    assert offices["Phòng Nội vụ"] == ["1.1", "1.2", "4", "5"]


def test_kind_filter_and_projection(cli: Cli) -> None:
    result = cli("calendar", "show", "-y", "2026", "--kind", "monitor", "-f", "json")
    data = json.loads(result.out)
    assert data["projected"] is True and data["projected_from"] == 2021
    assert {o["kind"] for o in data["obligations"]} == {"monitor"}
    h1 = next(o for o in data["obligations"] if o["id"] == "h1")
    assert (h1["nominal_deadline"], h1["effective_deadline"]) == ("2026-06-13", "2026-06-15")
    assert h1["title"] == "Báo cáo CCHC 6 tháng đầu năm 2026"


def test_table_shows_weekdays_and_both_deadlines(cli: Cli) -> None:
    result = cli("calendar", "show", "--year", "2021", "--kind", "commune")
    assert result.code == 0
    q1 = next(line for line in result.out.splitlines() if line.startswith("q1 "))
    assert "Thứ Bảy, 13/03/2021" in q1 and "Thứ Hai, 15/03/2021" in q1
    assert "15/12/2020 – 10/03/2021" in q1
    assert "Lịch theo đúng văn bản năm 2021" in result.out
    assert "monitor" not in result.out.split("Hạn nộp thực tế:")[0]


def test_kinds_are_named_in_vietnamese_never_by_their_code(cli: Cli) -> None:
    result = cli("calendar", "show", "--year", "2026")
    assert result.code == 0
    lines = result.out.splitlines()
    assert "UBND các xã, thị trấn" in lines and "Các phòng được giao theo dõi lĩnh vực CCHC" in lines
    assert "- annual, UBND các xã, thị trấn: Thời gian chốt số liệu (đến 20/11)" in result.out
    assert "commune" not in result.out and "monitor" not in result.out


def test_details_list_the_content_to_send(cli: Cli) -> None:
    result = cli("calendar", "show", "--year", "2021", "--kind", "monitor", "--details")
    assert "Nội dung cần gửi:" in result.out
    assert "Lãnh đạo phòng ký" in result.out


def test_projected_table_says_so(cli: Cli) -> None:
    result = cli("calendar", "show", "--year", "2030")
    assert "Lịch dự kiến: năm 2030 chưa có văn bản riêng" in result.out


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_output_is_identical_whatever_the_server_time_zone_and_locale(fmt: str) -> None:
    outputs = {
        run_process("calendar", "show", "--year", "2021", "--format", fmt, env={"TZ": tz, "LC_ALL": lc}).stdout
        for tz, lc in [("UTC", "C.UTF-8"), ("America/Los_Angeles", "C"), ("Pacific/Kiritimati", "POSIX")]
    }
    assert len(outputs) == 1
    assert "13/03/2021" in next(iter(outputs)).decode() or "2021-03-13" in next(iter(outputs)).decode()


def test_today_on_a_deadline_day_says_it_is_the_last_day(cli: Cli) -> None:
    result = cli("today", "--as-of", "15/03/2021")
    assert result.code == 0
    today = result.out.split("TÌNH HÌNH NGÀY")[1]
    assert "THỨ HAI, 15/03/2021" in today
    due = today.split("Hôm nay là hạn cuối:")[1].split("Sắp đến hạn:")[0]
    assert "Báo cáo CCHC Quý I/2021" in due
    closed = today.split("đơn vị nào chưa nộp là quá hạn:")[1]
    assert "Kế hoạch CCHC năm 2021" in closed


def test_today_late_in_the_year_looks_ahead_to_next_years_plan(cli: Cli) -> None:
    result = cli("today", "--as-of", "2026-11-25")
    upcoming = result.out.split("Sắp đến hạn:")[1].split("\n\n")[0]
    assert "Kế hoạch CCHC năm 2027" in upcoming.splitlines()[1]
    assert "Thứ Hai, 01/02/2027" in upcoming


def test_extra_days_off_from_config_move_the_effective_deadline(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[calendar]\nextra_days_off = [2021-03-15, "16/03/2021"]\n', encoding="utf-8")
    result = cli("--config", str(config), "calendar", "show", "-y", "2021", "-f", "json")
    assert result.code == 0, result.err
    q1 = next(o for o in json.loads(result.out)["obligations"] if o["id"] == "q1")
    assert q1["effective_deadline"] == "2021-03-17"


def test_extra_working_day_from_config_keeps_the_nominal_deadline(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[calendar]\nextra_working_days = [2021-03-13]\n', encoding="utf-8")
    result = cli("--config", str(config), "calendar", "show", "-y", "2021", "-f", "json")
    q1 = next(o for o in json.loads(result.out)["obligations"] if o["id"] == "q1")
    assert q1["effective_deadline"] == "2021-03-13"


def test_config_from_environment_variable(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "env.toml"
    config.write_text('[calendar]\nextra_days_off = [2021-03-15]\n', encoding="utf-8")
    monkeypatch.setenv("REMINDER_SERVICE_CONFIG", str(config))
    result = cli("calendar", "show", "-y", "2021", "-f", "json")
    q1 = next(o for o in json.loads(result.out)["obligations"] if o["id"] == "q1")
    assert q1["effective_deadline"] == "2021-03-16"


def test_today_shows_the_living_picture_of_the_demo_district(db_cli: Cli) -> None:
    assert db_cli("init", "--demo", "--as-of", "25/11/2026").code == 0
    result = db_cli("today", "--as-of", "25/11/2026")
    assert result.code == 0, result.err
    picture = result.out.split("Tình hình nộp báo cáo CCHC năm 2026.")[1]
    annual = next(line for line in picture.splitlines() if line.startswith("annual "))
    assert "16/11/2026" in annual
    assert "Báo cáo CCHC quá hạn." in picture and "báo cáo quá hạn của" in picture
    assert "Còn thiếu: Phụ lục 3B mục 7.1" in picture


def test_today_without_a_database_says_how_to_create_one(cli: Cli) -> None:
    result = cli("today", "--as-of", "25/11/2026")
    assert result.code == 0
    assert "reminder-service init --demo" in result.out
