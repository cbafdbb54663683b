"""The web console over real HTTP (uvicorn) on SQLite and PostgreSQL: signing in by one-time link, the
board against `status`, the overdue list's actions, the security headers, CSRF, and who may do what."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from reminder_service.domain import clock
from reminder_service.domain.clock import wall
from reminder_service.services.db.chat import SubmissionClaim
from reminder_service.services.db.models import AuditEntry, Obligation, OutboxMessage, Submission, Unit
from reminder_service.services.db.web import WebSession
from reminder_service.services.outbox.text import text_of
from reminder_service.services.present.status_view import row_json
from reminder_service.services.readside import Filters, status_rows
from tests.conftest import Cli
from tests.webconsole import (
    FOCAL,
    HEAD,
    LEADER,
    NOW,
    OWN_UNIT,
    RECEIVER,
    Served,
    cells,
    form_token,
    page_token,
    served,
    spend,
)


@pytest.fixture
def console(db_url: str) -> Iterator[Served]:
    with served(db_url) as running:
        yield running


def _obligation(running: Served, unit: str, code: str, year: int = 2026) -> int:
    with running.app.session() as session:
        found = session.scalar(select(Obligation.id).join(Unit).where(Unit.code == unit, Obligation.code == code,
                                                                     Obligation.year == year))
    assert found is not None
    return found


def _status_json(running: Served, year: int = 2026) -> list[dict[str, object]]:
    with running.app.session() as session:
        rows = status_rows(session, Filters(as_of=NOW.date(), year=year), running.app.workdays, 5)
    return [row_json(r) for r in rows]


# --- signing in -------------------------------------------------------------------------------------


def test_a_link_opens_a_page_and_only_its_button_signs_in_once(console: Served) -> None:
    link = console.link(RECEIVER)
    browser = console.client()
    assert browser.get("/").status_code == 303  # not signed in: sent to the sign-in page
    # Opening the link (as a mail scanner or a chat preview would) spends nothing.
    assert browser.get(link).status_code == 200
    assert browser.get(link).status_code == 200
    signed = spend(browser, link)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "cchc_phien=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # an http:// console: a Secure cookie would never come back
    board = browser.get("/")
    assert board.status_code == 200 and "Nguyễn Thị Thanh" in board.text
    again = spend(console.client(), link)
    assert again.status_code == 400 and "đã được dùng" in again.text


def test_an_expired_link_or_a_forged_one_signs_nobody_in(console: Served) -> None:
    link = console.link(RECEIVER)
    console.clock.now = NOW + timedelta(minutes=16)
    late = spend(console.client(), link)
    assert late.status_code == 400 and "hết hạn" in late.text
    forged = spend(console.client(), link[:-4] + "AAAA")
    assert forged.status_code == 400 and "không đúng" in forged.text


def test_the_sign_in_button_needs_the_browser_s_own_form_value(console: Served) -> None:
    """Login CSRF: a page elsewhere cannot post a link of its own into a victim's browser."""
    link = console.link(RECEIVER)
    browser = console.client()
    browser.get(link)
    refused = browser.post(link, data={"csrf": "not-the-cookie"})
    assert refused.status_code == 403
    assert "cchc_phien" not in refused.headers.get("set-cookie", "")
    assert spend(browser, link).status_code == 303  # the link was not spent by the refusal


def test_after_signing_in_the_browser_goes_back_to_its_page_and_never_to_another_site(console: Served) -> None:
    browser = console.client()
    asked = browser.get("/qua-han?loai=commune")
    assert asked.status_code == 303 and asked.headers["location"] == "/dang-nhap?tiep=%2Fqua-han%3Floai%3Dcommune"
    link = console.link(RECEIVER)
    back = spend(browser, f"{link}?tiep=%2Fqua-han%3Floai%3Dcommune", tiep="/qua-han?loai=commune")
    assert back.headers["location"] == "/qua-han?loai=commune"
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        other = spend(console.client(), console.link(RECEIVER), tiep=evil)
        assert other.status_code == 303 and other.headers["location"] == "/", evil


