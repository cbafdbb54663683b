"""Importing a 10,000-row incoming register (.xlsx and .csv): the reader's time and memory in this
process, and `reminder-service submissions import` as a whole command in its own process, on the demo
district (SQLite), with its peak resident memory.

The export is shaped like a document system's: a title block, the header, 10,000 documents of which one
in twenty is a CCHC report from a demo commune (the rest other correspondence), one or two lines of
summary each.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl

from bench.province import Row
from reminder_service.services.register.read import read_register
from tests.peak import PEAK, peak_mib

ROWS = 10_000
SENDERS = ["UBND xã An Bình", "UBND thị trấn Phú Lộc", "UBND xã Tân Lập", "UBND xã Bình Minh", "Sở Nội vụ",
           "Sở Tài chính", "Phòng Văn hóa và Thông tin", "UBND xã Đông Hòa", "Bảo hiểm xã hội huyện"]
HEADER = ["STT", "Số đến", "Ngày đến", "Số, ký hiệu", "Ngày văn bản", "Cơ quan ban hành", "Trích yếu",
          "Đơn vị, người nhận", "Ghi chú"]


def _documents() -> list[list[object]]:
    start = datetime(2021, 1, 4, 8, 0)
    rows: list[list[object]] = []
    for n in range(ROWS):
        received = start + timedelta(minutes=31 * n)
        sender = SENDERS[n % len(SENDERS)]
        if n % 20 == 0:
            summary = f"Báo cáo kết quả thực hiện công tác cải cách hành chính quý {n % 4 + 1} năm 2021"
        else:
            summary = (f"V/v triển khai thực hiện nhiệm vụ số {n} về công tác chuyên môn, đề nghị các cơ quan, "
                       "đơn vị phối hợp thực hiện và báo cáo kết quả theo quy định")
        rows.append([n + 1, n + 1, received, f"{n % 400 + 1}/UBND-VP", received.date(), sender, summary,
                     "Phòng Nội vụ", ""])
    return rows


def _write(folder: Path) -> tuple[Path, Path]:
    rows = _documents()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in (["ỦY BAN NHÂN DÂN HUYỆN SÔNG LAM"], ["SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"], ["Năm 2021"], [], HEADER):
        sheet.append(line)
    for row in rows:
        sheet.append(row)
    xlsx = folder / "so-den-10000.xlsx"
    workbook.save(xlsx)
    text = folder / "so-den-10000.csv"
    with text.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([f"{v:%d/%m/%Y %H:%M}" if isinstance(v, datetime) else v for v in row])
    return xlsx, text


def _read(path: Path) -> tuple[float, float]:
    """Best of three seconds to read, and the tracemalloc peak (MiB) of one more read."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        read_register(path)
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    try:
        read_register(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return best, peak / 2**20


def _command(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one command in its own process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *args], env=env, capture_output=True, text=True,
                          timeout=600, check=True)
    seconds = time.perf_counter() - started
    peak = peak_mib(done.stderr)
    assert peak is not None, done.stderr[-3000:]
    return seconds, peak


def run(rows: list[Row]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        xlsx, text = _write(folder)
        for label, path in (("XLSX", xlsx), ("CSV", text)):
            seconds, peak = _read(path)
            size = path.stat().st_size / 2**20
            rows.append((f"register read, 10,000 rows, {label} ({size:.1f} MB), in process", f"{seconds:.2f} s",
                         "—"))
            rows.append((f"  peak traced memory of the read ({label})", f"{peak:.0f} MiB", "—"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("REMINDER_SERVICE_")}
        _, baseline = _command({**env, "REMINDER_SERVICE_DATABASE_URL": f"sqlite:///{folder}/idle.sqlite3"},
                               "--help")
        for label, path in (("XLSX", xlsx), ("CSV", text)):
            env["REMINDER_SERVICE_DATABASE_URL"] = f"sqlite:///{folder}/{label}.sqlite3"
            _command(env, "init", "--demo", "--as-of", "04/01/2021")
            seconds, peak = _command(env, "submissions", "import", str(path))
            rows.append((f"submissions import, 10,000-row {label}, whole command (SQLite)", f"{seconds:.2f} s",
                         "—"))
            rows.append((f"  peak RSS of the import ({label}; `--help` takes {baseline:.0f} MiB)", f"{peak:.0f} MiB",
                         "< 200 MB"))
