"""What importing a register file would do, written nowhere: the console's preview before "Nhập".

The real import runs inside a savepoint that is then rolled back, so the preview is the import itself
(the same matching, the same review reasons, the same "already imported" rows), not an imitation that
could drift from it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from reminder_service.services.audit import Actor
from reminder_service.services.register.apply import ImportSummary, import_register
from reminder_service.services.register.read import RegisterFile


def preview_import(session: Session, register: RegisterFile, actor: Actor, now: datetime) -> ImportSummary:
    savepoint = session.begin_nested()
    try:
        return import_register(session, register, actor, now)
    finally:
        savepoint.rollback()
