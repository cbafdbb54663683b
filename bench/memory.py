"""The daemon's resident memory when idle: `reminder-service run` on the demo district (SQLite, console
delivery, the web console served and its board viewed once), measured from /proc once the first tick has
passed and the process sits waiting."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.province import Row

SETTLE_SECONDS = 15


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def idle_daemon(rows: list[Row]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = Path(folder) / "config.toml"
        config.write_text(f'[web]\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n', encoding="utf-8")
        env = {**os.environ, "REMINDER_SERVICE_DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3",
               "REMINDER_SERVICE_CONFIG": str(config)}
        command = [sys.executable, "-m", "reminder_service"]
        subprocess.run([*command, "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
        link = subprocess.run([*command, "web", "link", "noivu@songlam.example"], env=env, check=True,
                              capture_output=True, text=True, timeout=60).stdout.splitlines()[-1]
        process = subprocess.Popen([*command, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(SETTLE_SECONDS)
            if process.poll() is not None:
                raise RuntimeError(f"the daemon exited with {process.returncode}")
            _view_board(link)
            time.sleep(2)
            rss = _rss_mib(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    rows.append(("idle daemon with the web console, demo district (RSS)", f"{rss:.0f} MiB", "< 200 MB"))


def _view_board(link: str) -> None:
    with httpx.Client(timeout=30) as client:
        page = client.get(link)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError("the sign-in page has no form")
        client.post(link, data={"csrf": token.group(1)})
        client.get(link.split("/dang-nhap/")[0] + "/").raise_for_status()
