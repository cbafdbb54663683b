"""One period vocabulary: the bot's strict reading and the register's lenient one mean the same report."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminder_service.adapters.telegram.periods import resolve_period
from reminder_service.app import App
from reminder_service.domain.periods import SPELLINGS, pick
from reminder_service.services.register.classify import classify
from tests import test_readside
from tests.conftest import Cli
from tests.test_register_import import _import, _organisation, _write_csv

org = test_readside.org  # the organised district the read-side tests use

CCHC = {"plan", "q1", "h1", "q3", "annual"}
ND09 = {"q1", "q2", "q3", "q4", "h1", "m9", "annual"}


@pytest.mark.parametrize(("word", "codes", "meant"), [
    ("9 tháng", CCHC, "q3"),  # the CCHC directive's third-quarter report covers nine months
    ("9 tháng", ND09, "m9"),  # Decree 09 has a nine-month report of its own beside quý III
    ("chín tháng", ND09, "m9"),
    ("quý III", ND09, "q3"),
    ("quý tư", ND09, "q4"),
    ("Quý IV", ND09, "q4"),
])
def test_the_bot_reads_a_period_as_the_directive_names_it(word: str, codes: set[str], meant: str) -> None:
    assert resolve_period(word, codes) == meant


def test_a_word_for_a_report_no_directive_has_stays_itself() -> None:
    assert pick("m9", {"q1"}) == "m9" and pick("q1", ND09) == "q1"


def test_the_register_finds_in_a_sentence_what_the_bot_reads_as_a_whole() -> None:
    """Every quarter spelling the bot takes ("quý tư", "quý 3", "quý III") is found in a trích yếu too."""
    for spelled, code in SPELLINGS.items():
        if not spelled.startswith("quy"):
            continue
        summary = f"Báo cáo kết quả cải cách hành chính quy {spelled[3:]} năm 2021"
        assert classify(summary, None).code == code, summary


def test_a_nine_month_report_in_the_register_is_recorded_as_the_cchc_third_quarter(app: App, tmp_path: Path) -> None:
    _organisation(app)
    rows: list[tuple[str, ...]] = [
        ("301", "10/09/2021", "60/BC-UBND", "UBND xã An Bình", "Báo cáo kết quả CCHC 9 tháng năm 2021"),
    ]
    summary = _import(app, _write_csv(tmp_path / "chin-thang.csv", rows))
    assert [(r.unit_code, r.obligation_code, r.year) for r in summary.recorded] == [("XA_AN_BINH", "q3", 2021)]
    assert not summary.review


def test_the_cli_takes_a_report_as_people_write_it_and_refuses_in_the_same_words(org: App, db_cli: Cli) -> None:
    by_code = db_cli("status", "--year", "2021", "--obligation", "q1", "--format", "json")
    by_words = db_cli("status", "--year", "2021", "--obligation", "Quý I", "--format", "json")
    assert by_code.code == by_words.code == 0 and by_words.out == by_code.out and '"q1"' in by_code.out
    unknown = db_cli("status", "--year", "2021", "--obligation", "quý II")
    assert unknown.code == 2 and 'không có báo cáo mã "quý ii" năm 2021; các mã hiện có: annual, h1' in unknown.err
