"""Alembic environment: the engine comes from the service, never from an alembic.ini."""

from __future__ import annotations

from alembic import context

from reminder_service.domain.errors import UserError
from reminder_service.services.db.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite cannot ALTER most things: a batch migration rebuilds the table (copy, drop, rename), and
        # with foreign keys enforced, dropping a table other rows refer to fails. Enforcement cannot change
        # inside a transaction, so it is off for the migration and the result is checked before commit.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    tables = ", ".join(sorted({str(row[0]) for row in broken}))
                    raise UserError(
                        f"sau khi nâng cấp, {len(broken)} dòng trong bảng {tables} trỏ tới dữ liệu không còn. "
                        "Hãy khôi phục bản sao lưu cơ sở dữ liệu và báo cho người phát triển."
                    )
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
