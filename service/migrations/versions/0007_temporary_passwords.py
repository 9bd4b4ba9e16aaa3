"""temporary passwords: users.must_change_password

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:45:00

A password someone else set (an admin, the operator's CLI, the first start) is temporary:
its user must choose their own before doing anything else (等保: initial passwords are
changed at first sign-in). Accounts that exist already keep working as they are.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
