"""EmailNotifier against a real aiosmtpd server in this process: what arrives is parsed back, nothing is mocked."""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis
import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from hypothesis import given
from hypothesis import strategies as st

from reminder_service.adapters.email.mime import alternative, mailbox, unstructured
from reminder_service.adapters.email.notifier import EmailNotifier
from reminder_service.config import EmailSettings
from reminder_service.domain.errors import UserError
from reminder_service.services.outbox.notifier import OutgoingMessage, TransportError
from tests.fakes.smtp import HOST, Recorder, smtp_server

USER = "cchc@ubnd.example.vn"
PASSWORD = "Mật-khẩu-đúng-42"
WRONG = "sai-mat-khau-1234"
SUBJECT = "Báo cáo CCHC Quý I/2021 — UBND xã An Bình: hạn nộp thứ Bảy, 13/03/2021 (nhận đến hết thứ Hai, 15/03/2021)"
TEXT = (
    "Kính gửi: Ông Nguyễn Văn Bình, Chủ tịch UBND <b>Xã A&B</b>\n"
    "\n"
    "Báo cáo CCHC Quý I/2021 — UBND xã An Bình; số liệu từ 15/12/2020 đến 10/03/2021.\n"
    "Dòng có khoảng trắng ở cuối   \n"
    "Phụ lục 2A, Phụ lục 3B.\n"
)
HTML = (
    "<p>Kính gửi: Ông Nguyễn Văn Bình, Chủ tịch UBND &lt;b&gt;Xã A&amp;B&lt;/b&gt;</p>\n"
    "<p>Báo cáo CCHC Quý I/2021 — UBND xã An Bình</p>\n"
)
FIXED_NOW = datetime(2021, 3, 8, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    # handled=False: let aiosmtpd answer a failure with its standard 535.
    return AuthResult(success=ok, handled=False)


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls() -> Tls:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(server, client)


def settings(port: int, **changes: Any) -> EmailSettings:
    base = EmailSettings(host=HOST, port=port, security="none", from_address="phongnoivu@ubnd.example.vn",
                         from_name="Phòng Nội vụ huyện", timeout_seconds=5)
    return replace(base, **changes)


def outgoing(key: str = "q1:2021:AB:reminder:0:p7:email", **changes: Any) -> OutgoingMessage:
    base = OutgoingMessage(key=key, channel="email", address="chutich@xaab.example.vn",
                           recipient_name='Nguyễn Văn Bình, "Chủ tịch" UBND <b>Xã A&B</b>',
                           subject=SUBJECT, text=TEXT, html=HTML)
    return replace(base, **changes)


def run(notifier: EmailNotifier, body: Callable[[EmailNotifier], Awaitable[None]]) -> None:
    """One event loop per test; the notifier is always closed so no socket outlives the test."""

    async def main() -> None:
        try:
            await body(notifier)
        finally:
            await notifier.close()

    asyncio.run(main())


def send_expecting_error(notifier: EmailNotifier, message: OutgoingMessage | None = None) -> TransportError:
    caught: list[TransportError] = []

    async def body(n: EmailNotifier) -> None:
        with pytest.raises(TransportError) as info:
            await n.send(message or outgoing())
        caught.append(info.value)

    run(notifier, body)
    return caught[0]


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    # MIME lines end in CRLF on the wire; the parser hands them back as they came.
    return tuple(str(p.get_content()).replace("\r\n", "\n") for p in (plain, html))  # type: ignore[return-value]


# --- plain relay: what arrives is exactly what was sent ---------------------------------------------------


def test_plain_relay_round_trips_vietnamese_subject_and_both_parts() -> None:
    with smtp_server() as (server, port):
        run(EmailNotifier(settings(port), clock=lambda: FIXED_NOW), lambda n: n.send(outgoing()))
    [got] = server.received
    mail = got.message
    assert got.mail_from == "phongnoivu@ubnd.example.vn"
    assert got.rcpt_tos == ["chutich@xaab.example.vn"]
    assert mail["Subject"] == SUBJECT
    assert mail.get_content_type() == "multipart/alternative"
    assert parts(mail) == (TEXT, HTML)
    assert "<b>Xã A&B</b>" in parts(mail)[0]
    [sender] = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Phòng Nội vụ huyện", "phongnoivu@ubnd.example.vn")
    [to] = mail["To"].addresses
    assert to.display_name == 'Nguyễn Văn Bình, "Chủ tịch" UBND <b>Xã A&B</b>'
    assert to.addr_spec == "chutich@xaab.example.vn"
    assert mail["Date"].datetime == FIXED_NOW
    assert mail["Auto-Submitted"] == "auto-generated"
    for part in mail.iter_parts():
        assert part.get_content_charset() == "utf-8"
    assert not got.tls and not got.authenticated


def test_message_id_follows_the_dedupe_key() -> None:
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            await n.send(outgoing("k1"))
            await n.send(outgoing("k1"))  # a retry of the same outbox row
            await n.send(outgoing("k2"))

        run(EmailNotifier(settings(port)), body)
    ids = [r.message["Message-ID"] for r in server.received]
    assert ids[0] == ids[1] != ids[2]
    assert all(re.fullmatch(r"<[0-9a-f]{32}@ubnd\.example\.vn>", i) for i in ids)


def test_line_breaks_in_names_and_subject_cannot_inject_headers() -> None:
    hostile = outgoing(subject="Nhắc hạn: <b>Xã A&B</b>\nBcc: spy@evil.example",
                       recipient_name="Xã A&B\r\nBcc: spy@evil.example")
    with smtp_server() as (server, port):
        run(EmailNotifier(settings(port)), lambda n: n.send(hostile))
    [got] = server.received
    assert got.rcpt_tos == ["chutich@xaab.example.vn"]
    assert got.message["Bcc"] is None
    assert got.message["Subject"] == "Nhắc hạn: <b>Xã A&B</b> Bcc: spy@evil.example"
    assert got.message["To"].addresses[0].display_name == "Xã A&B Bcc: spy@evil.example"


def test_internationalised_domain_is_sent_as_punycode() -> None:
    with smtp_server() as (server, port):
        run(EmailNotifier(settings(port)), lambda n: n.send(outgoing(address="vanthu@xãanbình.vn")))
    assert server.received[0].rcpt_tos == ["vanthu@xn--xanbnh-3ta9e.vn"]


@pytest.mark.parametrize("address", ["khong-co-a-con", "a@b.vn, c@d.vn", "nguyễn@xa.vn", "a@b.vn\r\nRCPT TO:<x@y>"])
def test_bad_address_is_permanent_and_never_reaches_the_server(address: str) -> None:
    with smtp_server() as (server, port):
        error = send_expecting_error(EmailNotifier(settings(port)), outgoing(address=address))
    assert error.permanent
    assert "không hợp lệ" in str(error)
    assert server.connections == []


def test_many_tricky_subjects_and_names_round_trip_over_one_connection() -> None:
    """Python's own header folder loses spaces between encoded words; ours must not, whatever the text."""
    phrase = ("Báo cáo CCHC Quý I/2021 — UBND xã An Bình hạn nộp thứ Bảy, (nhận đến hết Hai) Phòng Nội vụ "
              '<b>Xã A&B</b> "Chủ tịch" Nguyễn Văn ; =?utf-8?q?x?= a\\b Đông Anh')
    words = [*phrase.split(" "), "x" * 90, ""]
    rng = random.Random(2021)
    sent = []
    for index in range(60):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 35))).strip() or "a"
        if index % 3 == 0:
            text = text.encode("ascii", "ignore").decode().strip() or "b"
        sent.append(outgoing(f"k{index}", subject=text, recipient_name=text))
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            for message in sent:
                await n.send(message)

        run(EmailNotifier(settings(port)), body)
    assert len(server.connections) == 1
    for message, got in zip(sent, server.received, strict=True):
        assert got.message["Subject"] == message.subject
        # Runs of spaces collapse and a runaway name is cut at 200 characters; nothing else changes.
        assert got.message["To"].addresses[0].display_name == " ".join(message.recipient_name.split())[:200]
        assert max(len(line) for line in got.message.as_bytes().splitlines()) <= 998


