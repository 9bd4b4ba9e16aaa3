"""full-text search index for published documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:00:00

SQLite: an FTS5 virtual table; PostgreSQL: a tsvector column under a GIN index.
See ``service/search.py``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE document_search USING fts5("
                   "document_id UNINDEXED, content, tokenize = 'unicode61')")
    else:
        op.execute("CREATE TABLE document_search ("
                   "document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE, "
                   "content tsvector NOT NULL)")
        op.execute("CREATE INDEX ix_document_search_content ON document_search USING GIN (content)")
    _index_published()


def _index_published() -> None:
    """Documents published before this revision go into the index from their stored tokens."""
    bind = op.get_bind()
    documents = sa.table("documents", sa.column("id", sa.Integer), sa.column("status", sa.String),
                         sa.column("tokens", sa.JSON))
    insert = ("INSERT INTO document_search (document_id, content) VALUES (:id, :c)"
              if bind.dialect.name == "sqlite" else
              "INSERT INTO document_search (document_id, content) VALUES (:id, to_tsvector('simple', :c))")
    rows = bind.execute(sa.select(documents.c.id, documents.c.tokens).where(documents.c.status == "published"))
    for doc_id, tokens in rows.all():
        words = list((tokens or {}).get("title") or []) + list((tokens or {}).get("body") or [])
        bind.execute(sa.text(insert), {"id": doc_id, "c": " ".join(w for w in words if w.strip())})


def downgrade() -> None:
    op.execute("DROP TABLE document_search")
