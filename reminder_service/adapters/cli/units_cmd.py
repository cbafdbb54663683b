"""``reminder-service units import|list``: the reporting units, read from the office's own list."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reminder_service.adapters.cli.base import ViGroup, cli_actor, db_app_of, listing_options
from reminder_service.domain import clock
from reminder_service.services.present.table import render
from reminder_service.services.registry import ImportResult, PersonView, apply_units, list_units, load_units
from reminder_service.services.registry.fields import KIND_WORDS


@click.group(cls=ViGroup)
def units() -> None:
    """Đơn vị báo cáo: nhập danh sách, xem danh sách."""


@units.command(name="import")
@click.argument("file", metavar="TỆP", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ in ra đơn vị thêm mới, thay đổi, ngừng theo dõi; không ghi gì.")
@click.option("--yes", "confirmed", is_flag=True,
              help="Đồng ý ngừng theo dõi nhiều đơn vị (quá một phần ba) hoặc phòng theo dõi vắng trong tệp.")
@click.pass_context
def import_units(ctx: click.Context, file: Path, dry_run: bool, confirmed: bool) -> None:
    """Nhập danh sách đơn vị từ tệp CSV (UTF-8 hoặc Windows-1258), Excel .xlsx (trang tính đầu) hoặc YAML.

    \b
    Cột bắt buộc: code (mã), name (tên), kind (loại: commune/xã hoặc monitor/phòng).
    Cột tùy chọn: head_name, head_email, head_telegram (thủ trưởng đơn vị),
                  focal_name, focal_email, focal_telegram (công chức đầu mối),
                  sections (mục Phụ lục 3B của phòng theo dõi, ví dụ 1.1;1.2;4;5).
    Tên cột tiếng Việt cũng được: mã, tên, loại, thủ trưởng, email thủ trưởng, telegram thủ trưởng,
    đầu mối, email đầu mối, telegram đầu mối, mục 3B.

    Tệp có lỗi bị từ chối toàn bộ, kèm danh sách mọi lỗi theo số dòng. Đơn vị không còn trong tệp
    mới chỉ bị ngừng theo dõi, không bị xóa; nếu như vậy là quá một phần ba số đơn vị hoặc có phòng
    theo dõi, lệnh từ chối trừ khi có --yes. Nhập lại cùng một tệp không thay đổi gì.
    """
    app = db_app_of(ctx)
    now = clock.now()
    rows = load_units(file, app.calendar(now.year).directive)
    with app.session() as session:
        result = apply_units(session, rows, cli_actor(), now, label=str(file), dry_run=dry_run,
                             confirmed=confirmed)
        if dry_run:
            session.rollback()
    click.echo(_preview(file, len(rows), result) if dry_run else _summary(file, len(rows), result))


def _codes(codes: tuple[str, ...]) -> str:
    return ", ".join(codes) if codes else "không có"


def _preview(file: Path, total: int, result: ImportResult) -> str:
    return "\n".join([
        f"Xem trước: tệp {file} có {total} đơn vị. Chưa ghi gì vào cơ sở dữ liệu.",
        f"  Thêm mới ({result.created}): {_codes(result.created_codes)}",
        f"  Thay đổi ({len(result.updated_codes)}): {_codes(result.updated_codes)}",
        f"  Ngừng theo dõi ({result.deactivated}): {_codes(result.deactivated_codes)}",
        f"  Giữ nguyên: {result.unchanged}",
        # A preview that hid the refusal would send the clerk into it: say that --yes will be needed.
        (f"Tệp này {result.needs_confirmation}; để nhập thật phải chạy lại với --yes (không có --dry-run)."
         if result.needs_confirmation else "Để nhập thật, chạy lại lệnh không có --dry-run."),
    ])


def _summary(file: Path, total: int, result: ImportResult) -> str:
    parts = [f"thêm mới {result.created}", f"cập nhật {result.updated}"]
    if result.reactivated:
        parts.append(f"hoạt động trở lại {result.reactivated}")
    parts += [f"ngừng hoạt động {result.deactivated}", f"giữ nguyên {result.unchanged}"]
    text = f"Đã nhập {total} đơn vị từ tệp {file}: {', '.join(parts)}."
    if result.created or result.reactivated or result.deactivated:
        # Obligations follow the active units only when synced; say so rather than leave them stale.
        text += ("\nHãy chạy reminder-service obligations sync --year <năm> để cập nhật nghĩa vụ báo cáo "
                 "theo danh sách đơn vị mới.")
    return text


def _person(person: PersonView | None) -> str:
    return person.name if person is not None else "—"


@units.command(name="list")
@listing_options("Kể cả đơn vị đã ngừng hoạt động.")
@click.pass_context
def list_cmd(ctx: click.Context, show_all: bool, output_format: str) -> None:
    """Danh sách đơn vị báo cáo, kèm thủ trưởng và công chức đầu mối."""
    app = db_app_of(ctx)
    with app.session() as session:
        found = list_units(session, include_inactive=show_all)
    if output_format == "json":
        click.echo(json.dumps([u.as_json() for u in found], ensure_ascii=False, indent=2))
        return
    if not found:
        hint = "" if show_all else " đang hoạt động"
        click.echo(f"Chưa có đơn vị nào{hint}. Hãy nhập danh sách bằng lệnh: reminder-service units import TỆP")
        return
    rows = [[u.code, u.name, KIND_WORDS.get(u.kind, u.kind), "; ".join(u.sections) or "—",
             "hoạt động" if u.active else "ngừng", _person(u.head), _person(u.focal)] for u in found]
    click.echo(render(["Mã", "Tên đơn vị", "Loại", "Mục 3B", "Trạng thái", "Thủ trưởng", "Đầu mối"], rows))
    click.echo(f"\nTổng cộng {len(found)} đơn vị.")
