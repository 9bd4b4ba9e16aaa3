"""password age: users.password_changed_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:15:00

A password older than ``password_max_age_days`` must be replaced at sign-in (等保 asks for
periodic change). Accounts that exist already start their clock at this upgrade rather than
at their creation, so nobody is stopped the moment the new version starts.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET password_changed_at = CURRENT_TIMESTAMP")


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('password_changed_at')