BOUNDARY = "=_0123456789abcdef"
# Vietnamese (precomposed and with combining marks), the characters that mean something in a header, the line
# breaks and blanks Python or a mail reader might split on, a 4-octet character, encoded-word look-alikes and
# a multipart boundary.
TRICKY = st.one_of(
    st.sampled_from([
        *"aăâđeêioôơuưy AĂÂĐEÊIOÔƠUƯY", *"àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ",
        "a\u0300", "\u0301", *' ,;:"\'<>()[]@.\\/&=?_-', "=?utf-8?b?", "?=", "=?utf-8?q?x?=", "\r\n", "—", "🙂",
        *"\r\n\t\v\f\x85\u2028\u2029\x1c\x1d\x1e\x00\x7f", "Bcc: spy@evil.example", f"--{BOUNDARY}",
    ]),
    st.characters(exclude_categories=["Cs"]),
)
tricky_text = st.lists(TRICKY, max_size=120).map("".join)


def one_line(text: str) -> str:
    """A subject as the notifier sends it: a line break and the blanks around it become one space."""
    return re.sub(r"\s*[\r\n\v\f\x85\u2028\u2029]+\s*", " ", text).strip()


def lines_as_sent(text: str) -> str:
    """A body as the reader gets it back: LF, CRLF and a lone CR all end a line, and the last line ends too."""
    lines = re.split(r"\r\n|\r|\n", text)
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    return "".join(f"{line}\n" for line in lines)


