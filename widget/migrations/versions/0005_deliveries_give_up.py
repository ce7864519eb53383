"""outbox and webhook deliveries: given_up_at, set when retries stop three days on

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 22:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("outbox", "webhook_deliveries")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("given_up_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("given_up_at")
