"""index-number counters, server-side browser sessions, failed logins of unknown names

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:00:00

- ``index_counters``: the last 索引号 sequence per department and year. Numbers were
  "count + 1", which repeated after a gap and broke a department's publishing for good
  once two publishes of one document raced. Backfilled from the numbers already given.
- ``browser_sessions``: a sign-in is a row the server can end (logout, idle, 12 hours,
  password change); a copied cookie stops working when its row ends. Browsers signed in
  before this upgrade sign in again once.
- ``login_failures``: wrong passwords for names that are no account are counted and
  locked like an account's, so the answers do not reveal which names exist.
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SEQUENCE = re.compile(r"-(\d{4})-(\d+)$")


def upgrade() -> None:
    counters = op.create_table(
        'index_counters',
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id'), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('department_id', 'year'),
    )
    op.create_table(
        'browser_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sid_sha256', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=20), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sid_sha256'),
    )
    op.create_index('ix_browser_sessions_user_ended', 'browser_sessions', ['user_id', 'ended_at'])
    op.create_index('ix_browser_sessions_ended_at', 'browser_sessions', ['ended_at'])
    op.create_table(
        'login_failures',
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('username'),
    )
    op.create_index('ix_login_failures_updated_at', 'login_failures', ['updated_at'])

    # Each department's and year's highest number given so far.
    highest: dict[tuple[int, int], int] = {}
    rows = op.get_bind().execute(sa.text(
        "SELECT department_id, index_number FROM documents WHERE index_number IS NOT NULL"))
    for department_id, number in rows:
        match = SEQUENCE.search(number)
        if match:
            key = (department_id, int(match.group(1)))
            highest[key] = max(highest.get(key, 0), int(match.group(2)))
    if highest:
        op.bulk_insert(counters, [{"department_id": d, "year": y, "last_value": v}
                                  for (d, y), v in sorted(highest.items())])


def downgrade() -> None:
    op.drop_table('login_failures')
    op.drop_table('browser_sessions')
    op.drop_table('index_counters')
