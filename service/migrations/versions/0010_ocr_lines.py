"""OCR lines: documents.ocr_lines

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:00:00

Text read by OCR from scanned pages is stored like extracted text (``documents.text``);
its lines with their page, box and confidence are kept here as JSON for later redaction
(blacking out a 身份证 number where it stands on the page image). NULL for documents
parsed before this upgrade and for documents without OCR text.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('ocr_lines', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('ocr_lines')
