"""clients.last_login_at: a magic link works once

A login link carries the client's last login time; logging in moves it, so the
same link (or any older one) no longer matches. No table of used tokens needed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 20:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
