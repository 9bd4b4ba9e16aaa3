"""documents.masks: what a reviewer added to or exempted from the public copy's masks

Revision ID: 0012
Revises: 0011 (see down_revision)
Create Date: 2026-12-07 15:30:00

``{"added": [{"text", "by", "at"}], "exempt": [{"text", "reason", "by", "at"}]}``: text the
public copy masks besides the personal numbers the privacy gate finds (a name in a 公示), and
numbers the gate found that a reviewer decided are not personal (a unit's service mobile), with
the reason. NULL for documents no reviewer changed.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('documents', sa.Column('masks', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('documents', 'masks')
