"""An SMTP server (aiosmtpd) in a process of its own that appends the Message-ID of every message it
accepts to a file, one per line, before it answers 250: whatever happens to the sender afterwards, the
file says what was delivered, and how many times.

``python -m tests.reliability.smtp_recorder FILE [PORT]`` prints the port it listens on, serves until its
standard input closes, then exits. PORT 0 (the default) lets the system choose.
"""

from __future__ import annotations

import os
import re
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class Recorder:
    def __init__(self, path: str) -> None:
        # O_APPEND with one write per line: lines stay whole, and the kernel has them the moment write returns.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        head = content.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        os.write(self._fd, (found.group(1) if found else b"<none>") + b"\n")
        return "250 OK"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def main(argv: list[str]) -> None:
    controller = _Controller(Recorder(argv[0]), hostname=HOST, port=int(argv[1]) if len(argv) > 1 else 0)
    controller.start()
    try:
        print(controller.port, flush=True)
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