@hypothesis.settings(max_examples=400, deadline=None)
@given(tricky_text, tricky_text, tricky_text, tricky_text)
def test_any_text_reads_back_exactly_from_the_built_message(subject: str, name: str, text: str, html: str) -> None:
    headers = [("Subject", unstructured("Subject", subject)), ("To", mailbox(name, "chutich@xaab.example.vn"))]
    raw = alternative(headers, text, html, BOUNDARY)
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"] == subject  # no line breaks taken out here: encoded words carry them too
    assert mail["Bcc"] is None
    [to] = mail["To"].addresses
    assert (to.display_name, to.addr_spec) == (" ".join(name.split())[:200], "chutich@xaab.example.vn")
    assert parts(mail) == (lines_as_sent(text), lines_as_sent(html))
    # 7-bit, every line ends in CRLF, 78 characters a line but for a long recipient name, which stays in
    # one encoded word (see mailbox()).
    assert raw.isascii()
    assert b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 78 for line in lines if not line.startswith(b"To: "))
    assert all(len(line) <= 998 for line in lines)
    subject_field = raw.split(b"\r\nTo: ")[0].decode("ascii")
    assert all(len(word) <= 75 for word in re.findall(r"=\?utf-8\?b\?[^?]*\?=", subject_field))


@pytest.fixture(scope="module")
def shared_server() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as (server, port):
        yield server, port


@hypothesis.settings(max_examples=60, deadline=None)
@given(tricky_text, tricky_text)
def test_random_vietnamese_subjects_and_names_round_trip_through_a_server(
    shared_server: tuple[Recorder, int], subject: str, name: str
) -> None:
    server, port = shared_server
    run(EmailNotifier(settings(port)), lambda n: n.send(outgoing(subject=subject, recipient_name=name)))
    got = server.received[-1].message
    assert got["Subject"] == one_line(subject)
    assert got["Bcc"] is None
    assert got["To"].addresses[0].display_name == " ".join(name.split())[:200]
    assert parts(got) == (TEXT, HTML)


