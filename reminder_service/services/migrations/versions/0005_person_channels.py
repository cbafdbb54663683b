"""people.channels holds only known channels, each once, in order of preference

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Rows written before are tidied first: spaces and capitals dropped ("Email, telegram" → "email,telegram"),
unknown names and repeats left out; a row left with none gets the channels its addresses allow (Telegram
first, as units import does), or both when it has no address yet, which is what units import writes.
"""

from collections.abc import Sequence
from itertools import permutations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As of this revision; a later channel comes with its own migration.
KNOWN = ("telegram", "email")
ORDERS = tuple(",".join(order) for n in range(1, len(KNOWN) + 1) for order in permutations(KNOWN, n))


def tidy(stored: str | None, email: str | None, telegram: str | None) -> str:
    names = [part.strip().lower() for part in (stored or "").split(",")]
    kept = list(dict.fromkeys(n for n in names if n in KNOWN))
    if not kept:
        kept = [c for c, address in (("telegram", telegram), ("email", email)) if address] or list(KNOWN)
    return ",".join(kept)


def upgrade() -> None:
    people = sa.table("people", sa.column("id", sa.Integer), sa.column("channels", sa.String),
                      sa.column("email", sa.String), sa.column("telegram_chat_id", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(people.c.id, people.c.channels, people.c.email, people.c.telegram_chat_id))
    changed = [{"row_id": pid, "tidied": tidy(channels, email, chat)} for pid, channels, email, chat in rows
               if channels not in ORDERS]
    if changed:
        connection.execute(people.update().where(people.c.id == sa.bindparam("row_id"))
                           .values(channels=sa.bindparam("tidied")), changed)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_people_channels_known"),
                                         f"channels IN ({', '.join(repr(order) for order in ORDERS)})")


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_people_channels_known"), type_="check")
