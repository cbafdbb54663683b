"""«Sổ văn bản đến» in the console: upload, preview that writes nothing, confirm, and the review list."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from reminder_service.services.db.models import RegisterImport, ReviewItem, Submission
from tests.webconsole import HEAD, LEADER, RECEIVER, Served, cells, form_token, page_token, served

# TT_PHU_LOC's q3 2026 is overdue in the demo; the second row names no unit of the district; the third is
# no report at all.
EXPORT = (
    "Số đến,Ngày đến,Số ký hiệu,Cơ quan ban hành,Trích yếu\n"
    "501,04/12/2026,31/BC-UBND,UBND TT Phú Lộc,Báo cáo CCHC Quý III/2026\n"
    "502,04/12/2026,12/BC-UBND,UBND xã Hư Cấu,Báo cáo kết quả CCHC quý III năm 2026\n"
    "503,04/12/2026,77/GM-UBND,UBND xã An Bình,Giấy mời dự hội nghị\n"
).encode()


@pytest.fixture
def console(db_url: str) -> Iterator[Served]:
    with served(db_url) as running:
        yield running


def _counts(running: Served) -> tuple[int, int, int]:
    with running.app.session() as session:
        return (session.scalar(select(func.count()).select_from(Submission)) or 0,
                session.scalar(select(func.count()).select_from(RegisterImport)) or 0,
                session.scalar(select(func.count()).select_from(ReviewItem)) or 0)


def _upload(browser: httpx.Client, data: bytes, name: str = "so-van-ban-den.csv") -> httpx.Response:
    token = page_token(browser, "/so-van-ban")
    return browser.post("/so-van-ban/xem-truoc", data={"csrf": token}, files={"tep": (name, data, "text/csv")})


def test_a_preview_writes_nothing_and_the_confirmation_records_what_it_showed(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    before = _counts(console)
    shown = _upload(browser, EXPORT)
    assert shown.status_code == 200
    text = shown.text
    assert "Xem trước: so-van-ban-den.csv" in text
    assert "UBND thị trấn Phú Lộc" in text and "31/BC-UBND" in text  # what would be recorded
    assert "UBND xã Hư Cấu" in text  # what would go to review
    assert _counts(console) == before  # nothing written by the preview
    token = text.split('name="tep_da_tai" value="')[1].split('"')[0]
    done = browser.post("/so-van-ban/nhap", data={"csrf": form_token(text), "tep_da_tai": token})
    assert done.status_code == 303
    page = browser.get("/so-van-ban")
    assert "Đã nhập so-van-ban-den.csv: ghi nhận 1 báo cáo" in page.text
    submissions, imports, reviews = _counts(console)
    assert (submissions, imports, reviews) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert cells(browser.get("/?nam=2026").text)[("TT_PHU_LOC", "q3")] == "submitted_late"
    again = browser.post("/so-van-ban/nhap", data={"csrf": form_token(text), "tep_da_tai": token})
    assert again.status_code == 422 and "không còn" in again.text  # a confirmation counts once


def test_the_review_list_is_resolved_and_dismissed_from_the_page(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    shown = _upload(browser, EXPORT)
    token = shown.text.split('name="tep_da_tai" value="')[1].split('"')[0]
    browser.post("/so-van-ban/nhap", data={"csrf": form_token(shown.text), "tep_da_tai": token})
    with console.app.session() as session:
        item_id = session.scalars(select(ReviewItem.id)).one()
    csrf = page_token(browser, "/so-van-ban")
    wrong = browser.post(f"/so-van-ban/muc/{item_id}/ghi-nhan",
                         data={"csrf": csrf, "don_vi": "XA_KHONG_CO", "bao_cao": "q3", "nam": "2026"})
    assert wrong.status_code == 422 and 'value="XA_KHONG_CO"' in wrong.text  # said beside the item, kept
    done = browser.post(f"/so-van-ban/muc/{item_id}/ghi-nhan",
                        data={"csrf": csrf, "don_vi": "XA_DONG_SON", "bao_cao": "q3", "nam": "2026"})
    assert done.status_code == 303
    assert cells(browser.get("/?nam=2026").text)[("XA_DONG_SON", "q3")] == "submitted_late"
    with console.app.session() as session:
        assert session.scalar(select(ReviewItem.state).where(ReviewItem.id == item_id)) == "resolved"
    assert "Không có dòng nào cần xem xét" in browser.get("/so-van-ban").text


def test_a_file_that_is_not_a_register_export_is_refused_with_what_to_do(console: Served) -> None:
    browser = console.signed_in(RECEIVER)
    before = _counts(console)
    assert "tối đa 20 MB" in browser.get("/so-van-ban").text
    wrong_kind = _upload(browser, b"hello", "ghi-chu.txt")
    assert wrong_kind.status_code == 422 and "không phải .csv hoặc .xlsx" in wrong_kind.text
    no_header = _upload(browser, b"a,b,c\n1,2,3\n", "so.csv")
    assert no_header.status_code == 422 and "flash error" in no_header.text
    broken = _upload(browser, b"PK\x03\x04 not really a workbook", "so.xlsx")
    assert broken.status_code == 422 and "flash error" in broken.text
    nothing = browser.post("/so-van-ban/xem-truoc", data={"csrf": page_token(browser, "/so-van-ban")})
    assert nothing.status_code == 422 and "Hãy chọn tệp sổ văn bản đến" in nothing.text
    assert _counts(console) == before


def test_who_may_see_and_import_the_register(console: Served) -> None:
    leader, head = console.signed_in(LEADER), console.signed_in(HEAD)
    assert leader.get("/so-van-ban").status_code == 200
    assert "Xem trước" not in leader.get("/so-van-ban").text  # reads the review list, imports nothing
    assert head.get("/so-van-ban").status_code == 403
    for browser in (leader, head):
        token = page_token(browser)
        refused = browser.post("/so-van-ban/xem-truoc", data={"csrf": token},
                               files={"tep": ("so.csv", EXPORT, "text/csv")})
        assert refused.status_code == 403
    assert "Sổ văn bản đến" in leader.get("/").text and "Sổ văn bản đến" not in head.get("/").text
