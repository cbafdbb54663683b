"""Every kind of file a user hands the service, broken, through the real command in its own process: exit
code 2, a message naming the file (and the line, where the mistake has one), no traceback, and the database
exactly as it was — every table, row for row.

The messages themselves are tested where each reader lives (test_cli_errors.py for the config,
test_directive_errors.py for directives, test_units_import.py and test_register_import.py for the imports,
all in-process). This is the end-to-end proof that none of them leaves anything behind, on a database in
service: the demo district with its submissions and a morning's reminders already sent, and on both engines.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import make_url

from calendars.library import BUILTIN_DIRECTIVES
from tests.conftest import ROOT
from tests.registers import SHEET, member, package, repack

DIRECTIVE = (BUILTIN_DIRECTIVES / "cchc.yaml").read_text(encoding="utf-8").replace("year: 2021\n", "year: 2027\n", 1)
# A later morning than the one the database was prepared on: were the command to get that far, it would decide
# and send new reminders.
LATER = "18/03/2021 09:00"


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, bytes]  # written into the case's folder
    args: tuple[str, ...]  # {dir} is the case's folder
    file: str  # the file the message must name
    says: str  # what it must say
    line: int | None  # the line it must name


def _line(text: str, marker: str) -> int:
    return text.splitlines().index(marker) + 1


def _directive(edit: Callable[[str], str], marker: str) -> tuple[bytes, int]:
    text = edit(DIRECTIVE)
    return text.encode(), _line(text, marker)


YAML_BROKEN, YAML_LINE = _directive(
    lambda t: t.replace("    title: Báo cáo CCHC Quý I/{year}\n", "    title: Báo cáo CCHC: Quý I/{year}\n", 1),
    "    title: Báo cáo CCHC: Quý I/{year}")
RULE_BROKEN, RULE_LINE = _directive(lambda t: t.replace("          day: 30\n", "          day: 32\n", 1),
                                    "          day: 32")
OFFICE_DIRECTIVES = b'[calendar]\ndirectives_dir = "directives"\n'
RUN = ("run", "--once", "--at", LATER)
EXPORT = package()
EXPORT_SHEET = member(EXPORT, SHEET)
UNITS = "code,name,kind,head_name,head_email\nXA_MOI,UBND xã Mới,commune,Lê Văn Mới,moi@songlam.example\n"

CASES = [
    Case("config: TOML syntax", {"config.toml": b'[email]\nhost = mail.songlam.example\n'},
         ("--config", "{dir}/config.toml", *RUN), "config.toml", "sai cú pháp TOML", 2),
    Case("config: unknown key", {"config.toml": b'[email]\nhost = "127.0.0.1"\nhots = "mail.songlam.example"\n'},
         ("--config", "{dir}/config.toml", *RUN), "config.toml", 'khóa "hots" trong [email] không được hỗ trợ', 3),
    Case("config: wrong type",
         {"config.toml": '[office]\nname = "Phòng Nội vụ"\n\n[email]\nhost = "127.0.0.1"\nport = "587"\n'.encode()},
         ("--config", "{dir}/config.toml", *RUN), "config.toml", "[email].port phải là số nguyên", 6),
    Case("directive: YAML syntax", {"config.toml": OFFICE_DIRECTIVES, "directives/cchc-2027.yaml": YAML_BROKEN},
         ("--config", "{dir}/config.toml", *RUN), "cchc-2027.yaml", "sai cú pháp YAML", YAML_LINE),
    Case("directive: invalid rule", {"config.toml": OFFICE_DIRECTIVES, "directives/cchc-2027.yaml": RULE_BROKEN},
         ("--config", "{dir}/config.toml", *RUN), "cchc-2027.yaml", "từ 1 đến 31", RULE_LINE),
    Case("units: a bad row", {"don-vi.csv": (UNITS + "XA_CU,UBND xã Cũ,truong,,\n").encode()},
         ("units", "import", "{dir}/don-vi.csv"), "don-vi.csv", 'loại đơn vị "truong" không hợp lệ', 3),
    Case("register: garbage XLSX", {"so-den.xlsx": b"PK\x03\x04" + os.urandom(4000)},
         ("submissions", "import", "{dir}/so-den.xlsx"), "so-den.xlsx", "tệp hỏng", None),
    Case("register: XLSX with its sheet cut short", {"so-den.xlsx": repack(EXPORT, {SHEET: EXPORT_SHEET[:700]})},
         ("submissions", "import", "{dir}/so-den.xlsx"), "so-den.xlsx", "bị cắt cụt hoặc sai cấu trúc", None),
    Case("register: XLSX with a DTD",
         {"so-den.xlsx": repack(EXPORT, {SHEET: EXPORT_SHEET.replace(
             b"<worksheet", b"<!DOCTYPE worksheet [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]><worksheet", 1)})},
         ("submissions", "import", "{dir}/so-den.xlsx"), "so-den.xlsx", "khai báo DTD", None),
    Case("register: zip bomb",
         {"so-den.xlsx": repack(EXPORT, {SHEET: EXPORT_SHEET.replace(b"<sheetData>", b"<sheetData>" + b" " * 2**25)})},
         ("submissions", "import", "{dir}/so-den.xlsx"), "so-den.xlsx", "tỉ lệ nén bất thường", None),
    Case("register: 25 MB", {"so-den.csv": b"x" * (25 * 2**20)},
         ("submissions", "import", "{dir}/so-den.csv"), "so-den.csv", "quá lớn (25 MB, giới hạn 20 MB)", None),
    Case("register: garbage CSV", {"so-den.csv": bytes(range(256)) * 16},
         ("submissions", "import", "{dir}/so-den.csv"), "so-den.csv", "không nhận ra bảng mã", None),
    Case("register: CSV without its columns", {"so-den.csv": "Số đến;Ngày đến;Nơi gửi\n7;12/03/2021;UBND\n".encode()},
         ("submissions", "import", "{dir}/so-den.csv"), "so-den.csv", "không tìm thấy cột Trích yếu", 1),
]


def _cli(db_url: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    env.pop("REMINDER_SERVICE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "reminder_service", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _dump(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table the database has (Alembic's included), every row, in primary-key order."""
    engine = create_engine(db_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {name: [tuple(row) for row in connection.execute(
                        select(table).order_by(*(table.primary_key.columns or table.columns)))]
                    for name, table in sorted(metadata.tables.items())}
    finally:
        engine.dispose()


def _sqlite_bytes(db_url: str) -> str | None:
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return hashlib.sha256(Path(url.database).read_bytes()).hexdigest()


def test_broken_inputs_exit_2_name_file_and_line_and_leave_the_database_untouched(db_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    prepared = _cli(db_url, "init", "--demo", "--as-of", "16/03/2021")
    assert prepared.returncode == 0, prepared.stderr
    office = tmp_path / "office"
    office.mkdir()
    (office / "config.toml").write_text('[delivery]\njsonl = "outbox.jsonl"\n', encoding="utf-8")
    morning = _cli(db_url, "--config", str(office / "config.toml"), "run", "--once", "--at", "16/03/2021 09:00")
    assert morning.returncode == 0, morning.stderr
    before = _dump(db_url)
    assert all(before[table] for table in ("units", "people", "obligations", "submissions", "outbox",
                                           "delivery_attempts", "audit_log")), {k: len(v) for k, v in before.items()}
    image = _sqlite_bytes(db_url)

    for case in CASES:
        folder = tmp_path / case.name.replace(":", "").replace(" ", "-")
        for name, content in case.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        done = _cli(db_url, *(arg.format(dir=folder) for arg in case.args), cwd=folder)
        where = f"{case.name}: {done.stderr!r}"
        assert done.returncode == 2, where
        assert "Traceback" not in done.stderr + done.stdout, where
        assert done.stderr.startswith("Lỗi"), where
        assert case.file in done.stderr and case.says in done.stderr, where
        if case.line is not None:
            assert re.search(rf"\bdòng {case.line}\b", done.stderr), where
        assert _dump(db_url) == before, f"{case.name}: the database changed"
        assert _sqlite_bytes(db_url) == image, f"{case.name}: the database file changed"
    print(f"\n[bad inputs, {make_url(db_url).get_backend_name()}] {len(CASES)} broken inputs, each exit 2 with file "
          f"and line, database untouched ({sum(len(rows) for rows in before.values()):,} rows in {len(before)} "
          f"tables compared after each); {time.monotonic() - started:.1f} s")
