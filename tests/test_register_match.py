"""Pure matching of register rows: folding, senders to units, trích yếu to obligation and year."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from reminder_service.domain.textfold import NAME_ABBREVIATIONS, expand, fold
from reminder_service.services.register.classify import Guess, classify
from reminder_service.services.register.match import UnitMatcher, UnitRef

UNITS = [
    UnitRef(1, "XA_AN_BINH", "UBND xã An Bình"),
    UnitRef(2, "TT_PHU_LOC", "UBND thị trấn Phú Lộc"),
    UnitRef(3, "VHTT", "Phòng Văn hóa – Thông tin"),
    UnitRef(4, "XA_TAN_LAP", "UBND xã Tân Lập"),
    UnitRef(5, "TT_TAN_LAP", "UBND thị trấn Tân Lập"),
    UnitRef(6, "VP", "Văn phòng HĐND – UBND"),
    UnitRef(7, "TCKH", "Phòng Tài chính – Kế hoạch"),
    UnitRef(8, "KTHT", "Phòng Kinh tế – Hạ tầng"),
    UnitRef(9, "XA_DONG_THANH", "Xã Đồng Thạnh"),
    UnitRef(10, "NOIVU", "Phòng Nội vụ"),
]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ủy ban nhân dân Thị trấn Phú Lộc", "uy ban nhan dan thi tran phu loc"),
        ("Uỷ ban   nhân dân", "uy ban nhan dan"),  # the other tone-mark placement
        ("ĐỒNG THẠNH", "dong thanh"),
        ("Phòng Văn hóa – Thông tin", "phong van hoa thong tin"),
        ("Số, ký hiệu", "so ky hieu"),
        ("  Báo cáo\tCCHC/Quý I-2021 ", "bao cao cchc quy i 2021"),
    ],
)
def test_fold_removes_diacritics_case_punctuation_and_spacing(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(unicodedata.normalize("NFD", text)) == folded  # Windows-1258 exports arrive decomposed


def test_ambiguous_abbreviations_give_every_reading() -> None:
    assert expand(fold("P. Hòa Bình"), NAME_ABBREVIATIONS) == ["phong hoa binh", "phuong hoa binh"]
    assert expand(fold("VH-TT"), NAME_ABBREVIATIONS) == ["van hoa thong tin"]
    assert expand(fold("UBND TT Phú Lộc"), NAME_ABBREVIATIONS)[0] == "uy ban nhan dan thi tran phu loc"


@pytest.mark.parametrize(
    ("sender", "code"),
    [
        ("UBND xã An Bình", "XA_AN_BINH"),
        ("Uy ban nhan dan xa An Binh", "XA_AN_BINH"),
        ("ỦY BAN NHÂN DÂN XÃ AN BÌNH", "XA_AN_BINH"),
        ("Xã An Bình", "XA_AN_BINH"),
        ("An Bình", "XA_AN_BINH"),
        ("UBND xã An Bình, huyện Sông Lam", "XA_AN_BINH"),
        ("Chủ tịch UBND xã An Bình", "XA_AN_BINH"),
        ("UBND TT Phú Lộc", "TT_PHU_LOC"),
        ("UBND T.T Phú Lộc", None),  # "T.T" is two letters, not an abbreviation we know
        ("Ủy ban nhân dân thị trấn Phú Lộc - tỉnh Nghệ An", "TT_PHU_LOC"),
        ("P. Văn hóa - Thông tin", "VHTT"),
        ("Ph. Văn hoá và Thông tin", "VHTT"),
        ("Phòng VH-TT", "VHTT"),
        ("Phòng VH&TT huyện", "VHTT"),
        ("Trung tâm Văn hóa - Thông tin", None),
        ("Văn phòng HĐND và UBND huyện", "VP"),
        ("VP HĐND-UBND", "VP"),
        ("P. TC-KH", "TCKH"),
        ("Phòng Tài chính và Kế hoạch", "TCKH"),
        ("P.KT-HT", "KTHT"),
        ("UBND xã Dong Thanh", "XA_DONG_THANH"),
        ("Phòng Nội vụ", "NOIVU"),
        ("P. NV", "NOIVU"),
        ("Sở Nội vụ tỉnh Nghệ An", None),
        ("Trường THCS xã An Bình", None),
        ("UBND xã An Bình Tây", None),
        ("UBND huyện", None),
        ("", None),
    ],
)
def test_sender_matches_one_unit_or_none(sender: str, code: str | None) -> None:
    found = UnitMatcher(UNITS).match(sender)
    assert (found.unit.code if found.unit else None) == code
    if code is None:
        assert found.reason == "unknown_unit"
        assert found.candidates == ()


@pytest.mark.parametrize("sender", ["UBND Tân Lập", "Tân Lập", "Uy ban nhan dan Tan Lap, huyen Song Lam"])
def test_similar_names_are_ambiguous_not_guessed(sender: str) -> None:
    found = UnitMatcher(UNITS).match(sender)
    assert found.unit is None
    assert found.reason == "ambiguous_unit"
    assert [u.code for u in found.candidates] == ["TT_TAN_LAP", "XA_TAN_LAP"]


def test_the_kind_of_unit_separates_same_named_units() -> None:
    matcher = UnitMatcher(UNITS)
    assert matcher.match("UBND xã Tân Lập").unit == UNITS[3]
    assert matcher.match("UBND TT Tân Lập").unit == UNITS[4]


M21 = date(2021, 3, 12)


@pytest.mark.parametrize(
    ("summary", "received", "code", "year"),
    [
        ("Báo cáo kết quả CCHC quý I năm 2021", M21, "q1", 2021),
        ("Báo cáo kết quả thực hiện công tác cải cách hành chính Quý I/2021", M21, "q1", 2021),
        ("BC CCHC quý 1 năm 2021", M21, "q1", 2021),
        ("Báo cáo CCHC Q1/2021", M21, "q1", 2021),
        ("V/v báo cáo kết quả cải cách hành chính quý I", M21, "q1", 2021),
        ("Báo cáo tình hình, kết quả thực hiện CCHC 6 tháng đầu năm 2021", date(2021, 6, 11), "h1", 2021),
        ("Báo cáo CCHC sáu tháng đầu năm", date(2021, 6, 11), "h1", 2021),
        ("BÁO CÁO CÔNG TÁC CẢI CÁCH HÀNH CHÍNH 6 THÁNG NĂM 2021", date(2021, 6, 11), "h1", 2021),
        ("Báo cáo kết quả CCHC quý III năm 2021", date(2021, 9, 10), "q3", 2021),
        ("Báo cáo CCHC quý 3/2021", date(2021, 9, 10), "q3", 2021),
        ("Báo cáo CCHC năm 2021", date(2021, 11, 12), "annual", 2021),
        ("Báo cáo công tác CCHC năm 2021 và phương hướng, nhiệm vụ năm 2022", date(2021, 11, 12), "annual", 2021),
        ("Báo cáo tổng kết công tác cải cách hành chính", date(2021, 11, 12), "annual", 2021),
        ("Báo cáo kết quả thực hiện Kế hoạch CCHC năm 2021", date(2021, 11, 12), "annual", 2021),
        ("Kế hoạch CCHC năm 2021", date(2021, 1, 25), "plan", 2021),
        ("Kế hoạch cải cách hành chính năm 2022 của UBND xã", date(2021, 12, 28), "plan", 2022),
        ("Kế hoạch thực hiện công tác CCHC", date(2021, 1, 25), "plan", 2021),
        ("Báo cáo kết quả thực hiện Kế hoạch số 10/KH-UBND ngày 22/01/2021 về CCHC quý III", date(2021, 9, 9),
         "q3", 2021),
        ("Báo cáo kết quả CCHC quý I và nhiệm vụ trọng tâm quý II năm 2021", M21, "q1", 2021),
        ("Báo cáo bổ sung số liệu CCHC năm 2021", date(2021, 12, 14), "supplement", 2021),
        ("Báo cáo đột xuất về công tác CCHC", date(2021, 8, 2), "adhoc", 2021),
        # A late quarterly report: Quý III cannot be this year's in March.
        ("Báo cáo CCHC quý III năm 2020", date(2021, 3, 1), "q3", 2020),
    ],
)
def test_cchc_reports_are_classified(summary: str, received: date, code: str, year: int) -> None:
    result = classify(summary, received)
    assert (result.outcome, result.code, result.year) == ("matched", code, year)


@pytest.mark.parametrize(
    "summary",
    [
        "Báo cáo tình hình kinh tế - xã hội quý I năm 2021",
        "Giấy mời họp giao ban tháng 3",
        "Kế hoạch phòng, chống dịch Covid-19",
        "Quyết định công nhận xã đạt chuẩn nông thôn mới",
        "Tờ trình về việc cải cách hành chính",  # CCHC, but neither a report nor a plan
        "",
    ],
)
def test_other_documents_are_not_cchc_reports(summary: str) -> None:
    assert classify(summary, M21).outcome == "not_cchc"


@pytest.mark.parametrize(
    ("summary", "received", "outcome", "candidates", "note"),
    [
        ("Báo cáo CCHC quý I và 6 tháng đầu năm 2021", date(2021, 6, 11), "ambiguous_obligation",
         (Guess("q1", 2021), Guess("h1", 2021)), "nhiều kỳ báo cáo: quý I, 6 tháng đầu năm"),
        ("Báo cáo CCHC năm", date(2022, 1, 10), "ambiguous_obligation",
         (Guess("annual", 2021), Guess("annual", 2022)), "có thể thuộc năm 2021 hoặc 2022"),
        ("Báo cáo cải cách hành chính quý III", date(2022, 1, 6), "ambiguous_obligation",
         (Guess("q3", 2021), Guess("q3", 2022)), "không ghi năm"),
        ("Kế hoạch CCHC", date(2020, 12, 20), "ambiguous_obligation",
         (Guess("plan", 2020), Guess("plan", 2021)), "có thể thuộc năm 2020 hoặc 2021"),
        ("Báo cáo CCHC quý I năm 2021 (bổ sung)", M21, "ambiguous_obligation",
         (Guess("supplement", 2021), Guess("q1", 2021)), "nhiều kỳ báo cáo"),
        ("Báo cáo kết quả CCHC năm 2020 - 2021", date(2021, 11, 12), "ambiguous_obligation",
         (), "nhiều năm: 2020, 2021"),
        ("Báo cáo kết quả công tác CCHC", M21, "unknown_obligation", (), "không nêu rõ kỳ báo cáo"),
        ("Báo cáo CCHC tháng 3 năm 2021", M21, "unknown_obligation", (), "báo cáo tháng không có"),
        ("Báo cáo CCHC 6 tháng cuối năm 2021", date(2021, 12, 10), "unknown_obligation",
         (Guess("annual", 2021),), "6 tháng cuối năm"),
        ("Báo cáo tự đánh giá, chấm điểm Chỉ số CCHC năm 2021", date(2021, 12, 10), "unknown_obligation", (),
         "không phải báo cáo định kỳ"),
        ("Kế hoạch tuyên truyền CCHC năm 2021", date(2021, 2, 1), "unknown_obligation", (), "tuyên truyền"),
        ("Kế hoạch CCHC giai đoạn 2021-2025", date(2021, 2, 1), "unknown_obligation", (), "giai đoạn"),
        ("Báo cáo CCHC quý I/2012", M21, "unknown_obligation", (Guess("q1", 2012),), "không khớp với ngày đến"),
    ],
)
def test_unclear_reports_go_to_review_with_candidates(
    summary: str, received: date, outcome: str, candidates: tuple[Guess, ...], note: str
) -> None:
    result = classify(summary, received)
    assert result.outcome == outcome
    assert result.code is None
    if candidates:
        assert set(result.candidates) == set(candidates)
    assert note in result.note


def test_no_received_date_and_no_year_is_not_guessed() -> None:
    result = classify("Báo cáo CCHC quý I", None)
    assert result.outcome == "ambiguous_obligation"
    assert result.candidates == (Guess("q1", None),)
