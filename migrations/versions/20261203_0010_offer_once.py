"""an offer is made once: at most one live offer of one vacancy per referral, enforced by the database

Revision ID: 0010_offer_once
Revises: 0010_re_entry_link
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_offer_once"
down_revision = "0010_re_entry_link"
branch_labels = None
depends_on = None

LIVE = "status IN ('made', 'shortlisted')"


def upgrade() -> None:
    # Two people of one provider offering the same vacancy for the same child at the same moment could both pass
    # the service's check (issue 16 §1). An earlier race's second copy, if any, is withdrawn first (the older offer
    # stands), so the index can be built.
    op.execute(
        "UPDATE offer SET status = 'withdrawn', "
        "decision_reason = 'A second copy of an earlier offer of the same vacancy' "
        f"WHERE {LIVE} AND EXISTS (SELECT 1 FROM offer AS earlier WHERE earlier.referral_id = offer.referral_id "
        "AND earlier.vacancy_id = offer.vacancy_id AND earlier.status IN ('made', 'shortlisted') "
        "AND (earlier.created_at < offer.created_at OR (earlier.created_at = offer.created_at AND earlier.id < offer.id)))"
    )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.create_index("uq_offer_live_per_referral_vacancy", ["referral_id", "vacancy_id"], unique=True,
                              sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_index("uq_offer_live_per_referral_vacancy", sqlite_where=sa.text(LIVE),
                            postgresql_where=sa.text(LIVE))
