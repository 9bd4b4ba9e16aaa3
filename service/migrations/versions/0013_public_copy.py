"""documents.public_copy: the stored public PDF of a document that holds personal data

Revision ID: 0013
Revises: 0012 (see down_revision)
Create Date: 2026-12-07 18:00:00

``{"key", "sha256", "pages", "covered", "method", "reason", "made_at"}``: the 去标识化 PDF the
public downloads instead of the original (``service.public_copy``), stored with the originals
under ``sha256``. ``key`` digests what it was made from (the original, the masks, the values
masked, the renderer's version): a public PDF whose key no longer matches is made again.
NULL until one is first asked for.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('documents', sa.Column('public_copy', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('documents', 'public_copy')
