"""A tiny sd_notify client, so the daemon can run as a systemd ``Type=notify`` service with a watchdog.

The protocol is one datagram of ``KEY=value`` lines sent to the unix socket named by $NOTIFY_SOCKET
(a path, or "@name" for Linux's abstract namespace). Nothing is sent when the variable is unset, so the
same code runs in a terminal, under tests and under systemd. A failed send is logged and ignored:
systemd being unreachable must never stop reminders from going out.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

log = structlog.get_logger(__name__)

NOTIFY_SOCKET = "NOTIFY_SOCKET"
WATCHDOG_USEC = "WATCHDOG_USEC"
WATCHDOG_PID = "WATCHDOG_PID"


def _address(value: str) -> str | None:
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None  # e.g. vsock:…, which a service on the host itself never gets


def notify(*fields: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``fields`` (e.g. "READY=1") as one message; True when systemd was told."""
    env = os.environ if environ is None else environ
    target = env.get(NOTIFY_SOCKET, "")
    if not target or not fields:
        return False
    address = _address(target)
    if address is None:
        log.warning("sd_notify_unsupported_socket", socket=target)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto("\n".join(fields).encode("utf-8"), address)
    except OSError as exc:
        log.warning("sd_notify_failed", socket=target, error=f"{exc.__class__.__name__}: {exc}")
        return False
    return True


def ready(environ: Mapping[str, str] | None = None) -> bool:
    return notify("READY=1", environ=environ)


def status(text: str, environ: Mapping[str, str] | None = None) -> bool:
    # A newline would end the field and start a bogus one.
    return notify("STATUS=" + " ".join(text.split()), environ=environ)


def stopping(environ: Mapping[str, str] | None = None) -> bool:
    return notify("STOPPING=1", environ=environ)


def watchdog(environ: Mapping[str, str] | None = None) -> bool:
    return notify("WATCHDOG=1", environ=environ)


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings: half of $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises,
    so one late ping never gets the service killed. None when there is no watchdog for this process
    (unset, malformed, or $WATCHDOG_PID names another process, e.g. a parent shell script)."""
    env = os.environ if environ is None else environ
    if not env.get(NOTIFY_SOCKET):
        return None
    try:
        usec = int(env.get(WATCHDOG_USEC, ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = env.get(WATCHDOG_PID)
    if owner:
        try:
            if int(owner) != os.getpid():
                return None
        except ValueError:
            return None
    return usec / 2_000_000
