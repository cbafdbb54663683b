"""The bytes of a reminder e-mail, built by hand: headers, then a multipart/alternative of text and HTML.

The ``email`` package took 1–2 ms a message (EmailMessage, its generator and ``Header``), more than the
rest of a send; these few string operations do the same job in a small fraction of that. What comes out
is plain MIME that the stdlib parser and every mail client read back exactly:

- headers are printable ASCII; anything else goes into RFC 2047 encoded words (UTF-8, base64) that hold
  every character, spaces included, so nothing depends on how a reader treats the space at a fold
  (Python's own folder drops it: "xã An Bình" arrived as "xã AnBình");
- bodies are 7-bit (as they are or base64) so any relay takes them, with or without 8BITMIME;
- lines end in CRLF and stay within 78 characters, except a long recipient name (see ``mailbox``).
"""

from __future__ import annotations

import base64
import binascii
from email.utils import formataddr

LINE = 78  # RFC 5322's recommended limit; 998 is the hard one
_WORD = 75  # RFC 2047's longest encoded word
_EW_OVERHEAD = len("=?utf-8?b??=")
NAME_MAX = 200


def plain(text: str) -> bool:
    """Text that can stand in a header as it is: printable ASCII (no control character a reader might
    take for a line break) that does not look like an encoded word, which a reader would decode."""
    return text.isascii() and text.isprintable() and "=?" not in text


def encoded_words(text: str, room: int) -> str:
    """``text`` as encoded words of at most 75 octets, one a line, folded with CRLF SP.

    Readers drop the white space between two adjacent encoded words, and every character is inside one,
    so the text reads back exactly. A word ends between two code points, never inside one, so each
    decodes on its own. ``room``: the characters left on the first line after ``Name: ``.
    """
    data = text.encode("utf-8")
    # Each 3 octets become 4 base64 characters; a UTF-8 character is at most 4 octets.
    step = max((room - _EW_OVERHEAD) // 4 * 3, 6)
    rest = (_WORD - _EW_OVERHEAD) // 4 * 3
    words = []
    start = 0
    while start < len(data):
        end = min(start + step, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation octet: back up to its start
            end -= 1
        words.append(f"=?utf-8?b?{binascii.b2a_base64(data[start:end], newline=False).decode('ascii')}?=")
        start, step = end, rest
    return "\r\n ".join(words)


def unstructured(name: str, text: str) -> str:
    """The value of an unstructured header (Subject): as it is if it can be, else encoded words."""
    room = LINE - len(name) - 2
    # Readers strip the blanks at either end of a header's value; inside an encoded word they stay.
    if plain(text) and len(text) <= room and text.strip(" ") == text:
        return text
    return encoded_words(text, room)


def mailbox(name: str, address: str) -> str:
    """``Name <address>`` with the name quoted or encoded so commas, quotes and angle brackets stay inside it."""
    # A name is a name: runs of spaces collapse, and a runaway one is cut so the header line stays legal.
    name = " ".join(name.split())[:NAME_MAX]
    if not name:
        return address
    if plain(name) and len(name) + len(address) < LINE - 10:
        return formataddr((name, address))
    # One encoded word however long: RFC 2047 readers drop the space between two adjacent encoded words
    # while Python's own address parser keeps it, so a name split across words reads differently in
    # different clients. One word reads the same everywhere; the clients we know accept words over 75 octets.
    return f"=?utf-8?b?{base64.b64encode(name.encode('utf-8')).decode('ascii')}?=\r\n <{address}>"


def alternative(headers: list[tuple[str, str]], text: str, html: str, boundary: str) -> bytes:
    """The whole message: ``headers`` (values ready to send), then text and HTML as alternatives.

    ``boundary`` must not start a line of either body: base64 lines cannot start with ``-``, and a 7-bit
    body that holds it goes out as base64 instead.
    """
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    delimiter = f"--{boundary}".encode("ascii")
    return b"".join((
        head.encode("ascii"),
        b"MIME-Version: 1.0\r\n",
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'.encode("ascii"),
        delimiter, b"\r\n", _part("plain", text, delimiter),
        b"\r\n", delimiter, b"\r\n", _part("html", html, delimiter),
        b"\r\n", delimiter, b"--\r\n",
    ))


def _part(subtype: str, text: str, delimiter: bytes) -> bytes:
    # Any line break (LF, CRLF, lone CR) becomes CRLF and the text ends with one, as EmailMessage does.
    lines = text.encode("utf-8").splitlines()
    body = b"\r\n".join(lines) + b"\r\n"
    if body.isascii() and max(map(len, lines), default=0) <= LINE and delimiter not in body:
        cte = b"7bit"
    else:
        cte = b"base64"
        body = base64.encodebytes(body).replace(b"\n", b"\r\n")  # lines of 76 characters
    return b"".join((
        b"Content-Type: text/", subtype.encode("ascii"), b'; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: ", cte, b"\r\n\r\n", body,
    ))
