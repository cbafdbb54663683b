"""E-mail over SMTP: a small pool of connections kept open across a batch (``[email] connections``,
default 4), failures sorted into retry-later and give-up.

The dispatcher sends to several addresses at once; one connection would make them queue behind each
other on the mail server's round trips. Each connection carries one mail transaction at a time; the
most recently used idle one is taken first, so a trickle of mail keeps using one connection and only a
burst opens more.

The password is handed in by the composition root (``read_secret(SMTP_PASSWORD)``); it is never logged
and never part of an error message, even if a server echoes it back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib
import structlog

from reminder_service.adapters.email.mime import alternative, mailbox, unstructured
from reminder_service.config import EmailSettings
from reminder_service.domain.clock import now as clock_now
from reminder_service.domain.errors import UserError
from reminder_service.domain.redaction import scrub
from reminder_service.services.outbox.notifier import Notifier, OutgoingMessage, TransportError

log = structlog.get_logger(__name__)

# Replies that mean "our credentials or TLS set-up are wrong", not "this message is bad": every message
# would fail the same way, and the same message will go through once the operator fixes the config.
_CONFIG_CODES = frozenset({530, 534, 535, 538})
# Refusals inside a mail transaction (MAIL, RCPT, DATA), plus the server hanging up on one.
_TRANSACTION_REFUSED = (
    aiosmtplib.SMTPSenderRefused,
    aiosmtplib.SMTPRecipientsRefused,
    aiosmtplib.SMTPRecipientRefused,
    aiosmtplib.SMTPDataError,
    aiosmtplib.SMTPServerDisconnected,
)
_RELEASE_WAIT = 2.0


class _Socket(Protocol):
    def fileno(self) -> int: ...


@dataclass
class _Session:
    """One SMTP connection of the pool (opened on first use, reopened after a failure)."""

    smtp: aiosmtplib.SMTP
    socket: _Socket | None = None


class EmailNotifier(Notifier):
    channel = "email"

    def __init__(
        self,
        settings: EmailSettings,
        password: str | None = None,
        *,
        tls_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = clock_now,
    ) -> None:
        """``tls_context`` None means the system's trusted CAs with hostname checking (production);
        tests pass a context that trusts their own CA."""
        if settings.host is None:
            raise UserError("chưa cấu hình máy chủ gửi thư: hãy đặt [email].host trong tệp cấu hình")
        if settings.security not in {"starttls", "tls", "none"}:
            raise UserError('[email].security phải là "starttls", "tls" hoặc "none"')
        if settings.username and not password:
            raise UserError(
                "[email].username đã được đặt nhưng chưa có mật khẩu SMTP: hãy đặt biến môi trường "
                "REMINDER_SERVICE_SMTP_PASSWORD hoặc REMINDER_SERVICE_SMTP_PASSWORD_FILE"
            )
        try:
            self._from_address = _ascii_address(settings.from_address)
        except (ValueError, MessageError):
            raise UserError(
                f"[email].from_address ({settings.from_address!r}) không phải là địa chỉ e-mail hợp lệ"
            ) from None
        self._from_header = mailbox(settings.from_name, self._from_address)
        self._domain = self._from_address.rpartition("@")[2]
        self._settings = settings
        self._password = password
        self._clock = clock
        self._server = f"{settings.host}:{settings.port}"
        size = max(1, settings.connections)
        self._sessions = [_Session(aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            timeout=settings.timeout_seconds,
            use_tls=settings.security == "tls",
            # True, not None: a STARTTLS setting must never fall back to plain text silently.
            start_tls=settings.security == "starttls",
            tls_context=tls_context,
        )) for _ in range(size)]
        self._idle = list(self._sessions)  # a stack: the last one returned is taken next
        self._free = asyncio.Semaphore(size)

    async def send(self, message: OutgoingMessage) -> None:
        raw, recipient = self._compose(message)
        await self._free.acquire()
        session = self._idle.pop()
        try:
            await self._deliver(session, raw, recipient)
        finally:
            self._idle.append(session)
            self._free.release()

    async def close(self) -> None:
        # Wait for every transaction under way, then say goodbye on each open connection.
        for _ in self._sessions:
            await self._free.acquire()
        try:
            for session in self._sessions:
                await self._release(session)
        finally:
            for _ in self._sessions:
                self._free.release()

    def message_id(self, key: str) -> str:
        """Derived from the dedupe key so a retried message carries the same id and clients merge copies."""
        return self._message_id(_digest(key))

    def _message_id(self, digest: str) -> str:
        return f"<{digest[:32]}@{self._domain}>"

    def _compose(self, message: OutgoingMessage) -> tuple[bytes, str]:
        try:
            recipient = _ascii_address(message.address)
        except (ValueError, MessageError):
            raise TransportError(
                f"địa chỉ e-mail không hợp lệ: {message.address!r}", permanent=True
            ) from None
        digest = _digest(message.key)
        headers = [
            # Line breaks in a unit name must not end a header early.
            ("Subject", unstructured("Subject", _one_line(message.subject))),
            ("From", self._from_header),
            ("To", mailbox(message.recipient_name, recipient)),
            ("Date", format_datetime(self._clock())),
            ("Message-ID", self._message_id(digest)),
            # RFC 3834 and Exchange's equivalent: out-of-office robots should not answer a reminder.
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
        ]
        # The boundary is fixed for the key, like the Message-ID, so a retry sends the same bytes but for Date.
        return alternative(headers, message.text, message.html, f"=_{digest[32:]}"), recipient

    async def _deliver(self, session: _Session, raw: bytes, recipient: str) -> None:
        smtp = session.smtp
        for attempt in (1, 2):
            reused = smtp.is_connected
            try:
                if not reused:
                    await self._connect(session)
                await smtp.sendmail(self._from_address, [recipient], raw)
                return
            except _TRANSACTION_REFUSED as exc:
                if reused and attempt == 1 and _stale(exc):
                    # A kept-open connection the server has since dropped (idle timeout): reconnect once;
                    # a second failure is a real outage.
                    log.info("smtp_reconnect", server=self._server, reason=self._redact(str(exc)))
                    smtp.close()
                    continue
                if not smtp.is_connected:
                    await self._release(session)
                raise self._failure(exc) from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                # Anything but a refusal inside the mail transaction (after which aiosmtplib sends RSET and
                # the session is clean) may leave the session half-way through a command: start afresh.
                await self._release(session)
                raise self._failure(exc) from None
            except asyncio.CancelledError:
                smtp.close()  # stopped mid-command: nobody knows what the server thinks comes next
                raise

    async def _connect(self, session: _Session) -> None:
        await session.smtp.connect()  # TCP, then TLS or STARTTLS as configured
        session.socket = session.smtp.get_transport_info("socket")
        if self._settings.username:
            await session.smtp.login(self._settings.username, self._password or "")

    async def _release(self, session: _Session) -> None:
        sock, session.socket = session.socket, None
        smtp = session.smtp
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                pass  # the server may already have hung up; there is nothing left to say
        smtp.close()
        # A TLS socket is released only after the close_notify exchange, a few loop turns later: wait for
        # it (briefly) so a stopping daemon does not leave the socket to the garbage collector.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _RELEASE_WAIT
        # aiosmtplib has no "closed" event to await; the socket's fileno turning -1 is the public signal.
        while sock is not None and sock.fileno() != -1 and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    def _failure(self, exc: BaseException) -> TransportError:
        """Sort a failure into give-up (the message itself is refused) or retry-later (anything else)."""
        server = self._server
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return self._error(
                f"máy chủ SMTP {server} từ chối đăng nhập của tài khoản {self._settings.username!r} "
                f"({exc.code} {exc.message}). Hãy kiểm tra [email].username và mật khẩu trong "
                "REMINDER_SERVICE_SMTP_PASSWORD(_FILE), rồi khởi động lại dịch vụ; thư sẽ được gửi lại sau",
                permanent=False,
            )
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
            exc = exc.recipients[0]
        if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
            return self._by_code(exc.code, f"máy chủ SMTP {server} từ chối người nhận {exc.recipient} "
                                 f"({exc.code} {exc.message})")
        if isinstance(exc, aiosmtplib.SMTPSenderRefused) and exc.code in _CONFIG_CODES:
            return self._error(
                f"máy chủ SMTP {server} không cho gửi từ {exc.sender} ({exc.code} {exc.message}); "
                "hãy kiểm tra [email].username, mật khẩu và [email].security",
                permanent=False,
            )
        if isinstance(exc, aiosmtplib.SMTPConnectResponseError | aiosmtplib.SMTPHeloError):
            # Refused before any message was named: the server rejects us, not the message.
            return self._error(f"máy chủ SMTP {server} không nhận kết nối ({exc.code} {exc.message})",
                               permanent=False)
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            what = "địa chỉ gửi" if isinstance(exc, aiosmtplib.SMTPSenderRefused) else "thư"
            return self._by_code(exc.code, f"máy chủ SMTP {server} từ chối {what} ({exc.code} {exc.message})")
        if isinstance(exc, TimeoutError):
            return self._error(f"hết thời gian chờ máy chủ SMTP {server}: {exc}", permanent=False)
        if (tls := _tls_error(exc)) is not None:
            return self._error(
                f"lỗi bắt tay TLS với máy chủ SMTP {server}: {tls}; hãy kiểm tra chứng chỉ của "
                "máy chủ, [email].host và [email].security",
                permanent=False,
            )
        if isinstance(exc, aiosmtplib.SMTPConnectError | OSError):
            return self._error(f"không kết nối được máy chủ SMTP {server}: {exc}", permanent=False)
        # STARTTLS or AUTH not offered, and similar: the set-up is wrong, the message is fine.
        return self._error(f"máy chủ SMTP {server}: {exc}; hãy kiểm tra cấu hình [email]", permanent=False)

    def _by_code(self, code: int, text: str) -> TransportError:
        if code in _CONFIG_CODES:
            return self._error(f"{text}; hãy kiểm tra tài khoản và cấu hình [email]", permanent=False)
        return self._error(text, permanent=500 <= code < 600)

    def _error(self, text: str, *, permanent: bool) -> TransportError:
        return TransportError(self._redact(text), permanent=permanent)

    def _redact(self, text: str) -> str:
        """A server may echo what it received; hide the password and the AUTH blobs that carry it."""
        if not self._password:
            return scrub(text)
        secret = self._password
        user = self._settings.username or ""
        # Any length: the server's reply is short, and a short password is still a password.
        return scrub(text, secret, base64.b64encode(secret.encode("utf-8")).decode("ascii"),
                     base64.b64encode(f"\0{user}\0{secret}".encode()).decode("ascii"), min_length=1)


def _stale(exc: Exception) -> bool:
    """The server hung up, or says it is closing this session (421), rather than refusing the message."""
    return isinstance(exc, aiosmtplib.SMTPServerDisconnected) or (
        isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421
    )


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n\v\f\x85\u2028\u2029]+\s*", " ", text).strip()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _ascii_address(address: str) -> str:
    """A validated addr-spec; internationalised domains go out as punycode, which every server accepts."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError(address)
    spec = f"{local}@{domain.encode('idna').decode('ascii')}"
    # Address() applies RFC 5322's addr-spec grammar: no spaces, commas, brackets, CR/LF or non-ASCII
    # local parts (those would need SMTPUTF8, which we do not ask of the relay).
    return Address(addr_spec=spec).addr_spec


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
