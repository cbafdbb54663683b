"""«Lịch» over real HTTP on SQLite and PostgreSQL: the year's calendar as `calendar show` prints it, and the
subscription addresses calendar applications fetch without a session (made, fetched, re-made, revoked,
and who may make which)."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import select

from calendars.words import dmy
from reminder_service.domain.access import Viewer
from reminder_service.services import feeds
from reminder_service.services.db.feeds import CalendarFeed
from reminder_service.services.db.models import AuditEntry, Person, Unit
from tests.conftest import Cli
from tests.webconsole import FOCAL, HEAD, LEADER, OWN_UNIT, RECEIVER, Served, page_token, served

OTHER_UNIT = "VHTT"  # a monitoring office: another unit, of another kind


@pytest.fixture
def console(db_url: str) -> Iterator[Served]:
    with served(db_url) as running:
        yield running


def _rows(page: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Each calendar row's (kind, report) → (nominal ISO, effective ISO, the row's HTML)."""
    found = re.findall(r'<tr data-kind="([^"]+)" data-obligation="([^"]+)" data-nominal="([^"]*)" '
                       r'data-effective="([^"]*)">(.*?)</tr>', page, re.S)
    return {(kind, code): (nominal, effective, body) for kind, code, nominal, effective, body in found}


def _make(browser: httpx.Client, **fields: str) -> httpx.Response:
    return browser.post("/lich/nguon", data={"csrf": page_token(browser, "/lich"), **fields})


def _url(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text[-2000:]
    found = re.search(r'id="feed-url"[^>]* value="([^"]+)"', page.text)
    assert found is not None, page.text[-3000:]
    return html.unescape(found.group(1))


def _fetch(url: str) -> httpx.Response:
    """As a calendar application does: no cookie, no session."""
    return httpx.get(url, timeout=30)


def _feed_rows(running: Served) -> list[CalendarFeed]:
    with running.app.session() as session:
        rows = list(session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)))
        session.expunge_all()
    return rows


def _unit_id(running: Served, code: str) -> int:
    with running.app.session() as session:
        found = session.scalar(select(Unit.id).where(Unit.code == code))
    assert found is not None
    return found


# --- the calendar -------------------------------------------------------------------------------------


def test_the_page_shows_the_deadlines_calendar_show_prints(console: Served, db_cli: Cli) -> None:
    # Printed first: the server's log lines go to the same captured output once someone signs in.
    printed_years = {year: json.loads(db_cli("calendar", "show", "--year", str(year), "--format", "json").out)
                     for year in (2026, 2021)}
    browser = console.signed_in(FOCAL)  # every signed-in role reads the calendar
    for year, printed in printed_years.items():
        page = browser.get(f"/lich?nam={year}")
        assert page.status_code == 200
        rows = _rows(page.text)
        expected = {(o["kind"], o["id"]): (o["nominal_deadline"] or "", o["effective_deadline"] or "")
                    for o in printed["obligations"]}
        assert {key: (nominal, effective) for key, (nominal, effective, _) in rows.items()} == expected
        for o in printed["obligations"]:
            body = rows[(o["kind"], o["id"])][2]
            for span in (o["window"], o["estimate_window"]):
                if span is not None:  # the data cut-off and estimate windows, in the CLI's words
                    start, end = date.fromisoformat(span["start"]), date.fromisoformat(span["end"])
                    assert f"{dmy(start)} – {dmy(end)}" in body, (year, o["id"])
    # 2021's own directive: Sat 13/03 is rolled to Mon 15/03, said in words beside the date.
    q1 = _rows(browser.get("/lich?nam=2021").text)[("commune", "q1")][2]
    assert "Thứ Bảy, 13/03/2021" in q1 and "Thứ Hai, 15/03/2021" in q1 and "ngày nghỉ" in q1
    monitors = browser.get("/lich?nam=2026&loai=monitor")
    assert {kind for kind, _ in _rows(monitors.text)} == {"monitor"} and "Phụ lục 3B" in monitors.text
    bad = browser.get("/lich?nam=hai-nghin")
    assert bad.status_code == 400 and "không hợp lệ" in bad.text
    assert "style=" not in page.text and "<script>" not in page.text


# --- subscription addresses ---------------------------------------------------------------------------


