"""providers: the Ofsted URNs given at registration, and a provider's "cannot offer" answer to a referral

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_decline",
        sa.Column("referral_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declined_by_id", sa.String(length=32), nullable=True),
        sa.Column("declined_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["declined_by_id"], ["user_account.id"], name=op.f("fk_referral_decline_declined_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"], name=op.f("fk_referral_decline_provider_id_provider")),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name=op.f("fk_referral_decline_referral_id_referral")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_decline")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_referral_decline_referral_id")),
    )
    with op.batch_alter_table("referral_decline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_decline_provider_id"), ["provider_id"], unique=False)

    # Existing providers registered no URNs: fill them with an empty list, then drop the server default so the
    # column matches the model (the application always writes the value).
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ofsted_urns", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.alter_column("ofsted_urns", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_column("ofsted_urns")
    with op.batch_alter_table("referral_decline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_decline_provider_id"))
    op.drop_table("referral_decline")
