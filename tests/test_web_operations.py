"""«Vận hành» in the console, over real HTTP on SQLite and PostgreSQL: the checks of `health`, the outbox and
its dead letters sent again (audited with the person), the last tick and import, the watched register
folder; the receiver's alone. And the page's pure pieces, with plain values."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from reminder_service.adapters.web.operations_pages import retry_notice, retry_request
from reminder_service.config import TelegramSettings
from reminder_service.services.db.models import (
    AuditEntry,
    DeliveryAttempt,
    Obligation,
    OutboxMessage,
    Person,
    ServiceState,
    Unit,
)
from reminder_service.services.outbox.admin import RetryResult
from reminder_service.services.present.delivery_errors import hint
from reminder_service.services.present.elapsed import ago, duration
from reminder_service.services.watch import LAST_IMPORT, folder_view, state_moment
from tests.fakes.bot_api import TOKEN, Failure, FakeBotApi
from tests.webconsole import FOCAL, HEAD, LEADER, NOW, OWN_UNIT, RECEIVER, Served, page_token, served

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
HTML_ERROR = "máy chủ SMTP từ chối người nhận <b>550</b> mailbox unavailable"
BLOCKED = "Telegram: Forbidden: bot was blocked by the user"


def _touch(path: Path, at: datetime) -> None:
    stamp = at.replace(tzinfo=VIETNAM).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The layout services/watch.py leaves: exports waiting at the top, handled ones moved aside with a
    report; a move keeps the export's own (old) time, the report's time is when it was handled."""
    watched = tmp_path / "incoming"
    (watched / "processed").mkdir(parents=True)
    (watched / "rejected").mkdir()
    (watched / "so-moi.csv").write_text("chờ nhập\n", encoding="utf-8")
    (watched / "ghi-chu.txt").write_text("không phải tệp xuất sổ\n", encoding="utf-8")
    done = watched / "processed" / "so-thang-11.csv"
    done.write_text("x\n", encoding="utf-8")
    (watched / "processed" / "so-thang-11.csv.txt").write_text(
        "Đã nhập 12 dòng từ so-thang-11.csv: ghi nhận 3, đã có 9.\n", encoding="utf-8")
    refused = watched / "rejected" / "hong.xlsx"
    refused.write_bytes(b"x")
    (watched / "rejected" / "hong.xlsx.txt").write_text("Không nhập được tệp hong.xlsx:\ntệp Excel bị hỏng\n",
                                                         encoding="utf-8")
    _touch(done, NOW - timedelta(days=300))
    _touch(refused, NOW - timedelta(days=300))
    _touch(watched / "processed" / "so-thang-11.csv.txt", datetime(2026, 12, 5, 8, 30))
    _touch(watched / "rejected" / "hong.xlsx.txt", datetime(2026, 12, 7, 9, 15))
    return watched


def _dead(running: Served, key: str, channel: str, error: str, died: datetime, *, person_id: int | None = None,
          obligation_id: int | None = None) -> None:
    with running.app.session() as session:
        row = OutboxMessage(dedupe_key=key, stage="overdue", channel=channel, address=f"{key}@x.example",
                            subject="s", body_text="t", body_html="h", state="dead", attempts=8,
                            next_attempt_at=NOW - timedelta(days=2), created_at=NOW - timedelta(days=2),
                            last_error=error, person_id=person_id, obligation_id=obligation_id)
        session.add(row)
        session.flush()
        session.add(DeliveryAttempt(outbox_id=row.id, attempt=8, at=died, outcome="dead", error=error, worker="test"))


@pytest.fixture
def console(db_url: str, folder: Path) -> Iterator[Served]:
    with served(db_url, watch_dir=folder) as running:
        with running.app.session() as session:
            for key, at in (("last_tick", NOW - timedelta(minutes=4)), (LAST_IMPORT, NOW - timedelta(hours=3))):
                session.add(ServiceState(key=key, value=at.isoformat(), updated_at=at))
            head = session.scalar(select(Person.id).where(Person.email == HEAD))
            report = session.scalar(select(Obligation.id).join(Unit).where(Unit.code == OWN_UNIT)
                                    .order_by(Obligation.id).limit(1))
        # Written in one order, given up in another: the page lists them by when they gave up.
        _dead(running, "test-dead-0", "email", HTML_ERROR, NOW - timedelta(hours=1), person_id=head,
              obligation_id=report)
        _dead(running, "test-dead-1", "email", "TimeoutError: ", NOW - timedelta(days=1))
        _dead(running, "test-dead-2", "telegram", BLOCKED, NOW - timedelta(minutes=30))
        yield running


