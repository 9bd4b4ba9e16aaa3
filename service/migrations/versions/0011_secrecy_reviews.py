"""secrecy_reviews: the 保密审查 record every publication needs

Revision ID: 0011
Revises: 0010 (see down_revision)
Create Date: 2026-12-07 06:00:00

One row per 保密审查 of a document: reviewer, time, result (cleared / not_cleared), the pages
read by eye, the basis the reviewer was shown (findings, unreadable pages) and a note.
``used_for_publish_at`` marks the review a publication relied on (一事一审). Documents
published before this migration keep their state; a republication needs a review.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'secrecy_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey('documents.id'), nullable=False),
        sa.Column('reviewer', sa.String(length=100), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('result', sa.String(length=20), nullable=False),
        sa.Column('pages_read', sa.JSON(), nullable=False),
        sa.Column('basis', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('automatic', sa.Boolean(), nullable=False),
        sa.Column('used_for_publish_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_secrecy_reviews_document_id', 'secrecy_reviews', ['document_id'])


def downgrade() -> None:
    op.drop_index('ix_secrecy_reviews_document_id', table_name='secrecy_reviews')
    op.drop_table('secrecy_reviews')
