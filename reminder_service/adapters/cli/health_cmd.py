"""``reminder-service health``: one look at whether the service is doing its job; exit 0 or 1 for monitors."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from reminder_service.adapters.cli.base import ChoiceType, CountType, ViCommand, app_of, moment
from reminder_service.app import App
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError
from reminder_service.health import (
    Check,
    DatabaseFacts,
    Facts,
    FolderFacts,
    Thresholds,
    evaluate,
    held_roles,
    overall,
    read_database,
    shorten,
    unheld_roles,
)
from reminder_service.services.db.engine import SCHEMA_HEAD, is_current
from reminder_service.services.db.urls import scrub, shown
from reminder_service.services.present.table import render

STATE_WORDS = {"ok": "Đạt", "warning": "Cảnh báo", "failure": "Lỗi"}


def _error_text(exc: BaseException, url: str) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (scrub(str(cause), url).strip().splitlines() or [""])[0]
    return shorten(f"{type(cause).__name__}: {first}" if first else type(cause).__name__) or ""


def _database(app: App, now: datetime, limits: Thresholds) -> tuple[str, DatabaseFacts | None, str | None]:
    """The database's facts, or why they could not be read; never raises."""
    try:
        engine = app.engine
    except (UserError, OSError) as exc:  # the message shows the URL already, without its password
        return "(không tạo được kết nối)", None, str(exc).rstrip(".")
    url = shown(app.config.database_url)
    try:
        if not is_current(engine):
            return url, DatabaseFacts(schema_current=False), None
        with app.session() as session:
            return url, read_database(session, now, limits), None
    except Exception as exc:  # any failure to read is what this command reports, not a traceback
        return url, None, _error_text(exc, app.config.database_url)


def _unheld(app: App) -> tuple[tuple[str, str], ...]:
    policy = app.config.escalation
    try:
        with app.session() as session:
            held = held_roles(session)
    except Exception:  # the database check above already says why it cannot be read
        return ()
    return unheld_roles((*policy.stages, *policy.incomplete_stages), held)


def _folder(app: App) -> FolderFacts | None:
    folder = app.config.watch_dir
    if folder is None:
        return None
    exists = folder.is_dir()
    return FolderFacts(str(folder), exists, exists and os.access(folder, os.W_OK | os.X_OK))


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
    from reminder_service.probes import probe_channels

    now = moment(at)
    local = clock.wall(now)
    limits = Thresholds(max_tick_age=timedelta(minutes=max_tick_age))
    app = app_of(ctx)
    url, database, error = _database(app, now, limits)
    facts = Facts(database_url=url, schema=SCHEMA_HEAD, database=database, database_error=error,
                  folder=_folder(app), channels=probe_channels(app.config, wait=float(timeout)),
                  # A configured installation (a config file) with neither channel is a server messaging nobody;
                  # the demo without a config file prints to the console by design.
                  real_channel=(app.config.email.configured or app.config.telegram.enabled
                                or app.config.path is None),
                  unheld_roles=_unheld(app) if database is not None and database.schema_current else ())
    checks = evaluate(facts, now, app.workdays, limits)
    click.echo(_json(checks, local) if output_format == "json" else _table(checks, local), nl=False)
    if overall(checks) == "failure":
        ctx.exit(1)
