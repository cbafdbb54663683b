"""The receiver's daily digest and leadership's weekly summary: once per day / week, on working days."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from reminder_service.app import App
from reminder_service.channels import build_notifiers
from reminder_service.daemon import Daemon
from reminder_service.db.models import OutboxMessage
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
