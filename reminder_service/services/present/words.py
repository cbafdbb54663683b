"""What the service's own codes are called for people: stages, delivery states, channels, sources.
One table each, shared by the command line and the web console."""

from __future__ import annotations

STAGE_WORDS = {"notice": "Thông báo sớm", "reminder": "Nhắc hạn", "due_today": "Hạn cuối hôm nay",
               "overdue": "Quá hạn", "escalated": "Đôn đốc sau quá hạn", "incomplete": "Còn thiếu",
               "incomplete_reminder": "Nhắc bổ sung", "digest": "Tổng hợp hằng ngày",
               "rollup": "Báo cáo lãnh đạo trong ngày",
               "weekly": "Tổng hợp hằng tuần", "claim": "Đơn vị báo đã gửi", "claim_rejected": "Chưa nhận được",
               "signin": "Liên kết đăng nhập"}
OUTBOX_STATE_WORDS = {"pending": "chờ gửi", "sending": "đang gửi", "sent": "đã gửi", "dead": "thất bại",
                      "skipped": "bỏ qua"}
CHANNEL_WORDS = {"telegram": "Telegram", "email": "E-mail"}
# Where a submission or a change came from (the audit log's and the submissions' channel).
SOURCE_WORDS = {"cli": "dòng lệnh", "telegram": "Telegram", "register": "sổ văn bản đến", "web": "bảng điều khiển",
                "sync": "đồng bộ", "service": "dịch vụ"}
CLAIM_STATE_WORDS = {"open": "chờ xác nhận", "confirmed": "đã xác nhận", "rejected": "không nhận được"}
# The audit log's actions that concern one obligation, as its history lists them.
ACTION_WORDS = {"submission_recorded": "Ghi nhận đã nộp", "submission_marked_incomplete": "Đánh dấu còn thiếu",
                "submission_reverted": "Hủy lần nộp", "submission_corrected": "Sửa lần nộp",
                "submission_deleted": "Xóa lần nộp", "obligation_waived": "Miễn nộp", "waiver_undone": "Hủy miễn nộp",
                "obligation_added": "Thêm nghĩa vụ", "claim_confirmed": "Xác nhận báo «Đã gửi»",
                "claim_rejected": "Không nhận được báo cáo đơn vị báo đã gửi",
                "register_review_resolved": "Xử lý dòng sổ văn bản cần xem lại"}
# The audit log's details, as a person reads them; a key not listed here is left out of the page.
DETAIL_WORDS = {"doc_no": "Số ký hiệu", "received_at": "Ngày nhận", "missing": "Còn thiếu", "reason": "Lý do",
                "submission_id": "Lần nộp số", "claim_id": "Báo «Đã gửi» số", "before": "Trước", "after": "Sau"}