def test_a_feed_made_on_the_page_is_fetched_without_a_session_and_holds_the_year_s_deadlines(
        console: Served, db_cli: Cli) -> None:
    printed = json.loads(db_cli("calendar", "show", "--year", "2026", "--kind", "commune", "--format", "json").out)
    browser = console.signed_in(RECEIVER)
    made = _make(browser, loai="commune")
    url = _url(made)
    assert url.startswith(f"{console.url}/lich/ics/") and url.endswith(".ics")
    fetched = _fetch(url)
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(fetched.content)
    assert calendar.name == "VCALENDAR"
    # The name the applications show: a TEXT value, its comma escaped in the file (RFC 5545, 3.3.11).
    unfolded = fetched.text.replace("\r\n ", "").splitlines()
    assert "X-WR-CALNAME:Lịch báo cáo CCHC – UBND các xã\\, thị trấn" in unfolded
    events = calendar.events
    assert len({event.uid for event in events}) == len(events)  # two years merged, no event twice
    days = {(event.start, event.summary) for event in events}
    this_year = {(day, summary) for day, summary in days if day.year == 2026}
    assert this_year == {(date.fromisoformat(o["nominal_deadline"]), f"Hạn nộp: {o['title']} – UBND các xã, thị trấn")
                         for o in printed["obligations"] if o["nominal_deadline"] is not None}
    # Next year's plan, due in January, is there in December already.
    assert any(day.year == 2027 and "Kế hoạch CCHC năm 2027" in summary for day, summary in days)
    # The page lists it with when an application last fetched it; the audit names the person.
    listed = browser.get("/lich").text
    row = re.search(r'<tr data-feed="\d+">(.*?)</tr>', listed, re.S)
    assert row is not None and "UBND các xã, thị trấn" in row.group(1) and "07/12/2026" in row.group(1)
    assert "Chưa có ứng dụng nào lấy lịch" not in row.group(1)
    assert url not in listed  # shown once, at creation
    with console.app.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar_feed_created")).one()
        receiver = session.scalars(select(Person).where(Person.email == RECEIVER)).one()
    assert entry.channel == "web" and entry.actor == f"{receiver.name} [{receiver.id}]"


def test_the_secret_is_stored_only_as_its_sha256(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    url = _url(_make(browser, don_vi=OWN_UNIT))
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    [row] = _feed_rows(console)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.unit_id == _unit_id(console, OWN_UNIT) and row.kind is None
    assert secret not in repr([getattr(row, c.key) for c in CalendarFeed.__table__.columns])
    with console.app.session() as session:
        details = " ".join(session.scalars(select(AuditEntry.details)))
    assert secret not in details


def test_revoking_an_address_makes_it_404_and_re_making_one_replaces_it(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    first = _url(_make(browser, don_vi=OWN_UNIT))
    assert _fetch(first).status_code == 200
    [feed] = _feed_rows(console)
    renewed = browser.post(f"/lich/nguon/{feed.id}/tao-lai", data={"csrf": page_token(browser, "/lich")})
    second = _url(renewed)
    assert second != first
    gone = _fetch(first)
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("text/plain")
    assert "thu hồi" in gone.text and len(gone.text) < 200
    assert _fetch(second).status_code == 200
    live = [f for f in _feed_rows(console) if f.revoked_at is None]
    assert len(live) == 1 and live[0].unit_id == feed.unit_id
    revoked = browser.post(f"/lich/nguon/{live[0].id}/thu-hoi", data={"csrf": page_token(browser, "/lich")})
    assert revoked.status_code == 303 and revoked.headers["location"].startswith("/lich")
    assert "Đã thu hồi" in browser.get("/lich").text
    assert _fetch(second).status_code == 404
    assert _fetch(f"{console.url}/lich/ics/{'A' * 43}.ics").status_code == 404
    with console.app.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("calendar_feed_%"))
                                       .order_by(AuditEntry.id)))
    assert actions == ["calendar_feed_created", "calendar_feed_renewed", "calendar_feed_revoked"]


def test_a_unit_s_address_stops_when_the_unit_is_no_longer_tracked(console: Served) -> None:
    url = _url(_make(console.signed_in(RECEIVER), don_vi=OWN_UNIT))
    with console.app.session() as session:
        unit = session.scalars(select(Unit).where(Unit.code == OWN_UNIT)).one()
        unit.active = False
    assert _fetch(url).status_code == 404
    assert "Đơn vị không còn được theo dõi: đường dẫn không dùng được" in console.signed_in(RECEIVER).get("/lich").text


def test_a_unit_head_makes_an_address_for_their_own_unit_only_and_sees_no_other_unit_s(console: Served) -> None:
    receiver, head = console.signed_in(RECEIVER), console.signed_in(HEAD)
    others = _url(_make(receiver, don_vi=OTHER_UNIT))
    kind_feed = _url(_make(receiver, loai="monitor"))
    assert _fetch(others).status_code == 200 and _fetch(kind_feed).status_code == 200
    page = head.get("/lich")
    assert page.status_code == 200 and 'name="don_vi" value="TT_PHU_LOC"' in page.text
    assert 'name="loai" required' not in page.text  # no kind's address for a unit
    own = _url(_make(head, don_vi=OWN_UNIT))
    events = Calendar.from_ical(_fetch(own).content).events
    assert events and all("UBND các xã, thị trấn" in e.summary for e in events)  # the unit's kind
    before = len(_feed_rows(console))
    for fields in ({"don_vi": OTHER_UNIT}, {"don_vi": "Phòng Văn hóa và Thông tin"}, {"loai": "commune"},
                   {"don_vi": "KHONG_CO"}):
        refused = _make(head, **fields)
        assert refused.status_code == 403, (fields, refused.status_code)
        assert "đơn vị của mình" in refused.text or "loại đơn vị" in refused.text
    assert len(_feed_rows(console)) == before
    # The head's list: their own unit's address only, not another unit's nor a kind's.
    listed = {int(i) for i in re.findall(r'data-feed="(\d+)"', head.get("/lich").text)}
    mine = {f.id for f in _feed_rows(console) if f.unit_id == _unit_id(console, OWN_UNIT)}
    assert listed == mine and len(mine) == 1
    other_id = next(f.id for f in _feed_rows(console) if f.unit_id == _unit_id(console, OTHER_UNIT))
    token = page_token(head, "/lich")
    for action in ("thu-hoi", "tao-lai"):
        assert head.post(f"/lich/nguon/{other_id}/{action}", data={"csrf": token}).status_code == 403
    assert _fetch(others).status_code == 200  # nothing happened to it


