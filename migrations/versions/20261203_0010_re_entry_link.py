"""re-entry to care: an officer's decision that an earlier placement was (or was not) this request's child;
indexes to find a child's earlier requests in an LA by date of birth or reference

Revision ID: 0010_re_entry_link
Revises: 0006_list_indexes
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0010_re_entry_link"
down_revision = "0006_list_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "re_entry_link",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("placement_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("found_by", sa.String(length=30), nullable=False),
        sa.Column("name_score", sa.Numeric(precision=4, scale=1), nullable=True),
        sa.Column("decided_by_id", sa.String(length=32), nullable=True),
        sa.Column("decided_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.CheckConstraint("status IN ('confirmed', 'dismissed')", name=op.f("ck_re_entry_link_status")),
        sa.CheckConstraint("found_by IN ('child_reference', 'name_and_date_of_birth')",
                           name=op.f("ck_re_entry_link_found_by")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user_account.id"],
                                name=op.f("fk_re_entry_link_decided_by_id_user_account")),
        sa.ForeignKeyConstraint(["placement_id"], ["placement.id"],
                                name=op.f("fk_re_entry_link_placement_id_placement")),
        sa.ForeignKeyConstraint(["request_id"], ["placement_request.id"],
                                name=op.f("fk_re_entry_link_request_id_placement_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_re_entry_link")),
        # One decision per request and earlier placement: a second confirmation is a clear 409, never a second row.
        sa.UniqueConstraint("request_id", "placement_id", name="uq_re_entry_link_request_placement"),
    )
    with op.batch_alter_table("re_entry_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_re_entry_link_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_re_entry_link_placement_id"), ["placement_id"], unique=False)
    # Finding a child's earlier requests (by date of birth, or by reference) in one LA without reading them all.
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.create_index("ix_placement_request_la_date_of_birth", ["la_code", "date_of_birth"], unique=False)
        batch_op.create_index("ix_placement_request_la_child_reference", ["la_code", "child_reference"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.drop_index("ix_placement_request_la_child_reference")
        batch_op.drop_index("ix_placement_request_la_date_of_birth")
    with op.batch_alter_table("re_entry_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_re_entry_link_placement_id"))
        batch_op.drop_index(batch_op.f("ix_re_entry_link_request_id"))
    op.drop_table("re_entry_link")