def test_a_session_cookie_chosen_before_signing_in_is_never_the_session(console: Served) -> None:
    """Session fixation: the secret is made at sign-in; a value planted beforehand signs nobody in."""
    browser = console.client()
    browser.cookies.set("cchc_phien", "planted-by-someone-else")
    assert browser.get("/").status_code == 303
    signed = spend(browser, console.link(RECEIVER))
    assert "planted-by-someone-else" not in signed.headers["set-cookie"]
    browser.cookies.clear()
    browser.cookies.set("cchc_phien", "planted-by-someone-else")
    assert browser.get("/").status_code == 303


def test_signing_out_everywhere_ends_every_session_of_that_person(console: Served) -> None:
    first, second, other = (console.signed_in(RECEIVER), console.signed_in(RECEIVER), console.signed_in(LEADER))
    token = page_token(first)
    out = first.post("/dang-xuat", data={"csrf": token, "khap_noi": "1"})
    assert out.status_code == 303 and out.headers["location"] == "/dang-nhap"
    assert first.get("/").status_code == 303 and second.get("/").status_code == 303
    assert other.get("/").status_code == 200
    with console.app.session() as session:
        ended = session.scalars(select(WebSession).where(WebSession.revoked_at.is_not(None))).all()
    assert len(ended) == 2


def test_a_link_asked_for_on_the_sign_in_page_goes_out_through_the_outbox_and_works(console: Served) -> None:
    browser = console.client()
    page = browser.get("/dang-nhap")
    token = form_token(page.text)
    answer = browser.post("/dang-nhap", data={"csrf": token, "who": "Nguyễn Thị Thanh"})
    assert answer.status_code == 200 and "liên kết đăng nhập đã" in answer.text
    nobody = browser.post("/dang-nhap", data={"csrf": token, "who": "Người Không Có"})
    assert nobody.status_code == 200 and "liên kết đăng nhập đã" in nobody.text  # says the same: no enumeration
    with console.app.session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.stage == "signin")).all()
        assert [(r.channel, r.address, r.state) for r in rows] == [("email", RECEIVER, "pending")]
        text = text_of(rows[0], {}).text
    link = re.search(r"http://\S+/dang-nhap/lien-ket/\S+", text)
    assert link is not None
    assert spend(console.client(), link.group(0)).status_code == 303
    for _ in range(3):  # three links within 15 minutes, then no more for that person
        browser.post("/dang-nhap", data={"csrf": token, "who": RECEIVER})
    with console.app.session() as session:
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.stage == "signin")).all()
    assert len(sent) == 3


# --- what every response carries ---------------------------------------------------------------------


