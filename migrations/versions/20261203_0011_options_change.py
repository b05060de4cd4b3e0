"""what each options version changed, so every process brings its matching index up to date by the changed rows
instead of rebuilding it (issue 12 §5)

Revision ID: 0011_options_change
Revises: 0010_notifications
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0011_options_change"
down_revision = "0010_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "options_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_options_change")),
    )
    op.create_index(op.f("ix_options_change_version"), "options_change", ["version"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_options_change_version"), table_name="options_change")
    op.drop_table("options_change")
