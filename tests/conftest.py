"""Shared fixtures: running the real CLI in-process and as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reminder_service.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run ``reminder-service ARGS`` in this process; no config unless the test gives one."""
    monkeypatch.delenv("REMINDER_SERVICE_CONFIG", raising=False)

    def invoke(*args: str) -> Result:
        code = run_cli(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI as its own process, e.g. under another time zone or locale."""
    base = {k: v for k, v in os.environ.items() if k != "REMINDER_SERVICE_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "reminder_service", *args],
        env={**base, **(env or {})},
        capture_output=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
