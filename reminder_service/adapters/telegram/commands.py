"""The bot's commands and how a chat message becomes one: pure text in, an ``Invocation`` (or a
Vietnamese ``CommandError``) out; no database, network or clock.

Officers type on phones: Vietnamese keyboards add diacritics ("/quáhạn"), autocorrect capitalises,
some type "/qua_han", and copy-paste brings zero-width and direction marks. All of those still reach
the command; only a name we do not know is an error, and its message says how to find the right one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from reminder_service.domain.textfold import compact

HELP = "/trogiup"
# Opening and closing quotes a phone keyboard may produce; any closes any, since autocorrect often
# turns only one end of a pair into a curly quote.
_QUOTES = frozenset('"“”„‟«»')
# Names echoed back in a message are cut so a pasted essay does not come back as an error message.
_ECHO = 40


class CommandError(Exception):
    """A command the bot cannot carry out as typed; ``str(exc)`` is the Vietnamese message for the
    person who typed it (plain text: the caller escapes it for HTML)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Command:
    """One command: ``key`` is the canonical English name the code dispatches on; ``name`` (Vietnamese,
    shown in the menu and help) and ``alias`` (English) are what people type."""

    key: str
    name: str
    alias: str | None
    description: str
    usage: str
    example: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,) if self.alias is None else (self.name, self.alias)


COMMANDS: tuple[Command, ...] = (
    Command("overdue", "quahan", "overdue", "Các đơn vị quá hạn nộp báo cáo",
            "/quahan [kỳ] — các đơn vị quá hạn nộp báo cáo", "/quahan quý I"),
    Command("status", "tinhhinh", "status", "Tình hình nộp báo cáo theo kỳ và năm",
            "/tinhhinh [kỳ] [năm] — tình hình nộp báo cáo của các đơn vị", "/tinhhinh q1 2021"),
    Command("upcoming", "sapden", "upcoming", "Các hạn nộp báo cáo sắp đến",
            "/sapden [số ngày] — các hạn nộp trong những ngày tới (mặc định 14 ngày)", "/sapden 30"),
    Command("unit", "donvi", "unit", "Tình hình nộp báo cáo của một đơn vị",
            "/donvi <mã hoặc tên đơn vị> [năm] — tình hình nộp báo cáo của một đơn vị", "/donvi XA01 2021"),
    Command("submitted", "danop", "submitted", "Ghi nhận đơn vị đã nộp báo cáo",
            "/danop <đơn vị> <kỳ> [năm] [số ký hiệu] [ngày nhận] — ghi nhận đơn vị đã nộp báo cáo",
            '/danop XA01 q1 15/BC-UBND 12/03/2021 hoặc /danop "Xã Phú Lộc" quý I'),
    Command("undo", "huynop", "undo", "Hủy lần ghi nhận nộp báo cáo gần nhất",
            "/huynop — hủy lần ghi nhận nộp báo cáo gần nhất của bạn", "/huynop"),
    Command("mine", "cuatoi", "mine", "Các báo cáo và hạn nộp của đơn vị mình",
            "/cuatoi [năm] — các báo cáo và hạn nộp của đơn vị mình (mặc định năm nay)", "/cuatoi 2021"),
    Command("calendar", "lich", "calendar", "Lịch hạn nộp báo cáo trong năm",
            "/lich [năm] — lịch hạn nộp báo cáo cả năm (mặc định năm nay)", "/lich 2022"),
    Command("help", "trogiup", "help", "Danh sách các lệnh và cách dùng",
            "/trogiup — danh sách các lệnh và cách dùng", "/trogiup"),
    Command("register_group", "dangky", "register", "Đăng ký nhóm trò chuyện này với bot (Phòng Nội vụ)",
            "/dangky — (Phòng Nội vụ) đăng ký nhóm này để các thành viên đã liên kết dùng bot; /dangky huy để hủy",
            "/dangky"),
    Command("start", "start", None, "Bắt đầu và liên kết tài khoản nhận nhắc việc",
            "/start [mã mời] — bắt đầu; gửi kèm mã mời do Phòng Nội vụ cấp để nhận nhắc việc qua Telegram",
            "/start"),
)

