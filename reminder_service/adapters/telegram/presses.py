"""Button presses: page turns, a unit picked from a list, a submission confirmed or cancelled, and the
buttons under reminders ("Đã gửi", "Chi tiết") and claim notices (confirm, reject).

Callback data can be forged by a modified client, so every press is checked again here against the
presser's role and unit; data we did not make is answered with a notice, never an error.
"""

from __future__ import annotations

import html
from datetime import datetime

from sqlalchemy.orm import Session

from reminder_service.adapters.telegram import answering, recording
from reminder_service.adapters.telegram.access import Caller
from reminder_service.adapters.telegram.replies import CallbackOutcome, ChatRef, Reply
from reminder_service.app import App
from reminder_service.domain import buttons as callbacks
from reminder_service.domain.clock import wall
from reminder_service.services.audit import Actor
from reminder_service.services.claims import confirm_claim, make_claim, reject_claim
from reminder_service.services.db.models import Obligation, Person

STALE = "Nút này đã hết hiệu lực. Vui lòng gửi lại lệnh."
NOT_YOURS = "Ông/Bà không có quyền thực hiện thao tác này."


def on_callback(app: App, session: Session, chat: ChatRef, caller: Caller, data: str, now: datetime) -> CallbackOutcome:
    page = answering.parse_page(data)
    if page is not None:
        shown = answering.turn_page(app, session, caller, page[0], page[1], now)
        return CallbackOutcome(edit=shown) if shown else CallbackOutcome(notice=STALE)
    pressed = answering.parse_unit_button(data)
    if pressed is not None:
        unit_id, year = pressed
        if not caller.may("unit") or not caller.sees_unit(unit_id):
            return CallbackOutcome(notice=NOT_YOURS)
        params = {"unit_id": unit_id, "year": year or wall(now).year}
        answer = answering.build(app, session, caller, "unit", params, wall(now).date())
        return CallbackOutcome(replies=tuple(answering.paged(session, chat, caller, "unit", params, answer, now)))
    decision = recording.parse_decision(data)
    if decision is not None:
        return recording.decide(session, caller, decision[0], decision[1], now)
    decoded = callbacks.decode(data)
    if decoded is None:
        return CallbackOutcome(notice=STALE)
    prefix, ident = decoded
    if prefix in (callbacks.CLAIM, callbacks.DETAIL):
        return _reminder_button(app, session, chat, caller, prefix, ident, now)
    return _claim_decision(app, session, caller, prefix, ident, now)


def _reminder_button(app: App, session: Session, chat: ChatRef, caller: Caller, prefix: str, obligation_id: int,
                     now: datetime) -> CallbackOutcome:
    obligation = session.get(Obligation, obligation_id)
    if obligation is None or not caller.sees_unit(obligation.unit_id):
        return CallbackOutcome(notice=NOT_YOURS)
    if prefix == callbacks.DETAIL:
        params = {"unit_id": obligation.unit_id, "year": obligation.year}
        answer = answering.build(app, session, caller, "unit", params, wall(now).date())
        return CallbackOutcome(replies=tuple(answering.paged(session, chat, caller, "unit", params, answer, now)))
    person = session.get(Person, caller.person_id)
    if person is None or obligation.unit_id != caller.unit_id:
        return CallbackOutcome(notice=NOT_YOURS)
    result = make_claim(session, obligation, person, now, app.workdays, policy=app.config.escalation,
                        office_name=app.config.office_name)
    return CallbackOutcome(notice=result.reply[:200], replies=(Reply(html.escape(result.reply)),))


def _claim_decision(app: App, session: Session, caller: Caller, prefix: str, claim_id: int,
                    now: datetime) -> CallbackOutcome:
    person = session.get(Person, caller.person_id)
    if person is None or caller.role != "receiver":
        return CallbackOutcome(notice=NOT_YOURS)
    actor = Actor(caller.name, "telegram")
    if prefix == callbacks.CLAIM_CONFIRM:
        result = confirm_claim(session, claim_id, actor, now, by=person, office_name=app.config.office_name)
    else:
        result = reject_claim(session, claim_id, actor, now, app.workdays, by=person, policy=app.config.escalation,
                              office_name=app.config.office_name)
    return CallbackOutcome(notice=result.reply[:200], replies=(Reply(html.escape(result.reply)),))