def _states(running: Served) -> dict[str, tuple[str, int]]:
    with running.app.session() as session:
        return {key: (state, attempts) for key, state, attempts in session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.state, OutboxMessage.attempts)
            .where(OutboxMessage.dedupe_key.like("test-dead-%")))}


def _id(running: Served, key: str) -> int:
    with running.app.session() as session:
        found = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    assert found is not None
    return found


def _retry_audits(running: Served) -> list[AuditEntry]:
    with running.app.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox_retried")
                                    .order_by(AuditEntry.id)))


def _check_state(page: str, name: str) -> str:
    found = re.search(rf'data-check="{name}" data-state="(\w+)"', page)
    assert found is not None, name
    return found.group(1)


def test_the_receiver_sees_the_checks_the_queue_the_ticks_and_the_folder(console: Served) -> None:
    page = console.signed_in(RECEIVER).get("/van-hanh")
    assert page.status_code == 200
    text = page.text
    # The checks of `reminder-service health`: the same titles and verdicts, each in words and a mark.
    assert _check_state(text, "database") == "ok" and "Cơ sở dữ liệu" in text
    assert _check_state(text, "last_tick") == "ok"
    assert _check_state(text, "dead_letters") == "warning" and "3 tin gửi thất bại trong 7 ngày qua" in text
    assert _check_state(text, "intake") == "ok" and _check_state(text, "channel_email") == "ok"
    assert "! Cảnh báo" in re.sub(r"<[^>]+>", "", text)
    # The last tick and import, as times and "cách đây".
    assert "09:56 07/12/2026 (cách đây 4 phút)" in text and "07:00 07/12/2026 (cách đây 3 giờ)" in text
    # The queue by state and channel.
    assert re.search(r'data-state="dead" data-channel="email">2<', text)
    assert re.search(r'data-state="dead" data-channel="telegram">1<', text)
    # The dead letters, the latest to give up first, with whom and which report they were for.
    order = re.findall(r'data-outbox="(\d+)"', text)
    assert order == [str(_id(console, f"test-dead-{n}")) for n in (2, 0, 1)]
    assert "Tin gửi thất bại (3)" in text
    assert '<td data-label="Người nhận">Nguyễn Văn An<br><span class="code">test-dead-0@x.example</span></td>' in text
    with console.app.session() as session:
        report = session.scalars(select(Obligation).join(Unit).where(Unit.code == OWN_UNIT)
                                 .order_by(Obligation.id).limit(1)).one()
        unit_name = report.unit.name
    assert str(report.year) in report.title  # the title names its year: not said twice
    assert f'href="/o/{report.id}">{unit_name} – {report.title}</a>' in text
    # A Telegram error in the Bot API's English comes with what it means and what to do, in Vietnamese.
    assert "Người nhận đã chặn bot" in text and BLOCKED in text
    assert "Gửi lại cả 2 tin thất bại qua E-mail" in text and "Gửi lại cả 1 tin thất bại qua Telegram" in text
    # The folder: what waits (exports only), and the latest handled, at the time their report was written.
    assert "so-moi.csv" in text and "ghi-chu.txt" not in text
    rows = re.findall(r'data-outcome="(\w+)">\s*<td data-label="Tệp">([^<]+)</td>.*?<td data-label="Lúc">([^<]+)</td>'
                      r'\s*<td data-label="Báo cáo" class="ops-report">(.*?)</td>', text, re.S)
    assert [(outcome, name, when) for outcome, name, when, _ in rows] == [
        ("rejected", "hong.xlsx", "09:15 07/12/2026"), ("processed", "so-thang-11.csv", "08:30 05/12/2026")]
    assert rows[0][3] == "Không nhập được tệp hong.xlsx:<br>tệp Excel bị hỏng"
    assert "ghi nhận 3, đã có 9" in rows[1][3]


def test_a_dead_letters_error_with_html_in_it_is_shown_as_text(console: Served) -> None:
    text = console.signed_in(RECEIVER).get("/van-hanh").text
    assert "&lt;b&gt;550&lt;/b&gt; mailbox unavailable" in text
    assert "<b>550</b>" not in text


