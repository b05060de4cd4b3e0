"""the request's life after submission: changes of circumstances kept, withdrawal with a reason

Revision ID: 0006
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0006"
# Chained after the latest migration on main (0009, form submissions), so there is one head.
down_revision = "0009"
branch_labels = None
depends_on = None

WITHDRAWN_REASON_CHECK = (
    "withdrawn_reason IS NULL OR withdrawn_reason IN "
    "('returning_home', 'found_elsewhere', 'plan_changed', 'made_in_error', 'other')"
)


def upgrade() -> None:
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_reason", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason_other", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_placement_request_withdrawn_by_id_user_account"), "user_account",
                                    ["withdrawn_by_id"], ["id"])
        batch_op.create_check_constraint(op.f("ck_placement_request_withdrawn_reason"), WITHDRAWN_REASON_CHECK)
    op.create_table(
        "request_change",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("section", sa.String(length=30), nullable=False),
        sa.Column("changed_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.String(length=32), nullable=True),
        sa.Column("notice", sa.JSON(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["changed_by_id"], ["user_account.id"],
                                name=op.f("fk_request_change_changed_by_id_user_account")),
        sa.ForeignKeyConstraint(["request_id"], ["placement_request.id"],
                                name=op.f("fk_request_change_request_id_placement_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_change")),
    )
    with op.batch_alter_table("request_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_change_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_change_request_id"))
    op.drop_table("request_change")
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_placement_request_withdrawn_reason"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_placement_request_withdrawn_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_reason_other")
        batch_op.drop_column("withdrawn_reason")
