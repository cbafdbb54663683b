"""What the reliability scenarios share: an SMTP server in a process of its own that writes down every
message it accepts (smtp_recorder.py), so the count of deliveries survives whatever happens to the sender."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
