"""document_search: character n-grams instead of tokenizer words

Revision ID: 0019
Revises: 0018 (see down_revision)
Create Date: 2026-12-08 01:00:00

The index of migration 0002 held the tokenizer's words: 任免 inside 职务任免, a single character,
a number or a 文号 found nothing. It now holds character n-grams of each document's public title,
lead and body (``service/search.py``, ``service/search_grams.py``); published documents are
indexed again from their text. Downgrading brings back 0002's table, filled from the stored tokens.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    from service import search

    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.execute("DROP TABLE document_search")
    if sqlite:
        op.execute("CREATE VIRTUAL TABLE document_search USING fts5("
                   "title, lead, body, flat UNINDEXED, tokenize = 'unicode61 remove_diacritics 0', detail = column)")
    else:
        op.execute("CREATE TABLE document_search ("
                   "document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE, "
                   "body tsvector NOT NULL, flat text NOT NULL)")
        op.execute("CREATE INDEX ix_document_search_body ON document_search USING GIN (body)")
    documents = sa.table("documents", sa.column("id", sa.Integer), sa.column("status", sa.String),
                         sa.column("title", sa.Text), sa.column("text", sa.Text), sa.column("masks", sa.JSON))
    ids = [r[0] for r in bind.execute(sa.select(documents.c.id).where(documents.c.status == "published")
                                      .order_by(documents.c.id))]
    for at in range(0, len(ids), BATCH):
        rows = bind.execute(sa.select(documents.c.id, documents.c.title, documents.c.text, documents.c.masks)
                            .where(documents.c.id.in_(ids[at:at + BATCH]))).all()
        bind.execute(sa.text(search.insert_sql(sqlite)),
                     [{"id": i, **search.index_row(title, body, masks, sqlite)} for i, title, body, masks in rows])


def downgrade() -> None:
    op.execute("DROP TABLE document_search")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE document_search USING fts5("
                   "document_id UNINDEXED, content, tokenize = 'unicode61')")
    else:
        op.execute("CREATE TABLE document_search ("
                   "document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE, "
                   "content tsvector NOT NULL)")
        op.execute("CREATE INDEX ix_document_search_content ON document_search USING GIN (content)")
    bind = op.get_bind()
    documents = sa.table("documents", sa.column("id", sa.Integer), sa.column("status", sa.String),
                         sa.column("tokens", sa.JSON))
    insert = ("INSERT INTO document_search (document_id, content) VALUES (:id, :c)"
              if bind.dialect.name == "sqlite" else
              "INSERT INTO document_search (document_id, content) VALUES (:id, to_tsvector('simple', :c))")
    for doc_id, tokens in bind.execute(sa.select(documents.c.id, documents.c.tokens)
                                       .where(documents.c.status == "published")).all():
        words = list((tokens or {}).get("title") or []) + list((tokens or {}).get("body") or [])
        bind.execute(sa.text(insert), {"id": doc_id, "c": " ".join(w for w in words if w.strip())})
