"""The console in a real browser (headless Chromium driven by Playwright), as an officer uses it: sign in by
link, read the board, record a submission from the overdue list and see the board change, import a
register export, invite a person and see the QR code. On SQLite and PostgreSQL.

Debian's chromium package is the browser (`.ci/run` installs it); Playwright's own browser download is
never used. Without Chromium the tests skip, except under CI (REMINDER_SERVICE_REQUIRE_BROWSER=1),
where they fail: a browser test that silently skipped would prove nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reminder_service.config import TelegramSettings
from tests.webconsole import RECEIVER, Served, served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("REMINDER_SERVICE_REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required for the browser tests (apt-get install chromium)", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

# Flags for a machine with no network beyond localhost and no display, as the service's CI has.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console(db_url: str) -> Iterator[Served]:
    with served(db_url, telegram=TelegramSettings(enabled=True, bot_username="cchc_songlam_bot")) as running:
        yield running


@pytest.fixture
def page(browser: Browser, console: Served) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield opened
    context.close()
    # A script error or a refused asset (CSP, 404) shows in the browser's console: none is allowed.
    assert errors == []


def _sign_in(page: Page, console: Served) -> None:
    page.goto(console.link(RECEIVER))
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Bảng theo dõi nộp báo cáo CCHC năm 2026")).to_be_visible()


def _cell(page: Page, unit: str, report: str) -> str | None:
    return page.locator(f'td[data-unit="{unit}"][data-obligation="{report}"]').get_attribute("data-status")


def test_sign_in_read_the_board_and_record_from_the_overdue_list(page: Page, console: Served,
                                                                 tmp_path: Path) -> None:
    _sign_in(page, console)
    assert _cell(page, "TT_PHU_LOC", "q3") == "overdue"
    assert _cell(page, "VHTT", "q3") == "incomplete"
    assert _cell(page, "XA_VINH_LOI", "h1") == "waived"
    # The header row stays in view while the board scrolls inside its frame.
    page.locator(".board-frame").evaluate("frame => frame.scrollTop = 400")
    header = page.locator("table.board thead th").first.bounding_box()
    frame = page.locator(".board-frame").bounding_box()
    assert header is not None and frame is not None and abs(header["y"] - frame["y"]) < 3
    page.screenshot(path=str(tmp_path / "board.png"))

    page.locator('td[data-unit="VHTT"][data-obligation="q3"] a').click()
    expect(page.get_by_role("heading", name="Các lần nộp")).to_be_visible()
    expect(page.get_by_text("Phụ lục 3B mục 7.1").first).to_be_visible()

    page.get_by_role("link", name="Quá hạn", exact=True).click()
    item = page.locator('li[data-unit="TT_PHU_LOC"][data-obligation="q3"]')
    item.get_by_label("Ngày nhận").fill("04/12/2026")
    item.get_by_label("Số ký hiệu").fill("31/BC-UBND")
    item.get_by_role("button", name="Ghi nhận đã nộp").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi nhận")
    expect(page.locator('li[data-unit="TT_PHU_LOC"][data-obligation="q3"]')).to_have_count(0)
    page.get_by_role("link", name="Bảng theo dõi", exact=True).click()
    assert _cell(page, "TT_PHU_LOC", "q3") == "submitted_late"


def test_import_a_register_export_and_invite_a_person(page: Page, console: Served, tmp_path: Path) -> None:
    export = tmp_path / "so-van-ban-den.csv"
    export.write_text("Số đến,Ngày đến,Số ký hiệu,Cơ quan ban hành,Trích yếu\n"
                      "501,04/12/2026,17/BC-UBND,UBND xã Đông Sơn,Báo cáo CCHC Quý III/2026\n", encoding="utf-8")
    _sign_in(page, console)
    page.get_by_role("link", name="Sổ văn bản đến").click()
    page.get_by_label("Tệp sổ văn bản đến (.csv, .xlsx)").set_input_files(str(export))
    page.get_by_role("button", name="Xem trước").click()
    expect(page.get_by_role("heading", name="Xem trước: so-van-ban-den.csv")).to_be_visible()
    expect(page.get_by_role("cell", name="17/BC-UBND")).to_be_visible()
    page.get_by_role("button", name="Nhập", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("ghi nhận 1 báo cáo")
    page.get_by_role("link", name="Bảng theo dõi", exact=True).click()
    assert _cell(page, "XA_DONG_SON", "q3") == "submitted_late"

    page.get_by_role("link", name="Đơn vị và người nhận").click()
    row = page.locator("tr", has_text="Nguyễn Văn An")
    row.get_by_role("button", name="Mời liên kết Telegram").click()
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_text("https://t.me/cchc_songlam_bot?start=")).to_be_visible()


def test_the_board_and_the_overdue_list_on_a_phone(page: Page, console: Served) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, console)
    # The board scrolls inside its frame, not the page sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".board-frame").evaluate("frame => frame.scrollWidth > frame.clientWidth")
    page.get_by_role("link", name="Quá hạn", exact=True).click()
    date_box = page.locator("li.item").first.get_by_label("Ngày nhận").bounding_box()
    button = page.locator("li.item").first.get_by_role("button", name="Ghi nhận đã nộp").bounding_box()
    assert date_box is not None and button is not None and button["y"] > date_box["y"]  # stacked
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_every_page_opens_with_nothing_refused_by_the_browser(page: Page, console: Served, tmp_path: Path) -> None:
    """Each page of the menu, as the receiver sees it: its heading, and (checked by the fixture) no script
    error, no style or script the Content-Security-Policy refused, no missing asset."""
    _sign_in(page, console)
    names = [link.inner_text() for link in page.locator("header nav a").all()]
    assert names == ["Bảng theo dõi", "Quá hạn", "Sổ văn bản đến", "Đơn vị và người nhận", "Lịch", "Báo cáo",
                     "Vận hành"]
    for name in names:
        page.locator("header nav").get_by_role("link", name=name, exact=True).click()
        expect(page.locator("main h1")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
