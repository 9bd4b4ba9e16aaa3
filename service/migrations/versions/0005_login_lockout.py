"""login lockout: users.failed_logins, users.locked_until

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 15:30:00

Consecutive failed logins are counted per account; after ``login_max_failures`` the
account is locked for ``login_lockout_minutes`` (see ``service/accounts.py``).
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('locked_until')
        batch.drop_column('failed_logins')
