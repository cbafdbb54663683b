"""Every mistake a user can make on the command line gets a Vietnamese message and exit code 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from calendars.library import BUILTIN_DIRECTIVES
from tests.conftest import Cli, run_process


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("calendar", "show", "--year", "20x1"), '"20x1" không phải là năm hợp lệ'),
        (("calendar", "show", "--year"), "tùy chọn --year cần một giá trị"),
        (("calendar", "show", "--yera", "2021"), "không có tùy chọn --yera"),
        (("calendar", "show", "--format", "xml"), '"xml" không hợp lệ; chọn một trong: table, json'),
        (("calendar", "show", "--kind", "province"), 'không có loại đơn vị "province"'),
        (("calendar", "nonsense"), 'không có lệnh "nonsense"'),
        (("today", "--as-of", "31/02/2026"), 'Không có ngày 31/02/2026: tháng 2 năm 2026 chỉ có 28 ngày'),
        (("calendar", "show", "extra"), "thừa tham số"),
    ],
)
def test_usage_errors_are_explained_in_vietnamese(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    result = cli(*args)
    assert result.code == 2
    assert expected in result.err
    assert "--help" in result.err
    assert "Traceback" not in result.err + result.out


def test_help_is_in_vietnamese(cli: Cli) -> None:
    result = cli("calendar", "show", "--help")
    assert result.code == 0
    assert "Cách dùng:" in result.out and "Tùy chọn:" in result.out
    assert "Hiện lịch báo cáo của một năm." in result.out
    assert "Hiện hướng dẫn này rồi thoát." in result.out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[calendar\nextra_days_off = []\n", "dòng 1: sai cú pháp TOML"),
        ("[calendar]\nextra_day_off = [2021-03-15]\n", 'khóa "extra_day_off" trong [calendar] không được hỗ trợ'),
        ("[calender]\n", "mục [calender] không được hỗ trợ"),
        ('[calendar]\nextra_days_off = ["2021-02-30"]\n', 'phần tử thứ 1 ("2021-02-30") không phải là ngày hợp lệ'),
        ("[calendar]\nextra_days_off = 2021-03-15\n", "phải là một danh sách ngày"),
        ('[calendar]\ndirective = "cchc2"\n', '"cchc2" không có trong thư viện văn bản'),
        ("[calendar]\nextra_days_off = [2021-03-15]\nextra_working_days = [2021-03-15]\n",
         "vừa nằm trong extra_days_off vừa trong extra_working_days"),
    ],
)
def test_bad_config_names_the_file_and_the_problem(cli: Cli, tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content, encoding="utf-8")
    result = cli("--config", str(config), "calendar", "show", "--year", "2021")
    assert result.code == 2
    assert expected in result.err
    assert "Traceback" not in result.err


def test_missing_config_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "absent.toml"), "run")
    assert result.code == 2
    assert "Không đọc được tệp cấu hình" in result.err and "absent.toml" in result.err


def test_broken_directive_in_the_office_folder_names_file_and_line(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "directives"
    folder.mkdir()
    text = (BUILTIN_DIRECTIVES / "cchc.yaml").read_text(encoding="utf-8")
    broken = text.replace("year: 2021\n", "year: 2027\n", 1).replace("day: 30\n", "day: 32\n", 1)
    (folder / "cchc-2027.yaml").write_text(broken, encoding="utf-8")
    line = broken.splitlines().index("          day: 32") + 1
    config = tmp_path / "config.toml"
    config.write_text(f'[calendar]\ndirectives_dir = "{folder}"\n', encoding="utf-8")
    result = cli("--config", str(config), "calendar", "show")
    assert result.code == 2
    assert f"cchc-2027.yaml, dòng {line}:" in result.err
    assert "từ 1 đến 31" in result.err


def test_lint_reports_the_texts_oddities_as_warnings(cli: Cli) -> None:
    result = cli("calendar", "lint")
    assert result.code == 0
    assert 'văn bản "cchc" năm 2021 — hợp lệ' in result.out
    warnings = [line for line in result.out.splitlines() if "cảnh báo: annual" in line]
    assert any("sau hạn nộp" in line and "20/11/2021" in line for line in warnings)
    assert any("là cách hiểu" in line for line in warnings)
    assert "22/01/2020" in result.out


def test_lint_of_a_broken_file_exits_2_with_its_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "next-year.yaml"
    shutil.copy(BUILTIN_DIRECTIVES / "cchc.yaml", path)
    text = path.read_text(encoding="utf-8").replace("period: {quarter: 3}", "period: {quarter: 5}")
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    period: {quarter: 5}") + 1
    result = cli("calendar", "lint", str(path))
    assert result.code == 2
    assert f"next-year.yaml, dòng {line}:" in result.err


def test_process_exit_code_and_no_traceback_for_input_errors() -> None:
    done = run_process("calendar", "show", "--year", "abcd")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr.decode()
    assert "không phải là năm hợp lệ" in done.stderr.decode()
