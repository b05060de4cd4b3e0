"""sibling groups: one offer places every brother and sister; a group split on purpose keeps its reason

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # One accepted offer places every child of a sibling group: a placement per child, each once per offer.
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_constraint("uq_placement_offer", type_="unique")
        batch_op.create_unique_constraint("uq_placement_offer_request", ["offer_id", "request_id"])
    with op.batch_alter_table("sibling_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("split_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("split_at", portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("split_by_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_sibling_group_split_by_id_user_account"), "user_account",
                                    ["split_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("sibling_group", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sibling_group_split_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("split_by_id")
        batch_op.drop_column("split_at")
        batch_op.drop_column("split_reason")
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_constraint("uq_placement_offer_request", type_="unique")
        batch_op.create_unique_constraint("uq_placement_offer", ["offer_id"])
