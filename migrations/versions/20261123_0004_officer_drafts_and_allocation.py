"""officer side: draft placement requests (task list) and saved region-wide allocation runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Drafts: a request is saved section by section, so these are empty until the officer fills them in.
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_sections", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.alter_column("home_postcode", existing_type=sa.String(length=8), nullable=True)
        batch_op.alter_column("home_easting", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("home_northing", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("urgency", existing_type=sa.String(length=20), nullable=True)
        batch_op.alter_column("needed_by", existing_type=sa.Date(), nullable=True)
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.alter_column("completed_sections", server_default=None)
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("education_continuity", sa.Boolean(), nullable=True))
    op.create_table(
        "allocation_run",
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=True),
        sa.Column("options_version", sa.Integer(), nullable=False),
        sa.Column("requests_count", sa.Integer(), nullable=False),
        sa.Column("options_count", sa.Integer(), nullable=False),
        sa.Column("placed_count", sa.Integer(), nullable=False),
        sa.Column("unplaced_count", sa.Integer(), nullable=False),
        sa.Column("objective", sa.Integer(), nullable=False),
        sa.Column("bound", sa.Integer(), nullable=False),
        sa.Column("gap", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("placed_by_urgency", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"], name=op.f("fk_allocation_run_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_run")),
    )
    with op.batch_alter_table("allocation_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_run_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("allocation_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_run_created_at"))
    op.drop_table("allocation_run")
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_column("education_continuity")
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.drop_column("completed_sections")
