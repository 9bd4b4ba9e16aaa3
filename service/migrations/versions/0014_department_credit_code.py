"""departments.credit_code: the department's 统一社会信用代码

Revision ID: 0014
Revises: 0013 (see down_revision)
Create Date: 2026-12-07 19:00:00

18 characters (GB 32100, check character validated by ``service.index_numbers``), unique;
the 索引号 schemes most provinces use start with it (``{credit_code}/{year}-{seq:05d}``).
NULL until an administrator sets it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A column and a unique index, not a table rebuild: SQLite would have to drop departments,
    # which every document references.
    op.add_column('departments', sa.Column('credit_code', sa.String(length=18), nullable=True))
    op.create_index('ix_departments_credit_code', 'departments', ['credit_code'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_departments_credit_code', table_name='departments')
    with op.batch_alter_table('departments') as batch:
        batch.drop_column('credit_code')
