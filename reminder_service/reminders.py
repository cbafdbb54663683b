"""Turning decided rungs into message text: bulk-load the rows a batch of decisions needs, then render.

The reconcile tick calls ``TemplateRenderer.for_decisions`` once per tick; rendering itself is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calendars.model import YearCalendar
from calendars.workdays import WorkCalendar
from reminder_service.db.models import LadderStep, Obligation, Submission, Unit
from reminder_service.escalation.decide import Decision, Delivery
from reminder_service.messages.context import reminder_context
from reminder_service.messages.render import render_reminder
from reminder_service.reconcile import Render, Rendered


@dataclass
class TemplateRenderer:
    calendar_of: Callable[[int], YearCalendar]
    office_name: str
    workdays: WorkCalendar
    today: date

    def for_decisions(self, session: Session, decisions: Sequence[Decision]) -> Render:
        """Two queries for the whole batch: the obligations with their units, and incomplete marks."""
        ids = sorted({d.obligation_id for d in decisions})
        rows: dict[int, tuple[Obligation, Unit]] = {}
        missing: dict[int, str | None] = {}
        # (obligation, series, stage) -> rungs of it actually sent before: "Đôn đốc lần N" counts messages
        # the unit received, not rungs skipped while the service was down.
        sent_before: dict[tuple[int, str, str], int] = {}
        # Chunks keep the IN list under every database's parameter limit on a busy deadline day.
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            for obligation, unit in session.execute(
                select(Obligation, Unit).join(Unit, Obligation.unit_id == Unit.id).where(Obligation.id.in_(chunk))
            ):
                rows[obligation.id] = (obligation, unit)
            for oid, what in session.execute(
                select(Submission.obligation_id, Submission.missing)
                .where(Submission.obligation_id.in_(chunk), Submission.state == "incomplete")
                .order_by(Submission.marked_at)
            ):
                missing[oid] = what
            for oid, series, stage, count in session.execute(
                select(LadderStep.obligation_id, LadderStep.series, LadderStep.stage, func.count())
                .where(LadderStep.obligation_id.in_(chunk), LadderStep.outcome == "sent")
                .group_by(LadderStep.obligation_id, LadderStep.series, LadderStep.stage)
            ):
                sent_before[(oid, series, stage)] = int(count)

        def render(decision: Decision, delivery: Delivery) -> Rendered:
            obligation, unit = rows[decision.obligation_id]
            context = reminder_context(
                obligation, unit, delivery.recipient, calendar=self.calendar_of(obligation.year),
                office_name=self.office_name, today=self.today, workdays=self.workdays,
                role=delivery.recipient.role, missing=missing.get(decision.obligation_id),
            )
            context = replace(context, leadership_informed=decision.leadership_informed,
                              reminder_round=sent_before.get(
                                  (decision.obligation_id, decision.series, decision.rung.stage), 0) + 1)
            done = render_reminder(context, decision.stage.template_name, delivery.channel)
            return Rendered(done.subject, done.text, done.html)

        return render
