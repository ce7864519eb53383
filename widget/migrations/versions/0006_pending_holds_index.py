"""bookings: a partial index on the holds awaiting confirmation, which reads retire when due

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 01:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending_verification'")


def upgrade():
    op.create_index(
        "ix_bookings_pending_holds",
        "bookings",
        ["provider_id", "hold_expires_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade():
    op.drop_index("ix_bookings_pending_holds", table_name="bookings")
