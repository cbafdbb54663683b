"""Linking a Telegram chat to a person with a one-time code; registered group chats; `people invite|unlink`."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pendulum
import pytest
from sqlalchemy import select, text
from structlog.testing import capture_logs

from reminder_service.app import App
from reminder_service.domain import clock
from reminder_service.domain.errors import UserError
from reminder_service.services.audit import Actor
from reminder_service.services.db.chat import ChatInvite, LinkAttempt
from reminder_service.services.db.models import AuditEntry, Base, Person
from reminder_service.services.linking import (
    CODE_ALPHABET,
    CODE_LENGTH,
    create_invite,
    deep_link,
    is_registered_group,
    link_reply,
    new_code,
    normalise_code,
    person_for_chat,
    redeem,
    register_group,
    unlink,
    unregister_group,
)
from tests.conftest import Cli
from tests.district import HEAD, RECEIVER, district, person

NOW = datetime(2021, 3, 1, 9, 0)
ACTOR = Actor("thanh.nt", "cli")
FOCAL = person("Trần Thị Bình", "focal", "binh@songlam.example", telegram="555001")


def ids(app: App) -> dict[str, int]:
    with app.session() as session:
        return {p.name: p.id for p in session.scalars(select(Person))}


def invite(app: App, name: str, at: datetime = NOW, **kwargs: Any) -> str:
    with app.session() as session:
        target = session.scalars(select(Person).where(Person.name == name)).one()
        return create_invite(session, target, at, actor=ACTOR, **kwargs)


def use(app: App, chat: str, code: str, at: datetime, chat_type: str = "private") -> tuple[str, str | None]:
    with app.session() as session:
        result = redeem(session, chat, code, at, chat_type=chat_type)
        return result.outcome, result.person_name


def chat_of(app: App, name: str) -> str | None:
    with app.session() as session:
        return session.scalars(select(Person.telegram_chat_id).where(Person.name == name)).one()


def actions(app: App) -> list[tuple[str, str, str, dict[str, Any]]]:
    with app.session() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.subject, AuditEntry.channel, AuditEntry.details)
                               .order_by(AuditEntry.id)).all()
    return [(a, s, c, json.loads(d)) for a, s, c, d in rows if a != "obligations_synced"]


@pytest.fixture
def people(app: App) -> App:
    district(app, HEAD, FOCAL, RECEIVER)
    return app


# --- codes ----------------------------------------------------------------------------------------

def test_codes_are_deep_link_safe_unambiguous_and_random() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", c) and len(c) == CODE_LENGTH for c in codes)
    assert not set("ILOU") & set(CODE_ALPHABET) and len(set(CODE_ALPHABET)) == 32
    assert CODE_LENGTH * math.log2(len(CODE_ALPHABET)) >= 50
    # 24,000 characters drawn: every letter of the alphabet turns up (each is expected 750 times).
    assert set("".join(codes)) == set(CODE_ALPHABET)


def test_typed_codes_are_forgiving_about_case_spacing_and_look_alikes() -> None:
    assert normalise_code(" 7k2m-9xq4 pz0a ") == "7K2M9XQ4PZ0A"
    assert normalise_code("oil23456789a") == "01123456789A"
    assert normalise_code("7K2M9XQ4PZ0") is None  # one short
    assert normalise_code("7K2M9XQ4PZ0U") is None  # U is no letter of the alphabet
    assert normalise_code("x" * 1000) is None
    assert deep_link("@PhongNoiVuBot", "7K2M9XQ4PZ0A") == "https://t.me/PhongNoiVuBot?start=7K2M9XQ4PZ0A"


def test_the_code_is_stored_hashed_and_never_logged(people: App) -> None:
    with capture_logs() as logs:
        code = invite(people, "Nguyễn Văn An")
        assert use(people, "777", code.lower(), NOW + timedelta(minutes=5)) == ("linked", "Nguyễn Văn An")
    with people.session() as session:
        stored = session.scalars(select(ChatInvite)).one()
        dump = [str(tuple(row)) for table in Base.metadata.sorted_tables
                for row in session.execute(text(f'SELECT * FROM "{table.name}"'))]
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert stored.expires_at == NOW + timedelta(hours=48)
    assert not any(code in row or code.lower() in row for row in dump)
    assert logs and not any(code in str(entry) for entry in logs)
    assert [e["event"] for e in logs] == ["chat_linked"]


# --- redeeming ------------------------------------------------------------------------------------

def test_a_code_links_once(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    assert use(people, "777", code, NOW + timedelta(hours=1)) == ("linked", "Nguyễn Văn An")
    assert chat_of(people, "Nguyễn Văn An") == "777"
    assert use(people, "888", code, NOW + timedelta(hours=2)) == ("used", None)
    assert use(people, "777", code, NOW + timedelta(hours=2)) == ("used", None)
    assert chat_of(people, "Nguyễn Văn An") == "777"
    with people.session() as session:
        used = session.scalars(select(ChatInvite)).one()
        found = person_for_chat(session, "777")
        assert found is not None and found.name == "Nguyễn Văn An"
        assert person_for_chat(session, "888") is None
    assert (used.used_at, used.used_chat) == (NOW + timedelta(hours=1), "777")


@pytest.mark.parametrize(("after", "outcome"), [(timedelta(hours=48) - timedelta(seconds=1), "linked"),
                                                 (timedelta(hours=48), "expired"),
                                                 (timedelta(hours=48, minutes=1), "expired")])
def test_codes_expire_after_48_hours(people: App, after: timedelta, outcome: str) -> None:
    code = invite(people, "Nguyễn Văn An")
    assert use(people, "777", code, NOW + after)[0] == outcome
    assert chat_of(people, "Nguyễn Văn An") == ("777" if outcome == "linked" else None)


def test_a_shorter_validity_is_honoured_and_aware_times_are_taken_as_vietnamese(people: App) -> None:
    code = invite(people, "Nguyễn Văn An", at=datetime(2021, 3, 1, 2, 0, tzinfo=UTC), ttl=timedelta(hours=2))
    assert use(people, "777", code, NOW + timedelta(hours=2))[0] == "expired"
    with people.session() as session:
        assert session.scalars(select(ChatInvite.expires_at)).one() == NOW + timedelta(hours=2)
    with pytest.raises(UserError, match="lớn hơn 0"):
        invite(people, "Nguyễn Văn An", ttl=timedelta(0))


def test_a_newer_invite_revokes_the_older(people: App) -> None:
    first = invite(people, "Nguyễn Văn An")
    second = invite(people, "Nguyễn Văn An", at=NOW + timedelta(minutes=1))
    other = invite(people, "Trần Thị Bình", at=NOW + timedelta(minutes=2))  # another person's code stays valid
    assert first != second
    assert use(people, "777", first, NOW + timedelta(minutes=3)) == ("expired", None)
    assert use(people, "777", second, NOW + timedelta(minutes=4)) == ("linked", "Nguyễn Văn An")
    assert use(people, "999", other, NOW + timedelta(minutes=5)) == ("linked", "Trần Thị Bình")
    created = [d for a, _, _, d in actions(people) if a == "telegram_invite_created"]
    assert [d["revoked"] for d in created] == [0, 1, 0]


def test_an_inactive_person_gets_no_code_and_a_retired_persons_code_stops_working(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    with people.session() as session:
        session.scalars(select(Person).where(Person.name == "Nguyễn Văn An")).one().active = False
    with pytest.raises(UserError, match="đã ngừng nhận thông báo"):
        invite(people, "Nguyễn Văn An")
    assert use(people, "777", code, NOW + timedelta(minutes=1))[0] == "expired"


def test_guessing_is_throttled_per_chat_and_released_after_15_minutes(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    start = NOW + timedelta(minutes=1)
    for i in range(5):
        assert use(people, "666", "AAAAAAAAAAAA", start + timedelta(seconds=10 * i))[0] == "invalid"
    # Locked: even the right code is not looked at, and the code stays usable.
    assert use(people, "666", code, start + timedelta(minutes=1))[0] == "throttled"
    assert use(people, "666", "junk", start + timedelta(minutes=14, seconds=59))[0] == "throttled"
    # Another chat is not affected.
    assert use(people, "667", "AAAAAAAAAAAA", start + timedelta(minutes=2))[0] == "invalid"
    # 15 minutes after the first failure it leaves the window: four remain, so one more try, then locked again.
    assert use(people, "666", "BBBBBBBBBBBB", start + timedelta(minutes=15))[0] == "invalid"
    assert use(people, "666", code, start + timedelta(minutes=15, seconds=5))[0] == "throttled"
    # Once the last of those five is 15 minutes old, the right code links.
    assert use(people, "666", code, start + timedelta(minutes=30))[0] == "linked"
    with people.session() as session:
        attempts = session.execute(select(LinkAttempt.chat_id, LinkAttempt.ok).order_by(LinkAttempt.id)).all()
    # Throttled tries are not recorded: they were never checked.
    assert [tuple(a) for a in attempts] == [("666", False)] * 5 + [("667", False), ("666", False), ("666", True)]


def test_a_right_code_after_a_few_wrong_ones_links(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    for typo in ("7K2M", "", "AAAAAAAAAAAA", "ZZZZZZZZZZZZ"):
        assert use(people, "777", typo, NOW + timedelta(minutes=1))[0] == "invalid"
    assert use(people, "777", code, NOW + timedelta(minutes=2)) == ("linked", "Nguyễn Văn An")


def test_failures_before_a_success_no_longer_count(people: App) -> None:
    first = invite(people, "Nguyễn Văn An")
    for i in range(4):
        assert use(people, "777", "AAAAAAAAAAAA", NOW + timedelta(seconds=i))[0] == "invalid"
    assert use(people, "777", first, NOW + timedelta(seconds=5))[0] == "linked"
    # The same phone then links a colleague's code, mistyped a few times.
    second = invite(people, "Trần Thị Bình", at=NOW + timedelta(seconds=6))
    for i in range(5):
        assert use(people, "777", "ZZZZZZZZZZZZ", NOW + timedelta(seconds=10 + i))[0] == "invalid"
    assert use(people, "777", second, NOW + timedelta(seconds=20))[0] == "throttled"


def test_a_code_sent_in_a_group_is_refused_and_not_spent(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    for kind in ("group", "supergroup"):
        assert use(people, "-100123", code, NOW + timedelta(minutes=1), chat_type=kind)[0] == "group"
    assert chat_of(people, "Nguyễn Văn An") is None
    assert use(people, "777", code, NOW + timedelta(minutes=2))[0] == "linked"


def test_a_chat_moves_from_one_person_to_another(people: App) -> None:
    # Trần Thị Bình was imported with chat 555001; Nguyễn Văn An links that same chat.
    code = invite(people, "Nguyễn Văn An")
    with people.session() as session:
        result = redeem(session, "555001", code, NOW + timedelta(minutes=1))
    assert result.outcome == "linked" and result.taken_from == (ids(people)["Trần Thị Bình"],)
    assert (chat_of(people, "Nguyễn Văn An"), chat_of(people, "Trần Thị Bình")) == ("555001", None)
    with people.session() as session:
        found = person_for_chat(session, "555001")
        assert found is not None and found.name == "Nguyễn Văn An"
    moved = [(s, c, d) for a, s, c, d in actions(people) if a == "telegram_chat_moved"]
    assert moved == [("Trần Thị Bình", "telegram", {"chat_id": "555001", "from_person_id": ids(people)["Trần Thị Bình"],
                                                     "to_person_id": ids(people)["Nguyễn Văn An"]})]


def test_unlink_clears_the_chat_and_revokes_pending_codes(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    assert use(people, "777", code, NOW + timedelta(minutes=1))[0] == "linked"
    pending = invite(people, "Nguyễn Văn An", at=NOW + timedelta(minutes=2))
    with people.session() as session:
        target = session.get(Person, ids(people)["Nguyễn Văn An"])
        assert target is not None
        result = unlink(session, target, ACTOR, NOW + timedelta(minutes=3))
        assert (result.chat_id, result.revoked, result.changed) == ("777", 1, True)
        again = unlink(session, target, ACTOR, NOW + timedelta(minutes=4))
        assert not again.changed
        assert person_for_chat(session, "777") is None
    assert use(people, "777", pending, NOW + timedelta(minutes=5))[0] == "expired"
    assert [a for a, *_ in actions(people)].count("telegram_unlinked") == 1


def test_every_change_is_audited(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    use(people, "777", "AAAAAAAAAAAA", NOW + timedelta(minutes=1))
    use(people, "777", code, NOW + timedelta(minutes=2))
    found = actions(people)
    an = ids(people)["Nguyễn Văn An"]
    assert [(a, s, c) for a, s, c, _ in found] == [("telegram_invite_created", "Nguyễn Văn An", "cli"),
                                                   ("telegram_linked", "Nguyễn Văn An", "telegram")]
    assert found[0][3] == {"person_id": an, "invite_id": 1, "expires_at": "2021-03-03 09:00:00", "revoked": 0}
    assert found[1][3] == {"person_id": an, "invite_id": 1, "chat_id": "777", "previous_chat_id": None}


def test_replies_are_formal_vietnamese(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    with people.session() as session:
        linked = redeem(session, "777", code, NOW)
    assert link_reply(linked).startswith("Đã liên kết tài khoản Telegram này với Ông/Bà Nguyễn Văn An.")
    with people.session() as session:
        replies = {o: link_reply(redeem(session, "888", c, NOW, chat_type=t))
                   for o, c, t in (("used", code, "private"), ("invalid", "nope", "private"),
                                   ("group", code, "group"))}
    assert replies["used"].startswith("Mã này đã được sử dụng")
    assert replies["invalid"].startswith("Mã không đúng.")
    assert replies["group"] == "Vui lòng gửi mã trong cuộc trò chuyện riêng với bot."
    assert "đề nghị Phòng Nội vụ cấp mã mới" in link_reply(type(linked)("expired"))
    assert "đề nghị Sở Nội vụ cấp mã mới" in link_reply(type(linked)("expired"), office="Sở Nội vụ")
    assert link_reply(type(linked)("throttled")) == (
        "Tài khoản này đã gửi mã không đúng nhiều lần liên tiếp. Đề nghị Ông/Bà chờ 15 phút rồi gửi lại mã, "
        "hoặc liên hệ Phòng Nội vụ để được hỗ trợ.")


# --- groups ---------------------------------------------------------------------------------------

def test_groups_are_registered_by_the_receiving_office(people: App) -> None:
    with people.session() as session:
        receiver = session.scalars(select(Person).where(Person.role == "receiver")).one()
        head = session.scalars(select(Person).where(Person.role == "unit_head")).one()
        assert not is_registered_group(session, "-100500")
        with pytest.raises(UserError, match="chỉ cán bộ Phòng Nội vụ"):
            register_group(session, "-100500", "Nhóm CCHC huyện", head, NOW)
        group = register_group(session, "-100500", "Nhóm CCHC huyện", receiver, NOW)
        assert (group.title, group.registered_by, group.active) == ("Nhóm CCHC huyện", receiver.id, True)
        assert register_group(session, "-100500", "Nhóm CCHC huyện", receiver, NOW) is group  # no-op
        assert is_registered_group(session, "-100500")
        assert unregister_group(session, "-100500", receiver, NOW + timedelta(days=1))
        assert not is_registered_group(session, "-100500")
        assert not unregister_group(session, "-100500", None, NOW + timedelta(days=1))
        register_group(session, "-100500", "Nhóm CCHC (mới)", receiver, NOW + timedelta(days=2))
        assert unregister_group(session, "-100500", None, NOW + timedelta(days=3))  # the bot was removed
    assert [(a, s, c) for a, s, c, _ in actions(people)] == [
        ("bot_group_registered", "Nhóm CCHC huyện", "telegram"),
        ("bot_group_unregistered", "Nhóm CCHC huyện", "telegram"),
        ("bot_group_registered", "Nhóm CCHC (mới)", "telegram"),
        ("bot_group_unregistered", "Nhóm CCHC (mới)", "telegram"),
    ]


def test_a_linked_person_is_recognised_in_a_group_by_their_user_id(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    use(people, "777", code, NOW)
    with people.session() as session:
        receiver = session.scalars(select(Person).where(Person.role == "receiver")).one()
        register_group(session, "-100500", "Nhóm CCHC huyện", receiver, NOW)
    with people.session() as session:
        assert is_registered_group(session, "-100500")
        found = person_for_chat(session, "777")
        assert found is not None and found.name == "Nguyễn Văn An"
        found.active = False
        session.flush()
        assert person_for_chat(session, "777") is None


# --- the command line -----------------------------------------------------------------------------

CODE_LINE = re.compile(r"Mã liên kết Telegram của Ông/Bà (.+) \(số (\d+)\): ([0-9A-Z]{12})\n")


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: pendulum.datetime(2021, 3, 1, 9, 0, tz=clock.TIMEZONE))


def test_cli_invite_prints_code_expiry_and_instruction(people: App, db_cli: Cli, fixed_clock: None) -> None:
    result = db_cli("people", "invite", "nguyen van AN")
    assert result.code == 0, result.err
    found = CODE_LINE.search(result.out)
    assert found is not None and found.group(1) == "Nguyễn Văn An"
    assert "Hiệu lực đến 03/03/2021 09:00 (giờ Việt Nam)" in result.out
    assert f"gửi /start {found.group(3)} cho bot" in result.out
    # Telegram is not enabled here: the code cannot be used until it is, and the clerk is told so.
    assert "Lưu ý: Telegram chưa được bật" in result.err
    result = db_cli("people", "invite", "BINH@songlam.example", "--hours", "2")
    assert result.code == 0, result.err
    assert "Hiệu lực đến 01/03/2021 11:00" in result.out
    code = CODE_LINE.search(result.out)
    assert code is not None
    assert use(people, "999", code.group(3), NOW + timedelta(hours=1)) == ("linked", "Trần Thị Bình")


def test_cli_invite_gives_a_link_when_the_bot_username_is_configured(
        people: App, db_cli: Cli, db_url: str, tmp_path: Any, fixed_clock: None) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[telegram]\nbot_username = "PhongNoiVuBot"\n', encoding="utf-8")
    result = db_cli("people", "invite", str(ids(people)["Nguyễn Văn An"]), "--config", str(config))
    assert result.code == 0, result.err
    found = CODE_LINE.search(result.out)
    assert found is not None
    assert f"https://t.me/PhongNoiVuBot?start={found.group(3)}" in result.out
    assert "Telegram chưa được bật" in result.err  # a username alone does not run the bot


@pytest.mark.parametrize(("args", "expected"), [
    (["Không Có Ai"], 'không tìm thấy người "Không Có Ai"'),
    (["999999"], 'không tìm thấy người "999999"'),
    (["99999999999999999999"], "không tìm thấy người"),
    (["nobody@songlam.example"], "không tìm thấy người"),
    (["Nguyễn Văn An", "--hours", "0"], 'giá trị của --hours không hợp lệ: "0" không hợp lệ; hãy ghi số giờ từ 1'),
    (["Nguyễn Văn An", "--hours", "abc"], "hãy ghi số giờ từ 1 đến 720"),
])
def test_cli_invite_refuses_bad_input(people: App, db_cli: Cli, args: list[str], expected: str) -> None:
    result = db_cli("people", "invite", *args)
    assert result.code == 2
    assert expected in result.err and "Traceback" not in result.err
    with people.session() as session:
        assert session.scalars(select(ChatInvite)).all() == []


def test_cli_lists_an_ambiguous_name_with_ids(app: App, db_cli: Cli) -> None:
    district(app, HEAD, person("Nguyen Van An", "focal", "an2@songlam.example"), RECEIVER)
    result = db_cli("people", "invite", "Nguyễn văn an")
    assert result.code == 2
    numbers = ids(app)
    assert 'có 2 người khớp với "Nguyễn văn an"' in result.err
    assert f"số {numbers['Nguyễn Văn An']}: Nguyễn Văn An (Thủ trưởng đơn vị, XA_AN_BINH" in result.err
    assert f"số {numbers['Nguyen Van An']}: Nguyen Van An (Công chức đầu mối" in result.err
    assert f"reminder-service people invite {numbers['Nguyễn Văn An']}" in result.err


def test_cli_refuses_an_inactive_person(people: App, db_cli: Cli) -> None:
    with people.session() as session:
        session.scalars(select(Person).where(Person.name == "Nguyễn Văn An")).one().active = False
    result = db_cli("people", "invite", "Nguyễn Văn An")
    assert result.code == 2
    assert "đã ngừng nhận thông báo" in result.err and "Traceback" not in result.err


def test_cli_prefers_the_active_person_of_a_name(app: App, db_cli: Cli) -> None:
    district(app, HEAD, person("Nguyễn Văn An", "focal", "an2@songlam.example"), RECEIVER)
    with app.session() as session:
        session.scalars(select(Person).where(Person.role == "unit_head")).one().active = False
    result = db_cli("people", "invite", "Nguyễn Văn An")
    assert result.code == 0, result.err
    with app.session() as session:
        focal = session.scalars(select(Person.id).where(Person.role == "focal")).one()
        assert session.scalars(select(ChatInvite.person_id)).one() == focal
    assert f"Nguyễn Văn An (số {focal})" in result.out


def test_cli_unlink(people: App, db_cli: Cli) -> None:
    code = invite(people, "Nguyễn Văn An")
    use(people, "777", code, NOW)
    number = ids(people)["Nguyễn Văn An"]
    result = db_cli("people", "unlink", str(number))
    assert result.code == 0, result.err
    assert f"Đã hủy liên kết Telegram (mã trò chuyện 777) của Ông/Bà Nguyễn Văn An (số {number})." in result.out
    assert f"reminder-service people invite {number}" in result.out
    assert chat_of(people, "Nguyễn Văn An") is None
    result = db_cli("people", "unlink", "an@songlam.example")
    assert result.code == 0 and "không có gì thay đổi" in result.out
    result = db_cli("people", "unlink", "Ai Đó")
    assert result.code == 2 and "không tìm thấy người" in result.err
    assert [(a, c) for a, _, c, _ in actions(people)][-1] == ("telegram_unlinked", "cli")


def test_linking_adds_telegram_to_the_persons_channels(people: App) -> None:
    """Someone added by hand with e-mail only, once linked, is reached on Telegram too (e-mail stays first)."""
    with people.session() as session:
        target = session.scalars(select(Person).where(Person.name == "Nguyễn Văn An")).one()
        target.channels = ("email",)
    code = invite(people, "Nguyễn Văn An")
    assert use(people, "777", code, NOW + timedelta(hours=1))[0] == "linked"
    with people.session() as session:
        channels = session.scalars(select(Person.channels).where(Person.name == "Nguyễn Văn An")).one()
    assert channels == ("email", "telegram")


# --- at once ----------------------------------------------------------------------------------------

def at_once(count: int, work: Callable[[int], tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """``work(i)`` for i in range(count), each in a thread of its own (so a connection of its own), all
    released together by a barrier; every thread's result, or the first error one of them raised."""
    barrier = threading.Barrier(count)

    def lined_up(i: int) -> tuple[str, str | None]:
        barrier.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lined_up, range(count)))


