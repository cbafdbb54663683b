"""The one date grammar shared by the CLI, the chat bot and register files."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from reminder_service.domain.datetext import DateError, read_date, read_moment, read_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/03/2021", date(2021, 3, 15)),
        ("5/3/2021", date(2021, 3, 5)),
        ("15-03-2021", date(2021, 3, 15)),
        ("15.03.2021", date(2021, 3, 15)),
        ("2021-03-15", date(2021, 3, 15)),
        (" 29/02/2024 ", date(2024, 2, 29)),
    ],
)
def test_every_written_form_names_the_same_day(text: str, expected: date) -> None:
    assert read_date(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("15/03/21", "hai chữ số"),
        ("15/03", "thiếu năm"),
        ("15/03-2021", "Không hiểu ngày"),
        ("2021/03/15", "Không hiểu ngày"),
        ("31/04/2021", "chỉ có 30 ngày"),
        ("29/02/2021", "chỉ có 28 ngày"),
        ("15/13/2021", "tháng 13"),
        ("15/03/1999", "Năm 1999"),
        ("mười lăm tháng ba", "Không hiểu ngày"),
        ("", "Không hiểu ngày"),
    ],
)
def test_a_person_is_told_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(DateError) as caught:
        read_date(text)
    assert words in str(caught.value)


def test_two_digit_years_only_where_registers_write_them() -> None:
    assert read_date("15/03/21", two_digit_years=True) == date(2021, 3, 15)
    assert read_moment("15.03.21 14h30", two_digit_years=True) == datetime(2021, 3, 15, 14, 30)


def test_chat_may_leave_the_year_out() -> None:
    assert read_date("15/03", default_year=2026) == date(2026, 3, 15)
    assert read_date("15/03/2021", default_year=2026) == date(2021, 3, 15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/03/2021", datetime(2021, 3, 12)),
        ("12/03/2021 14:30", datetime(2021, 3, 12, 14, 30)),
        ("2021-03-12T14:30", datetime(2021, 3, 12, 14, 30)),
        ("14h30 12/03/2021", datetime(2021, 3, 12, 14, 30)),
        ("12.03.2021, 14:30:05", datetime(2021, 3, 12, 14, 30, 5)),
    ],
)
def test_a_moment_is_a_date_with_an_optional_time(text: str, expected: datetime) -> None:
    assert read_moment(text) == expected


@pytest.mark.parametrize("text", ["12/03/2021 25:00", "12/03/2021 14:75", "12/03/2021 giờ"])
def test_a_bad_time_is_refused(text: str) -> None:
    with pytest.raises(DateError):
        read_moment(text)


def test_a_bare_time_of_day() -> None:
    assert read_time("8h05") is not None
    assert read_time("24:00") is None
    assert read_time("12/03/2021") is None
