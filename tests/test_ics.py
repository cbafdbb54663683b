"""The iCalendar export, read back the way a calendar client would read it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from icalendar import Alarm, Calendar, Event

from calendars.library import BUILTIN_DIRECTIVES, load_library
from calendars.model import YearCalendar
from calendars.workdays import WorkCalendar
from reminder_service.services.present.ics import calendar_to_ics

ROOT = Path(__file__).resolve().parents[1]
HANOI = timezone(timedelta(hours=7))
STAMP = datetime(2021, 1, 5, 9, 30, tzinfo=HANOI)
COMMUNE = "UBND các xã, thị trấn"


def year_calendar(year: int, workdays: WorkCalendar) -> YearCalendar:
    return load_library([BUILTIN_DIRECTIVES]).calendar("cchc", year, workdays)


def export(
    year: int,
    kind: str | None = None,
    *,
    workdays: WorkCalendar | None = None,
    alarm_working_days: int = 3,
    stamp: datetime = STAMP,
) -> bytes:
    workdays = workdays or WorkCalendar()
    calendar = year_calendar(year, workdays)
    return calendar_to_ics(
        calendar,
        calendar.for_kind(kind),
        workdays,
        unit_kind_names=calendar.directive.unit_kinds,
        alarm_working_days=alarm_working_days,
        stamp=stamp,
    )


def events(raw: bytes) -> dict[str, Event]:
    parsed = Calendar.from_ical(raw)
    found: dict[str, Event] = {}
    for event in parsed.events:
        assert event.uid not in found, f"duplicate UID {event.uid}"
        found[event.uid] = event
    return found


def only_alarm(event: Event) -> Alarm:
    alarms = [c for c in event.subcomponents if isinstance(c, Alarm)]
    assert len(alarms) == 1
    return alarms[0]


def alarm_fires_at(event: Event) -> datetime:
    """Where a client puts the alarm: the relative trigger added to the all-day start's local midnight."""
    trigger = only_alarm(event).TRIGGER
    assert isinstance(trigger, timedelta)
    start = event.start
    assert type(start) is date
    return datetime.combine(start, time()) + trigger


def description(event: Event) -> str:
    text = event.description
    assert isinstance(text, str)
    return text


def test_commune_2021_has_an_event_per_dated_obligation_and_none_on_request() -> None:
    found = events(export(2021, "commune"))
    assert set(found) == {
        "cchc-2021-plan-commune@reminder-service",
        "cchc-2021-q1-commune@reminder-service",
        "cchc-2021-h1-commune@reminder-service",
        "cchc-2021-q3-commune@reminder-service",
        "cchc-2021-annual-commune@reminder-service",
    }
    assert not any("supplement" in uid for uid in found)


def test_both_kinds_give_one_event_per_kind() -> None:
    found = events(export(2021))
    assert len(found) == 9
    assert "cchc-2021-q1-monitor@reminder-service" in found
    assert "cchc-2021-plan-monitor@reminder-service" not in found


def test_q1_is_an_all_day_event_on_the_nominal_deadline() -> None:
    raw = export(2021, "commune")
    q1 = events(raw)["cchc-2021-q1-commune@reminder-service"]
    # type() rather than isinstance(): a datetime is a date too, and would be a timed event.
    assert type(q1.start) is date
    assert q1.start == date(2021, 3, 13)
    assert type(q1.end) is date
    assert q1.end == date(2021, 3, 14)
    assert b"DTSTART;VALUE=DATE:20210313\r\n" in raw
    assert b"DTEND;VALUE=DATE:20210314\r\n" in raw
    assert q1.summary == "Hạn nộp: Báo cáo CCHC Quý I/2021 – UBND các xã, thị trấn"
    assert q1["TRANSP"] == "TRANSPARENT"
    assert q1.categories == ["CCHC", "Hạn nộp báo cáo"]


