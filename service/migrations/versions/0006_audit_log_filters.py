"""audit log filters: audit_log.kind and indexes for the 操作日志 page

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 19:30:00

The page filters by actor, by kind of action (``user`` = every ``user.*``) or one action, and
by day, newest first. On a million entries each of those scanned the log backwards from the
newest (0.1–0.3 s a page; bench/bench_auditlog.py); these indexes answer them directly. ``kind``
is the action's first part, filled here for the entries written before it existed.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=64), nullable=False, server_default=''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE audit_log SET kind = split_part(action, '.', 1)")
    else:
        op.execute("UPDATE audit_log SET kind = CASE WHEN instr(action, '.') > 0 "
                   "THEN substr(action, 1, instr(action, '.') - 1) ELSE action END")
    op.create_index('ix_audit_log_actor_seq', 'audit_log', ['actor', 'seq'])
    op.create_index('ix_audit_log_kind_action_seq', 'audit_log', ['kind', 'action', 'seq'])
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])


def downgrade() -> None:
    op.drop_index('ix_audit_log_at', 'audit_log')
    op.drop_index('ix_audit_log_kind_action_seq', 'audit_log')
    op.drop_index('ix_audit_log_actor_seq', 'audit_log')
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('kind')