def test_control_characters_a_reader_may_take_for_line_breaks_cannot_inject_headers() -> None:
    # Python's str.splitlines() breaks lines at the file, group and record separators as well.
    sent = [(f"Nhac han{c}Bcc: spy@evil.example", f"Xa AB{c}Cc: x@y.example") for c in "\x1c\x1d\x1e"]
    sent.append(("Nhắc hạn\x1cBcc: spy@evil.example", "Xã AB\x1dCc: x@y.example"))
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            for index, (subject, name) in enumerate(sent):
                await n.send(outgoing(f"k{index}", subject=subject, recipient_name=name))

        run(EmailNotifier(settings(port)), body)
    for (subject, name), got in zip(sent, server.received, strict=True):
        assert got.message["Bcc"] is None and got.message["Cc"] is None
        assert got.message["Subject"] == subject
        assert got.message["To"].addresses[0].display_name == " ".join(name.split())


def test_line_breaks_and_long_lines_in_the_bodies_read_back() -> None:
    text = "Dòng một\r\nDòng hai\rDòng ba\n\n" + "x" * 120 + "\n.\n..chấm\nFrom here\n"
    ascii_only = "Line one\r\nline two\r" + "y" * 200 + "\n.\n-- \nchu ky"
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            await n.send(outgoing("k1", text=text, html=ascii_only))
            await n.send(outgoing("k2", text="", html="<p>ascii</p>"))

        run(EmailNotifier(settings(port)), body)
    first, second = (r.message for r in server.received)
    assert parts(first) == (
        "Dòng một\nDòng hai\nDòng ba\n\n" + "x" * 120 + "\n.\n..chấm\nFrom here\n",
        "Line one\nline two\n" + "y" * 200 + "\n.\n-- \nchu ky\n",
    )
    assert parts(second) == ("\n", "<p>ascii</p>\n")
    for mail in (first, second):
        assert max(len(line) for line in mail.as_bytes().splitlines()) <= 78
        for part in mail.iter_parts():
            assert part["Content-Transfer-Encoding"] in {"7bit", "base64"}


def test_text_without_final_newline_gets_one() -> None:
    with smtp_server() as (server, port):
        run(EmailNotifier(settings(port)), lambda n: n.send(outgoing(text="Một dòng", html="<p>Một dòng</p>")))
    assert parts(server.received[0].message) == ("Một dòng\n", "<p>Một dòng</p>\n")


# --- TLS and authentication --------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_starttls_with_auth_delivers(tls: Tls, mechanism: str) -> None:
    other = {"LOGIN": ["PLAIN"], "PLAIN": ["LOGIN"]}[mechanism]
    with smtp_server(tls_context=tls.server, require_starttls=True, authenticator=authenticator,
                     auth_required=True, auth_exclude_mechanism=other) as (server, port):
        notifier = EmailNotifier(settings(port, security="starttls", username=USER), PASSWORD, tls_context=tls.client)
        run(notifier, lambda n: n.send(outgoing()))
    [got] = server.received
    assert got.tls and got.authenticated
    assert got.message["Subject"] == SUBJECT


def test_implicit_tls_with_auth_delivers(tls: Tls) -> None:
    # aiosmtpd only knows about TLS it negotiated itself (STARTTLS); on a TLS listener it must be told
    # that AUTH is safe.
    with smtp_server(ssl_context=tls.server, authenticator=authenticator, auth_require_tls=False) as (server, port):
        notifier = EmailNotifier(settings(port, security="tls", username=USER), PASSWORD, tls_context=tls.client)
        run(notifier, lambda n: n.send(outgoing()))
    [got] = server.received
    assert got.authenticated
    assert parts(got.message) == (TEXT, HTML)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_wrong_password_is_transient_and_never_shown(tls: Tls, security: str) -> None:
    kwargs: dict[str, Any] = (
        {"tls_context": tls.server, "require_starttls": True} if security == "starttls"
        else {"ssl_context": tls.server, "auth_require_tls": False}
    )
    with smtp_server(authenticator=authenticator, **kwargs) as (server, port):
        notifier = EmailNotifier(settings(port, security=security, username=USER), WRONG, tls_context=tls.client)
        error = send_expecting_error(notifier)
    assert not error.permanent
    assert "535" in str(error) and "đăng nhập" in str(error) and "REMINDER_SERVICE_SMTP_PASSWORD" in str(error)
    assert WRONG not in str(error) and WRONG not in repr(error.args)
    assert server.received == []


