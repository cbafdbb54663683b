"""The day's roll-up: the demo district replayed on Monday 07/12/2026 09:00, messages counted per person.

Before the roll-up, leadership got one "Báo cáo lãnh đạo" e-mail per late unit (24) plus the weekly
summary, and the receiver 24 plus the digest: 73 e-mails in all.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import create_engine, select

from reminder_service.app import App
from reminder_service.services.db.models import LadderStep, OutboxMessage, Person
from reminder_service.services.outbox import text as outbox_text
from tests.conftest import Cli


def _sent(db_url: str) -> list[tuple[str, str, str, str, str]]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Person.role, Person.name, OutboxMessage.stage, *outbox_text.COLUMNS)
            .select_from(outbox_text.joined().join(Person, OutboxMessage.person_id == Person.id))
            .where(OutboxMessage.state == "sent")
        ).all()
    engine.dispose()
    # A reminder's text is its form with its names filled in (services/outbox/text.py).
    return [(r.role, r.name, r.stage, (t := outbox_text.text_of(r)).subject, t.text) for r in rows]


def test_leadership_and_the_receiver_get_one_message_a_day_about_late_units(db_cli: Cli, db_url: str) -> None:
    assert db_cli("init", "--demo", "--as-of", "07/12/2026").code == 0
    assert db_cli("run", "--once", "--at", "07/12/2026 09:00").code == 0
    sent = _sent(db_url)
    per_person = Counter((role, name) for role, name, *_ in sent)
    leaders = {name: n for (role, name), n in per_person.items() if role == "leadership"}
    receivers = {name: n for (role, name), n in per_person.items() if role == "receiver"}
    assert leaders and receivers
    assert max(leaders.values()) <= 2 and max(receivers.values()) <= 2
    assert {stage for role, _, stage, *_ in sent if role == "leadership"} == {"rollup", "weekly"}
    assert {stage for role, _, stage, *_ in sent if role == "receiver"} == {"digest"}

    # Every unit escalated today is in leadership's roll-up and in the receiver's digest, and its head
    # still got a message of their own, worded as a reminder to the unit.
    [rollup] = [body for role, _, stage, _, body in sent if stage == "rollup"]
    [digest] = [body for role, _, stage, _, body in sent if stage == "digest"]
    heads = [(name, subject, body) for role, name, stage, subject, body in sent
             if role == "unit_head" and stage == "escalated"]
    assert heads
    for name, subject, body in heads:
        assert f"thủ trưởng: {name}" in rollup
        assert "Báo cáo lãnh đạo" not in subject
        assert "đã báo cáo Lãnh đạo UBND huyện" in body  # true: the leader's roll-up went out
    escalated = {subject for _, subject, _ in heads if subject.startswith("Đôn đốc lần")}
    assert len(escalated) > 20  # the demo's late reports, one e-mail each to their unit heads
    assert sum(1 for line in rollup.splitlines() if "thủ trưởng:" in line) == len(escalated)
    # Each line says how often the unit was reminded; the roll-up claims no "many times" the lines deny.
    assert "đã nhắc 1 lần" in rollup and "nhiều lần" not in rollup
    assert f"Đơn vị bị đôn đốc, báo cáo lãnh đạo hôm nay ({len(escalated)})" in digest

    # A second tick the same day, or a second instance, adds nothing.
    assert db_cli("run", "--once", "--at", "07/12/2026 10:00").code == 0
    assert len(_sent(db_url)) == len(sent)


def test_without_leadership_nobody_is_told_it_was_reported(app: App, db_cli: Cli, db_url: str) -> None:
    assert db_cli("init", "--demo", "--as-of", "07/12/2026").code == 0
    with app.session() as session:
        for leader in session.scalars(select(Person).where(Person.role == "leadership")):
            leader.active = False
        session.commit()
    assert db_cli("run", "--once", "--at", "07/12/2026 09:00").code == 0
    sent = _sent(db_url)
    heads = [body for role, _, stage, _, body in sent if role == "unit_head" and stage == "escalated"]
    assert heads and not any("báo cáo Lãnh đạo" in body for body in heads)
    [digest] = [body for role, _, stage, _, body in sent if stage == "digest"]
    assert "Lưu ý thiết lập: Danh bạ chưa có lãnh đạo nào có địa chỉ nhận tin" in digest
    assert not [stage for _, _, stage, *_ in sent if stage == "rollup"]
    with app.session() as session:
        assert session.scalar(select(LadderStep.id).where(LadderStep.stage == "escalated")) is not None


def test_simulate_shows_the_roll_up_instead_of_one_message_per_unit(db_cli: Cli) -> None:
    import json

    assert db_cli("init", "--demo", "--as-of", "07/12/2026").code == 0
    result = db_cli("simulate", "--year", "2026", "--from", "01/12/2026", "--to", "11/12/2026", "-f", "json")
    assert result.code == 0, result.err
    messages = json.loads(result.out)
    office = [m for m in messages if m["role"] in ("leadership", "receiver")]
    assert office and {m["stage"] for m in office} == {"rollup", "digest"}
    days = Counter((m["at"], m["role"]) for m in office)
    assert max(days.values()) == 1  # one a day per person and channel (the demo's office uses e-mail only)


def test_preview_shows_the_digest_the_weekly_summary_and_the_roll_up(db_cli: Cli, db_url: str) -> None:
    assert db_cli("init", "--demo", "--as-of", "07/12/2026").code == 0
    assert db_cli("run", "--once", "--at", "07/12/2026 09:00").code == 0
    sent = {stage: body for _, _, stage, _, body in _sent(db_url) if stage in ("rollup", "digest", "weekly")}
    for flag, stage in (("--rollup", "rollup"), ("--digest", "digest"), ("--weekly", "weekly")):
        shown = db_cli("preview", flag, "--as-of", "07/12/2026")
        assert shown.code == 0, shown.err
        # What the person would read is what the daemon sent that day (the e-mail's text part).
        assert shown.out.split("\n\n", 1)[1].strip() == sent[stage].strip(), flag
    weekly = db_cli("preview", "--weekly", "--as-of", "07/12/2026")
    assert "tuần 30/11/2026 – 06/12/2026" in weekly.out
    nothing = db_cli("preview", "--rollup", "--as-of", "06/12/2026")
    assert nothing.code == 2 and "không có đơn vị nào bị đôn đốc" in nothing.err
    half = db_cli("preview", "--unit", "XA_AN_BINH")
    assert half.code == 2 and "--digest" in half.err
