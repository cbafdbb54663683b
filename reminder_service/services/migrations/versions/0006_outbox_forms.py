"""outbox rows of reminders name a shared form and their names instead of holding the whole text

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Rows written before keep their text as it is (form_id empty); only rows written from now on use forms.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_forms")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("names", sa.Text(), server_default="", nullable=False))
        batch_op.create_index(batch_op.f("ix_outbox_form_id"), ["form_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_outbox_form_id_outbox_forms"), "outbox_forms", ["form_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_form_id_outbox_forms"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_form_id"))
        batch_op.drop_column("names")
        batch_op.drop_column("form_id")
    op.drop_table("outbox_forms")
