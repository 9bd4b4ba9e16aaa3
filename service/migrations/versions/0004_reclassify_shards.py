"""reclassification shards: reclass_shards

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:30:00

A batch's documents are split into id ranges (shards) computed by separate rq jobs;
see ``service/reclassify.py``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reclass_shards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['reclass_batches.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id', 'seq', name='uq_reclass_shards_batch_seq')
    )
    # A batch still computing (or cancelled) from before shards existed becomes one shard
    # over all its documents; its items are kept and skipped as on any resume.
    op.execute("INSERT INTO reclass_shards (batch_id, seq, first_id, last_id, total, status) "
               "SELECT id, 0, 0, 2147483647, total, 'pending' FROM reclass_batches "
               "WHERE status IN ('computing', 'cancelled')")


def downgrade() -> None:
    op.drop_table('reclass_shards')
