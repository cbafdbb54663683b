"""A real SMTP server (aiosmtpd) in the test process that records what arrives and injects faults."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool


@dataclass
class Recorder:
    """The server side's memory: connections seen, messages received, and the faults to inject."""

    connections: list[SMTP] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    quits: int = 0
    rcpt_reply: str | None = None
    data_reply: str | None = None
    drop_at_mail: int = 0  # close the next N connections when MAIL arrives, with no reply
    data_delay: float = 0.0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, session.ssl is not None,
                     bool(session.authenticated))
        )
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"


class RecordingSMTP(SMTP):
    async def smtp_EHLO(self, hostname: str) -> None:
        # Counted at EHLO, not at accept: the controller's own start-up probe connects but never speaks,
        # and STARTTLS repeats EHLO on the same connection object.
        recorder: Recorder = self.event_handler
        if not any(seen is self for seen in recorder.connections):
            recorder.connections.append(self)
        await super().smtp_EHLO(hostname)

    async def smtp_MAIL(self, arg: str | None) -> None:
        recorder: Recorder = self.event_handler
        if recorder.drop_at_mail > 0:
            recorder.drop_at_mail -= 1
            assert self.transport is not None
            self.transport.close()
            return
        await super().smtp_MAIL(arg)


class LocalController(Controller):
    """Listens on a port the OS picks, so parallel tests never collide."""

    def factory(self) -> SMTP:
        return RecordingSMTP(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@contextmanager
def smtp_server(port: int = 0, **smtp_kwargs: Any) -> Iterator[tuple[Recorder, int]]:
    """A server on ``port`` (0: one the OS picks), stopped when the block ends."""
    recorder = Recorder()
    controller = LocalController(recorder, hostname=HOST, port=port, server_hostname="mail.test", **smtp_kwargs)
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()
