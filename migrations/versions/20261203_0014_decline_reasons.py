"""decline reasons from a fixed list (free-text declines kept as "other" with their words), and placements flagged
for a deprivation of liberty order or an unregistered setting (issue 13 §4)

Revision ID: 0014_decline_reasons
Revises: 0013_api_tokens
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_decline_reasons"
down_revision = "0013_api_tokens"
branch_labels = None
depends_on = None

# portal.matching.vocabulary.DECLINE_REASONS as it stands at this revision (a migration never imports the app's
# current words: they may change after it).
REASONS = {
    "no_vacancy": "No vacancy at that date",
    "needs_not_met": "We cannot meet the child's needs",
    "risk_to_others": "Risks to the other children living there",
    "matching": "Matching with the children living there now",
    "location": "The location",
    "fee": "The fee",
    "other": "Another reason",
}
REASON_CHECK = "reason IN (" + ", ".join(f"'{code}'" for code in REASONS) + ")"


def upgrade() -> None:
    with op.batch_alter_table("referral_decline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_other", sa.Text(), nullable=True))
    # Every decline so far was free text: it becomes "another reason", with the provider's words kept.
    op.execute("UPDATE referral_decline SET reason_other = reason, reason = 'other'")
    with op.batch_alter_table("referral_decline", schema=None) as batch_op:
        batch_op.alter_column("reason", existing_type=sa.Text(), type_=sa.String(length=30), existing_nullable=False)
        batch_op.create_check_constraint(op.f("ck_referral_decline_reason"), REASON_CHECK)
    # A constant default ("0", false on both databases) lets SQLite add the columns in place: an expression
    # default would make the batch copy and drop `placement`, which agreements and re-entry links point at, and
    # that fails on any database with placements in it.
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deprivation_of_liberty", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("unregistered_setting", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    for column in ("unregistered_setting", "deprivation_of_liberty"):
        if op.get_bind().dialect.name == "sqlite":
            # In place (SQLite 3.35+): a batch copy would drop `placement`, which other tables point at.
            op.execute(f"ALTER TABLE placement DROP COLUMN {column}")
        else:
            op.drop_column("placement", column)
    with op.batch_alter_table("referral_decline", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_referral_decline_reason"), type_="check")
        batch_op.alter_column("reason", existing_type=sa.String(length=30), type_=sa.Text(), existing_nullable=False)
    # Back to one free-text reason: the provider's words for "other", the label for a reason from the list.
    whens = " ".join(f"WHEN '{code}' THEN '{label.replace(chr(39), chr(39) * 2)}'" for code, label in REASONS.items())
    op.execute(f"UPDATE referral_decline SET reason = COALESCE(reason_other, CASE reason {whens} ELSE reason END)")
    with op.batch_alter_table("referral_decline", schema=None) as batch_op:
        batch_op.drop_column("reason_other")
