"""``reminder-service health``: one look at whether the service is doing its job; exit 0 or 1 for monitors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import click

from reminder_service.adapters.cli.base import ChoiceType, CountType, ViCommand, app_of, moment
from reminder_service.domain import clock
from reminder_service.health import Check, Thresholds, evaluate, gather, overall
from reminder_service.services.present.table import render

STATE_WORDS = {"ok": "Đạt", "warning": "Cảnh báo", "failure": "Lỗi"}


def _summary(checks: list[Check]) -> str:
    failures = sum(c.state == "failure" for c in checks)
    warnings = sum(c.state == "warning" for c in checks)
    if failures:
        also = f", {warnings} cảnh báo" if warnings else ""
        return f"Kết luận: CÓ LỖI — {failures} lỗi{also}; hãy xử lý các dòng “Lỗi” ở trên."
    if warnings:
        return f"Kết luận: ĐẠT, CÓ CẢNH BÁO — {warnings} cảnh báo, không có lỗi."
    return "Kết luận: ĐẠT — mọi kiểm tra đều đạt."


def _table(checks: list[Check], local: datetime) -> str:
    rows = [(c.title, STATE_WORDS[c.state], c.message) for c in checks]
    return (f"TÌNH TRẠNG DỊCH VỤ NHẮC BÁO CÁO CCHC\nThời điểm kiểm tra: {local:%d/%m/%Y %H:%M} (giờ Việt Nam).\n\n"
            f"{render(('Kiểm tra', 'Kết quả', 'Chi tiết'), rows)}\n\n{_summary(checks)}\n")


def _json(checks: list[Check], local: datetime) -> str:
    document: dict[str, Any] = {
        "status": overall(checks), "checked_at": f"{local.isoformat(timespec='seconds')}+07:00",
        "checks": [{"name": c.name, "title": c.title, "state": c.state, "message": c.message,
                    "details": dict(c.details)} for c in checks],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


@click.command(cls=ViCommand)
@click.option("--format", "-f", "output_format", type=ChoiceType("table", "json"), default="table",
              help="table: bảng để đọc; json: cho máy giám sát (mặc định: table).")
@click.option("--max-tick-age", type=CountType("số phút"), default=15, metavar="PHÚT",
              help="Báo lỗi khi lượt xử lý gần nhất cũ hơn số phút này (mặc định: 15; dịch vụ xử lý 5 phút một lượt).")
@click.option("--timeout", type=CountType("số giây", high=120), default=5, metavar="GIÂY",
              help="Thời gian chờ tối đa khi thử kết nối mỗi kênh gửi (mặc định: 5).")
@click.option("--at", "at", metavar="NGÀY GIỜ",
              help='Kiểm tra như thể lúc này, ví dụ "16/03/2021 09:05" (để thử và trình diễn).')
@click.pass_context
def health(ctx: click.Context, output_format: str, max_tick_age: int, timeout: int, at: str | None) -> None:
    """Kiểm tra tình trạng dịch vụ: cơ sở dữ liệu, lượt xử lý gần nhất, hàng đợi gửi, tin gửi thất bại,
    sổ văn bản đến và các kênh gửi (e-mail, Telegram).

    Mã thoát 0 khi không có lỗi (có thể có cảnh báo), 1 khi có ít nhất một lỗi.
    """
    now = moment(at)
    local = clock.wall(now)
    limits = Thresholds(max_tick_age=timedelta(minutes=max_tick_age))
    app = app_of(ctx)
    checks = evaluate(gather(app, now, limits, probe_seconds=float(timeout)), now, app.workdays, limits)
    click.echo(_json(checks, local) if output_format == "json" else _table(checks, local), nl=False)
    if overall(checks) == "failure":
        ctx.exit(1)
