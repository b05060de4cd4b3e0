"""commissioners' saved what-if scenarios (issue 13 §1): hypothetical provision and its last computed figures

Revision ID: 0015_whatif_scenarios
Revises: 0014_decline_reasons
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0015_whatif_scenarios"
down_revision = "0014_decline_reasons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatif_scenario",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_whatif_scenario_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatif_scenario")),
    )
    with op.batch_alter_table("whatif_scenario", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatif_scenario_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatif_scenario", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatif_scenario_created_at"))
    op.drop_table("whatif_scenario")