def test_every_response_forbids_inline_script_framing_and_referrers(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    for path in ("/", "/qua-han", "/dang-nhap", "/static/console.css", "/khong-co"):
        response = browser.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    missing = browser.get("/khong-co")
    assert missing.status_code == 404 and "Không có trang này" in missing.text
    page = browser.get("/").text
    assert "<script>" not in page and "style=" not in page and " on" + "click=" not in page


def test_an_https_console_sets_a_secure_host_only_cookie(db_url: str) -> None:
    with served(db_url, public_url="https://cchc.example.gov.vn") as running:
        browser, link = running.client(), running.link(RECEIVER)
        page = browser.get(link)
        assert "Secure" in page.headers["set-cookie"]
        # The test speaks plain http to the server behind the proxy: hand back the Secure form cookie itself.
        browser.cookies.set("cchc_mau", form_token(page.text))
        signed = browser.post(link, data={"csrf": form_token(page.text)})
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("__Host-cchc_phien=") and "Secure" in cookie and "Path=/" in cookie


# --- the board ----------------------------------------------------------------------------------------


def test_the_board_shows_every_cell_as_status_reports_it(console: Served) -> None:
    board = console.signed_in(RECEIVER).get("/?nam=2026")
    assert board.status_code == 200
    shown = cells(board.text)
    expected = {(r["unit"], r["obligation"]): r["status"] for r in _status_json(console)}
    owed = {key: status for key, status in shown.items() if status != "none"}
    assert owed == expected
    assert {"submitted_on_time", "submitted_late", "overdue", "incomplete", "waived"} <= set(owed.values())
    # Words and a mark, never colour alone.
    assert "Quá hạn " in board.text and "ngày làm việc" in board.text and "✗" in board.text


def test_the_board_filters_by_status_kind_and_name_without_diacritics(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    overdue = cells(browser.get("/?nam=2026&tinh_trang=overdue").text)
    units = {unit for unit, _ in overdue}
    assert units and all(any(s == "overdue" for (u, _), s in overdue.items() if u == unit) for unit in units)
    named = cells(browser.get("/?nam=2026&ten=phu loc").text)
    assert {unit for unit, _ in named} == {"TT_PHU_LOC"}
    monitors = cells(browser.get("/?nam=2026&loai=monitor").text)
    with console.app.session() as session:
        monitor_codes = set(session.scalars(select(Unit.code).where(Unit.kind == "monitor")))
    assert {unit for unit, _ in monitors} == monitor_codes
    bad = browser.get("/?nam=20x6")
    assert bad.status_code == 400 and "không hợp lệ" in bad.text


def test_a_cell_s_history_shows_submissions_messages_and_the_audit_trail(console: Served) -> None:
    obligation = _obligation(console, "VHTT", "q3")  # the demo's incomplete report
    page = console.signed_in(LEADER).get(f"/o/{obligation}")
    assert page.status_code == 200
    assert 'data-status="incomplete"' in page.text
    assert "Phụ lục 3B mục 7.1" in page.text and "Đánh dấu còn thiếu" in page.text
    assert "Các lần nộp" in page.text and "Nhật ký thao tác" in page.text
    assert "Ghi nhận đã nộp" not in page.text.split("Nhật ký thao tác")[0]  # leadership reads, no forms


# --- the overdue list and its actions ----------------------------------------------------------------


def _an_overdue(running: Served) -> dict[str, object]:
    return next(r for r in _status_json(running) if r["status"] == "overdue")


def test_recording_a_submission_from_the_overdue_list_changes_the_board_at_once(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    row = _an_overdue(console)
    listed = browser.get("/qua-han")
    assert f'id="o{row["obligation_id"]}"' in listed.text
    done = browser.post(f"/o/{row['obligation_id']}/nop", data={
        "csrf": form_token(listed.text), "ve": "/qua-han", "ngay": "04/12/2026", "so_ky_hieu": "15/BC-UBND"})
    assert done.status_code == 303 and done.headers["location"] == f"/qua-han#o{row['obligation_id']}"
    after = browser.get("/qua-han")
    assert "Đã ghi nhận" in after.text and f'id="o{row["obligation_id"]}"' not in after.text
    board = cells(browser.get("/?nam=2026").text)
    assert board[(str(row["unit"]), str(row["obligation"]))] == "submitted_late"
    with console.app.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "submission_recorded")
                                .order_by(AuditEntry.id.desc())).first()
        submission = session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert entry is not None and entry.channel == "web" and entry.actor.startswith("Nguyễn Thị Thanh [")
    assert submission is not None and submission.doc_no == "15/BC-UBND" and submission.channel == "web"


def test_a_refused_action_says_why_beside_the_report_and_keeps_what_was_typed(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    row = _an_overdue(console)
    token = page_token(browser, "/qua-han")
    future = browser.post(f"/o/{row['obligation_id']}/nop", data={
        "csrf": token, "ve": "/qua-han", "ngay": "31/12/2026", "so_ky_hieu": "99/BC"})
    assert future.status_code == 422
    assert "sau hôm nay" in future.text or "chưa đến" in future.text or "tương lai" in future.text, future.text[-3000:]
    assert 'value="31/12/2026"' in future.text and 'value="99/BC"' in future.text
    garbled = browser.post(f"/o/{row['obligation_id']}/nop", data={"csrf": token, "ve": "/qua-han", "ngay": "hôm qua"})
    assert garbled.status_code == 422 and "Ngày nhận: Không hiểu ngày “hôm qua”" in garbled.text
    with console.app.session() as session:
        assert session.scalars(select(Submission).where(Submission.obligation_id == row["obligation_id"])).all() == []


def test_waiving_and_deciding_a_claim_from_the_console(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    first, second = [r for r in _status_json(console) if r["status"] == "overdue"][:2]
    token = page_token(browser, "/qua-han")
    waived = browser.post(f"/o/{first['obligation_id']}/mien", data={"csrf": token, "ve": "/qua-han",
                                                                     "ly_do": "Sáp nhập đơn vị"})
    assert waived.status_code == 303
    with console.app.session() as session:
        obligation = session.get(Obligation, first["obligation_id"])
        assert obligation is not None and obligation.waived_reason == "Sáp nhập đơn vị"
        claim = SubmissionClaim(obligation_id=second["obligation_id"], person_id=None, claimed_at=NOW,
                                pause_until=NOW.date() + timedelta(days=2))
        session.add(claim)
        session.flush()
        claim_id = claim.id
    listed = browser.get("/qua-han?tinh_trang=claimed")
    assert "Đã báo gửi" in listed.text and f"/bao-gui/{claim_id}/xac-nhan" in listed.text
    confirmed = browser.post(f"/bao-gui/{claim_id}/xac-nhan", data={"csrf": token, "ve": "/qua-han"})
    assert confirmed.status_code == 303
    twice = browser.post(f"/bao-gui/{claim_id}/tu-choi", data={"csrf": token, "ve": "/qua-han"})
    assert twice.status_code == 422  # decided already: said, nothing changed
    board = cells(browser.get("/?nam=2026").text)
    assert board[(str(first["unit"]), str(first["obligation"]))] == "waived"
    # Confirmed: received when the unit said it sent it (today, after the deadline).
    assert board[(str(second["unit"]), str(second["obligation"]))] == "submitted_late"


def test_a_change_without_the_session_s_form_token_is_refused_and_changes_nothing(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    row = _an_overdue(console)
    for data in ({}, {"csrf": "wrong"}, {"csrf": page_token(console.signed_in(RECEIVER))}):
        refused = browser.post(f"/o/{row['obligation_id']}/mien", data={**data, "ly_do": "x", "ve": "/qua-han"})
        assert refused.status_code == 403 and "Biểu mẫu" in refused.text
    with console.app.session() as session:
        obligation = session.get(Obligation, row["obligation_id"])
        assert obligation is not None and obligation.waived_reason is None


# --- who may do what ---------------------------------------------------------------------------------


def test_every_route_for_every_role_and_another_unit_s_ids(console: Served) -> None:
    own = _obligation(console, OWN_UNIT, "q3")
    other = _obligation(console, "VHTT", "q3")
    browsers = {role: console.signed_in(email) for role, email in
                (("receiver", RECEIVER), ("leadership", LEADER), ("unit_head", HEAD), ("focal", FOCAL))}
    browsers["anonymous"] = console.client()
    reads = {"/": "all", "/qua-han": "all", f"/o/{own}": "all", f"/o/{other}": "office", "/api/status": "all",
             "/lich": "all", "/bao-cao": "all", "/bao-cao/xlsx": "all", "/so-van-ban": "office", "/don-vi": "office",
             "/van-hanh": "operate"}
    for role, browser in browsers.items():
        for path, who in reads.items():
            code = browser.get(path).status_code
            if role == "anonymous":
                expected = 401 if path.startswith("/api/") else 303
            elif (who == "office" and role in {"unit_head", "focal"}) or (who == "operate" and role != "receiver"):
                expected = 403
            else:
                expected = 200
            assert code == expected, (role, path, code)
    # A unit's people read their own unit only, in every view.
    for role in ("unit_head", "focal"):
        units = {unit for unit, _ in cells(browsers[role].get("/").text)}
        assert units == {OWN_UNIT}, role
        api = json.loads(browsers[role].get("/api/status").text)
        assert {r["unit"] for r in api} == {OWN_UNIT}
        assert "VHTT" not in browsers[role].get("/qua-han").text
    writes = [f"/o/{other}/nop", f"/o/{other}/mien", f"/o/{other}/thieu", f"/o/{own}/mien", "/bao-gui/1/xac-nhan",
              "/bao-gui/1/tu-choi", "/so-van-ban/xem-truoc", "/so-van-ban/nhap", "/so-van-ban/muc/1/ghi-nhan",
              "/so-van-ban/muc/1/bo-qua", "/don-vi/xem-truoc", "/don-vi/ap-dung",
              f"/nguoi/{console.person_id(HEAD)}/moi", "/van-hanh/gui-lai"]
    for role in ("leadership", "unit_head", "focal", "anonymous"):
        browser = browsers[role]
        token = page_token(browser) if role != "anonymous" else ""
        for path in writes:
            code = browser.post(path, data={"csrf": token, "ly_do": "x", "ngay": "01/12/2026", "ve": "/"}).status_code
            assert code == (401 if role == "anonymous" else 403), (role, path, code)
    with console.app.session() as session:
        assert session.scalar(select(Obligation.waived_reason).where(Obligation.id == own)) is None
    receiver = browsers["receiver"]
    token = page_token(receiver)
    assert receiver.post(f"/o/{other}/mien", data={"csrf": token, "ly_do": "Miễn thử", "ve": "/"}).status_code == 303


# --- the API --------------------------------------------------------------------------------------------


def test_the_api_answers_exactly_what_status_json_prints_scoped_to_the_token(
        console: Served, db_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    made = db_cli("web", "token", RECEIVER, "--label", "Hệ thống của tỉnh")
    assert made.code == 0, made.err
    secret = made.out.splitlines()[1].strip()
    api = httpx.get(f"{console.url}/api/status", params={"year": "2026", "obligation": "quý III"},
                    headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.headers["content-type"].startswith("application/json")
    cli = db_cli("status", "--year", "2026", "--obligation", "q3", "--as-of", "07/12/2026", "--format", "json")
    assert json.loads(api.text) == json.loads(cli.out)
    head = db_cli("web", "token", HEAD).out.splitlines()[1].strip()
    scoped = json.loads(httpx.get(f"{console.url}/api/status", headers={"Authorization": f"Bearer {head}"}).text)
    assert scoped and {r["unit"] for r in scoped} == {OWN_UNIT}
    assert httpx.get(f"{console.url}/api/status").status_code == 401
    assert httpx.get(f"{console.url}/api/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
    bad = httpx.get(f"{console.url}/api/status", params={"obligation": "quý IX"},
                    headers={"Authorization": f"Bearer {secret}"})
    assert bad.status_code == 400 and "các mã hiện có" in bad.json()["error"]
    listed = db_cli("web", "token", "--list")
    token_id = re.search(r"^\s*(\d+)\s+Nguyễn Thị Thanh", listed.out, re.M)
    assert token_id is not None, listed.out
    assert db_cli("web", "token", "--revoke", token_id.group(1)).code == 0
    assert httpx.get(f"{console.url}/api/status", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_web_link_and_web_sessions_from_the_command_line(console: Served, db_cli: Cli) -> None:
    console.clock.now = wall(clock.now())  # the command line reads the real clock
    printed = db_cli("web", "link", "nguyen thi thanh")
    assert printed.code == 0, printed.err
    link = printed.out.splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8080/dang-nhap/lien-ket/")  # [web].public_url's default
    path = link[link.index("/dang-nhap/"):]
    browser = console.client()
    assert spend(browser, console.url + path).status_code == 303
    listed = db_cli("web", "sessions")
    assert "Nguyễn Thị Thanh" in listed.out
    session_id = re.search(r"^\s*(\d+)\s+Nguyễn Thị Thanh", listed.out, re.M)
    assert session_id is not None
    assert db_cli("web", "sessions", "--revoke", session_id.group(1)).out.startswith("Đã đăng xuất 1 phiên")
    assert browser.get("/").status_code == 303
    unknown = db_cli("web", "link", "Không Ai Cả")
    assert unknown.code == 2 and "không tìm thấy người" in unknown.err


def test_the_board_follows_changes_made_elsewhere_while_it_is_open(console: Served) -> None:
    """The board keeps the rows it read while nothing has changed; a change from the bot, the command
    line or the register shows at the next view."""
    from reminder_service.services.audit import Actor
    from reminder_service.services.submissions import record_submission

    browser = console.signed_in(LEADER)
    row = _an_overdue(console)
    key = (str(row["unit"]), str(row["obligation"]))
    assert cells(browser.get("/?nam=2026").text)[key] == "overdue"
    assert cells(browser.get("/?nam=2026&loai=commune").text).get(key, "overdue") == "overdue"
    with console.app.session() as session:
        obligation = session.get(Obligation, row["obligation_id"])
        assert obligation is not None
        record_submission(session, obligation, received_at=NOW, doc_no="9/BC", note=None,
                          actor=Actor("Nguyễn Thị Thanh", "telegram"), now=NOW)
    assert cells(browser.get("/?nam=2026").text)[key] == "submitted_late"
