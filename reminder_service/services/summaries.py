"""The receiver's daily digest, leadership's day roll-up and weekly summary, written to the outbox like
reminders.

Each is unique per (day or ISO week, person, channel) through its dedupe key, so however many ticks
run, and however many instances, each person gets one digest a day, one roll-up a day and one summary a
week. The roll-up lists the units escalated that day (the ladder rungs decided today whose
office deliveries the decision rolled up): leadership gets it as one message, the receiver inside the
digest. Rungs are decided at the day's first tick in office hours, so the roll-up written at that tick
holds them all; a rung decided later the same day (a report un-recorded at noon) is in the next digest's
overdue list, and leadership hears of it at its next rung.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.domain.clock import wall
from reminder_service.domain.escalation.decide import Held, Recipient, in_send_window, leadership_reachable
from reminder_service.domain.escalation.policy import ROLLUP_ROLES, ROLLUP_STAGES, Policy
from reminder_service.domain.messages.render import Rendered, render_digest, render_rollup, render_weekly
from reminder_service.domain.messages.summary import (
    DeliveryFailure,
    EscalatedUnit,
    HeldStage,
    IntakeState,
    ObligationCount,
    OverdueUnit,
    SkippedPerson,
    counts_by_obligation,
    digest_due,
    overdue_units,
)
from reminder_service.domain.status import StatusRow
from reminder_service.services.db.models import (
    DeliveryAttempt,
    LadderStep,
    Obligation,
    OutboxMessage,
    Person,
    Unit,
)
from reminder_service.services.outbox.enqueue import Envelope, enqueue_new
from reminder_service.services.readside import Filters, status_rows

# Failures and skipped people are reported for this long, so a Monday digest covers the weekend.
LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class SummaryReport:
    digests: int
    weekly: int
    rollups: int = 0


def first_working_day_of_week(day: date, workdays: WorkCalendar) -> date:
    monday = day - timedelta(days=day.weekday())
    return workdays.on_or_after(monday)


def week_before(day: date) -> tuple[date, date]:
    """Monday and Sunday of the calendar week that ended before ``day``'s week began.

    The weekly summary goes out at the start of a week and reports the week that ended; its title
    and its figures must both be about that week, so the figures are taken as of its Sunday.
    """
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def _failures(session: Session, since: datetime) -> list[DeliveryFailure]:
    rows = session.execute(
        select(Person.name, OutboxMessage.channel, OutboxMessage.stage, Unit.name, OutboxMessage.last_error,
               DeliveryAttempt.at)
        .join(DeliveryAttempt, DeliveryAttempt.outbox_id == OutboxMessage.id)
        .outerjoin(Person, OutboxMessage.person_id == Person.id)
        .outerjoin(Obligation, OutboxMessage.obligation_id == Obligation.id)
        .outerjoin(Unit, Obligation.unit_id == Unit.id)
        .where(OutboxMessage.state == "dead", DeliveryAttempt.outcome == "dead", DeliveryAttempt.at >= since)
        .order_by(DeliveryAttempt.at)
    ).all()
    return [DeliveryFailure(name or "—", channel, stage, unit, error or "", at)
            for name, channel, stage, unit, error, at in rows]


def _skipped(session: Session, since: datetime) -> list[SkippedPerson]:
    rows = session.execute(
        select(Person.name, Unit.name, OutboxMessage.channel, OutboxMessage.last_error).distinct()
        .join(Person, OutboxMessage.person_id == Person.id)
        .outerjoin(Unit, Person.unit_id == Unit.id)
        .where(OutboxMessage.state == "skipped", OutboxMessage.created_at >= since)
        .order_by(Unit.name, Person.name)
    ).all()
    return [SkippedPerson(name, unit, channel, reason or "") for name, unit, channel, reason in rows]


def _held(session: Session, held: Sequence[Held]) -> tuple[HeldStage, ...]:
    if not held:
        return ()
    ids = [h.obligation_id for h in held]
    names = {oid: (unit, title) for oid, unit, title in session.execute(
        select(Obligation.id, Unit.name, Obligation.title).join(Unit).where(Obligation.id.in_(ids[:5000])))}
    return tuple(HeldStage(*names.get(h.obligation_id, ("—", "—")), h.stage, h.due_on) for h in held)


def _escalated_today(session: Session, today: date, rows: Sequence[StatusRow], policy: Policy,
                     role: str) -> list[EscalatedUnit]:
    """The units escalated today that ``role`` hears of, most overdue first."""
    stages = [s.name for s in (*policy.stages, *policy.incomplete_stages)
              if s.name in ROLLUP_STAGES and role in s.roles]
    if not stages:
        return []
    start = datetime.combine(today, time())
    today_steps = (LadderStep.stage.in_(stages), LadderStep.outcome == "sent", LadderStep.decided_at >= start,
                   LadderStep.decided_at < start + timedelta(days=1))
    chased = session.execute(select(LadderStep.obligation_id, LadderStep.stage).where(*today_steps)
                             .order_by(LadderStep.obligation_id)).all()
    if not chased:
        return []
    # Times reminded, in one query whatever the number of units: a subquery, not an IN list of ids.
    escalated_ids = select(LadderStep.obligation_id).where(*today_steps)
    times = dict(session.execute(
        select(LadderStep.obligation_id, func.count())
        .where(LadderStep.obligation_id.in_(escalated_ids), LadderStep.outcome == "sent")
        .group_by(LadderStep.obligation_id)).all())
    by_id = {row.obligation_id: row for row in rows}
    found = [EscalatedUnit(row.unit_name, row.title, stage, row.status.working_days or 0, int(times.get(oid, 0)),
                           row.unit_head)
             for oid, stage in chased if (row := by_id.get(oid)) is not None and row.status.needs_chasing]
    return sorted(found, key=lambda u: (-u.working_days, u.unit_name, u.title))


def _week_figures(session: Session, today: date, workdays: WorkCalendar, due_soon: int
                  ) -> tuple[date, date, list[ObligationCount], list[OverdueUnit]]:
    """The week the summary sent on ``today`` covers (the one that ended), and its figures as of its Sunday:
    a report received this morning belongs to next week's."""
    start, end = week_before(today)
    rows = status_rows(session, Filters(as_of=end), workdays, due_soon)
    return start, end, counts_by_obligation(r for r in rows if r.year >= end.year - 1), overdue_units(rows)


