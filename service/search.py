"""Full-text search over published documents, for Chinese.

Documents are indexed by their stored token stream (``Document.tokens``: the title and
body segmented by ``service.analysis.tokenizer``'s tokenizer), joined by spaces; a query is segmented
by the same tokenizer, so "政务公开" in a query matches "政务公开" in a body however the
sentence around it was written. Every query token must occur (AND).

- SQLite: the FTS5 table ``document_search(document_id UNINDEXED, content)`` with the
  ``unicode61`` tokenizer, which splits on the spaces we put between tokens.
- PostgreSQL: the table ``document_search(document_id, content tsvector)`` filled with
  ``to_tsvector('simple', …)`` under a GIN index.

Both tables are created by migration 0002. Only published documents are indexed:
``index_document`` runs when a document is published, ``unindex_document`` when it is
withdrawn (``service.review``).
"""
from __future__ import annotations

from sqlalchemy import Integer, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TextualSelect

from service.analysis.masking import has_added, public_form
from service.analysis.tokenizer import get_tokenizer
from service.db import Document


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def stream_of(doc: Document) -> str:
    """The space-joined token stream of a document's title and body (tokenized now if not stored).

    A document with words a reviewer masked (a name in a 公示) is indexed from its public copy
    (``analysis.masking.public_form``): nobody finds a person by a masked name. Numbers are never
    indexed (the tokenizer gives them as "#"), so masked numbers find no one either.
    """
    tokens = doc.tokens or {}
    words = list(tokens.get("title") or []) + list(tokens.get("body") or [])
    if not words or has_added(doc.masks):
        tokenizer = get_tokenizer()
        words = (tokenizer.tokens(public_form(doc.title, doc.masks)[0])
                 + tokenizer.tokens(public_form(doc.text, doc.masks)[0]))
    return " ".join(w for w in words if w.strip())


def query_tokens(query: str) -> list[str]:
    """The query as the index sees documents; numbers ("#") and duplicates dropped."""
    seen: list[str] = []
    for token in get_tokenizer().tokens(query or ""):
        if token != "#" and token not in seen:
            seen.append(token)
    return seen


def index_document(session: Session, doc: Document) -> None:
    unindex_document(session, doc)
    content = stream_of(doc)
    if _is_sqlite(session):
        session.execute(text("INSERT INTO document_search (document_id, content) VALUES (:id, :c)"),
                        {"id": doc.id, "c": content})
    else:
        session.execute(text("INSERT INTO document_search (document_id, content) "
                             "VALUES (:id, to_tsvector('simple', :c))"), {"id": doc.id, "c": content})


def unindex_document(session: Session, doc: Document) -> None:
    session.execute(text("DELETE FROM document_search WHERE document_id = :id"), {"id": doc.id})


def _fts5_phrase(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _condition(session: Session, tokens: list[str]) -> tuple[str, str, dict[str, str]]:
    """The WHERE and ORDER BY of ``document_search`` for documents holding every token, and the parameter."""
    if _is_sqlite(session):
        return "document_search MATCH :q", "rank", {"q": " ".join(_fts5_phrase(t) for t in tokens)}
    # Each token as a quoted lexeme, so nothing in it is read as tsquery syntax.
    lexemes = " & ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in tokens)
    return ("content @@ to_tsquery('simple', :q)", "ts_rank(content, to_tsquery('simple', :q)) DESC",
            {"q": lexemes})


def matching(session: Session, query: str) -> TextualSelect | None:
    """A SELECT of the ids of indexed documents holding every token of ``query``, for
    ``Document.id.in_(…)``: the database filters, however many match (a list of 90,000 ids as
    parameters is more than PostgreSQL's driver sends). None when the query has no searchable
    token (the caller shows everything) — unless it holds a number: numbers are not indexed, so a
    身份证 or phone number finds no one (a SELECT of nothing)."""
    tokens = query_tokens(query)
    if not tokens:
        if any(ch.isdigit() for ch in query):
            return text("SELECT document_id FROM document_search WHERE 1 = 0").columns(document_id=Integer)
        return None
    where, _, params = _condition(session, tokens)
    return text(f"SELECT document_id FROM document_search WHERE {where}").bindparams(**params) \
        .columns(document_id=Integer)


def matching_ids(session: Session, query: str) -> list[int] | None:
    """Ids of indexed documents containing every token of ``query``, best first (None and [] as
    ``matching``)."""
    tokens = query_tokens(query)
    if not tokens:
        return [] if any(ch.isdigit() for ch in query) else None
    where, order, params = _condition(session, tokens)
    rows = session.execute(text(f"SELECT document_id FROM document_search WHERE {where} ORDER BY {order}"), params)
    return [int(r[0]) for r in rows]