def test_q1_description_gives_nominal_and_effective_deadlines_and_windows() -> None:
    q1 = events(export(2021, "commune"))["cchc-2021-q1-commune@reminder-service"]
    text = description(q1)
    assert "Kỳ báo cáo: Quý I/2021" in text
    assert "Hạn nộp theo văn bản: Thứ Bảy, 13/03/2021" in text
    assert "Hết hạn nhận báo cáo: cuối ngày Thứ Hai, 15/03/2021" in text
    assert "khoản 5 Điều 148 Bộ luật Dân sự năm 2015" in text
    assert "Thời gian chốt số liệu: 15/12/2020 – 10/03/2021" in text
    assert "- Báo cáo tình hình, kết quả CCHC theo Đề cương tại Phụ lục 2A." in text
    assert "- Số liệu theo Phụ lục 3B." in text
    assert "Cách gửi: Báo cáo do lãnh đạo đơn vị ký ban hành và gửi đến Phòng Nội vụ" in text
    assert "Lịch dự kiến" not in text
    assert "{{" not in text and "{%" not in text


def test_deadline_on_a_working_day_is_not_called_rolled_forward() -> None:
    annual = events(export(2021, "commune"))["cchc-2021-annual-commune@reminder-service"]
    text = description(annual)
    assert "Hết hạn nhận báo cáo: cuối ngày Thứ Hai, 15/11/2021\n" in text
    assert "Điều 148" not in text
    assert "Thời gian tính số liệu ước đạt: 15/11/2021 – 14/12/2021" in text
    assert "Thời gian chốt số liệu: 15/12/2020 – 20/11/2021" in text
    assert "Ghi chú:\n- Thời gian chốt số liệu (đến 20/11) kết thúc sau hạn nộp" in text


def test_interpreted_deadline_is_not_quoted_as_the_directive() -> None:
    annual = events(export(2021, "monitor"))["cchc-2021-annual-monitor@reminder-service"]
    text = description(annual)
    assert "Cách xác định hạn nộp: Văn bản không nêu hạn nộp báo cáo năm của các phòng" in text
    assert "Văn bản năm 2021 ghi:" not in text


def test_q1_alarm_fires_three_working_days_before_at_eight() -> None:
    q1 = events(export(2021, "commune"))["cchc-2021-q1-commune@reminder-service"]
    alarm = only_alarm(q1)
    assert alarm.ACTION == "DISPLAY"
    assert alarm.description == ("Sắp đến hạn nộp Báo cáo CCHC Quý I/2021 – UBND các xã, thị trấn: Thứ Bảy, 13/03/2021")
    assert alarm.TRIGGER == -timedelta(days=2, hours=16)
    assert alarm_fires_at(q1) == datetime(2021, 3, 10, 8, 0)


def test_alarm_counts_working_days_not_calendar_days() -> None:
    closed_thursday = WorkCalendar(extra_days_off=[date(2021, 3, 11)])
    q1 = events(export(2021, "commune", workdays=closed_thursday))["cchc-2021-q1-commune@reminder-service"]
    assert alarm_fires_at(q1) == datetime(2021, 3, 9, 8, 0)

    five = events(export(2021, "commune", alarm_working_days=5))["cchc-2021-q1-commune@reminder-service"]
    assert alarm_fires_at(five) == datetime(2021, 3, 8, 8, 0)


def test_alarm_on_the_day_itself_moves_off_a_day_off() -> None:
    # 13/03/2021 is a Saturday: nobody is at the office to see an alarm then.
    q1 = events(export(2021, "commune", alarm_working_days=0))["cchc-2021-q1-commune@reminder-service"]
    assert alarm_fires_at(q1) == datetime(2021, 3, 12, 8, 0)


def test_alarm_and_effective_deadline_skip_tet() -> None:
    # The 2025 plan falls due on Thu 30/01/2025, the second day of Tết (days off 25/01 – 02/02).
    plan = events(export(2025, "commune"))["cchc-2025-plan-commune@reminder-service"]
    assert plan.start == date(2025, 1, 30)
    assert alarm_fires_at(plan) == datetime(2025, 1, 22, 8, 0)
    assert only_alarm(plan).TRIGGER == -timedelta(days=7, hours=16)
    assert "cuối ngày Thứ Hai, 03/02/2025 (hạn nộp rơi vào ngày nghỉ" in description(plan)


def test_negative_alarm_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="alarm_working_days"):
        export(2021, "commune", alarm_working_days=-1)


