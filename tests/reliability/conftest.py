"""What the reliability scenarios share: an SMTP server in a process of its own that writes down every
message it accepts (smtp_recorder.py), so the count of deliveries survives whatever happens to the sender."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from reminder_service.services.db.models import OutboxMessage, table_of
from tests.conftest import ROOT

TIMEOUT = 60  # seconds any one wait may take before a test fails instead of hanging


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The port of a recording SMTP server, and the file it appends each accepted Message-ID to."""
    path = tmp_path / "received.txt"
    path.touch()
    server = subprocess.Popen([sys.executable, "-m", "tests.reliability.smtp_recorder", str(path)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield port, path
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=TIMEOUT)
        server.stdout.close()  # type: ignore[union-attr]


def receipts(path: Path) -> list[str]:
    """The Message-IDs the recording server accepted, in order, one per delivery."""
    return path.read_text(encoding="ascii").splitlines()


def fill_outbox(engine: Engine, count: int, due: datetime) -> list[str]:
    """``count`` e-mails due at ``due``, to 40 communes' addresses; their dedupe keys, in order."""
    keys = [f"o{i // 4}:overdue:0:p{i}:email" for i in range(count)]
    with engine.begin() as connection:
        connection.execute(insert(table_of(OutboxMessage)), [
            {"dedupe_key": key, "stage": "overdue", "channel": "email", "address": f"nguoi{i}@xa{i % 40}.example.vn",
             "subject": f"Báo cáo CCHC Quý I/2021 — đơn vị {i}", "body_text": f"Kính gửi: đơn vị {i}",
             "body_html": f"<p>Kính gửi: đơn vị {i}</p>", "buttons": "", "state": "pending", "attempts": 0,
             "next_attempt_at": due, "created_at": due}
            for i, key in enumerate(keys)])
    return keys
