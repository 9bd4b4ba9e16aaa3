"""documents: the catalogue's listing indexes

Revision ID: 0018
Revises: 0017 (see down_revision)
Create Date: 2026-12-07 22:00:00

``ix_documents_listing (status, published_at, id, category)``: the public catalogue's count, year
list and newest-first pages read from the index alone — on SQLite a document's row holds its text
and tokens before ``published_at``, so every row visited cost its overflow pages (100,000 documents:
seconds per page). ``ix_documents_status_category (status, category)``: the category counts of the
catalogue and the annual report. Measured in bench/bench_catalogue.py (BENCHMARKS.md).
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_documents_listing', 'documents', ['status', 'published_at', 'id', 'category'])
    op.create_index('ix_documents_status_category', 'documents', ['status', 'category'])


def downgrade() -> None:
    op.drop_index('ix_documents_status_category', table_name='documents')
    op.drop_index('ix_documents_listing', table_name='documents')
