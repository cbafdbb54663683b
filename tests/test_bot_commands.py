"""The bot's pure parsing layer: command names as people type them, periods, years, dates, each
command's arguments, and Telegram's 4,096-unit limit (tables of inputs and expected results, then
hypothesis for whatever else a chat can contain)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminder_service.adapters.telegram.commands import (
    BY_KEY,
    COMMANDS,
    CommandError,
    Invocation,
    menu,
    parse_invocation,
)
from reminder_service.adapters.telegram.paging import Page, paginate, split_message, utf16_len
from reminder_service.adapters.telegram.periods import (
    OverdueArgs,
    StatusArgs,
    SubmittedArgs,
    UnitArgs,
    parse_calendar,
    parse_day,
    parse_days,
    parse_mine,
    parse_overdue,
    parse_status,
    parse_submitted,
    parse_unit,
    parse_upcoming,
    parse_year,
    period_names,
    resolve_period,
)
from tests.fakes.bot_api import telegram_html_to_text

BOT = "CchcNhacViecBot"
TODAY = date(2021, 3, 20)
SEED = frozenset({"plan", "q1", "h1", "q3", "annual"})
CODES = SEED | {"supplement", "adhoc1", "adhoc2", "adhoc10"}
# Vietnamese letters with diacritics: every message a person reads has some.
_VIETNAMESE = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]")


def _vietnamese(message: str) -> bool:
    return bool(_VIETNAMESE.search(message.lower()))


# ---------------------------------------------------------------- command names

NAME_CASES = [
    *((f"/{name}", command.key) for command in COMMANDS for name in command.names),
    ("/QUAHAN", "overdue"), ("/QuáHạn", "overdue"), ("/quá_hạn", "overdue"), ("/qua_han", "overdue"),
    ("/Qua-Han", "overdue"), ("/quá hạn", "overdue"), (unicodedata.normalize("NFD", "/quáhạn"), "overdue"),
    ("/OVERDUE", "overdue"), ("/tìnhhình", "status"), ("/TÌNH_HÌNH", "status"), ("/Status", "status"),
    ("/sắpđến", "upcoming"), ("/sap_den", "upcoming"), ("/Đơn_Vị", "unit"), ("/đơn vị", "unit"),
    ("/đãnộp", "submitted"), ("/da nop", "submitted"), ("/hủynộp", "undo"), ("/huỷ_nộp", "undo"),
    ("/củatôi", "mine"), ("/cua-toi", "mine"), ("/lịch", "calendar"), ("/LICH", "calendar"),
    ("/trợgiúp", "help"), ("/trợ giúp", "help"), ("/HELP", "help"), ("/START", "start"),
    (f"/quahan@{BOT}", "overdue"), (f"/QUAHAN@{BOT.lower()}", "overdue"), (f"/quá_hạn@{BOT.upper()}", "overdue"),
    ("/quahan@", "overdue"), (f"/da nop@{BOT} XA01", "submitted"),
    ("/qua\u200bhan", "overdue"), ("\u200f/quahan", "overdue"), ("\ufeff/quahan", "overdue"),
    ("  /quahan", "overdue"), ("/quahan\nq1", "overdue"), ("/quahan\u00a0q1", "overdue"), ("/qua\x00han", "overdue"),
]


@pytest.mark.parametrize(("text", "key"), NAME_CASES)
def test_command_names(text: str, key: str) -> None:
    invocation = parse_invocation(text, BOT)
    assert invocation is not None
    assert invocation.command == key


@pytest.mark.parametrize("text", [
    "", " ", "quahan", "hello /quahan", "Báo cáo quý I", "/", "/ quahan", f"/@{BOT}", "\u200b",
    "/quahan@other_bot", "/quahan@CchcNhacViecBot2", "/xyz@other_bot", "/da nop@other_bot XA01",
])
def test_not_for_us(text: str) -> None:
    assert parse_invocation(text, BOT) is None


def test_username_given_with_at_sign() -> None:
    assert parse_invocation(f"/quahan@{BOT}", f"@{BOT}") == Invocation("overdue", "quahan", (), "")


@pytest.mark.parametrize(("text", "name", "args", "rest"), [
    ("/quahan", "quahan", (), ""),
    ("/QuáHạn quý I", "QuáHạn", ("quý", "I"), "quý I"),
    ("/danop XA01 q1 15/BC-UBND 12/03/2021", "danop", ("XA01", "q1", "15/BC-UBND", "12/03/2021"),
     "XA01 q1 15/BC-UBND 12/03/2021"),
    ('/danop "Xã Phú Lộc" q1', "danop", ("Xã Phú Lộc", "q1"), '"Xã Phú Lộc" q1'),
    ("/danop “Xã  Phú Lộc ” q1", "danop", ("Xã Phú Lộc", "q1"), "“Xã  Phú Lộc ” q1"),
    ('/danop “Xã Phú Lộc" q1', "danop", ("Xã Phú Lộc", "q1"), '“Xã Phú Lộc" q1'),
    ('/donvi "Xã Phú Lộc', "donvi", ("Xã Phú Lộc",), '"Xã Phú Lộc'),
    ('/donvi "" XA01', "donvi", ("XA01",), '"" XA01'),
    ("/tinhhinh\tq1\n\n2021  ", "tinhhinh", ("q1", "2021"), "q1\n\n2021"),
    (f"/tinhhinh@{BOT} q1", "tinhhinh", ("q1",), "q1"),
    ("/donvi X\u200bA\u200e01", "donvi", ("XA01",), "XA01"),
    (unicodedata.normalize("NFD", "/donvi Phú Lộc"), "donvi", ("Phú", "Lộc"), "Phú Lộc"),
    ("/quá hạn q1", "quá hạn", ("q1",), "q1"),
])
def test_arguments(text: str, name: str, args: tuple[str, ...], rest: str) -> None:
    invocation = parse_invocation(text, BOT)
    assert invocation is not None
    assert (invocation.name, invocation.args, invocation.rest) == (name, args, rest)


@pytest.mark.parametrize(("text", "message"), [
    ("/xyz", "Không có lệnh /xyz. Gõ /trogiup để xem các lệnh."),
    ("/quahanx q1", "Không có lệnh /quahanx. Gõ /trogiup để xem các lệnh."),
    (f"/xyz@{BOT}", "Không có lệnh /xyz. Gõ /trogiup để xem các lệnh."),
    ("/😀", "Không có lệnh /😀. Gõ /trogiup để xem các lệnh."),
    ("/" + "a" * 5000, f"Không có lệnh /{'a' * 39}…. Gõ /trogiup để xem các lệnh."),
])
def test_unknown_command(text: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_invocation(text, BOT)
    assert str(caught.value) == message


def test_command_table() -> None:
    assert [command.key for command in COMMANDS] == [
        "overdue", "status", "upcoming", "unit", "submitted", "undo", "mine", "calendar", "help", "register_group",
        "start"]
    names = [name for command in COMMANDS for name in command.names]
    assert len(names) == len(set(names))
    for command in COMMANDS:
        assert command.usage.startswith(f"/{command.name}")
        assert command.example.startswith(f"/{command.name}")
        assert _vietnamese(command.description) and _vietnamese(command.usage)
    # Telegram: names of 1-32 lower-case letters, digits and underscores; descriptions of 3-256 characters.
    for name, description in menu():
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert 3 <= len(description) <= 256
    assert BY_KEY["overdue"].usage == "/quahan [kỳ] — các đơn vị quá hạn nộp báo cáo"


# ---------------------------------------------------------------- periods, years, days

PERIOD_CASES = [
    ("q1", "q1"), ("Q1", "q1"), ("quy1", "q1"), ("quý I", "q1"), ("Quý 1", "q1"), ("quyI", "q1"), ("QUÝ I", "q1"),
    ("q.1", "q1"), (unicodedata.normalize("NFD", "quý I"), "q1"), ("quý  i", "q1"),
    ("q3", "q3"), ("quý III", "q3"), ("quy3", "q3"), ("Quý 3", "q3"), ("9 tháng", "q3"),
    ("h1", "h1"), ("H1", "h1"), ("6thang", "h1"), ("6 tháng", "h1"), ("6 tháng đầu năm", "h1"),
    ("sáu tháng", "h1"), ("Sáu tháng đầu năm", "h1"), ("nửa năm", "h1"),
    ("nam", "annual"), ("năm", "annual"), ("Năm", "annual"), ("cả năm", "annual"), ("annual", "annual"),
    ("kehoach", "plan"), ("kế hoạch", "plan"), ("Kế Hoạch", "plan"), ("plan", "plan"), ("KH", "plan"),
]


@pytest.mark.parametrize(("word", "code"), PERIOD_CASES)
def test_period_words(word: str, code: str) -> None:
    assert resolve_period(word, SEED) == code


@pytest.mark.parametrize(("word", "code"), [
    ("adhoc1", "adhoc1"), ("ADHOC10", "adhoc10"), ("supplement", "supplement"), ("bổ sung", "supplement")])
def test_period_codes(word: str, code: str) -> None:
    assert resolve_period(word, CODES) == code


@pytest.mark.parametrize("word", ["q2", "quý II", "Q4", "quý IV", "adhoc1", "bổ sung", "quý V", "", "tháng 3"])
def test_period_missing(word: str) -> None:
    with pytest.raises(CommandError) as caught:
        resolve_period(word, SEED)
    assert str(caught.value) == (
        f"Không có kỳ báo cáo “{word}”. Các kỳ: kehoach, q1, h1, q3, nam (hoặc mã nghĩa vụ).")


def test_periods_listed_in_deadline_order() -> None:
    assert period_names(CODES) == ["kehoach", "q1", "h1", "q3", "nam", "bosung", "adhoc1", "adhoc2", "adhoc10"]
    assert period_names({"q4", "q2", "zeta", "alpha"}) == ["q2", "q4", "alpha", "zeta"]
    with pytest.raises(CommandError, match="chưa có kỳ báo cáo nào"):
        resolve_period("q1", ())


@pytest.mark.parametrize(("word", "year"), [
    ("2021", 2021), (" 2022 ", 2022), ("năm 2021", 2021), ("Năm 2030", 2030), ("nam2021", 2021),
    ("2000", 2000), ("2100", 2100), ("năm nay", 2021), ("nay", 2021),
])
def test_years(word: str, year: int) -> None:
    assert parse_year(word, TODAY) == year


@pytest.mark.parametrize("word", ["21", "1999", "2101", "20211", "hai nghìn", "", "２０２１", "năm", "2021 2022"])
def test_bad_years(word: str) -> None:
    with pytest.raises(CommandError, match="bốn chữ số, từ 2000 đến 2100, ví dụ: 2021"):
        parse_year(word, TODAY)


@pytest.mark.parametrize(("word", "day"), [
    ("15/03/2021", date(2021, 3, 15)), ("5/3/2021", date(2021, 3, 5)), ("05/3/2021", date(2021, 3, 5)),
    ("15/03", date(2021, 3, 15)), ("1/1", date(2021, 1, 1)), ("2021-03-15", date(2021, 3, 15)),
    ("15-03-2021", date(2021, 3, 15)), ("15.03.2021", date(2021, 3, 15)), ("29/02/2020", date(2020, 2, 29)),
    ("31/12/2100", date(2100, 12, 31)),
])
def test_days(word: str, day: date) -> None:
    assert parse_day(word, TODAY) == day


@pytest.mark.parametrize(("word", "message"), [
    ("31/02/2021", "Không có ngày 31/02/2021: tháng 2 năm 2021 chỉ có 28 ngày."),
    ("29/02/2021", "Không có ngày 29/02/2021: tháng 2 năm 2021 chỉ có 28 ngày."),
    ("31/04/2021", "Không có ngày 31/04/2021: tháng 4 năm 2021 chỉ có 30 ngày."),
    ("0/3/2021", "Không có ngày 00/03/2021: tháng 3 năm 2021 chỉ có 31 ngày."),
    ("15/13/2021", "Không có tháng 13 trong ngày “15/13/2021”: tháng phải từ 1 đến 12, ví dụ: 15/03/2021."),
    ("15/03/1999", "Năm 1999 trong ngày “15/03/1999” không hợp lệ: năm phải từ 2000 đến 2100, ví dụ: 15/03/2021."),
    ("15/03/21", "“15/03/21” ghi năm bằng hai chữ số; hãy ghi năm đủ bốn chữ số, ví dụ: 15/03/2021."),
    ("2021/3/5", "Không hiểu ngày “2021/3/5”. Hãy ghi theo dạng ngày/tháng/năm (15/03/2021, 5/3/2021, "
                 "15-03-2021, 15.03.2021) hoặc năm-tháng-ngày (2021-03-15) (hoặc 15/03 cho năm nay)."),
    ("hôm qua", "Không hiểu ngày “hôm qua”. Hãy ghi theo dạng ngày/tháng/năm (15/03/2021, 5/3/2021, "
                "15-03-2021, 15.03.2021) hoặc năm-tháng-ngày (2021-03-15) (hoặc 15/03 cho năm nay)."),
])
def test_bad_days(word: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_day(word, TODAY)
    assert str(caught.value) == message


@pytest.mark.parametrize(("word", "days"), [("1", 1), ("30", 30), ("366", 366), ("30 ngày", 30), ("7ngay", 7)])
def test_day_counts(word: str, days: int) -> None:
    assert parse_days(word) == days


@pytest.mark.parametrize("word", ["0", "367", "-5", "1000", "ba mươi", "", "30 tuần", "1.5"])
def test_bad_day_counts(word: str) -> None:
    with pytest.raises(CommandError, match="ghi một số từ 1 đến 366, ví dụ: 30"):
        parse_days(word)


# ---------------------------------------------------------------- each command's arguments

def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize(("text", "expected"), [
    ("", OverdueArgs(None)), ("q1", OverdueArgs("q1")), ("quý I", OverdueArgs("q1")),
    ("6 tháng đầu năm", OverdueArgs("h1")), ("adhoc2", OverdueArgs("adhoc2")), ("cả năm", OverdueArgs("annual")),
])
def test_overdue(text: str, expected: OverdueArgs) -> None:
    assert parse_overdue(_words(text), CODES) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", StatusArgs(None, 2021)), ("q1", StatusArgs("q1", 2021)), ("2020", StatusArgs(None, 2020)),
    ("q1 2020", StatusArgs("q1", 2020)), ("2020 q1", StatusArgs("q1", 2020)),
    ("quý I 2020", StatusArgs("q1", 2020)), ("2020 quý I", StatusArgs("q1", 2020)),
    ("quý I năm 2020", StatusArgs("q1", 2020)), ("năm 2020 quý I", StatusArgs("q1", 2020)),
    ("Quý I/2020", StatusArgs("q1", 2020)), ("q3-2020", StatusArgs("q3", 2020)),
    ("năm 2020", StatusArgs(None, 2020)), ("cả năm 2020", StatusArgs("annual", 2020)),
    ("2020 năm", StatusArgs("annual", 2020)), ("6 tháng đầu năm 2020", StatusArgs("h1", 2020)),
    ("6 tháng đầu năm/2020", StatusArgs("h1", 2020)), ("kế hoạch năm nay", StatusArgs("plan", 2021)),
    ("nam", StatusArgs("annual", 2021)),
])
def test_status(text: str, expected: StatusArgs) -> None:
    assert parse_status(_words(text), CODES, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [("", 14), ("30", 30), ("30 ngày", 30), ("366", 366)])
def test_upcoming(text: str, expected: int) -> None:
    assert parse_upcoming(_words(text)) == expected


@pytest.mark.parametrize(("args", "expected"), [
    (["XA01"], UnitArgs("XA01", 2021)), (["Xã", "Phú", "Lộc"], UnitArgs("Xã Phú Lộc", 2021)),
    (["Xã Phú  Lộc "], UnitArgs("Xã Phú Lộc", 2021)), (["x" * 100], UnitArgs("x" * 100, 2021)),
    (["lam", "thuy", "2020"], UnitArgs("lam thuy", 2020)), (["XA01", "năm", "2020"], UnitArgs("XA01", 2020)),
    (["XA01", "năm", "nay"], UnitArgs("XA01", 2021)), (["2020"], UnitArgs("2020", 2021)),
])
def test_unit(args: list[str], expected: UnitArgs) -> None:
    assert parse_unit(args, TODAY) == expected


@pytest.mark.parametrize(("args", "expected"), [([], 2021), (["2020"], 2020), (["năm", "2020"], 2020)])
def test_mine(args: list[str], expected: int) -> None:
    assert parse_mine(args, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [("", 2021), ("2022", 2022), ("năm 2022", 2022), ("năm nay", 2021)])
def test_calendar(text: str, expected: int) -> None:
    assert parse_calendar(_words(text), TODAY) == expected


def _sub(obligation: str, year: int = 2021, doc_no: str | None = None, received: date | None = None,
         unit: str = "XA01") -> SubmittedArgs:
    return SubmittedArgs(unit, obligation, year, doc_no, received)


MARCH_12 = date(2021, 3, 12)


@pytest.mark.parametrize(("args", "expected"), [
    (["XA01", "q1"], _sub("q1")),
    (["XA01", "quý", "I"], _sub("q1")),
    (["XA01", "q1", "15/BC-UBND"], _sub("q1", doc_no="15/BC-UBND")),
    (["XA01", "q1", "12/03/2021"], _sub("q1", received=MARCH_12)),
    (["XA01", "q1", "15/BC-UBND", "12/03/2021"], _sub("q1", doc_no="15/BC-UBND", received=MARCH_12)),
    (["XA01", "q1", "12/03/2021", "15/BC-UBND"], _sub("q1", doc_no="15/BC-UBND", received=MARCH_12)),
    (["XA01", "quý", "I", "15/BC-UBND", "12/03"], _sub("q1", doc_no="15/BC-UBND", received=MARCH_12)),
    (["XA01", "q1", "2021-03-12", "15/BC-UBND"], _sub("q1", doc_no="15/BC-UBND", received=MARCH_12)),
    (["XA01", "q3", "2020"], _sub("q3", 2020)),
    (["XA01", "q3", "2020", "45/BC-UBND"], _sub("q3", 2020, "45/BC-UBND")),
    (["XA01", "quý", "III", "năm", "2020", "45/BC-UBND", "14/09/2020"],
     _sub("q3", 2020, "45/BC-UBND", date(2020, 9, 14))),
    (["XA01", "Quý", "III/2020"], _sub("q3", 2020)),
    (["XA01", "q3", "14/09/2020"], _sub("q3", 2020, received=date(2020, 9, 14))),
    # An annual report received early in the next year is still the previous year's, when said so.
    (["XA01", "năm", "2020", "05/01/2021"], _sub("annual", 2020, received=date(2021, 1, 5))),
    (["XA01", "năm"], _sub("annual")),
    (["XA01", "cả", "năm", "năm", "nay"], _sub("annual")),
    (["XA01", "6", "tháng", "đầu", "năm", "20/BC-UBND"], _sub("h1", doc_no="20/BC-UBND")),
    (["XA01", "kế", "hoạch", "20/03/2021"], _sub("plan", received=TODAY)),
    (["Xã Phú Lộc", "q1", "15"], _sub("q1", doc_no="15", unit="Xã Phú Lộc")),
    (["XA01", "adhoc10", "Số 7/BC"], _sub("adhoc10", doc_no="Số 7/BC")),
    (["XA01", "bổ", "sung"], _sub("supplement")),
    # Unit names of several words need no quotes, even when a word of the name is also a period's.
    (["lam", "thuy", "q1", "21/BC-UBND", "17/03/2021"],
     _sub("q1", doc_no="21/BC-UBND", received=date(2021, 3, 17), unit="lam thuy")),
    (["Xã", "Phú", "Lộc", "q1"], _sub("q1", unit="Xã Phú Lộc")),
    (["xã", "Năm", "Căn", "q1", "15/BC"], _sub("q1", doc_no="15/BC", unit="xã Năm Căn")),
])
def test_submitted(args: list[str], expected: SubmittedArgs) -> None:
    assert parse_submitted(args, CODES, TODAY) == expected


DANOP_USAGE = "Cách dùng: /danop <đơn vị> <kỳ> [năm] [số ký hiệu] [ngày nhận]"


@pytest.mark.parametrize(("args", "problem"), [
    ([], "Cần ghi đơn vị và kỳ báo cáo."),
    (["XA01"], "Cần ghi đơn vị và kỳ báo cáo."),
    (["Xã", "Phú", "Lộc"], "Không nhận ra kỳ báo cáo ở “Phú Lộc”."),
    (["XA01", "q2"], "Không có kỳ báo cáo “q2”."),
    (["XA01", "q1", "31/02/2021"], "Không có ngày 31/02/2021: tháng 2 năm 2021 chỉ có 28 ngày."),
    (["XA01", "q1", "22/03/2021"], "Ngày nhận 22/03/2021 chưa đến (hôm nay là 20/03/2021)."),
    (["XA01", "q1", "25/03"], "Ngày nhận 25/03/2021 chưa đến"),
    (["XA01", "q1", "12/03/2021", "13/03/2021"], "Chỉ ghi một ngày nhận"),
    (["XA01", "q1", "15/BC", "16/BC"], "Thừa “16/BC”: chỉ ghi một số ký hiệu văn bản"),
    (["XA01", "q1", "2020", "2021"], "Chỉ ghi một năm"),
    (["XA01", "Quý I/2020", "2021"], "Chỉ ghi một năm"),
    (["XA01", "q1", "1999"], "Năm “1999” không hợp lệ"),
    (["x" * 101, "q1"], "Mã hoặc tên đơn vị dài quá 100 ký tự."),
])
def test_submitted_errors(args: list[str], problem: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_submitted(args, CODES, TODAY)
    message = str(caught.value)
    assert message.startswith(problem)
    assert DANOP_USAGE in message and "Ví dụ: /danop" in message


Parser = Callable[[list[str]], object]
PARSERS: dict[str, Parser] = {
    "overdue": lambda args: parse_overdue(args, CODES),
    "status": lambda args: parse_status(args, CODES, TODAY),
    "upcoming": parse_upcoming,
    "unit": lambda args: parse_unit(args, TODAY),
    "mine": lambda args: parse_mine(args, TODAY),
    "submitted": lambda args: parse_submitted(args, CODES, TODAY),
    "calendar": lambda args: parse_calendar(args, TODAY),
}


@pytest.mark.parametrize(("key", "text", "problem"), [
    ("overdue", "q2", "Không có kỳ báo cáo “q2”. Các kỳ: kehoach, q1, h1, q3, nam, bosung, adhoc1, adhoc2, adhoc10"),
    ("overdue", "q1 2020", "Lệnh /quahan chỉ nhận kỳ báo cáo của năm nay, không nhận năm."),
    ("overdue", "Quý I/2020", "Lệnh /quahan chỉ nhận kỳ báo cáo của năm nay, không nhận năm."),
    ("status", "q1 2020 2021", "Chỉ ghi một năm, ví dụ: 2021."),
    ("status", "quý II 2020", "Không có kỳ báo cáo “quý II”."),
    ("status", "q1 1999", "Năm “1999” không hợp lệ."),
    ("upcoming", "0", "Số ngày “0” không hợp lệ: ghi một số từ 1 đến 366, ví dụ: 30."),
    ("upcoming", "30 ngày nữa đi", "Lệnh /sapden chỉ nhận một số ngày."),
    ("unit", "", "Cần ghi mã hoặc tên đơn vị."),
    ("unit", "x" * 101, "Mã hoặc tên đơn vị dài quá 100 ký tự."),
    ("calendar", "2021 2022 2023", "Lệnh /lich chỉ nhận một năm."),
    ("calendar", "hai", "Năm “hai” không hợp lệ."),
])
def test_argument_errors_show_usage(key: str, text: str, problem: str) -> None:
    with pytest.raises(CommandError) as caught:
        PARSERS[key](_words(text))
    message = str(caught.value)
    assert message.startswith(problem)
    assert f"\nCách dùng: {BY_KEY[key].usage}\nVí dụ: {BY_KEY[key].example}" in message
    assert _vietnamese(message)


# ---------------------------------------------------------------- Telegram's limit

@pytest.mark.parametrize(("text", "units"), [
    ("", 0), ("abc", 3), ("Quá hạn", 7), (unicodedata.normalize("NFD", "Quá hạn"), 9), ("😀", 2),
    ("👨‍👩‍👧", 8), ("𝕏", 2), ("đ€", 2),
])
def test_utf16_len(text: str, units: int) -> None:
    assert utf16_len(text) == units
    assert utf16_len(text) == len(text.encode("utf-16-le")) // 2


def _visible(parts: list[str]) -> str:
    return "".join(telegram_html_to_text(part) for part in parts)


@pytest.mark.parametrize(("html", "limit", "parts"), [
    ("", 10, []),
    ("\n \n", 10, []),
    ("ngắn", 10, ["ngắn"]),
    ("dòng một\ndòng hai\ndòng ba", 18, ["dòng một\ndòng hai", "dòng ba"]),
    ("aaaa bbbb cccc", 10, ["aaaa bbbb", "cccc"]),
    ("aaaaaaaaaaaaaaa", 10, ["aaaaaaaaaa", "aaaaa"]),
    ("😀😀😀😀😀😀", 5, ["😀😀", "😀😀", "😀😀"]),
    ("a&amp;b&amp;c", 7, ["a&amp;b", "&amp;c"]),
    ("<b>aaaa bbbb</b>", 12, ["<b>aaaa</b>", "<b>bbbb</b>"]),
    ("<b>aaaaaaaaaa</b>", 12, ["<b>aaaaa</b>", "<b>aaaaa</b>"]),
    ("<b>x</b> <i>yy zz</i>", 14, ["<b>x</b>", "<i>yy zz</i>"]),
    ("<b>x</b> <i>yy zz</i>", 11, ["<b>x</b>", "<i>yy</i>", "<i>zz</i>"]),
    ('<a href="tg://user?id=1">Phú Lộc</a>', 34, ['<a href="tg://user?id=1">Phú</a>', '<a href="tg://user?id=1">Lộc</a>']),
    (unicodedata.normalize("NFD", "ếếếế"), 6, [unicodedata.normalize("NFD", "ếế")] * 2),
])
def test_split_message(html: str, limit: int, parts: list[str]) -> None:
    assert split_message(html, limit) == parts
    assert all(utf16_len(part) <= limit for part in parts)


def test_split_message_keeps_lines_whole() -> None:
    lines = [f"{n}. <b>Xã Phú Lộc</b> — quá hạn {n} ngày 😀" for n in range(1, 400)]
    parts = split_message("\n".join(lines))
    assert len(parts) > 1
    assert all(utf16_len(part) <= 4096 for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines


def test_split_message_too_much_markup() -> None:
    with pytest.raises(ValueError, match="exceeds the limit"):
        split_message('<a href="' + "x" * 50 + '">' + "y" * 50 + "</a>", 40)


HEADER = "<b>CÁC ĐƠN VỊ QUÁ HẠN</b>\nTính đến 20/03/2021"


def test_paginate_pages() -> None:
    lines = [f"{n}. Xã số {n}" for n in range(1, 71)]
    first = paginate(HEADER, lines, 1)
    assert first == Page(
        "<b>CÁC ĐƠN VỊ QUÁ HẠN</b> (trang 1/3)\nTính đến 20/03/2021\n" + "\n".join(lines[:30]), 1, 3)
    assert first.has_next and not first.has_previous
    last = paginate(HEADER, lines, 3)
    assert last.text.endswith("\n".join(lines[60:])) and "(trang 3/3)" in last.text
    assert last.has_previous and not last.has_next


@pytest.mark.parametrize(("page", "shown"), [(-5, 1), (0, 1), (1, 1), (2, 2), (3, 3), (4, 3), (10**9, 3)])
def test_paginate_clamps(page: int, shown: int) -> None:
    assert paginate("H", [str(n) for n in range(70)], page).page == shown


def test_paginate_single_and_empty() -> None:
    assert paginate(HEADER, [], 3) == Page(HEADER, 1, 1)
    assert paginate("H", ["a", "b"], 2) == Page("H\na\nb", 1, 1)
    assert paginate("H", ["a", "b", "c"], 2, per_page=2) == Page("H (trang 2/2)\nc", 2, 2)


def test_paginate_fewer_lines_when_long() -> None:
    # Lines of 200 emoji are 400 units each: ten fit in 4,096, not the thirty asked for.
    lines = [f"{n:02d}" + "😀" * 199 for n in range(30)]
    pages = [paginate("H", lines, n) for n in range(1, 4)]
    assert [page.pages for page in pages] == [3, 3, 3]
    assert [page.text.split("\n")[1:] for page in pages] == [lines[:10], lines[10:20], lines[20:]]
    assert all(utf16_len(page.text) <= 4096 for page in pages)


def test_paginate_cuts_a_line_too_long_for_a_page() -> None:
    line = "<b>" + "Phú Lộc " * 1500 + "</b>"
    pages = [paginate("H", [line], n) for n in range(1, 4)]
    assert pages[0].pages == 3
    for page in pages:
        assert utf16_len(page.text) <= 4096
        telegram_html_to_text(page.text)
    shown = " ".join(telegram_html_to_text(page.text.split("\n", 1)[1]) for page in pages)
    assert shown.split() == ["Phú", "Lộc"] * 1500


# ---------------------------------------------------------------- anything a chat can contain

JUNK = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("/@\"“”«» \n\t\u00a0\u200b\u200d\u200e\u200f\u202e\ufeff\x00\ud800-./0123456789qQIhnăm")),
    ),
    max_size=300,
)
# Words that mean something, so the parsers get past their first check and into the combinations.
MEANINGFUL = st.sampled_from([
    "XA01", "Xã Phú Lộc", "q1", "Q2", "quý", "I", "III", "IV", "năm", "nay", "cả", "6", "tháng", "đầu", "kế", "hoạch",
    "2020", "2021", "1999", "30", "ngày", "15/BC-UBND", "12/03/2021", "31/02/2021", "15/03", "2021-03-12",
    "Quý I/2021", "adhoc10", "bổ sung", "", " ", "-", "/", "“", "\x00", "\u200b", "０", "²"])
WORDS = st.lists(st.one_of(JUNK, MEANINGFUL), max_size=8)
COMMAND_TEXT = st.builds(
    lambda name, at, rest: f"/{name}{at} {rest}",
    st.sampled_from([name for command in COMMANDS for name in command.names] + ["quá hạn", "xyz", ""]),
    st.sampled_from(["", "@", f"@{BOT}", "@other_bot", f"@{BOT.upper()}"]),
    st.one_of(JUNK, WORDS.map(" ".join)),
)


@settings(max_examples=1000, deadline=None)
@given(text=st.one_of(JUNK, JUNK.map(lambda t: "/" + t), COMMAND_TEXT, st.text(min_size=4000, max_size=5000)),
       bot=st.one_of(JUNK, st.just(BOT)))
def test_any_text_invocation(text: str, bot: str) -> None:
    try:
        invocation = parse_invocation(text, bot)
    except CommandError as exc:
        assert str(exc) and _vietnamese(str(exc))
        return
    if invocation is not None:
        assert invocation.command in BY_KEY
        assert all(arg and arg == arg.strip() for arg in invocation.args)


@settings(max_examples=1000, deadline=None)
@given(args=WORDS, word=st.one_of(JUNK, MEANINGFUL, WORDS.map(" ".join)),
       day=st.dates(date(2000, 1, 1), date(2100, 12, 31)))
def test_any_arguments(args: list[str], word: str, day: date) -> None:
    calls: list[Callable[[], object]] = [
        lambda: parse_overdue(args, SEED),
        lambda: parse_status(args, CODES, day),
        lambda: parse_upcoming(args),
        lambda: parse_unit(args, day),
        lambda: parse_mine(args, day),
        lambda: parse_calendar(args, day),
        lambda: parse_submitted(args, CODES, day),
        lambda: parse_status(args, SEED, day),
        lambda: resolve_period(word, CODES),
        lambda: resolve_period(word, ()),
        lambda: parse_year(word, day),
        lambda: parse_day(word, day),
        lambda: parse_days(word),
    ]
    for call in calls:
        try:
            call()
        except CommandError as exc:
            assert isinstance(str(exc), str) and str(exc).strip()
            assert _vietnamese(str(exc))


TAGGED_LINE = st.builds(
    lambda tag, text, tail: f"<{tag}>{text}</{tag}>{tail}" if tag else text + tail,
    st.sampled_from(["", "b", "i", "code", "u"]),
    st.text(st.sampled_from(list("ab ơưđ😀&<>")), max_size=120).map(
        lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")),
    st.text(st.sampled_from(list("xy ộ")), max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(TAGGED_LINE, max_size=30), limit=st.integers(30, 200))
def test_split_any_message(lines: list[str], limit: int) -> None:
    html = "\n".join(lines)
    parts = split_message(html, limit)
    assert all(utf16_len(part) <= limit for part in parts)
    visible = _visible(parts)  # raises where Telegram would refuse a part
    assert "".join(visible.split()) == "".join(telegram_html_to_text(html).split())


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(TAGGED_LINE, max_size=60), per_page=st.integers(1, 40), page=st.integers(-3, 80),
       limit=st.integers(120, 600))
def test_paginate_any_lines(lines: list[str], per_page: int, page: int, limit: int) -> None:
    result = paginate("<b>Tiêu đề</b>", lines, page, per_page, limit)
    assert 1 <= result.page <= result.pages
    assert utf16_len(result.text) <= limit
    telegram_html_to_text(result.text)
    assert result.text.startswith("<b>Tiêu đề</b>")
    assert ("(trang" in result.text.split("\n")[0]) == (result.pages > 1)
    assert len(result.text.split("\n")) - 1 <= max(per_page, 1) or not lines