def test_sending_again_one_row_or_a_channel_makes_them_pending_and_audits_the_person(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    token = page_token(browser, "/van-hanh")
    first = _id(console, "test-dead-0")
    one = browser.post("/van-hanh/gui-lai", data={"csrf": token, "tin": str(first)})
    assert one.status_code == 303 and one.headers["location"] == "/van-hanh"
    assert _states(console) == {"test-dead-0": ("pending", 0), "test-dead-1": ("dead", 8),
                                "test-dead-2": ("dead", 8)}
    page = browser.get("/van-hanh").text
    assert f"Đã đưa tin số {first} trở lại hàng đợi" in page and "Tin gửi thất bại (2)" in page
    [entry] = _retry_audits(console)
    assert entry.channel == "web" and entry.actor == f"Nguyễn Thị Thanh [{console.person_id(RECEIVER)}]"
    assert f'"ids": [{first}]' in entry.details

    browser.post("/van-hanh/gui-lai", data={"csrf": token, "kenh": "email"})
    assert _states(console)["test-dead-1"] == ("pending", 0) and _states(console)["test-dead-2"] == ("dead", 8)
    assert "Đã đưa 1 tin thất bại qua E-mail trở lại hàng đợi" in browser.get("/van-hanh").text
    assert len(_retry_audits(console)) == 2 and '"channel": "email"' in _retry_audits(console)[1].details

    # A row already sent again (another tab, the command line) is not touched twice; the page says why.
    browser.post("/van-hanh/gui-lai", data={"csrf": token, "tin": str(first)})
    assert "Tin số" in (again := browser.get("/van-hanh").text) and "«chờ gửi», không còn thất bại" in again
    assert len(_retry_audits(console)) == 2


def test_a_retry_form_that_names_nothing_sensible_changes_nothing_and_says_so(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    token = page_token(browser, "/van-hanh")
    for data, words in (({"tin": "12a"}, "«12a» không phải số của một tin"),
                        ({"kenh": "fax"}, "Không có kênh gửi «fax»"),
                        ({}, "Hãy chọn một tin hoặc một kênh để gửi lại."),
                        ({"tin": "999999"}, "Không có tin số 999999")):
        answer = browser.post("/van-hanh/gui-lai", data={"csrf": token, **data})
        assert answer.status_code == 303
        assert words in browser.get("/van-hanh").text
    assert {state for state, _ in _states(console).values()} == {"dead"} and not _retry_audits(console)


def test_only_the_receiver_may_operate_and_every_change_needs_the_form_token(console: Served) -> None:
    for email in (LEADER, HEAD, FOCAL):
        browser = console.signed_in(email)
        assert browser.get("/van-hanh").status_code == 403
        assert 'href="/van-hanh"' not in browser.get("/").text
        refused = browser.post("/van-hanh/gui-lai", data={"csrf": page_token(browser), "kenh": "email"})
        assert refused.status_code == 403
    receiver = console.signed_in(RECEIVER)
    assert 'href="/van-hanh"' in receiver.get("/").text
    assert receiver.post("/van-hanh/gui-lai", data={"kenh": "email"}).status_code == 403
    assert receiver.post("/van-hanh/gui-lai", data={"csrf": "not-the-token", "kenh": "email"}).status_code == 403
    assert {state for state, _ in _states(console).values()} == {"dead"} and not _retry_audits(console)
    assert console.client().get("/van-hanh").headers["location"].startswith("/dang-nhap")


def test_without_a_watched_folder_or_with_one_gone_the_page_says_what_to_do(db_url: str, tmp_path: Path) -> None:
    with served(db_url) as running:
        text = running.signed_in(RECEIVER).get("/van-hanh").text
        assert "Chưa cấu hình thư mục theo dõi" in text and "Tin gửi thất bại (0)" in text
        assert "chưa có lần nào (dịch vụ chưa chạy)" in text and _check_state(text, "last_tick") == "failure"
    # The same database again (the demo district is in it), watching a folder nobody made.
    with served(db_url, watch_dir=tmp_path / "khong-co", demo=False) as running:
        text = running.signed_in(RECEIVER).get("/van-hanh").text
        assert "không tồn tại; hãy tạo thư mục" in text and _check_state(text, "intake") == "failure"


def test_a_channel_that_does_not_answer_holds_the_page_a_few_seconds_at_most(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
    with FakeBotApi(token=TOKEN) as bot, served(db_url, telegram=TelegramSettings(enabled=True,
                                                                                  base_url=bot.base_url)) as running:
        browser = running.signed_in(RECEIVER)
        text = browser.get("/van-hanh").text
        assert _check_state(text, "channel_telegram") == "ok" and "Bot @cchc_test_bot trả lời" in text
        bot.fail_next(Failure.slow(6), method="getMe")
        # Opened again (as after every «Gửi lại»), the page shows the answer of a moment ago, without asking.
        started = time.monotonic()
        again = browser.get("/van-hanh")
        assert time.monotonic() - started < 2.0 and _check_state(again.text, "channel_telegram") == "ok"
        started = time.monotonic()
        slow = browser.get("/van-hanh?kiem_tra=1")
        assert time.monotonic() - started < 5.5
        assert slow.status_code == 200 and _check_state(slow.text, "channel_telegram") == "failure"
        assert "Không gọi được Telegram" in slow.text and TOKEN not in slow.text


# --- the pure pieces ---------------------------------------------------------------------------------


def test_how_long_ago_in_words() -> None:
    now = datetime(2026, 12, 7, 10, 0)
    assert ago(now - timedelta(minutes=4), now) == "cách đây 4 phút"
    assert ago(now - timedelta(hours=3, minutes=5), now) == "cách đây 3 giờ 5 phút"
    assert ago(now - timedelta(days=2, hours=1), now) == "cách đây 2 ngày 1 giờ"
    assert ago(now - timedelta(seconds=20), now) == "vừa xong"
    assert ago(None, now) == "chưa có lần nào"
    assert ago(now + timedelta(hours=1), now) == "sau thời điểm đang xem"
    assert duration(timedelta(seconds=30)) == "dưới 1 phút" and duration(timedelta(hours=2)) == "2 giờ"


def test_service_state_times_are_read_as_vietnamese_wall_time() -> None:
    assert state_moment("2026-12-07T09:56:00") == datetime(2026, 12, 7, 9, 56)
    assert state_moment("2026-12-07T02:56:00+00:00") == datetime(2026, 12, 7, 9, 56)
    assert state_moment("hôm qua") is None and state_moment(None) is None


def test_delivery_errors_are_explained_in_vietnamese_when_the_text_is_not() -> None:
    assert hint(BLOCKED) is not None and "chặn bot" in (hint(BLOCKED) or "")
    assert "không tìm thấy cuộc trò chuyện" in (hint("Telegram: BadRequest: Chat not found") or "")
    assert "ra khỏi nhóm" in (hint("Telegram: Forbidden: bot was kicked from the supergroup chat") or "")
    assert "không trả lời kịp" in (hint("TimeoutError: ") or "")
    # The e-mail notifier's errors are Vietnamese already; nothing known, nothing added.
    assert hint("máy chủ SMTP mail.example:25 từ chối người nhận a@b (550 no such user)") is None
    assert hint("Telegram: BadRequest: something new") is None and hint(None) is None
    # "chat not found" is Telegram's wording: an e-mail error that happens to contain it is not explained so.
    assert hint("máy chủ SMTP: 550 chat not found") is None


def test_the_retry_form_is_read_strictly() -> None:
    assert retry_request("12", "") == ([12], None)
    assert retry_request(" 12 ", "") == ([12], None)
    assert retry_request("", "telegram") == (None, "telegram")
    for wanted, channel in (("0", ""), ("-3", ""), ("1e9", ""), ("1234567890", ""), ("12", "email"), ("", ""),
                            ("", "sms")):
        assert isinstance(retry_request(wanted, channel), str), (wanted, channel)


def test_what_the_page_says_after_sending_again() -> None:
    assert retry_notice(RetryResult((7,)), None)[1].startswith("Đã đưa tin số 7 trở lại hàng đợi")
    assert retry_notice(RetryResult((7, 8, 9)), "email")[1].startswith("Đã đưa 3 tin thất bại qua E-mail")
    assert retry_notice(RetryResult((), missing=(7,)), None) == (
        "error", "Không có tin số 7 (có thể đã được dọn khỏi hàng đợi); chưa thay đổi tin nào.")
    kind, words = retry_notice(RetryResult((), refused=((7, "sent"),)), None)
    assert kind == "error" and "«đã gửi», không còn thất bại" in words
    assert retry_notice(RetryResult(()), "telegram") == (
        "error", "Không có tin thất bại nào qua Telegram để gửi lại; chưa thay đổi tin nào.")


def test_the_folder_view_shows_the_latest_handled_first_and_only_exports(folder: Path) -> None:
    view = folder_view(folder, limit=1)
    assert view.exists and view.error is None and view.waiting == ("so-moi.csv",) and view.waiting_total == 1
    [latest] = view.recent
    assert (latest.name, latest.outcome, latest.moved_at) == ("hong.xlsx", "rejected", datetime(2026, 12, 7, 9, 15))
    assert latest.report == ("Không nhập được tệp hong.xlsx:", "tệp Excel bị hỏng")
    (folder / "rejected" / "hong.xlsx.txt").unlink()  # a report removed by hand: the export's own time is left
    assert folder_view(folder).recent[0].name == "so-thang-11.csv"
    assert folder_view(folder).recent[1].report == ()
    missing = folder_view(folder / "khong-co")
    assert not missing.exists and missing.recent == ()
