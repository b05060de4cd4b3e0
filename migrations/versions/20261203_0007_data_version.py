"""a data version: one counter that moves with every committed change to the region's data, so the market pages
computed from it are kept per process and recomputed once after a change (issue 16 §4)

Revision ID: 0007_data_version
Revises: 0010_offer_once
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_data_version"
down_revision = "0010_offer_once"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(sa.table("data_version", sa.column("id"), sa.column("version")), [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("data_version")
