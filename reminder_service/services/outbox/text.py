"""An outbox row's text, whichever way it was stored: in the row, or as a form and the row's names.

Reminders written by the reconcile tick name a shared form (``outbox_forms``) and carry only their
names; every other message (summaries, claim notices, rows written before forms existed) holds its
text. Whoever reads a message's text (the dispatcher, an operator's tool) selects ``COLUMNS`` from
``joined(...)`` and hands the row to ``text_of``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import FromClause

from reminder_service.domain.messages.form import MessageForm, parse_names
from reminder_service.domain.messages.render import Rendered
from reminder_service.services.db.models import OutboxForm, OutboxMessage, table_of

OUTBOX = table_of(OutboxMessage)
FORMS = table_of(OutboxForm)

COLUMNS = (
    OUTBOX.c.subject, OUTBOX.c.body_text, OUTBOX.c.body_html, OUTBOX.c.form_id, OUTBOX.c.names,
    FORMS.c.subject.label("form_subject"), FORMS.c.body_text.label("form_text"),
    FORMS.c.body_html.label("form_html"),
)


class UnreadableNamesError(ValueError):
    """A row whose names column is not what the service writes (edited by hand): it cannot be sent.
    The message is what ``outbox list`` shows the operator as the row's error."""


def joined(source: FromClause = OUTBOX) -> FromClause:
    """``source`` (the outbox, or a join that starts with it) with each row's form, if it has one."""
    return source.outerjoin(FORMS, FORMS.c.id == OUTBOX.c.form_id)


def text_of(row: Any, forms: dict[int, MessageForm] | None = None) -> Rendered:
    """The message a row selected with ``COLUMNS`` carries; ``forms`` keeps the forms already read
    (a batch of rows mostly shares a few)."""
    if row.form_id is None:
        return Rendered(row.subject or "", row.body_text or "", row.body_html or "")
    names = parse_names(row.names or "")
    if names is None:
        raise UnreadableNamesError(
            "không đọc được tên đơn vị và người nhận của tin (cột names phải là danh sách JSON gồm 3 chuỗi); "
            "sửa lại rồi gửi lại bằng: reminder-service outbox retry <số của tin>")
    forms = {} if forms is None else forms
    form = forms.get(row.form_id)
    if form is None:
        form = forms[row.form_id] = MessageForm(row.form_subject, row.form_text, row.form_html)
    return form.fill(names)