BY_KEY: Mapping[str, Command] = {command.key: command for command in COMMANDS}
# Every typed form folds to one of these: diacritics, case, "_" and "-" all vanish in ``compact``.
_BY_NAME: Mapping[str, Command] = {compact(name): command for command in COMMANDS for name in command.names}


def menu() -> list[tuple[str, str]]:
    """(name, description) pairs for Telegram's setMyCommands, Vietnamese names only: the menu is
    for people, and the English aliases are there for those who already know them."""
    return [(command.name, command.description) for command in COMMANDS]


def usage_error(key: str, problem: str) -> CommandError:
    """``problem`` followed by how the command is used and an example."""
    command = BY_KEY[key]
    return CommandError(f"{problem}\nCách dùng: {command.usage}\nVí dụ: {command.example}")


@dataclass(frozen=True)
class Invocation:
    """A message addressed to this bot as a command. ``name`` is the command as typed (without "/"
    and "@bot"); ``rest`` is the text after it, untouched but for invisible characters; ``args`` is
    ``rest`` split on blanks, a quoted segment being one argument."""

    command: str
    name: str
    args: tuple[str, ...]
    rest: str


def sanitize(text: str) -> str:
    """NFC text without invisible characters: format marks (zero-width, direction, BOM, soft hyphen),
    control characters other than blanks, and lone surrogates, none of which anyone means to type."""
    kept = (c for c in text if c.isspace() or unicodedata.category(c) not in {"Cf", "Cc", "Cs", "Co", "Cn"})
    return unicodedata.normalize("NFC", "".join(kept))


def echo(text: str) -> str:
    """A typed value as quoted back in a message: single spaces, cut when long."""
    shown = " ".join(text.split())
    return shown if len(shown) <= _ECHO else shown[:_ECHO - 1] + "…"


def split_args(text: str) -> tuple[str, ...]:
    """Blank-separated words; a segment opened by a quote runs to the next quote (or the end, if the
    closing one was forgotten) and is one argument. Blanks inside an argument become single spaces."""
    args: list[str] = []
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in _QUOTES:
            end = index + 1
            while end < size and text[end] not in _QUOTES:
                end += 1
            word = " ".join(text[index + 1:end].split())
            index = end + 1
        else:
            end = index
            while end < size and not text[end].isspace():
                end += 1
            word = text[index:end]
            index = end
        if word:
            args.append(word)
    return tuple(args)


def parse_invocation(text: str, bot_username: str) -> Invocation | None:
    """The command in ``text``, or None when ``text`` is not a command or is addressed to another bot
    (``/quahan@other_bot``). Raises CommandError for a command name this bot does not have."""
    cleaned = sanitize(text).lstrip()
    if not cleaned.startswith("/"):
        return None
    head, rest = _head(cleaned[1:])
    name, _, addressee = head.partition("@")
    if name and not addressee and compact(name) not in _BY_NAME:
        # "/quá hạn", "/da nop": the name typed as the two syllables it is.
        second, after = _head(rest.lstrip())
        second_name, _, second_addressee = second.partition("@")
        if second_name and compact(name + second_name) in _BY_NAME:
            name, addressee, rest = f"{name} {second_name}", second_addressee, after
    ours = bot_username.strip().lstrip("@").casefold()
    if addressee and addressee.casefold() != ours:
        return None
    if not name:
        return None  # a lone "/" or "/@bot" is punctuation, not a command
    command = _BY_NAME.get(compact(name))
    if command is None:
        raise CommandError(f"Không có lệnh /{echo(name)}. Gõ {HELP} để xem các lệnh.")
    rest = rest.strip()
    return Invocation(command.key, name, split_args(rest), rest)


def _head(text: str) -> tuple[str, str]:
    """(command word, the rest): the word ends at the first blank of any kind, a newline included."""
    for index, char in enumerate(text):
        if char.isspace():
            return text[:index], text[index + 1:]
    return text, ""
