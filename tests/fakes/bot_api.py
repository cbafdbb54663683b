"""A local Telegram Bot API server for the real python-telegram-bot client (``Bot(TOKEN, base_url=...)``).

It answers the methods the notifier and the chat bot use, validates HTML as Telegram does, records every
call, serves scripted updates to getUpdates, fails on demand (429 with retry_after, 5xx, chat not found,
bot blocked, a group upgraded to a supergroup) and checks Telegram's flood limits on what it receives:
30 messages/s overall, 1/s per chat, 20/min per group chat (the last two scalable for quick tests).
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

TOKEN = "123456789:AAF-fake-token-never-logged_0123456789"
MESSAGE_LIMIT = 4096
SUPPORTED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span", "tg-spoiler",
     "tg-emoji", "blockquote"})
# PTB form-encodes every non-string value as JSON; these fields are the plain strings among them.
_STRING_FIELDS = frozenset(
    {"text", "parse_mode", "callback_query_id", "inline_message_id", "url", "language_code", "caption",
     "business_connection_id", "message_effect_id", "secret_token"})
# The methods Telegram's flood limits count.
RATE_COUNTED = frozenset({"sendMessage"})
_PATH = re.compile(r"^/bot([^/]+)/(\w+)$")
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")


def utf16_len(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def telegram_html_to_text(source: str) -> str:
    """What a Telegram client shows for ``source`` sent with parse_mode HTML; ValueError carrying
    Telegram's description where Telegram would refuse the message."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(source):
        if source[i] == "<":
            tag = _TAG.match(source, i)
            if tag is None:
                raise ValueError(f"Bad Request: can't parse entities: unexpected '<' at offset {i}")
            name = tag.group(2).lower()
            if name not in SUPPORTED_TAGS:
                raise ValueError(f'Bad Request: can\'t parse entities: unsupported start tag "{name}" at offset {i}')
            if not tag.group(1):
                stack.append(name)
            elif stack and stack[-1] == name:
                stack.pop()
            else:
                raise ValueError(f'Bad Request: can\'t parse entities: unmatched end tag "{name}" at offset {i}')
            i = tag.end()
        elif source[i] == "&" and (entity := _ENTITY.match(source, i)):
            out.append(html.unescape(entity.group(0)))
            i = entity.end()
        else:
            out.append(source[i])
            i += 1
    if stack:
        raise ValueError(f'Bad Request: can\'t parse entities: can\'t find end tag for start tag "{stack[-1]}"')
    return "".join(out)