def test_one_code_sent_from_eight_chats_at_once_links_exactly_one(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    chats = [str(800 + i) for i in range(8)]
    outcomes = at_once(8, lambda i: use(people, chats[i], code, NOW + timedelta(minutes=1)))
    winners = [chats[i] for i, (outcome, _) in enumerate(outcomes) if outcome == "linked"]
    assert len(winners) == 1, outcomes
    assert sorted(outcome for outcome, _ in outcomes) == ["linked"] + ["used"] * 7
    assert chat_of(people, "Nguyễn Văn An") == winners[0]
    with people.session() as session:
        assert session.execute(select(ChatInvite.used_chat)).scalar_one() == winners[0]
    assert [a for a, *_ in actions(people)].count("telegram_linked") == 1


def test_forty_wrong_codes_at_once_from_one_chat_are_checked_at_most_five_times(people: App) -> None:
    code = invite(people, "Nguyễn Văn An")
    outcomes = at_once(40, lambda i: use(people, "666", f"{i:012d}", NOW + timedelta(minutes=1)))
    assert sorted(outcome for outcome, _ in outcomes) == ["invalid"] * 5 + ["throttled"] * 35
    with people.session() as session:
        attempts = session.execute(select(LinkAttempt.chat_id, LinkAttempt.ok)).all()
    assert [tuple(a) for a in attempts] == [("666", False)] * 5
    # The lock-out is the ordinary one: the right code is refused now and links once the window has passed.
    assert use(people, "666", code, NOW + timedelta(minutes=2))[0] == "throttled"
    assert use(people, "666", code, NOW + timedelta(minutes=16, seconds=1)) == ("linked", "Nguyễn Văn An")
