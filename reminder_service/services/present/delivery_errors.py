"""What a failed delivery's error means for the receiving office, and what to do about it.

The e-mail notifier writes its errors in Vietnamese already; Telegram's come back in the Bot API's English
("Forbidden: bot was blocked by the user"), and a few failures carry only an exception's name. The stored
error stays as it was (it is what an administrator searches the logs for); this adds the sentence a person
acts on. Pure: text in, text out.
"""

from __future__ import annotations

# Substrings of the Bot API's descriptions (lower case), most specific first.
_TELEGRAM = (
    ("bot was blocked by the user",
     "Người nhận đã chặn bot. Hãy nhờ họ mở lại cuộc trò chuyện với bot, bấm «Bắt đầu» (Start), rồi gửi lại."),
    ("user is deactivated",
     "Tài khoản Telegram của người nhận đã bị xóa. Hãy mời họ liên kết tài khoản mới (trang «Đơn vị và người "
     "nhận»), rồi gửi lại."),
    ("bot was kicked",
     "Bot đã bị mời ra khỏi nhóm. Hãy thêm bot trở lại nhóm, rồi gửi lại."),
    ("bot is not a member",
     "Bot không còn trong nhóm. Hãy thêm bot trở lại nhóm, rồi gửi lại."),
    ("can't initiate conversation",
     "Người nhận chưa bấm «Bắt đầu» (Start) với bot. Hãy nhờ họ mở bot và bấm «Bắt đầu», rồi gửi lại."),
    ("chat not found",
     "Telegram không tìm thấy cuộc trò chuyện: người nhận chưa mở bot, hoặc nhóm đã bị xóa. Hãy kiểm tra liên "
     "kết Telegram của người này, rồi gửi lại."),
    ("chat_id is empty",
     "Người nhận chưa liên kết Telegram. Hãy mời họ liên kết (trang «Đơn vị và người nhận»), rồi gửi lại."),
    ("unauthorized",
     "Telegram từ chối mã bot của dịch vụ (mã sai hoặc đã bị thu hồi). Hãy báo cán bộ quản trị kiểm tra mã "
     "bot, rồi gửi lại."),
    ("invalidtoken",
     "Telegram từ chối mã bot của dịch vụ (mã sai hoặc đã bị thu hồi). Hãy báo cán bộ quản trị kiểm tra mã "
     "bot, rồi gửi lại."),
    ("can't parse entities",
     "Telegram không đọc được định dạng của tin này. Hãy báo cán bộ quản trị (mẫu tin có thể bị sửa sai)."),
    ("message is too long",
     "Tin dài quá giới hạn của Telegram. Hãy báo cán bộ quản trị."),
    ("timed out",
     "Telegram không trả lời kịp. Thường là lỗi mạng tạm thời: hãy gửi lại sau ít phút."),
    ("networkerror",
     "Không kết nối được Telegram. Hãy kiểm tra mạng của máy chủ, rồi gửi lại."),
)
# Failures the dispatcher records with the exception's class (a notifier that did not answer in time).
_ANY = (
    ("timeouterror", "Kênh gửi không trả lời kịp. Thường là lỗi mạng tạm thời: hãy gửi lại sau ít phút."),
    ("connectionrefusederror", "Máy chủ của kênh gửi từ chối kết nối. Hãy báo cán bộ quản trị kiểm tra cấu hình."),
)


def hint(error: str | None) -> str | None:
    """The Vietnamese sentence that explains ``error`` and says what to do; None when there is nothing to add
    (no error, one already in Vietnamese, or one not known)."""
    if not error:
        return None
    folded = error.lower()
    table: tuple[tuple[str, str], ...] = _TELEGRAM if folded.startswith("telegram:") else ()
    for needle, sentence in (*table, *_ANY):
        if needle in folded:
            return sentence
    return None
