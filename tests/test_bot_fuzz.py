"""1,000 generated command strings through the bot's router: no handler ever fails, an unlinked chat
never sees data, and a unit head never sees another unit."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminder_service.adapters.telegram.commands import COMMANDS
from reminder_service.adapters.telegram.replies import ChatRef
from reminder_service.adapters.telegram.router import Router
from reminder_service.app import App
from reminder_service.services.linking import LinkResult, Outcome, link_reply
from tests.botchat import HEAD_AN_BINH, NOW, STRANGER, USERNAME, build_district

NAMES = [name for command in COMMANDS for name in command.names]
WORDS = ["q1", "quý I", "h1", "6thang", "q3", "nam", "kehoach", "2021", "1999", "XA_PHU_LOC", "XA_AN_BINH",
         "phú lộc", "15/BC-UBND", "17/03/2021", "31/02/2021", "-1", "0", "99999", '"', "“xã", "@cchc_test_bot",
         "\u200b", "\u202e", "\x00", "😀", "<b>", "&amp;", "huy"]
command_text = st.one_of(
    st.text(max_size=600),
    st.builds(lambda name, suffix, args: f"/{name}{suffix} {' '.join(args)}", st.sampled_from(NAMES),
              st.sampled_from(["", "@cchc_test_bot", "@other_bot", "@"]),
              st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=30)), max_size=6)),
    st.builds(lambda junk: "/" + junk, st.text(max_size=80)),
)
DATA_WORDS = re.compile(r"An Bình|Phú Lộc|Nguyễn|Phạm|Trần|Quý|quá hạn \d", re.IGNORECASE)
FAILED_LINKS: tuple[Outcome, ...] = ("invalid", "expired", "used", "throttled", "group")
UNLINKED = ChatRef(str(STRANGER), "private", str(STRANGER))
HEAD = ChatRef(str(HEAD_AN_BINH), "private", str(HEAD_AN_BINH))


@pytest.fixture
def router(app: App) -> Router:
    build_district(app)
    return Router(app, USERNAME)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_text)
def test_an_unlinked_chat_gets_instructions_and_never_data(router: Router, text: str) -> None:
    replies = router.on_text(UNLINKED, text, NOW)
    assert len(replies) == 1 and not replies[0].buttons
    # The linking instructions, or what became of a code tried with /start: nothing else, ever.
    allowed = {router.on_text(UNLINKED, "/quahan", NOW)[0].text,
               *(html.escape(link_reply(LinkResult(outcome))) for outcome in FAILED_LINKS)}
    assert replies[0].text in allowed
    assert not DATA_WORDS.search(replies[0].text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_text)
def test_a_unit_head_never_crashes_a_handler_nor_sees_another_unit(router: Router, text: str) -> None:
    for reply in router.on_text(HEAD, text, datetime(2021, 3, 18, 9, 0)):
        assert reply.text.strip() and "Phú Lộc" not in reply.text and "Traceback" not in reply.text
        assert len(reply.text) < 40_000