def test_stamp_is_written_in_utc_and_must_be_aware() -> None:
    raw = export(2021, "commune")
    assert raw.count(b"DTSTAMP:20210105T023000Z\r\n") == 5
    for event in events(raw).values():
        assert event.DTSTAMP == datetime(2021, 1, 5, 2, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        export(2021, "commune", stamp=datetime(2021, 1, 5, 9, 30))


def test_uids_and_bytes_are_stable_across_runs() -> None:
    first = export(2021)
    second = export(2021)
    assert first == second
    assert list(events(first)) == list(events(second))
    # A later export must keep the UIDs, or re-importing duplicates every event.
    later = export(2021, stamp=datetime(2021, 6, 1, tzinfo=UTC))
    assert list(events(later)) == list(events(first))
    assert later != first


@pytest.mark.parametrize("kind", [None, "commune"])
def test_output_does_not_depend_on_the_process_time_zone(kind: str | None) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import datetime
        from tests.test_ics import export
        sys.stdout.buffer.write(export(2021, {kind!r}, stamp=datetime.fromisoformat("{STAMP.isoformat()}")))
        """
    )
    outputs = []
    for tz in ("America/Los_Angeles", "UTC", "Asia/Ho_Chi_Minh", "Pacific/Kiritimati"):
        env = {**os.environ, "TZ": tz}
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=True, timeout=120
        )
        outputs.append(done.stdout)
    assert outputs[0].startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(out == outputs[0] for out in outputs)
    assert outputs[0] == export(2021, kind)


def test_lines_are_crlf_terminated_and_folded_at_75_octets() -> None:
    raw = export(2021)
    assert raw.endswith(b"END:VCALENDAR\r\n")
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        assert b"\n" not in line and b"\r" not in line
        assert len(line) <= 75, line
        # Folding must not cut a UTF-8 sequence in half, or strict readers reject the line.
        line.decode("utf-8")
    # The Vietnamese texts are long enough that folding must actually have happened.
    assert any(line.startswith(b" ") for line in lines)


def test_vietnamese_text_round_trips_exactly() -> None:
    workdays = WorkCalendar()
    calendar = year_calendar(2021, workdays)
    raw = export(2021)
    parsed = Calendar.from_ical(raw)
    assert parsed.calendar_name == "Lịch báo cáo CCHC năm 2021"
    assert parsed["X-WR-CALNAME"] == "Lịch báo cáo CCHC năm 2021"
    found = events(raw)
    for obligation in calendar.obligations:
        if obligation.nominal_deadline is None:
            continue
        event = found[f"cchc-2021-{obligation.id}-{obligation.kind}@reminder-service"]
        unit = calendar.directive.unit_kinds[obligation.kind]
        assert event.summary == f"Hạn nộp: {obligation.title} – {unit}"
        text = description(event)
        assert text.startswith(f"{obligation.title} – {unit}\n")
        for item in obligation.content:
            assert f"- {item}\n" in text + "\n"
        for note in obligation.notes:
            assert f"- {note}\n" in text + "\n"
        assert obligation.how_to_send in text


def test_projected_year_says_so() -> None:
    found = events(export(2026, "commune"))
    assert len(found) == 5
    for event in found.values():
        assert "Lịch dự kiến theo quy tắc của văn bản năm 2021" in description(event)
    h1 = found["cchc-2026-h1-commune@reminder-service"]
    assert h1.start == date(2026, 6, 13)
    assert "Hết hạn nhận báo cáo: cuối ngày Thứ Hai, 15/06/2026" in description(h1)
    assert "Thời gian chốt số liệu: 15/12/2025 – 10/06/2026" in description(h1)


def test_structure_is_a_valid_publishable_calendar() -> None:
    raw = export(2021)
    parsed = Calendar.from_ical(raw)
    assert parsed["PRODID"] == "-//reminder-service//CCHC deadlines//VI"
    assert parsed["VERSION"] == "2.0"
    assert parsed["CALSCALE"] == "GREGORIAN"
    assert parsed["METHOD"] == "PUBLISH"
    assert parsed["X-WR-TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert [c.name for c in parsed.subcomponents] == ["VEVENT"] * 9
    for event in parsed.events:
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION"):
            assert required in event, (event.uid, required)
        alarm = only_alarm(event)
        # RFC 5545 §3.6.6: a DISPLAY alarm needs ACTION, TRIGGER and DESCRIPTION.
        for required in ("ACTION", "TRIGGER", "DESCRIPTION"):
            assert required in alarm, (event.uid, required)
        assert event.end == event.start + timedelta(days=1)
    starts = [event.start for event in parsed.events]
    assert starts == sorted(starts)