@dataclass(frozen=True)
class Failure:
    """A scripted answer in place of the normal one. Status 200 with a ``delay`` answers normally but late."""

    status: int
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0
    migrate_to_chat_id: int | None = None

    @classmethod
    def flood(cls, retry_after: int = 3) -> Failure:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Failure:
        return cls(status, {500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Server Error"))

    @classmethod
    def chat_not_found(cls) -> Failure:
        return cls(400, "Bad Request: chat not found")

    @classmethod
    def blocked(cls) -> Failure:
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def bad_request(cls, description: str) -> Failure:
        return cls(400, description)

    @classmethod
    def migrated(cls, new_chat_id: int) -> Failure:
        """What Telegram answers for a group that became a supergroup: the old id is refused for good."""
        return cls(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=new_chat_id)

    @classmethod
    def slow(cls, seconds: float) -> Failure:
        return cls(200, delay=seconds)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the request arrived
    status: int  # the HTTP status answered

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


class ApiError(Exception):
    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.status = status


class FakeBotApi:
    """Start with ``with FakeBotApi() as api:`` (or the ``bot_api`` fixture); point PTB at ``api.base_url``."""

    def __init__(self, token: str = TOKEN, *, username: str = "cchc_test_bot", enforce_limits: bool = False,
                 long_poll_cap: float = 0.5, rate_tolerance: float = 0.02, chat_interval: float = 1.0,
                 group_limit: int = 20, group_period: float = 60.0) -> None:
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "CCHC", "username": username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}
        # Answer 429 (retry_after 1) to a message that breaks a flood limit, as Telegram would.
        self.enforce_limits = enforce_limits
        # getUpdates waits at most this long, whatever timeout the client asks for, so tests stay quick.
        self.long_poll_cap = long_poll_cap
        # Arrival times jitter; a client pacing exactly 1 s apart must not be flagged.
        self.rate_tolerance = rate_tolerance
        # Telegram's per-chat rules, here so a test can scale them down: one message per ``chat_interval``
        # seconds in a chat, at most ``group_limit`` per ``group_period`` seconds in a group (id < 0).
        self.chat_interval = chat_interval
        self.group_limit = group_limit
        self.group_period = group_period
        self._recent_by_group: dict[str, deque[float]] = {}
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._next_failures: list[tuple[str | None, Failure | None]] = []
        self._chat_failures: dict[str, list[Any]] = {}  # chat -> [Failure, remaining count or None]
        self._recent: deque[float] = deque()
        self._last_by_chat: dict[str, float] = {}
        self._violations: list[str] = []
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._messages: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._next_message_id = 1
        self._commands: dict[str, Any] = {}
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._closing = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda p: self.bot_user, "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text, "getUpdates": self._get_updates,
            "answerCallbackQuery": lambda p: True, "deleteWebhook": lambda p: True, "setWebhook": lambda p: True,
            "sendChatAction": lambda p: True,
            "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands}

    # --- life cycle -------------------------------------------------------------------------------
    def start(self) -> FakeBotApi:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._server.shutdown()
        with self._cond:
            connections, threads = list(self._connections), list(self._handler_threads)
        for connection in connections:  # keep-alive connections a client left open would block forever
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=5)
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    # --- scripting ----------------------------------------------------------------------------------
    def fail_next(self, failure: Failure, times: int = 1, method: str | None = "sendMessage", after: int = 0) -> None:
        """After ``after`` normal answers, the next ``times`` calls of ``method`` (None: any) get ``failure``."""
        with self._cond:
            self._next_failures.extend([(method, None)] * after + [(method, failure)] * times)

    def fail_chat(self, chat_id: int | str, failure: Failure, times: int | None = None) -> None:
        """Calls naming this chat get ``failure``: the next ``times`` of them, or all until cleared."""
        with self._cond:
            self._chat_failures[str(chat_id)] = [failure, times]

    def clear_failures(self) -> None:
        with self._cond:
            self._next_failures.clear()
            self._chat_failures.clear()

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def push_message(self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Nguyễn Văn A",
                     username: str | None = None) -> dict[str, Any]:
        """A user writes ``text`` in a chat (private when chat_id > 0); a leading /command gets its entity."""
        user = _user(chat_id if user_id is None else user_id, first_name, username)
        message: dict[str, Any] = {"message_id": self._new_message_id(), "from": user, "chat": _chat(chat_id),
                                   "date": int(time.time()), "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
        return self.push_update({"message": message})

    def push_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group becomes a supergroup: the bot sees the service message in both chats, as Telegram
        sends it, and from now on every call naming the old id is refused with the new one."""
        self.fail_chat(old_chat_id, Failure.migrated(new_chat_id))
        user = _user(7, "Nguyễn Văn A", None)
        self.push_update({"message": {"message_id": self._new_message_id(), "from": user, "chat": _chat(old_chat_id),
                                      "date": int(time.time()), "migrate_to_chat_id": new_chat_id}})
        self.push_update({"message": {"message_id": self._new_message_id(), "from": user, "chat": _chat(new_chat_id),
                                      "date": int(time.time()), "migrate_from_chat_id": old_chat_id}})

    def push_callback_query(self, chat_id: int, data: str, *, message_id: int, message_text: str = "…",
                            user_id: int | None = None, first_name: str = "Nguyễn Văn A") -> dict[str, Any]:
        """A user taps an inline button with ``data`` under the bot's message ``message_id``."""
        with self._cond:
            query_id = f"cq{self._next_update_id}"
        message = {"message_id": message_id, "from": self.bot_user, "chat": _chat(chat_id), "date": int(time.time()),
                   "text": message_text}
        return self.push_update({"callback_query": {
            "id": query_id, "from": _user(chat_id if user_id is None else user_id, first_name, None),
            "chat_instance": f"ci{chat_id}", "message": message, "data": data}})

    # --- what was received ------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """sendMessage calls that were answered 200, in arrival order."""
        return [c for c in self.calls("sendMessage")
                if c.status == 200 and (chat_id is None or str(c.chat_id) == str(chat_id))]

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := [c for c in self._calls if c.method == method]) < count:
                if (remaining := deadline - time.monotonic()) <= 0:
                    raise AssertionError(f"{len(found)} {method} call(s) after {timeout} s, expected {count}")
                self._cond.wait(remaining)
            return found

    @property
    def violations(self) -> list[str]:
        """Every flood-limit breach seen; empty means the limits were never exceeded."""
        with self._cond:
            return list(self._violations)

    # --- serving ------------------------------------------------------------------------------------
    def answer(self, path: str, params: dict[str, Any], arrived: float) -> tuple[int, dict[str, Any]]:
        match = _PATH.match(path)
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = match.groups()
        failure = None
        with self._cond:
            if token != self.token:
                failure = Failure(401, "Unauthorized")
            else:
                failure = self._scripted_failure(method, params.get("chat_id"))
                if method in RATE_COUNTED and self._breaks_limits(str(params.get("chat_id")), arrived):
                    failure = failure or (Failure.flood(1) if self.enforce_limits else None)
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
        if failure is not None and failure.status != 200:
            status, body = failure.status, failure.body()
        elif method not in self._methods:
            status, body = 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        else:
            try:
                status, body = 200, {"ok": True, "result": self._methods[method](params)}
            except ApiError as exc:
                status, body = exc.status, {"ok": False, "error_code": exc.status, "description": str(exc)}
        with self._cond:
            self._calls.append(Call(method, params, arrived, status))
            self._cond.notify_all()
        return status, body

    def _scripted_failure(self, method: str, chat_id: Any) -> Failure | None:
        scripted = self._chat_failures.get(str(chat_id)) if chat_id is not None else None
        if scripted is not None:
            failure, remaining = scripted
            if remaining is not None:
                scripted[1] -= 1
                if scripted[1] <= 0:
                    del self._chat_failures[str(chat_id)]
            return failure  # type: ignore[no-any-return]
        for index, (wanted, failure) in enumerate(self._next_failures):
            if wanted is None or wanted == method:
                del self._next_failures[index]
                return failure
        return None

    def _breaks_limits(self, chat: str, now: float) -> bool:
        window = 1.0 - self.rate_tolerance
        while self._recent and now - self._recent[0] >= window:
            self._recent.popleft()
        self._recent.append(now)
        broken = False
        if len(self._recent) > 30:
            self._violations.append(f"{len(self._recent)} messages within 1 s overall")
            broken = True
        last = self._last_by_chat.get(chat)
        if last is not None and now - last < self.chat_interval - self.rate_tolerance:
            self._violations.append(f"chat {chat}: two messages {now - last:.3f} s apart")
            broken = True
        self._last_by_chat[chat] = now
        if chat.startswith("-"):
            recent = self._recent_by_group.setdefault(chat, deque())
            while recent and now - recent[0] >= self.group_period - self.rate_tolerance:
                recent.popleft()
            recent.append(now)
            if len(recent) > self.group_limit:
                self._violations.append(f"group {chat}: {len(recent)} messages within {self.group_period:g} s")
                broken = True
        return broken

    def _new_message_id(self) -> int:
        with self._cond:
            self._next_message_id += 1
            return self._next_message_id - 1

    def _message(self, chat_id: Any, message_id: int, params: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(chat_id, int):
            raise ApiError("Bad Request: chat not found" if chat_id else "Bad Request: chat_id is empty")
        text = params.get("text", "")
        if str(params.get("parse_mode", "")).lower() == "html":
            try:
                text = telegram_html_to_text(text)
            except ValueError as exc:
                raise ApiError(str(exc)) from None
        if not text.strip():
            raise ApiError("Bad Request: message text is empty")
        if utf16_len(text) > MESSAGE_LIMIT:
            raise ApiError("Bad Request: message is too long")
        message = {"message_id": message_id, "from": self.bot_user, "chat": _chat(chat_id), "date": int(time.time()),
                   "text": text}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params.get("chat_id"), self._new_message_id(), params)
        with self._cond:
            key = (str(params["chat_id"]), message["message_id"])
            self._messages[key] = (params["text"], params.get("reply_markup"))
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        key = (str(params.get("chat_id")), params.get("message_id"))
        content = (params.get("text"), params.get("reply_markup"))
        with self._cond:
            if key not in self._messages:
                raise ApiError("Bad Request: message to edit not found")
            if self._messages[key] == content:
                raise ApiError("Bad Request: message is not modified: specified new message content and reply "
                               "markup are exactly the same as a current content and reply markup of the message")
        message = self._message(params.get("chat_id"), int(key[1]), params)
        with self._cond:
            self._messages[key] = content
        return {**message, "edit_date": int(time.time())}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.long_poll_cap)
        with self._cond:
            if offset:  # Telegram forgets every update below the offset: they are confirmed
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
            return list(self._updates[:limit])

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self._commands[_commands_key(params)] = params.get("commands", [])
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> Any:
        with self._cond:
            return self._commands.get(_commands_key(params), [])


