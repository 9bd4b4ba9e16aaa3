"""annual_reports: each year's 政府信息公开工作年度报告 in the 2021 format

Revision ID: 0017
Revises: 0016 (see down_revision)
Create Date: 2026-12-07 21:30:00

One row per year (``service.annual_report``): the figures entered (许可/处罚/强制/收费, the 依申请
and 复议诉讼 tables), the clerk's texts, ``status`` draft/final, ``revision`` (saves, for
concurrent edits), and for a final report the stored .docx digest and the snapshot it was made from.
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'annual_reports',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finalized_by', sa.String(length=100), nullable=True),
        sa.Column('finalized_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('final_sha256', sa.String(length=64), nullable=True),
        sa.Column('final_snapshot', sa.JSON(), nullable=True),
        sa.UniqueConstraint('year', name='uq_annual_reports_year'),
    )


def downgrade() -> None:
    op.drop_table('annual_reports')
