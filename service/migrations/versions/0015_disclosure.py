"""documents.disclosure, documents.disclosure_reason: the 公开属性 and its statutory reason

Revision ID: 0015
Revises: 0014 (see down_revision)
Create Date: 2026-12-07 20:00:00

``disclosure``: ``active`` (主动公开), ``on_request`` (依申请公开) or ``not_disclosed`` (不予公开),
codes of ``service/data/disclosure.json``; every existing document is 主动公开 (it was published or
headed for publication). ``disclosure_reason``: a reason code of the same file (第十四条 to
第十六条, 第二十七条), NULL for 主动公开.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('documents', sa.Column('disclosure', sa.String(length=20), nullable=False, server_default='active'))
    op.add_column('documents', sa.Column('disclosure_reason', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('disclosure_reason')
        batch.drop_column('disclosure')
