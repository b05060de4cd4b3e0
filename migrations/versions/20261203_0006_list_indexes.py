"""lists that scale: the officer's requests list, newest first, read one page at a time from an index

Revision ID: 0006_list_indexes
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op

revision = "0006_list_indexes"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The requests list's default order (issue 11 §4): one LA's requests, newest first, ties by id. With this
    # index a page is read straight from it (LIMIT / OFFSET, no sort of the LA's every request) and the COUNT is
    # answered from it alone.
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.create_index("ix_placement_request_la_created", ["la_code", "created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("placement_request", schema=None) as batch_op:
        batch_op.drop_index("ix_placement_request_la_created")