def test_a_server_echoing_the_password_does_not_leak_it(tls: Tls) -> None:
    def echoing(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False,
                          message=f"535 5.7.8 bad credentials {data.login.decode()}/{data.password.decode()}")

    with smtp_server(tls_context=tls.server, authenticator=echoing, auth_exclude_mechanism=["LOGIN"]) as (_, port):
        notifier = EmailNotifier(settings(port, security="starttls", username=USER), WRONG, tls_context=tls.client)
        error = send_expecting_error(notifier)
    assert f"{USER}/[đã ẩn]" in str(error)
    assert WRONG not in str(error)


def test_server_demanding_auth_we_do_not_do_is_transient(tls: Tls) -> None:
    with smtp_server(tls_context=tls.server, require_starttls=True, authenticator=authenticator,
                     auth_required=True) as (server, port):
        error = send_expecting_error(EmailNotifier(settings(port, security="starttls"), tls_context=tls.client))
    assert not error.permanent  # the operator adds [email].username; the message itself is fine
    assert "530" in str(error) and "[email]" in str(error)
    assert server.received == []


def test_untrusted_certificate_is_a_transient_tls_error(tls: Tls) -> None:
    stranger = ssl.create_default_context()  # does not trust the test CA, as production would not
    with smtp_server(ssl_context=tls.server) as (server, port):
        error = send_expecting_error(EmailNotifier(settings(port, security="tls"), tls_context=stranger))
    assert not error.permanent
    assert "TLS" in str(error)
    assert server.received == []


def test_starttls_never_falls_back_to_plain_text() -> None:
    with smtp_server() as (server, port):  # a server that does not offer STARTTLS
        error = send_expecting_error(EmailNotifier(settings(port, security="starttls")))
    assert not error.permanent
    assert "STARTTLS" in str(error)
    assert server.received == []


# --- one connection per batch, reconnect once ------------------------------------------------------------


def test_twenty_sends_share_one_connection_and_close_quits() -> None:
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            for index in range(20):
                await n.send(outgoing(f"k{index}"))

        run(EmailNotifier(settings(port)), body)
    assert len(server.received) == 20
    assert len(server.connections) == 1
    assert server.quits == 1


@pytest.mark.parametrize("size", [1, 4])
def test_sends_at_once_share_a_small_pool_of_connections(size: int) -> None:
    """The dispatcher sends to many addresses at once: they go over at most ``connections`` sessions,
    every message arrives once, and closing says goodbye on each."""
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            await asyncio.gather(*(n.send(outgoing(f"k{index}", address=f"xa{index}@ubnd.example.vn"))
                                   for index in range(40)))

        run(EmailNotifier(settings(port, connections=size)), body)
    assert sorted(r.rcpt_tos[0] for r in server.received) == sorted(
        f"xa{index}@ubnd.example.vn" for index in range(40))
    assert len(server.connections) == size
    assert server.quits == size


def test_connection_closed_by_server_idle_timeout_is_reopened() -> None:
    with smtp_server(timeout=0.3) as (server, port):

        async def body(n: EmailNotifier) -> None:
            await n.send(outgoing("k1"))
            await asyncio.sleep(0.8)  # the server hangs up after 0.3 s of silence
            await n.send(outgoing("k2"))

        run(EmailNotifier(settings(port)), body)
    assert len(server.received) == 2
    assert len(server.connections) == 2


def test_connection_dropped_mid_command_is_retried_once_on_a_new_connection() -> None:
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            await n.send(outgoing("k1"))
            server.drop_at_mail = 1  # the kept connection dies the moment we use it
            await n.send(outgoing("k2"))

        run(EmailNotifier(settings(port)), body)
    assert [r.message["Message-ID"] for r in server.received] == [
        EmailNotifier(settings(port)).message_id(k) for k in ("k1", "k2")
    ]
    assert len(server.connections) == 2