def _envelope(key: str, recipient: Recipient, channel: str, stage: str, text: Rendered, stamp: datetime
              ) -> Envelope:
    return Envelope(key, stage, recipient.person_id, channel, recipient.address(channel), text, due=stamp)


def write_summaries(session: Session, *, recipients: Sequence[Recipient], policy: Policy, workdays: WorkCalendar,
                    due_soon: int, now: datetime, office_name: str, issuer: str, intake: IntakeState | None,
                    held: Sequence[Held] = ()) -> SummaryReport:
    local = wall(now)
    today = local.date()
    if not in_send_window(local, policy, workdays):
        return SummaryReport(0, 0)
    receivers = [r for r in recipients if r.role in policy.digest_roles]
    leaders = [r for r in recipients if r.role in policy.weekly_roles]
    # The office people who hear of late units in the roll-up message (the digest's readers in the digest).
    rolled = [r for r in recipients if r.role in ROLLUP_ROLES and r.role not in policy.digest_roles]
    stamp = local
    week_start = first_working_day_of_week(today, workdays)
    wanted_digest = [f"digest:{today.isoformat()}:{r.person_id}:{c}" for r in receivers for c in r.channels]
    iso = today.isocalendar()
    wanted_weekly = ([f"weekly:{iso.year}-W{iso.week:02d}:{r.person_id}:{c}" for r in leaders for c in r.channels]
                     if today == week_start else [])
    wanted_rollup = [f"rollup:{today.isoformat()}:{r.person_id}:{c}" for r in rolled for c in r.channels]
    wanted = wanted_digest + wanted_weekly + wanted_rollup
    if not wanted or set(session.scalars(select(OutboxMessage.dedupe_key)
                                         .where(OutboxMessage.dedupe_key.in_(wanted)))) == set(wanted):
        return SummaryReport(0, 0)
    rows = status_rows(session, Filters(as_of=today), workdays, due_soon)
    leadership_unreachable = not leadership_reachable(recipients)
    escalated_for: dict[str, list[EscalatedUnit]] = {}  # by role: the same for everyone holding it

    def escalated_to(role: str) -> list[EscalatedUnit]:
        if role not in escalated_for:
            escalated_for[role] = _escalated_today(session, today, rows, policy, role)
        return escalated_for[role]

    rollups: list[Envelope] = []
    for recipient in rolled:
        escalated = escalated_to(recipient.role)
        if not escalated:
            continue
        for channel in recipient.channels:
            text = render_rollup(channel, office_name=office_name, issuer=issuer, today=today,
                                 recipient_name=recipient.name, escalated=escalated)
            rollups.append(_envelope(f"rollup:{today.isoformat()}:{recipient.person_id}:{channel}", recipient,
                                    channel, "rollup", text, stamp))
    counts = counts_by_obligation(r for r in rows if r.year >= today.year - 1)
    late = overdue_units(rows)
    digests: list[Envelope] = []
    if receivers and digest_due(counts):
        since = local - LOOKBACK
        failures, skipped = _failures(session, since), _skipped(session, since)
        state = intake if intake is None else IntakeState(intake.watched, intake.last_import, _held(session, held))
        for recipient in receivers:
            escalated = escalated_to(recipient.role)
            for channel in recipient.channels:
                text = render_digest(channel, office_name=office_name, today=today, recipient_name=recipient.name,
                                     counts=counts, overdue=late, failures=failures, skipped=skipped, intake=state,
                                     escalated=escalated, leadership_unreachable=leadership_unreachable)
                digests.append(_envelope(f"digest:{today.isoformat()}:{recipient.person_id}:{channel}", recipient,
                                        channel, "digest", text, stamp))
    weekly: list[Envelope] = []
    if wanted_weekly:
        covered_start, covered_end, week_counts, week_late = _week_figures(session, today, workdays, due_soon)
        for recipient in leaders:
            for channel in recipient.channels:
                text = render_weekly(channel, office_name=office_name, issuer=issuer, week_start=covered_start,
                                     week_end=covered_end, recipient_name=recipient.name, counts=week_counts,
                                     most_overdue=week_late)
                weekly.append(_envelope(f"weekly:{iso.year}-W{iso.week:02d}:{recipient.person_id}:{channel}",
                                       recipient, channel, "weekly", text, stamp))
    written = [enqueue_new(session, envelopes, stamp=stamp).rows for envelopes in (digests, weekly, rollups)]
    return SummaryReport(*written)


