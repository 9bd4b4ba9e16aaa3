"""batch reclassification: reclass_batches and reclass_items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:45:00

See ``service/reclassify.py``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reclass_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rolled_back_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reclass_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reclass_batches_status'), ['status'], unique=False)

    op.create_table('reclass_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('old_suggested_category', sa.String(length=64), nullable=True),
    sa.Column('old_confidence', sa.Float(), nullable=True),
    sa.Column('old_candidates', sa.JSON(), nullable=True),
    sa.Column('old_explanation', sa.JSON(), nullable=True),
    sa.Column('old_needs_attention', sa.Boolean(), nullable=False),
    sa.Column('old_model_version', sa.String(length=64), nullable=True),
    sa.Column('new_category', sa.String(length=64), nullable=True),
    sa.Column('new_top_category', sa.String(length=64), nullable=True),
    sa.Column('new_confidence', sa.Float(), nullable=True),
    sa.Column('new_candidates', sa.JSON(), nullable=True),
    sa.Column('new_explanation', sa.JSON(), nullable=True),
    sa.Column('new_needs_attention', sa.Boolean(), nullable=False),
    sa.Column('new_model_version', sa.String(length=64), nullable=True),
    sa.Column('confirmed_category', sa.String(length=64), nullable=True),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['reclass_batches.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id', 'document_id', name='uq_reclass_items_batch_document')
    )
    with op.batch_alter_table('reclass_items', schema=None) as batch_op:
        batch_op.create_index('ix_reclass_items_batch_kind', ['batch_id', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reclass_items', schema=None) as batch_op:
        batch_op.drop_index('ix_reclass_items_batch_kind')
    op.drop_table('reclass_items')
    with op.batch_alter_table('reclass_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reclass_batches_status'))
    op.drop_table('reclass_batches')