def test_leadership_makes_a_kind_s_address_but_not_a_unit_s(console: Served) -> None:
    leader = console.signed_in(LEADER)
    url = _url(_make(leader, loai="monitor"))
    assert _fetch(url).status_code == 200
    refused = _make(leader, don_vi=OWN_UNIT)
    assert refused.status_code == 403
    assert [f.kind for f in _feed_rows(console)] == ["monitor"]
    # A receiver's address is listed to leadership, but only its maker or the receiver changes it.
    _make(console.signed_in(RECEIVER), loai="commune")
    receivers = next(f.id for f in _feed_rows(console) if f.kind == "commune")
    token = page_token(leader, "/lich")
    assert leader.post(f"/lich/nguon/{receivers}/thu-hoi", data={"csrf": token}).status_code == 403
    assert f'data-feed="{receivers}"' in leader.get("/lich").text


def test_a_post_without_the_form_token_is_refused_and_makes_nothing(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    for data in ({}, {"csrf": "wrong"}, {"csrf": page_token(console.signed_in(RECEIVER), "/lich")}):
        refused = browser.post("/lich/nguon", data={**data, "loai": "commune"})
        assert refused.status_code == 403 and "Biểu mẫu" in refused.text
    # A year the page could not show is refused before anything is made (the address would be lost).
    wrong_year = browser.post("/lich/nguon?nam=20x6", data={"csrf": page_token(browser, "/lich"), "loai": "commune"})
    assert wrong_year.status_code == 400
    assert _feed_rows(console) == []
    url = _url(_make(browser, loai="commune"))
    [feed] = _feed_rows(console)
    assert browser.post(f"/lich/nguon/{feed.id}/thu-hoi", data={"csrf": "wrong"}).status_code == 403
    assert _fetch(url).status_code == 200
    assert console.client().post("/lich/nguon", data={"loai": "commune"}).status_code == 401  # no session


def test_a_unit_not_found_is_said_in_words_and_what_was_typed_is_kept(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    missing = _make(browser, don_vi="Xã Không Có")
    assert missing.status_code == 422
    assert "Không có đơn vị đang theo dõi nào có mã hoặc tên «Xã Không Có»" in missing.text
    assert 'value="Xã Không Có"' in missing.text
    nothing = _make(browser)
    assert nothing.status_code == 422 and "Hãy chọn loại đơn vị" in nothing.text
    by_name = _url(_make(browser, don_vi="ubnd thi tran phu loc"))  # a name without diacritics finds the unit
    assert _fetch(by_name).status_code == 200
    assert [f.unit_id for f in _feed_rows(console)] == [_unit_id(console, OWN_UNIT)]


# --- who may do what, as plain values ------------------------------------------------------------------


def test_who_may_make_and_change_which_feed() -> None:
    receiver, leader = Viewer(1, "R", "receiver", None), Viewer(2, "L", "leadership", None)
    head, focal, lost = Viewer(3, "H", "unit_head", 10), Viewer(4, "F", "focal", 10), Viewer(5, "X", "focal", None)
    kind, own, other = feeds.Subject(kind="commune"), feeds.Subject(unit_id=10), feeds.Subject(unit_id=11)
    assert [feeds.may_create(v, kind) for v in (receiver, leader, head, focal, lost)] == [True, True, False, False,
                                                                                         False]
    assert [feeds.may_create(v, own) for v in (receiver, leader, head, focal, lost)] == [True, False, True, True, False]
    assert [feeds.may_create(v, other) for v in (receiver, leader, head, focal)] == [True, False, False, False]
    # Listed: everything to the office, a unit's own feeds to its people.
    assert feeds.sees(leader, None) and feeds.sees(leader, 11) and feeds.sees(head, 10)
    assert not feeds.sees(head, None) and not feeds.sees(head, 11) and not feeds.sees(lost, 10)
    # Changed: the receiver any; others what they made and still see.
    assert feeds.may_manage(receiver, 3, 10) and feeds.may_manage(head, 3, 10)
    assert not feeds.may_manage(focal, 3, 10) and not feeds.may_manage(leader, 1, None)
    assert feeds.may_manage(leader, 2, None) and not feeds.may_manage(head, 3, 11)