def preview_summary(session: Session, kind: str, recipient: Recipient, channel: str, *, policy: Policy,
                    workdays: WorkCalendar, due_soon: int, today: date, office_name: str, issuer: str,
                    everyone: Sequence[Recipient]) -> Rendered | None:
    """What ``recipient`` would read on ``today`` as the digest, the weekly summary or the roll-up, built
    as ``write_summaries`` builds it; None when there would be none (no escalation that day)."""
    rows = status_rows(session, Filters(as_of=today), workdays, due_soon)
    if kind == "rollup":
        escalated = _escalated_today(session, today, rows, policy, recipient.role)
        if not escalated:
            return None
        return render_rollup(channel, office_name=office_name, issuer=issuer, today=today,
                             recipient_name=recipient.name, escalated=escalated)
    if kind == "weekly":
        start, end, counts, late = _week_figures(session, today, workdays, due_soon)
        return render_weekly(channel, office_name=office_name, issuer=issuer, week_start=start, week_end=end,
                             recipient_name=recipient.name, counts=counts, most_overdue=late)
    since = datetime.combine(today, time()) - LOOKBACK
    return render_digest(channel, office_name=office_name, today=today, recipient_name=recipient.name,
                         counts=counts_by_obligation(r for r in rows if r.year >= today.year - 1),
                         overdue=overdue_units(rows), failures=_failures(session, since),
                         skipped=_skipped(session, since),
                         escalated=_escalated_today(session, today, rows, policy, recipient.role),
                         leadership_unreachable=not leadership_reachable(everyone))
