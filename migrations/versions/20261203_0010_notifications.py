"""notifications: the outbox, one row per message, delivered by `flask notifications send`; each person's choices

Revision ID: 0010_notifications
Revises: 0007_data_version
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0010_notifications"
down_revision = "0007_data_version"
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('queued', 'sending', 'sent', 'failed', 'dead')"


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("personalisation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=80), nullable=True),
        sa.Column("sender", sa.String(length=20), nullable=True),
        sa.Column("sender_reference", sa.String(length=100), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(STATUS_CHECK, name=op.f("ck_notification_status")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_notification_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_notification_due", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("choice", sa.String(length=12), nullable=False),
        sa.CheckConstraint("choice IN ('immediately', 'digest', 'off')", name=op.f("ck_notification_preference_choice")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_notification_preference_user_id_user_account")),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_preference")),
    )


def downgrade() -> None:
    op.drop_table("notification_preference")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_due")
        batch_op.drop_index(batch_op.f("ix_notification_user_id"))
    op.drop_table("notification")
