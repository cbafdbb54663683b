"""The receiver's daily digest and leadership's weekly summary: once per day / week, on working days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from reminder_service.app import App
from reminder_service.channels import build_notifiers
from reminder_service.daemon import Daemon
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import Obligation, OutboxMessage
from reminder_service.services.demo import load_demo
from reminder_service.services.readside import Filters, overdue_rows
from reminder_service.services.submissions import record_submission
from tests.district import HEAD, LEADER, RECEIVER, district


def _district(app: App) -> None:
    district(app, {**HEAD, "channels": "email"}, RECEIVER, LEADER)


def _reconcile(app: App, moment: datetime) -> None:
    Daemon(app, build_notifiers(app.config), clock=lambda: moment).reconcile()


def _summaries(app: App) -> list[tuple[str, str, str]]:
    with app.session() as session:
        rows = session.execute(select(OutboxMessage.stage, OutboxMessage.dedupe_key, OutboxMessage.subject)
                               .where(OutboxMessage.obligation_id.is_(None)).order_by(OutboxMessage.id)).all()
    return [(stage, key, subject) for stage, key, subject in rows]


def test_one_digest_a_working_day_and_one_summary_a_week(app: App) -> None:
    _district(app)
    for moment in (datetime(2021, 3, 15, 8, 30), datetime(2021, 3, 15, 14, 0),  # Monday, twice
                   datetime(2021, 3, 16, 9, 0),  # Tuesday
                   datetime(2021, 3, 20, 9, 0)):  # Saturday: nothing
        _reconcile(app, moment)
    summaries = _summaries(app)
    digests = [key for stage, key, _ in summaries if stage == "digest"]
    weekly = [key for stage, key, _ in summaries if stage == "weekly"]
    assert len(digests) == 2 and {k.split(":")[1] for k in digests} == {"2021-03-15", "2021-03-16"}
    assert len(weekly) == 1 and weekly[0].startswith("weekly:2021-W11:")
    with app.session() as session:
        digest = session.scalars(select(OutboxMessage).where(OutboxMessage.stage == "digest")).first()
        assert digest is not None and digest.address == "noivu@songlam.example"
        assert "UBND xã An Bình" in digest.body_text  # the overdue plan is listed with its unit


def test_no_digest_outside_office_hours(app: App) -> None:
    _district(app)
    _reconcile(app, datetime(2021, 3, 16, 19, 0))
    assert _summaries(app) == []


def test_the_weekly_summary_reports_the_week_that_ended(app: App) -> None:
    """Sent on Monday 07/12/2026, it covers 30/11–06/12: figures as of that Sunday, and a title saying so."""
    load_demo(app, Actor("demo", "cli"), datetime(2026, 12, 7, 7, 0))
    with app.session() as session:
        missing = overdue_rows(session, Filters(as_of=date(2026, 12, 7), year=2026, obligation="annual"),
                               app.workdays, 3)
        assert len(missing) == 3  # the demo's fixed picture: 15 on time, 8 late, 3 missing
        # One arrives inside the covered week, one on the sending Monday before the summary goes out.
        for oid, at in ((missing[0].obligation_id, datetime(2026, 12, 3, 10, 0)),
                        (missing[1].obligation_id, datetime(2026, 12, 7, 8, 0))):
            obligation = session.get(Obligation, oid)
            assert obligation is not None
            record_submission(session, obligation, received_at=at, doc_no=f"9{oid}/BC", note=None,
                              actor=Actor("test", "cli"), now=at)
    _reconcile(app, datetime(2026, 12, 7, 9, 0))
    with app.session() as session:
        weekly = session.scalars(select(OutboxMessage).where(OutboxMessage.stage == "weekly")).one()
    assert weekly.subject == "Tổng hợp tình hình báo cáo CCHC tuần 30/11/2026 – 06/12/2026"
    assert "trong tuần từ 30/11/2026 đến 06/12/2026 (số liệu tính đến hết ngày 06/12/2026)" in weekly.body_text
    # The 03/12 submission counts, the 07/12 one belongs to next week's figures.
    line = next(x for x in weekly.body_text.splitlines() if x.startswith("- Báo cáo CCHC năm 2026 ("))
    assert line.endswith("26 đơn vị phải nộp, đã nộp 24 (đúng hạn 15, muộn 9); quá hạn 2.")


def test_a_summary_to_a_channel_without_an_address_is_skipped_with_the_words_reminders_use(app: App) -> None:
    """The digest lists skipped people by the stored reason: one wording whoever wrote the row."""
    district(app, {**HEAD, "channels": "email"}, {**RECEIVER, "channels": "email,telegram"}, LEADER)
    _reconcile(app, datetime(2021, 3, 16, 9, 0))
    with app.session() as session:
        rows = session.execute(select(OutboxMessage.stage, OutboxMessage.channel, OutboxMessage.state,
                                      OutboxMessage.last_error, OutboxMessage.body_text)
                               .where(OutboxMessage.state == "skipped").order_by(OutboxMessage.id)).all()
    # The receiver is also told of the overdue report by the tick: both rows read the same.
    assert [tuple(r) for r in rows] == [("overdue", "telegram", "skipped", "chưa liên kết Telegram", ""),
                                        ("digest", "telegram", "skipped", "chưa liên kết Telegram", "")]
