"""Database URLs as people and logs see them: never with a password, whatever the URL's shape, even
one that no parser accepts; and the file a SQLite URL really opens.

A password sits between the user name's colon and the "@" before the host. The LAST "@" is taken
(SQLAlchemy takes the first): an unencoded "@" in the password then hides too much, never too little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import URL

from reminder_service.domain.redaction import scrub as hide_secrets

MASK = "***"
# Anything that looks like a scheme, spaces and typos included: "postgresql+psycopg :" hides a password too.
_SCHEME = re.compile(r"\s*(?P<name>[A-Za-z][A-Za-z0-9+.\- ]*):(?P<slashes>/*)")
_QUERY_PASSWORD = re.compile(r"(?i)[?&;]password=(?P<value>[^&;#]*)")
_TRUE = {"true", "yes", "on", "y", "t", "1"}  # what SQLAlchemy takes for uri=true


@dataclass(frozen=True)
class _Found:
    """Where the passwords are in a URL, as (start, end) offsets."""

    query: list[tuple[int, int]]  # values of password= parameters
    userinfo: tuple[int, int] | None  # between the user name's colon and the host's "@"
    port: tuple[int, int] | None  # with no "@", what stands where a port should and is not a number
    ats: int  # "@" signs outside the query's passwords

    @property
    def spans(self) -> list[tuple[int, int]]:
        spans = sorted(s for s in [*self.query, self.userinfo, self.port] if s is not None and s[1] > s[0])
        merged: list[tuple[int, int]] = []
        for begin, end in spans:
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((begin, end))
        return merged


def _find(url: str) -> _Found:
    query = [match.span("value") for match in _QUERY_PASSWORD.finditer(url)]
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    ats = [i for i in range(start, len(url)) if url[i] == "@" and not any(b <= i < e for b, e in query)]
    userinfo = port = None
    if ats:
        colon = url.find(":", start, ats[-1])
        if colon >= 0:
            userinfo = (colon + 1, ats[-1])
        elif scheme and len(scheme["slashes"]) < 2:
            # "postgresql:name@host" or "name:secret@host": a scheme or a user name, no way to tell.
            userinfo = (start, ats[-1])
    elif scheme and not scheme["name"].strip().lower().startswith("sqlite"):
        # In "user:secret/db" the password stands where the port should: a port that is not a number
        # is hidden with all that follows it, since a password may contain "/" or "?".
        authority = re.split(r"[/?#]", url[start:], maxsplit=1)[0]
        colon = authority.find(":", authority.find("]") + 1 if authority.startswith("[") else 0)  # [::1]:5432
        if colon >= 0 and not authority[colon + 1:].isdigit():
            port = (start + colon + 1, len(url))
    return _Found(query, userinfo, port, len(ats))


def shown(url: str) -> str:
    """``url`` for a message or a log line, every password replaced by ***."""
    parts, last = [], 0
    for begin, end in _find(url).spans:
        parts += [url[last:begin], MASK]
        last = end
    return "".join(parts) + url[last:]


def secrets(url: str) -> list[str]:
    """The passwords in ``url`` as written and as decoded, for scrubbing texts that may echo them."""
    found = {text for begin, end in _find(url).spans for text in (url[begin:end], unquote(url[begin:end]))}
    return sorted((s for s in found if s), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's error message) without any of ``url``'s passwords, in any case."""
    # Shorter ones would also blank out ordinary words; no known driver message echoes a password
    # anyway, so this is only a second line of defence.
    return hide_secrets(text, *secrets(url), min_length=4)


def misread(url: str, parsed: URL) -> bool:
    """Whether SQLAlchemy reads ``url``'s password other than as written. With an unencoded "@" it
    stops at the first one, and with a "/" in the user name it sees no password at all: part of the
    password then becomes the host or the database name, which drivers print in their errors."""
    found = _find(url)
    if found.ats > 1:
        return True
    written = unquote(url[found.userinfo[0]:found.userinfo[1]]) if found.userinfo else None
    return (written or None) != (parsed.password or None)


def sqlite_file(url: URL) -> Path | None:
    """The file SQLite opens for ``url`` (relative to the working directory), None for a database in
    memory. With ``uri=true`` a name starting "file:" is a SQLite URI, which SQLite decodes itself;
    otherwise SQLAlchemy passes the name as a plain path, "file:" and all."""
    name = url.database
    if not name or name == ":memory:":
        return None
    if not (str(url.query.get("uri", "")).strip().lower() in _TRUE and name.startswith("file:")):
        return Path(name)
    # SQLAlchemy hands SQLite the URL's other parameters as the URI's query: mode=memory among them.
    path, _, options = name.removeprefix("file:").partition("#")[0].partition("?")
    if url.query.get("mode") == "memory" or "mode=memory" in options.split("&"):
        return None
    if path.startswith("//"):  # file:///abs or file://localhost/abs
        _authority, slash, rest = path[2:].partition("/")
        path = slash + rest
    path = unquote(path)
    return Path(path) if path and path != ":memory:" else None
