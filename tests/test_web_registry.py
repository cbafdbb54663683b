"""«Đơn vị và người nhận» in the console: the units file's difference, the mass-deactivation guard, and
Telegram invitations with their QR code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import select

from reminder_service.config import TelegramSettings
from reminder_service.services.db.models import Person, Unit
from reminder_service.services.demo import UNITS_FILE
from reminder_service.services.linking import redeem
from tests.webconsole import HEAD, LEADER, RECEIVER, Served, form_token, page_token, served

DEMO = UNITS_FILE.read_text(encoding="utf-8")


@pytest.fixture
def console(db_url: str) -> Iterator[Served]:
    with served(db_url, telegram=TelegramSettings(enabled=True, bot_username="cchc_songlam_bot")) as running:
        yield running


def _preview(browser: httpx.Client, text: str, name: str = "don-vi.csv") -> httpx.Response:
    token = page_token(browser, "/don-vi")
    return browser.post("/don-vi/xem-truoc", data={"csrf": token}, files={"tep": (name, text.encode(), "text/csv")})


def _uploaded(page: httpx.Response) -> str:
    return page.text.split('name="tep_da_tai" value="')[1].split('"')[0]


def _active(running: Served) -> dict[str, str]:
    with running.app.session() as session:
        return {code: name for code, name in session.execute(select(Unit.code, Unit.name).where(Unit.active.is_(True)))}


def test_the_units_file_shows_its_difference_first_and_applies_it_on_confirmation(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    lines = DEMO.splitlines()
    dropped = lines[3].split(",")[0]  # a commune: one of twenty-six needs no confirmation
    changed = lines[1].replace("UBND thị trấn Phú Lộc", "UBND phường Phú Lộc")
    new = "XA_MOI,UBND xã Mới Lập,commune,Hồ Văn Mới,chutich.moi@songlam.example,,,,,"
    text = "\n".join([lines[0], changed, lines[2], *lines[4:], new]) + "\n"
    before = _active(console)
    shown = _preview(browser, text)
    assert shown.status_code == 200
    assert "Thêm mới (1)" in shown.text and "XA_MOI" in shown.text
    assert "TT_PHU_LOC" in shown.text.split("Thay đổi")[1].split("</dd>")[0]
    assert dropped in shown.text.split("Ngừng theo dõi")[1].split("</dd>")[0]
    assert _active(console) == before  # the difference wrote nothing
    done = browser.post("/don-vi/ap-dung", data={"csrf": form_token(shown.text), "tep_da_tai": _uploaded(shown)})
    assert done.status_code == 303
    after = _active(console)
    assert after["XA_MOI"] == "UBND xã Mới Lập" and after["TT_PHU_LOC"] == "UBND phường Phú Lộc"
    assert dropped not in after
    assert "Đã áp dụng don-vi.csv" in browser.get("/don-vi").text


def test_dropping_many_units_needs_the_box_ticked(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    lines = DEMO.splitlines()
    short = "\n".join(lines[:6]) + "\n"  # five units of twenty-six
    before = _active(console)
    shown = _preview(browser, short)
    assert shown.status_code == 200 and "sẽ ngừng theo dõi" in shown.text and 'name="dong_y"' in shown.text
    token, upload = form_token(shown.text), _uploaded(shown)
    refused = browser.post("/don-vi/ap-dung", data={"csrf": token, "tep_da_tai": upload})
    assert refused.status_code == 422 and "đánh dấu ô đồng ý" in refused.text
    assert _active(console) == before
    done = browser.post("/don-vi/ap-dung", data={"csrf": token, "tep_da_tai": upload, "dong_y": "1"})
    assert done.status_code == 303 and len(_active(console)) == 5


def test_a_units_file_with_mistakes_is_refused_line_by_line(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    bad = "code,name,kind\nXA_A,UBND xã A,huyện\n,UBND xã B,commune\n"
    refused = _preview(browser, bad)
    assert refused.status_code == 422
    assert "dòng 2" in refused.text and "dòng 3" in refused.text
    assert "UBND thị trấn Phú Lộc" in refused.text  # the page itself is still there, nothing lost


def test_a_file_the_page_cannot_read_is_refused_saying_what_to_choose(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    before = _active(console)
    wrong = _preview(browser, "ghi chú", "don-vi.pdf")
    assert wrong.status_code == 422
    assert "Tệp «don-vi.pdf» không phải .csv, .xlsx hoặc .yaml; hãy chọn tệp danh sách đơn vị." in wrong.text
    empty = _preview(browser, "", "don-vi.csv")
    assert empty.status_code == 422 and "Tệp «don-vi.csv» rỗng; hãy chọn tệp danh sách đơn vị." in empty.text
    huge = _preview(browser, "x" * (5 * 1024 * 1024 + 1), "don-vi.csv")
    assert huge.status_code == 422 and "Tệp «don-vi.csv» lớn hơn giới hạn 5 MB;" in huge.text
    # ".yml" is read as YAML like ".yaml", though the sentences name only the one
    yml = _preview(browser, "units: [", "don-vi.yml")
    assert yml.status_code == 422 and "không phải" not in yml.text
    assert _active(console) == before


def test_an_invitation_gives_the_code_the_link_and_its_qr_code_and_linking_shows(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    person_id = console.person_id(HEAD)
    page = browser.post(f"/nguoi/{person_id}/moi", data={"csrf": page_token(browser, "/don-vi")})
    assert page.status_code == 200
    code = re.search(r'<p class="code-big">([0-9A-Z]{12})</p>', page.text)
    assert code is not None
    link = f"https://t.me/cchc_songlam_bot?start={code.group(1)}"
    assert link in page.text
    qr = re.search(r'<img class="qr" src="data:image/svg\+xml;charset=utf-8,([^"]+)"', page.text)
    assert qr is not None and "<svg" in unquote(qr.group(1)) and "<path" in unquote(qr.group(1))
    with console.app.session() as session:
        assert redeem(session, "777001", code.group(1), console.clock()).outcome == "linked"
        linked = session.scalar(select(Person.telegram_chat_id).where(Person.id == person_id))
    assert linked == "777001"
    row = browser.get("/don-vi").text.split(f'data-person="{person_id}"')[1].split("</tr>")[0]
    assert "✓ đã liên kết" in row


def test_who_may_see_and_change_units_and_people(console: Served) -> None:
    leader, head = console.signed_in(LEADER), console.signed_in(HEAD)
    page = leader.get("/don-vi")
    assert page.status_code == 200 and "UBND thị trấn Phú Lộc" in page.text and "Xem trước" not in page.text
    assert head.get("/don-vi").status_code == 403
    for browser in (leader, head):
        token = page_token(browser)
        assert browser.post(f"/nguoi/{console.person_id(HEAD)}/moi", data={"csrf": token}).status_code == 403
        assert browser.post("/don-vi/xem-truoc", data={"csrf": token},
                            files={"tep": ("d.csv", DEMO.encode(), "text/csv")}).status_code == 403
