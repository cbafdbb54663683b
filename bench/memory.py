"""The daemon's resident memory when idle: `reminder-service run` on the demo district (SQLite, console
delivery), measured from /proc once the first tick has passed and the process sits waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.province import Row

SETTLE_SECONDS = 15


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def idle_daemon(rows: list[Row]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3"}
        env.pop("REMINDER_SERVICE_CONFIG", None)
        command = [sys.executable, "-m", "reminder_service"]
        subprocess.run([*command, "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
        process = subprocess.Popen([*command, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(SETTLE_SECONDS)
            if process.poll() is not None:
                raise RuntimeError(f"the daemon exited with {process.returncode}")
            rss = _rss_mib(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    rows.append(("idle daemon, demo district (RSS)", f"{rss:.0f} MiB", "< 150 MB"))