def _commands_key(params: dict[str, Any]) -> str:
    return json.dumps([params.get("scope") or {"type": "default"}, params.get("language_code", "")], sort_keys=True)


def _user(user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}
    if username:
        user["username"] = username
    return user


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Nguyễn Văn A"}
    return {"id": chat_id, "type": "supergroup" if chat_id < -10**12 else "group", "title": "Nhóm CCHC"}


def decode_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """The call's parameters from a JSON, form-encoded or multipart body (or the query string)."""
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    raw: dict[str, str] = {}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in parsed.iter_parts():
            payload = part.get_payload(decode=True)
            name = str(part.get_param("name", header="content-disposition"))
            raw[name] = payload.decode() if isinstance(payload, bytes) else str(payload)
    else:
        raw = dict(parse_qsl(body.decode() or query, keep_blank_values=True))
    return {name: value if name in _STRING_FIELDS else _json_or_text(value) for name, value in raw.items()}


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id "@channel"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeBotApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is a scenario, not a server fault worth a traceback


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API: PTB's pool reuses connections
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.fake._cond:
            self.server.fake._connections.add(self.connection)
            self.server.fake._handler_threads.add(threading.current_thread())

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.fake._cond:
                self.server.fake._connections.discard(self.connection)
                self.server.fake._handler_threads.discard(threading.current_thread())

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one stderr line per request would bury test output

    def do_POST(self) -> None:
        arrived = time.monotonic()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params = decode_params(self.headers.get("Content-Type", ""), body, url.query)
        status, answer = self.server.fake.answer(url.path, params, arrived)
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST


def serve(argv: list[str]) -> None:
    """``python -m tests.fakes.bot_api TOKEN`` runs the server in a process of its own, with the flood
    limits enforced, as Telegram is on another machine: the benchmark's sends then share no GIL with it.
    It prints its base URL, serves until its standard input closes, then prints one JSON line: the
    sendMessage calls as ``[chat_id, status]`` pairs and the violations seen."""
    api = FakeBotApi(argv[0], enforce_limits=True)
    with api:
        print(api.base_url, flush=True)
        sys.stdin.read()
        sends = [[call.chat_id, call.status] for call in api.calls("sendMessage")]
        print(json.dumps({"sends": sends, "violations": api.violations}), flush=True)


@pytest.fixture(name="bot_api")
def bot_api_fixture() -> Iterator[FakeBotApi]:
    """A running fake Bot API for one test. Import it into a test module with
    ``from tests.fakes.bot_api import bot_api_fixture  # noqa: F401`` and ask for ``bot_api``."""
    with FakeBotApi() as server:
        yield server


if __name__ == "__main__":
    serve(sys.argv[1:])
