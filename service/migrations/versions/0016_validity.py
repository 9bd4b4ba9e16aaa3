"""documents.validity_status, documents.validity: 有效性 of 规范性文件

Revision ID: 0016
Revises: 0015 (see down_revision)
Create Date: 2026-12-07 20:30:00

``validity_status``: effective / amended / repealed / expired (现行有效 / 已修改 / 已废止 / 已失效),
indexed for the catalogue's filter; ``validity``: ``{"status", "effective_from", "expires_on",
"ends_on", "changed_by", "by", "at"}`` (``service.validity``). NULL for documents that have none.
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('documents', sa.Column('validity_status', sa.String(length=20), nullable=True))
    op.add_column('documents', sa.Column('validity', sa.JSON(), nullable=True))
    op.create_index('ix_documents_validity_status', 'documents', ['validity_status'])


def downgrade() -> None:
    op.drop_index('ix_documents_validity_status', table_name='documents')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('validity')
        batch.drop_column('validity_status')
