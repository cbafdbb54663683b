"""calendar feeds: secret subscription addresses of the reporting calendar, per kind of unit or per unit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("(kind IS NULL) <> (unit_id IS NULL)", name=op.f("ck_calendar_feeds_one_subject")),
        sa.ForeignKeyConstraint(["created_by"], ["people.id"], name=op.f("fk_calendar_feeds_created_by_people")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_calendar_feeds_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feeds_unit_id"), "calendar_feeds", ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_feeds_unit_id"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
