"""A broken directive file is explained, never crashed on: the file, the exact line and what is wrong, in Vietnamese."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendars.library import BUILTIN_DIRECTIVES, LibraryError, load_library
from calendars.loader import load_directive
from calendars.schedule import build_year
from calendars.workdays import WorkCalendar
from calendars.yaml_nodes import DirectiveError
from tests.conftest import Cli

# The line numbers in the tables below count lines of this text (line 1 is "id: thu").
BASE = """\
id: thu
year: 2021
title: Văn bản thử năm {year}
unit_kinds:
  commune: UBND các xã, thị trấn
  monitor: Các phòng theo dõi lĩnh vực
obligations:
  - id: q1
    title: Báo cáo Quý I/{year}
    period: {quarter: 1}
    owed_by:
      commune:
        deadline: {day: 13, month: period_last}
        window:
          from: {day: 15, month: 12, year: previous}
          to: {day: 10, month: 3}
        content: Báo cáo theo đề cương.
  - id: annual
    title: Báo cáo năm {year}
    period: year
    deadline: {day: 15, month: 11}
    owed_by:
      commune: {content: Báo cáo năm.}
      monitor: {content: Báo cáo lĩnh vực.}
"""


def _edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"the edit must target exactly one place: {old!r}"
    return BASE.replace(old, new)


def _error(path: Path, content: str | bytes) -> DirectiveError:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DirectiveError) as caught:
        load_directive(path)
    error = caught.value
    assert error.path == str(path)
    return error


def test_base_text_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "thu.yaml"
    path.write_text(BASE, encoding="utf-8")
    directive = load_directive(path)
    assert [spec.id for spec in directive.obligations] == ["q1", "annual"]
    calendar = build_year(directive, 2021, WorkCalendar())
    assert [o.nominal_deadline for o in calendar.obligations] == [
        date(2021, 3, 13), date(2021, 11, 15), date(2021, 11, 15),
    ]


CASES = [
    # YAML syntax: a colon followed by a space inside an unquoted Vietnamese title.
    pytest.param(
        _edit("title: Văn bản thử năm {year}", "title: Văn bản: thử năm {year}"),
        3, "sai cú pháp YAML", id="yaml-colon-in-plain-text",
    ),
    pytest.param(
        _edit("    title: Báo cáo Quý I/{year}", "\ttitle: Báo cáo Quý I/{year}"),
        9, "sai cú pháp YAML", id="yaml-tab-indent",
    ),
    pytest.param("", 1, "tệp rỗng", id="empty-file"),
    pytest.param("# chỉ có chú thích\n\n", 1, "tệp rỗng", id="only-comments"),
    pytest.param("- id: thu\n- year: 2021\n", 1, "cần một bảng khóa–giá trị", id="root-is-a-list"),
    pytest.param(
        _edit("title: Văn bản thử năm {year}", "titel: Văn bản thử năm {year}"),
        3, 'khóa "titel" không hợp lệ', id="unknown-top-level-key",
    ),
    pytest.param(
        _edit("        deadline: {day: 13", "        deadlines: {day: 13"),
        13, 'khóa "deadlines" không hợp lệ', id="unknown-key-in-terms",
    ),
    pytest.param(
        _edit("year: 2021", "year: 2021\nyear: 2022"),
        3, 'khóa "year" bị lặp lại', id="duplicate-top-level-key",
    ),
    pytest.param(
        _edit("{day: 13, month: period_last}", "{day: 13, month: period_last, day: 14}"),
        13, 'khóa "day" bị lặp lại', id="duplicate-key-in-flow-mapping",
    ),
    pytest.param(
        _edit("title: Văn bản thử năm {year}\n", ""),
        1, "thiếu khóa bắt buộc: title", id="missing-top-level-key",
    ),
    pytest.param(
        _edit("    period: {quarter: 1}\n", ""),
        8, "thiếu khóa bắt buộc: period", id="missing-obligation-key",
    ),
    pytest.param(
        _edit("        content: Báo cáo theo đề cương.\n", ""),
        12, "thiếu nội dung cần gửi (content)", id="missing-content",
    ),
    pytest.param(
        _edit("to: {day: 10, month: 3}", "to: {day: 31, month: 4}"),
        16, "tháng 4 không có ngày 31", id="day-31-in-april",
    ),
    pytest.param(
        _edit("deadline: {day: 15, month: 11}", "deadline: {day: 31, month: 11}"),
        21, "tháng 11 không có ngày 31", id="day-31-in-november",
    ),
    pytest.param(
        _edit("to: {day: 10, month: 3}", "to: {day: 29, month: 2}"),
        16, "tháng 2 không có ngày 29 (năm nhuận mới có", id="29-february",
    ),
    pytest.param(
        # Day 31 of "the month after the period's first" is 31/02 for Q1.
        _edit("{day: 13, month: period_last}", "{day: 31, month: period_first, shift_months: 1}"),
        13, "ngày 31 không tồn tại ở tháng mà quy tắc này chỉ tới", id="period-relative-day-31",
    ),
    pytest.param(
        _edit("to: {day: 10, month: 3}", "to: {day: 10, month: 13}"),
        16, "cần một số nguyên từ 1 đến 12, nhận được 13", id="month-13",
    ),
    pytest.param(
        _edit("to: {day: 10, month: 3}", "to: {day: 0, month: 3}"),
        16, "cần một số nguyên từ 1 đến 31, nhận được 0", id="day-0",
    ),
    pytest.param(
        _edit("to: {day: 10, month: 3}", "to: {day: 10, month: tháng ba}"),
        16, 'cần tháng từ 1 đến 12, period_first hoặc period_last; nhận được "tháng ba"', id="month-in-words",
    ),
    pytest.param(
        _edit("month: period_last}", "month: period_end}"),
        13, 'nhận được "period_end"', id="month-word-typo",
    ),
    pytest.param(
        _edit("year: previous}", "year: last}"),
        15, "cần một trong các giá trị: previous, same, next", id="year-word",
    ),
    pytest.param(
        _edit("period: {quarter: 1}", "period: {quarter: 5}"),
        10, "cần một số nguyên từ 1 đến 4, nhận được 5", id="quarter-5",
    ),
    pytest.param(
        _edit("      monitor: {content: Báo cáo lĩnh vực.}", "      ward: {content: Báo cáo lĩnh vực.}"),
        24, 'loại đơn vị "ward" chưa khai báo trong unit_kinds (commune, monitor)', id="unknown-unit-kind",
    ),
    pytest.param(
        _edit("  - id: annual", "  - id: q1"),
        18, 'mã nghĩa vụ "q1" bị lặp lại', id="duplicate-obligation-id",
    ),
    pytest.param(
        _edit("from: {day: 15, month: 12, year: previous}", "from: {day: 15, month: 3}"),
        15, "ngày bắt đầu (15/03/2021) sau ngày kết thúc (10/03/2021)", id="window-start-after-end",
    ),
    pytest.param(
        _edit("title: Báo cáo Quý I/{year}", "title: Báo cáo Quý I/{nam}"),
        9, "chỗ thay thế {nam} không được hỗ trợ", id="unknown-placeholder",
    ),
    pytest.param(
        _edit("title: Báo cáo Quý I/{year}", "title: Báo cáo Quý I/{year"),
        9, "dấu ngoặc nhọn { } không cân đối", id="unbalanced-brace",
    ),
    pytest.param(
        _edit("title: Báo cáo Quý I/{year}", "title: [Báo cáo, Quý I]"),
        9, "cần một giá trị đơn (chuỗi hoặc số), không phải danh sách hay bảng", id="list-for-scalar",
    ),
    pytest.param(
        _edit("year: 2021", "year: hai nghìn"),
        2, 'cần một số nguyên từ 1900 đến 2200, nhận được "hai nghìn"', id="year-in-words",
    ),
    pytest.param(
        _edit(
            "unit_kinds:\n  commune: UBND các xã, thị trấn\n  monitor: Các phòng theo dõi lĩnh vực\n",
            "unit_kinds: commune, monitor\n\n\n",
        ),
        4, "cần một bảng khóa–giá trị", id="scalar-for-mapping",
    ),
    pytest.param(
        _edit("deadline: {day: 15, month: 11}", "deadline: 15/11"),
        21, "cần một bảng khóa–giá trị", id="deadline-as-text",
    ),
    pytest.param(
        _edit("content: Báo cáo năm.}", "content: []}"),
        23, "danh sách không được để trống", id="empty-content-list",
    ),
]


@pytest.mark.parametrize(("content", "line", "says"), CASES)
def test_one_problem(tmp_path: Path, content: str, line: int, says: str) -> None:
    path = tmp_path / "thu.yaml"
    error = _error(path, content)
    assert [p.line for p in error.problems] == [line]
    assert says in error.problems[0].message
    assert str(error).startswith(f"{path}, dòng {line}: ")


def test_not_utf8(tmp_path: Path) -> None:
    # Line 9 saved in a legacy 8-bit code page; lines 3 and 5 before it hold multi-byte UTF-8.
    lines = BASE.encode("utf-8").split(b"\n")
    lines[8] = "    title: Báo cáo Quý I/{year}".encode("latin-1")
    path = tmp_path / "thu.yaml"
    error = _error(path, b"\n".join(lines))
    assert [p.line for p in error.problems] == [9]
    assert "UTF-8" in error.problems[0].message
    assert str(error).startswith(f"{path}, dòng 9: tệp không ở mã UTF-8")


def test_several_broken_obligations_reported_together(tmp_path: Path) -> None:
    content = _edit("to: {day: 10, month: 3}", "to: {day: 31, month: 4}").replace(
        "      monitor: {content: Báo cáo lĩnh vực.}", "      ward: {content: Báo cáo lĩnh vực.}"
    )
    path = tmp_path / "thu.yaml"
    error = _error(path, content)
    assert [p.line for p in error.problems] == [16, 24]
    assert "tháng 4 không có ngày 31" in error.problems[0].message
    assert 'loại đơn vị "ward"' in error.problems[1].message
    assert str(error).splitlines() == [
        f"{path}, dòng 16: {error.problems[0].message}",
        f"{path}, dòng 24: {error.problems[1].message}",
    ]


def test_problem_names_where_in_the_file(tmp_path: Path) -> None:
    error = _error(tmp_path / "thu.yaml", _edit("to: {day: 10, month: 3}", "to: {day: 31, month: 4}"))
    assert error.problems[0].message.startswith("obligations[1].owed_by.commune.window.to.day: ")


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "khong-co.yaml"
    with pytest.raises(DirectiveError) as caught:
        load_directive(path)
    assert caught.value.path == str(path)
    assert "không đọc được tệp" in caught.value.problems[0].message


@pytest.mark.parametrize("written", ["0x0D", "0b1101", "1:30"])
def test_exotic_integer_is_explained(tmp_path: Path, written: str) -> None:
    error = _error(tmp_path / "thu.yaml", _edit("{day: 13, month", f"{{day: {written}, month"))
    assert [p.line for p in error.problems] == [13]


@pytest.mark.parametrize("placeholder", ["{year!z}", "{year:%Y}", "{year:{nam}}"])
def test_bad_placeholder_format_is_refused_at_load(tmp_path: Path, placeholder: str) -> None:
    error = _error(tmp_path / "thu.yaml", _edit("Báo cáo Quý I/{year}", f"Báo cáo Quý I/{placeholder}"))
    assert [p.line for p in error.problems] == [9]


def test_control_character_names_its_line(tmp_path: Path) -> None:
    error = _error(tmp_path / "thu.yaml", _edit("Báo cáo Quý I/{year}", "Báo cáo Quý I\x07/{year}"))
    assert [p.line for p in error.problems] == [9]


def test_unclosed_quote_names_the_line_it_opens_on(tmp_path: Path) -> None:
    error = _error(tmp_path / "thu.yaml", _edit("title: Văn bản thử", 'title: "Văn bản thử'))
    assert error.problems[0].line == 3 or "dòng 3" in error.problems[0].message


def test_library_reports_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "khong-co"
    with pytest.raises(LibraryError) as caught:
        load_library([BUILTIN_DIRECTIVES, missing])
    (error,) = caught.value.errors
    assert error.path == str(missing)
    assert "thư mục văn bản không tồn tại" in error.problems[0].message
    assert str(missing) in str(caught.value)


def test_library_refuses_two_files_for_one_year(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BASE, encoding="utf-8")
    with pytest.raises(LibraryError) as caught:
        load_library([tmp_path])
    (error,) = caught.value.errors
    assert error.path == str(tmp_path / "b.yaml")
    assert [p.line for p in error.problems] == [1]
    message = error.problems[0].message
    assert 'văn bản "thu" năm 2021 đã có trong tệp' in message
    assert str(tmp_path / "a.yaml") in message


def test_library_collects_every_broken_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_edit("year: 2021", "year: hai nghìn"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "c.yml").write_text(_edit("  - id: annual", "  - id: q1"), encoding="utf-8")
    missing = tmp_path / "khong-co"
    with pytest.raises(LibraryError) as caught:
        load_library([tmp_path, missing])
    assert [(e.path, [p.line for p in e.problems]) for e in caught.value.errors] == [
        (str(tmp_path / "a.yaml"), [2]),
        (str(tmp_path / "c.yml"), [18]),
        (str(missing), [0]),
    ]


# Characters that make YAML structure, plus digits, letters and a Vietnamese letter.
_NOISE = st.text(alphabet="{}[],:-#&*!|>'\"\n\t ?%@`~0123456789ayă", max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.integers(0, len(BASE)), cut=st.integers(0, 8), noise=_NOISE)
def test_any_edit_is_loaded_or_explained(tmp_path: Path, at: int, cut: int, noise: str) -> None:
    path = tmp_path / "thu.yaml"
    path.write_text(BASE[:at] + noise + BASE[at + cut :], encoding="utf-8")
    try:
        load_directive(path)
    except DirectiveError as error:
        assert error.path == str(path)
        assert error.problems


# -- Hostile files: what a careless edit or a malicious file can do to the parser ------------------

# 100,000 brackets: PyYAML's composer recurses once per level and would die of RecursionError.
DEEP_FLOW = _edit("title: Văn bản thử năm {year}", "title: " + "[" * 100_000)
# Block nesting needs no bracket at all: each "-" one level deeper. Level n (the root mapping is level 1)
# starts on line n + 3, so the first level past the bound of 32 on line 36.
DEEP_BLOCK = _edit("unit_kinds:", "notes:\n" + "".join("  " * depth + "-\n" for depth in range(2000)) + "unit_kinds:")
# 5,000 digits: int() refuses more than 4,300 (ValueError), whatever the range check says after it.
HUGE_YEAR = _edit("year: 2021", "year: " + "9" * 5000)


@pytest.mark.parametrize(("content", "line", "says"), [
    pytest.param(DEEP_FLOW, 3, "lồng nhau quá sâu", id="100000-brackets"),
    pytest.param(DEEP_BLOCK, 36, "lồng nhau quá sâu", id="2000-nested-list-items"),
    pytest.param(HUGE_YEAR, 2, "cần một số nguyên từ 1900 đến 2200", id="5000-digit-year"),
])
def test_a_hostile_file_is_explained_with_its_line(tmp_path: Path, content: str, line: int, says: str) -> None:
    error = _error(tmp_path / "thu.yaml", content)
    assert [p.line for p in error.problems] == [line]
    assert says in error.problems[0].message
    assert len(str(error)) < 500  # the 5,000 digits are not repeated back


@pytest.mark.parametrize("content", [DEEP_FLOW, DEEP_BLOCK, HUGE_YEAR])
def test_calendar_lint_of_a_hostile_file_exits_2_naming_file_and_line(cli: Cli, tmp_path: Path, content: str) -> None:
    path = tmp_path / "thu.yaml"
    path.write_text(content, encoding="utf-8")
    result = cli("calendar", "lint", str(path))
    assert result.code == 2 and "Traceback" not in result.err
    assert f"{path}, dòng " in result.err and "Lỗi trong tệp văn bản hướng dẫn" in result.err


@pytest.mark.parametrize("content", [DEEP_FLOW, HUGE_YEAR])
def test_the_daemon_refuses_to_start_on_a_hostile_directive_with_exit_2(cli: Cli, tmp_path: Path,
                                                                        content: str) -> None:
    # Exit 1 would have systemd restart the daemon forever; 2 is a mistake in the files, to fix.
    folder = tmp_path / "van-ban"
    folder.mkdir()
    (folder / "thu.yaml").write_text(content, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[calendar]\ndirectives_dir = "van-ban"\n', encoding="utf-8")
    result = cli("--config", str(config), "run")
    assert result.code == 2 and "Traceback" not in result.err
    assert f"{folder / 'thu.yaml'}, dòng " in result.err

