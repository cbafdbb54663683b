"""The bot's logic for a text message: who is asking, may they, what the command answers; every command
audit-logged, allowed or refused. Reads and writes go through the same code as the CLI (read side,
submissions, linking). Button presses are in ``presses``; shared answering in ``answering``.

Nothing here raises to the caller for a person's input: a bad command gets a Vietnamese explanation.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterator
from datetime import date, datetime

import structlog
from sqlalchemy.orm import Session

from reminder_service.adapters.telegram import answering, recording
from reminder_service.adapters.telegram.access import Caller, group_open, identify
from reminder_service.adapters.telegram.answers import find_units, unit_matches_answer
from reminder_service.adapters.telegram.commands import HELP, CommandError, Invocation, parse_invocation
from reminder_service.adapters.telegram.periods import (
    parse_calendar,
    parse_mine,
    parse_overdue,
    parse_status,
    parse_unit,
    parse_upcoming,
)
from reminder_service.adapters.telegram.presses import on_callback
from reminder_service.adapters.telegram.replies import CallbackOutcome, ChatRef, Reply
from reminder_service.app import App
from reminder_service.domain.access import Scope
from reminder_service.domain.clock import wall
from reminder_service.services import audit
from reminder_service.services.chat_migration import follow_chat_migration
from reminder_service.services.db.models import Person
from reminder_service.services.linking import (
    link_reply,
    redeem,
    register_group,
    unregister_group,
)
from reminder_service.services.readside import known_codes

log = structlog.get_logger(__name__)

NOT_LINKED = ("Tài khoản Telegram này chưa được liên kết với hệ thống nhắc việc báo cáo.\n"
              "Đề nghị liên hệ {office} để nhận mã liên kết, rồi gửi <code>/start &lt;mã&gt;</code> cho bot.")
GROUP_NOT_REGISTERED = ("Nhóm này chưa được đăng ký với bot. Cán bộ {office} gửi /dangky trong nhóm để đăng ký; "
                        "sau đó các thành viên đã liên kết tài khoản dùng được các lệnh.")
NOT_PERMITTED = "Lệnh /{name} không thuộc quyền của Ông/Bà. Gõ " + HELP + " để xem các lệnh Ông/Bà dùng được."
OTHER_UNIT = ("Ông/Bà chỉ xem được tình hình nộp báo cáo của đơn vị mình: gõ /cuatoi. Tình hình của đơn vị khác "
              "do {office} và Lãnh đạo theo dõi. Gõ {help} để xem các lệnh Ông/Bà dùng được.")
NOT_A_COMMAND = "Bot nhận các lệnh bắt đầu bằng dấu “/”. Gõ " + HELP + " để xem các lệnh."


class _KnownCodes(Collection[str]):
    """The obligation codes on record, read only when a parser first looks: "/quahan" alone never does,
    which spares a scan of every obligation on the busiest command."""

    def __init__(self, session: Session, today: date) -> None:
        self._session, self._today = session, today
        self._codes: list[str] | None = None

    def _load(self) -> list[str]:
        if self._codes is None:
            self._codes = known_codes(self._session, None, self._today)
        return self._codes

    def __contains__(self, item: object) -> bool:
        return item in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


class Router:
    def __init__(self, app: App, bot_username: str) -> None:
        self.app = app
        self.bot_username = bot_username
        self.office = app.config.office_name

    # -- the chat's own changes ------------------------------------------------------------------------

    def on_migrated(self, old_chat_id: str, new_chat_id: str, now: datetime) -> None:
        """The group became a supergroup: its members, registration and pending buttons follow it."""
        with self.app.session() as session:
            follow_chat_migration(session, old_chat_id, new_chat_id, now, audit.Actor("Telegram", "telegram"))

    # -- text ---------------------------------------------------------------------------------------

    def on_text(self, chat: ChatRef, text: str, now: datetime) -> list[Reply]:
        try:
            invocation: Invocation | None = parse_invocation(text, self.bot_username)
            problem: CommandError | None = None
        except CommandError as exc:
            invocation, problem = None, exc
        with self.app.session() as session:
            caller = identify(session, chat)
            if invocation is None and problem is None:
                # Chatter in a group is not for us; in a private chat, say how to talk to the bot.
                if not chat.private:
                    return []
                return [Reply(NOT_A_COMMAND if caller else self._not_linked())]
            name = invocation.name if invocation else "?"
            command = invocation.command if invocation else "unknown"
            if invocation is not None and invocation.command == "start":
                return [self._start(session, chat, caller, invocation, now)]
            if invocation is not None and invocation.command == "register_group" and not chat.private:
                return [self._register_group(session, chat, caller, invocation, now)]
            if not group_open(session, chat):
                self._audit(session, chat, caller, command, name, now, allowed=False, reason="group_not_registered")
                return [Reply(GROUP_NOT_REGISTERED.format(office=html.escape(self.office)))]
            if caller is None:
                self._audit(session, chat, None, command, name, now, allowed=False, reason="not_linked")
                return [Reply(self._not_linked())]
            if problem is not None:
                self._audit(session, chat, caller, command, name, now, allowed=False, reason="unknown_command")
                return [Reply(html.escape(problem.message))]
            assert invocation is not None
            if not caller.may(invocation.command):
                self._audit(session, chat, caller, command, name, now, allowed=False, reason="role")
                return [Reply(NOT_PERMITTED.format(name=html.escape(name)))]
            try:
                replies = self._answer(session, chat, caller, invocation, now)
            except CommandError as exc:
                self._audit(session, chat, caller, command, name, now, allowed=True, reason="invalid_arguments")
                return [Reply(html.escape(exc.message))]
            self._audit(session, chat, caller, command, name, now, allowed=True)
            return replies

    def on_callback(self, chat: ChatRef, data: str, now: datetime) -> CallbackOutcome:
        with self.app.session() as session:
            if not group_open(session, chat):
                return CallbackOutcome(notice="Nhóm này chưa được đăng ký với bot.")
            caller = identify(session, chat)
            if caller is None:
                return CallbackOutcome(notice="Tài khoản Telegram này chưa được liên kết với hệ thống.")
            outcome = on_callback(self.app, session, chat, caller, data, now)
            audit.record(session, audit.Actor(caller.name, "telegram"), now, "bot_button", data[:64],
                         chat_id=chat.chat_id, person_id=caller.person_id)
            return outcome

    # -- commands -----------------------------------------------------------------------------------

    def _answer(self, session: Session, chat: ChatRef, caller: Caller, invocation: Invocation,
                now: datetime) -> list[Reply]:
        today = wall(now).date()
        args, command = invocation.args, invocation.command
        if command == "help":
            return self._show(session, chat, caller, "help", {}, now)
        if command == "calendar":
            return self._show(session, chat, caller, "calendar", {"year": parse_calendar(args, today)}, now)
        if command == "overdue":
            parsed = parse_overdue(args, _KnownCodes(session, today))
            return self._show(session, chat, caller, "overdue", {"obligation": parsed.obligation}, now)
        if command == "status":
            status = parse_status(args, _KnownCodes(session, today), today)
            return self._show(session, chat, caller, "status", {"obligation": status.obligation, "year": status.year},
                              now)
        if command == "upcoming":
            return self._show(session, chat, caller, "upcoming", {"days": parse_upcoming(args)}, now)
        if command == "unit":
            unit = parse_unit(args, today)
            return self._unit(session, chat, caller, unit.query, unit.year, now)
        if command == "mine":
            year = parse_mine(args, today)
            if caller.unit_id is None:
                return [Reply("Ông/Bà không thuộc đơn vị báo cáo nào. Gõ " + HELP + " để xem các lệnh dùng được.")]
            return self._show(session, chat, caller, "unit", {"unit_id": caller.unit_id, "year": year}, now)
        if command == "submitted":
            return [recording.propose(self.app, session, chat, caller, args, now)]
        if command == "undo":
            return [recording.undo(session, caller, now)]
        if command == "register_group":
            return [Reply("Lệnh /dangky dùng trong nhóm trò chuyện cần đăng ký, không dùng trong trò chuyện riêng.")]
        raise CommandError(f"Lệnh /{invocation.name} chưa được hỗ trợ. Gõ {HELP} để xem các lệnh.")

    def _show(self, session: Session, chat: ChatRef, caller: Caller, kind: str, params: dict[str, object],
              now: datetime) -> list[Reply]:
        answer = answering.build(self.app, session, caller, kind, params, wall(now).date())
        return answering.paged(session, chat, caller, kind, params, answer, now)

    def _unit(self, session: Session, chat: ChatRef, caller: Caller, query: str, year: int,
              now: datetime) -> list[Reply]:
        matches = find_units(session, query, caller.scope)
        if not matches and caller.scope.unit_ids is not None and find_units(session, query, Scope.everything()):
            # The unit exists but is not theirs: "not found" would be untrue.
            return [Reply(OTHER_UNIT.format(office=html.escape(self.office), help=HELP))]
        if len(matches) == 1:
            return self._show(session, chat, caller, "unit", {"unit_id": matches[0].id, "year": year}, now)
        # The year travels in the buttons only when it is not this year's: a list shown in December
        # and pressed in January still opens the year the person is in.
        shown_year = None if year == wall(now).year else year
        return answering.paged(session, chat, caller, answering.MATCHES, {"query": query, "year": shown_year},
                               unit_matches_answer(query, matches), now, answering.unit_choices(matches, shown_year))

    def _start(self, session: Session, chat: ChatRef, caller: Caller | None, invocation: Invocation,
               now: datetime) -> Reply:
        code = invocation.rest.strip()
        if code:
            result = redeem(session, chat.chat_id, code, now, chat_type=chat.chat_type)
            self._audit(session, chat, caller, "start", invocation.name, now, allowed=result.outcome == "linked",
                        reason=result.outcome)
            return Reply(html.escape(link_reply(result, self.office)))
        self._audit(session, chat, caller, "start", invocation.name, now, allowed=caller is not None)
        if caller is None:
            return Reply(self._not_linked())
        return Reply(f"Kính chào Ông/Bà {html.escape(caller.name)}. Gõ {HELP} để xem các lệnh Ông/Bà dùng được.")

    def _register_group(self, session: Session, chat: ChatRef, caller: Caller | None, invocation: Invocation,
                        now: datetime) -> Reply:
        person = session.get(Person, caller.person_id) if caller is not None else None
        if person is None or caller is None or not caller.may("register_group"):
            self._audit(session, chat, caller, "register_group", invocation.name, now, allowed=False, reason="role")
            return Reply(f"Chỉ cán bộ {html.escape(self.office)} đã liên kết tài khoản mới đăng ký được nhóm.")
        if invocation.args[:1] and invocation.args[0].casefold() in {"huy", "hủy"}:
            removed = unregister_group(session, chat.chat_id, person, now)
            self._audit(session, chat, caller, "register_group", invocation.name, now, allowed=True, reason="removed")
            return Reply("Đã hủy đăng ký nhóm này." if removed else "Nhóm này chưa được đăng ký.")
        register_group(session, chat.chat_id, chat.title, person, now)
        self._audit(session, chat, caller, "register_group", invocation.name, now, allowed=True)
        return Reply("Đã đăng ký nhóm này. Các thành viên đã liên kết tài khoản dùng được các lệnh "
                     "theo quyền của mình; gõ " + HELP + " để xem.")

    # -- helpers ------------------------------------------------------------------------------------

    def _not_linked(self) -> str:
        return NOT_LINKED.format(office=html.escape(self.office))

    def _audit(self, session: Session, chat: ChatRef, caller: Caller | None, command: str, name: str,
               now: datetime, *, allowed: bool, reason: str | None = None) -> None:
        actor = audit.Actor(caller.name if caller else f"chat {chat.user_id}", "telegram")
        audit.record(session, actor, now, "bot_command", f"/{name}"[:255], command=command, chat_id=chat.chat_id,
                     user_id=chat.user_id, person_id=caller.person_id if caller else None, allowed=allowed,
                     reason=reason)
        log.info("bot_command", command=command, chat_id=chat.chat_id, person_id=caller.person_id if caller else None,
                 allowed=allowed, reason=reason)
