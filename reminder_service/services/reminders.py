"""Turning decided rungs into message text: bulk-load the rows a batch of decisions needs, then render.

The reconcile tick calls ``TemplateRenderer.for_decisions`` once per tick; rendering itself is pure, and
each distinct message form is rendered once per tick (``messages.memo``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from calendars.model import YearCalendar
from calendars.workdays import WorkCalendar
from reminder_service.domain.escalation.decide import Decision, Delivery
from reminder_service.domain.messages.context import ReminderContext, reminder_context, reminder_facts, row_facts
from reminder_service.domain.messages.form import Formed
from reminder_service.domain.messages.memo import ReminderMemo
from reminder_service.domain.messages.render import Rendered
from reminder_service.services.db.models import LadderStep, Obligation, Submission, Unit, table_of
from reminder_service.services.reconcile import Render


@dataclass
class TemplateRenderer:
    calendar_of: Callable[[int], YearCalendar]
    office_name: str
    workdays: WorkCalendar
    today: date

    def for_decisions(self, session: Session, decisions: Sequence[Decision]) -> Render:
        """A few queries for the whole batch: the obligations, their units, incomplete marks, rounds sent."""
        ids = sorted({d.obligation_id for d in decisions})
        rows: dict[int, tuple[Row[Any], Row[Any]]] = {}
        units: dict[int, Any] = {}
        missing: dict[int, str | None] = {}
        # (obligation, series, stage) -> rungs of it actually sent before: "Đôn đốc lần N" counts messages
        # the unit received, not rungs skipped while the service was down.
        sent_before: dict[tuple[int, str, str], int] = {}
        # Chunks keep the IN list under every database's parameter limit on a busy deadline day.
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            # Plain rows, not ORM objects: a notice day loads tens of thousands and only reads them.
            obligations = session.execute(select(*table_of(Obligation).c).where(Obligation.id.in_(chunk))).all()
            wanted = sorted({o.unit_id for o in obligations} - units.keys())
            units.update((u.id, u) for u in session.execute(
                select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.sections).where(Unit.id.in_(wanted))))
            rows.update((o.id, (o, units[o.unit_id])) for o in obligations)
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

        memo = ReminderMemo()
        # The obligation's and unit's facts, once for the four or so messages of each obligation.
        facts_of: dict[int, tuple[object, ...]] = {}

        def render(decision: Decision, delivery: Delivery) -> Rendered | Formed:
            oid, recipient = decision.obligation_id, delivery.recipient
            obligation, unit = rows[oid]
            rows_facts = facts_of.get(oid)
            if rows_facts is None:
                rows_facts = facts_of[oid] = row_facts(obligation, unit)
            role, what, informed = recipient.role, missing.get(oid), decision.leadership_informed
            round_ = sent_before.get((oid, decision.series, decision.rung.stage), 0) + 1

            def context() -> ReminderContext:
                return reminder_context(obligation, unit, recipient, calendar=self.calendar_of(obligation.year),
                                        office_name=self.office_name, today=self.today, workdays=self.workdays,
                                        role=role, missing=what, leadership_informed=informed,
                                        reminder_round=round_)

            facts = reminder_facts(rows_facts, recipient, role=role, missing=what, leadership_informed=informed,
                                   reminder_round=round_)
            return memo.render_facts(facts, unit.name, unit.code, recipient.name, context,
                                     decision.stage.template_name, delivery.channel)

        return render
