"""Checks shared by `units import` and `people add`: each returns what is wrong, in Vietnamese, or None.

One set of rules for both entry points, so an address accepted in one place is accepted in the other.
"""

from __future__ import annotations

import re

from reminder_service.domain.textfold import fold
from reminder_service.services.db.models import CHANNELS

CODE_MAX = 40
TEXT_MAX = 255
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
# Deliberately plain: the mail server is the real judge; this only catches typing and copy mistakes.
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+")
# Private chats have positive ids, groups and channels negative ones (-100… for supergroups).
_CHAT_ID = re.compile(r"-?[1-9][0-9]{0,19}")
# C0 and C1 controls, Unicode line and paragraph separators, and the bidirectional marks, embeddings,
# overrides and isolates: invisible, they split a name over two lines or make it read backwards
# ("Trojan Source") in every message, table and export that shows it.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_NAMES = {"\n": "xuống dòng", "\r": "về đầu dòng CR", "\t": "tab", "\u0085": "xuống dòng U+0085",
                  "\u2028": "xuống dòng U+2028", "\u2029": "ngắt đoạn U+2029"}
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_problem(value: str, what: str) -> str | None:
    """The first control character of the value, named and placed; the value itself is not repeated, since
    printing it would garble the very line that reports it."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group()
    name = _CONTROL_NAMES.get(char) or (f"đổi chiều viết U+{ord(char):04X}" if char in _BIDI else f"U+{ord(char):04X}")
    return f"{what} chứa ký tự điều khiển ({name}) ở vị trí thứ {found.start() + 1}; hãy xóa ký tự này"


def code_problem(code: str) -> str | None:
    if not code:
        return "mã đơn vị không được để trống"
    control = control_problem(code, "mã đơn vị")
    if control:
        return control
    if len(code) > CODE_MAX:
        return f'mã đơn vị "{code}" dài {len(code)} ký tự; tối đa {CODE_MAX} ký tự'
    if not _CODE.fullmatch(code):
        return (f'mã đơn vị "{code}" không hợp lệ; chỉ dùng chữ cái không dấu, chữ số, dấu gạch dưới (_), '
                "gạch ngang (-) hoặc dấu chấm, không có dấu cách, ví dụ XA_AN_BINH")
    return None


def text_problem(value: str, what: str) -> str | None:
    if not value:
        return f"{what} không được để trống"
    if len(value) > TEXT_MAX:
        return f"{what} dài {len(value)} ký tự; tối đa {TEXT_MAX} ký tự"
    return control_problem(value, what)


def email_problem(value: str) -> str | None:
    control = control_problem(value, "địa chỉ thư điện tử")
    if control:
        return control
    if len(value) > TEXT_MAX or not _EMAIL.fullmatch(value) or ".." in value:
        return f'"{value}" không phải là địa chỉ thư điện tử hợp lệ; hãy ghi dạng ten@donvi.gov.vn'
    return None


def telegram_problem(value: str) -> str | None:
    if _CHAT_ID.fullmatch(value):
        return None
    control = control_problem(value, "mã trò chuyện Telegram")
    if control:
        return control
    hint = ""
    if value.startswith("@"):
        hint = "; tên người dùng (@…) không dùng được, cần mã số của cuộc trò chuyện"
    elif re.fullmatch(r"-?[0-9][0-9.,]*[eE][+\-]?[0-9]+", value):
        hint = "; bảng tính đã đổi số thành dạng lũy thừa, hãy định dạng ô là văn bản rồi ghi lại đủ các chữ số"
    return (f'"{value}" không phải là mã trò chuyện Telegram (chat id) hợp lệ; hãy ghi một số nguyên, '
            f"ví dụ 123456789 hoặc -1001234567890{hint}")


def parse_channels(value: str) -> tuple[tuple[str, ...], str | None]:
    """Preferred channels in order ("telegram,email"), or the reason they cannot be used."""
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    if not names:
        return (), f"hãy ghi ít nhất một kênh: {', '.join(CHANNELS)}"
    unknown = [n for n in names if n not in CHANNELS]
    if unknown:
        return (), f'kênh "{unknown[0]}" không hợp lệ; chọn trong: {", ".join(CHANNELS)}, cách nhau bằng dấu phẩy'
    return tuple(dict.fromkeys(names)), None


# Unit kinds as a Vietnamese office writes them (folded: no diacritics), to the directive's kind codes.
KIND_ALIASES = {
    "xa": "commune", "phuong": "commune", "thi tran": "commune", "xa phuong thi tran": "commune",
    "ubnd xa": "commune", "cap xa": "commune",
    "phong": "monitor", "phong ban": "monitor", "co quan": "monitor", "co quan chuyen mon": "monitor",
    "phong theo doi": "monitor", "co quan theo doi": "monitor",
}


# How a kind is shown to a person (tables, messages): the codes are for files and machines.
KIND_WORDS = {"commune": "xã, thị trấn", "monitor": "phòng theo dõi"}


def unit_kind(text: str) -> str:
    """The kind code for what a person typed: the code itself (commune, monitor) or a Vietnamese word
    (xã, phường, thị trấn → commune; phòng, cơ quan → monitor); anything else is returned lower-cased."""
    return KIND_ALIASES.get(fold(text), text.strip().lower())
