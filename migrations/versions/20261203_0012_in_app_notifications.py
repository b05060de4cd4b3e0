"""in-app notifications (each message's copy on the person's Notifications page, with an unread count) and known
devices (a sign-in from an unrecognised one is emailed)

Revision ID: 0012_in_app_notifications
Revises: 0011_options_change
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0012_in_app_notifications"
down_revision = "0011_options_change"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "in_app_notification",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("personalisation", sa.JSON(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("once_key", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_in_app_notification_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_app_notification")),
        sa.UniqueConstraint("once_key", name=op.f("uq_in_app_notification_once_key")),
    )
    with op.batch_alter_table("in_app_notification", schema=None) as batch_op:
        batch_op.create_index("ix_in_app_notification_unread", ["user_id", "read_at"], unique=False)
    op.create_table(
        "known_device",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_known_device_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_device")),
        sa.UniqueConstraint("user_id", "token_hash", name="uq_known_device_user_token"),
    )


def downgrade() -> None:
    op.drop_table("known_device")
    with op.batch_alter_table("in_app_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_in_app_notification_unread")
    op.drop_table("in_app_notification")
