"""Dates as Vietnamese readers write them: dd/mm/yyyy, weekday names, ranges.

Used by the lint here and by every user-facing view of the service."""

from __future__ import annotations

import errno
from datetime import date

from calendars.rules import DateRange

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
NONE_MARK = "—"


def number(value: int) -> str:
    """A count as Vietnamese writes it: "." between thousands (1.434 ngày làm việc), "-" for negatives."""
    return f"{value:,}".replace(",", ".")


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def weekday(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def weekday_dmy(day: date) -> str:
    """"Thứ Bảy, 13/03/2021"."""
    return f"{weekday(day)}, {dmy(day)}"


def range_text(span: DateRange | None) -> str:
    if span is None:
        return NONE_MARK
    return f"{dmy(span.start)} – {dmy(span.end)}"


_OS_REASONS = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không được phép thực hiện",
    errno.EISDIR: "đây là một thư mục, không phải tệp",
    errno.ENOTDIR: "một phần của đường dẫn không phải là thư mục",
    errno.ENOSPC: "ổ đĩa đã hết dung lượng",
    errno.EROFS: "ổ đĩa chỉ cho phép đọc",
    errno.EEXIST: "tệp đã tồn tại",
    errno.ENAMETOOLONG: "tên tệp quá dài",
    errno.EMFILE: "mở quá nhiều tệp cùng lúc",
    errno.ELOOP: "đường dẫn có vòng liên kết",
    errno.EBUSY: "tệp đang được dùng",
}


def os_reason(exc: OSError) -> str:
    """What went wrong with a file, in Vietnamese: the operating system's own words are English."""
    return _OS_REASONS.get(exc.errno or -1, f"lỗi hệ thống {errno.errorcode.get(exc.errno or -1, type(exc).__name__)}")