def test_only_one_reconnect_then_transient_error() -> None:
    errors: list[TransportError] = []
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            await n.send(outgoing("k1"))
            server.drop_at_mail = 100
            for key in ("k2", "k3"):
                with pytest.raises(TransportError) as info:
                    await n.send(outgoing(key))
                errors.append(info.value)

        run(EmailNotifier(settings(port)), body)
    assert [e.permanent for e in errors] == [False, False]
    # k1's connection, k2's one reconnect, k3's fresh connection (no second try: it was not a stale one).
    assert len(server.connections) == 3
    assert len(server.received) == 1


def test_a_cancelled_send_leaves_no_half_finished_session_behind() -> None:
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            server.data_delay = 2.0
            task = asyncio.create_task(n.send(outgoing("k1")))
            await asyncio.sleep(0.3)  # now waiting for the server's answer to DATA
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            server.data_delay = 0.0
            await n.send(outgoing("k2"))

        run(EmailNotifier(settings(port)), body)
    assert EmailNotifier(settings(port)).message_id("k2") in [r.message["Message-ID"] for r in server.received]
    assert len(server.connections) == 2


# --- what the server says decides retry or give up ------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        ("550 5.1.1 mailbox unavailable", True),
        ("553 5.1.3 mailbox name not allowed", True),
        ("501 5.1.3 bad recipient address syntax", True),
        ("451 4.3.0 try again later", False),
        ("450 4.2.1 mailbox busy", False),
        ("452 4.2.2 mailbox full", False),
        ("421 4.3.2 service shutting down", False),
    ],
)
def test_recipient_refusal_is_sorted_by_reply_code(reply: str, permanent: bool) -> None:
    with smtp_server() as (server, port):
        server.rcpt_reply = reply
        error = send_expecting_error(EmailNotifier(settings(port)))
    assert error.permanent is permanent
    assert reply.split()[0] in str(error)


def test_a_refused_recipient_does_not_spoil_the_connection() -> None:
    with smtp_server() as (server, port):

        async def body(n: EmailNotifier) -> None:
            server.rcpt_reply = "550 5.1.1 mailbox unavailable"
            with pytest.raises(TransportError):
                await n.send(outgoing("k1"))
            server.rcpt_reply = None
            await n.send(outgoing("k2"))

        run(EmailNotifier(settings(port)), body)
    assert len(server.received) == 1
    assert len(server.connections) == 1


@pytest.mark.parametrize(
    ("reply", "permanent"), [("554 5.7.1 message rejected", True), ("451 4.7.1 greylisted", False)]
)
def test_data_refusal_is_sorted_by_reply_code(reply: str, permanent: bool) -> None:
    with smtp_server() as (server, port):
        server.data_reply = reply
        error = send_expecting_error(EmailNotifier(settings(port)))
    assert error.permanent is permanent


def test_server_not_listening_is_transient() -> None:
    with socket.socket() as reserved:
        reserved.bind((HOST, 0))  # bound, never listening: connections are refused
        error = send_expecting_error(EmailNotifier(settings(reserved.getsockname()[1])))
    assert not error.permanent
    assert "không kết nối được" in str(error)


def test_silent_server_times_out_as_transient() -> None:
    writers: list[asyncio.StreamWriter] = []

    async def scenario() -> TransportError:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)  # accept, then never send the greeting

        listener = await asyncio.start_server(accept, HOST, 0)
        notifier = EmailNotifier(settings(listener.sockets[0].getsockname()[1], timeout_seconds=1))
        try:
            with pytest.raises(TransportError) as info:
                await notifier.send(outgoing())
            return info.value
        finally:
            await notifier.close()
            for writer in writers:
                writer.close()
            listener.close()
            await listener.wait_closed()

    error = asyncio.run(scenario())
    assert not error.permanent


# --- set-up mistakes the operator must see at start-up ---------------------------------------------------


def test_username_without_password_is_refused_at_start() -> None:
    with pytest.raises(UserError, match="REMINDER_SERVICE_SMTP_PASSWORD"):
        EmailNotifier(settings(25, username=USER))


def test_bad_from_address_is_refused_at_start() -> None:
    with pytest.raises(UserError, match="from_address"):
        EmailNotifier(settings(25, from_address="phong noi vu"))
