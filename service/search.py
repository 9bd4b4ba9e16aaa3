"""Full-text search over published documents: substrings, single characters, numbers, 文号.

What a document is indexed as, and what a query asks for, is ``service.search_grams``: the
document's public text (``analysis.masking.public_form``: masked numbers and names are not in
it, so nobody finds a person by them) cut into character runs and their distinct n-grams. Every
run of the query must be found in the document (AND). Only published documents are indexed:
``index_document`` runs when a document is published, ``unindex_document`` when it is withdrawn
(``service.review``). The table ``document_search`` is made by migration 0019; it holds, for
each document, the grams of its ``title``, of its ``lead`` (the first ``LEAD_CHARS`` characters of
the body) and of both title and body — without positions — and ``flat``, the normalized runs as
text.

- SQLite: an FTS5 table keyed by the document id (``rowid``) with the columns ``title``,
  ``lead``, ``body`` and ``flat`` (not indexed), ``detail=column``: a doclist holds which
  documents and columns have a gram, not where, so a word in every one of 100,000 documents is
  read in milliseconds (with positions, phrase queries read every occurrence).
- PostgreSQL: one ``tsvector`` column ``body`` under a GIN index, holding the grams of title and
  body, and the title's and the lead's grams again marked ``T``/``L`` (``T汛``): every tier is then
  found and counted by that one index (a tsvector keeps at most 256 positions of a lexeme and
  none past 16,383, which a long report exceeds: positions are not kept).

A run of three or more characters is the AND of its trigrams; a run of ``RECHECKED_RUN`` or more
(a number, a 文号, a title: rare, so few documents are read) is also looked for in ``flat``. A
shorter hit is exact unless the document holds every trigram of the run apart from each other (a
run of four characters: both its trigrams, separately), which real text rarely does.

Ranking (``page``): documents whose title holds the whole query first, then those whose lead
does, then the rest; newest first within each (the catalogue's order). The database does all of
it: nothing passes through Python as a list of ids.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, and_, case, func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TextualSelect

from service.analysis.masking import public_form
from service.db import Document
from service.search_grams import Term, grams, runs, terms

#: How much of the body counts as its lead (the opening that says what a document is about).
LEAD_CHARS = 200
#: A query's run this long is also looked up in the document's normalized text (it is rare, so
#: few documents are read): its trigrams standing apart are not a hit.
RECHECKED_RUN = 5
#: PostgreSQL: the marks of a title's and a lead's grams in the one tsvector (``index_row``);
#: letters no normalized gram starts with (grams are lower case).
TITLE_MARK, LEAD_MARK = "T", "L"
#: The tiers of ``page``.
TITLE, LEAD, BODY = 2, 1, 0


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def public_parts(title: str | None, body: str | None, masks: dict | None) -> tuple[str, str, str]:
    """The title, lead and body the public sees of a document (personal numbers and the names a
    reviewer masked replaced by ``*``)."""
    title = public_form(title, masks)[0]
    body = public_form(body, masks)[0]
    return title, body[:LEAD_CHARS], body


def index_row(title: str | None, body: str | None, masks: dict | None, sqlite: bool) -> dict[str, str]:
    """The values of a document's row in ``document_search``: grams as space-separated words
    (FTS5) or a tsvector literal (every gram is letters and digits: nothing to quote)."""
    title, lead, body = public_parts(title, body, masks)
    flat = " ".join(runs(title) + runs(body))
    if sqlite:
        return {"title": " ".join(grams(title)), "lead": " ".join(grams(lead)),
                "body": " ".join(grams(title + "\n" + body)), "flat": flat}
    # one tsvector: the grams of title and body, and those of the title and of the lead again,
    # marked (T汛, L汛), so every tier is found by one GIN index
    marked = grams(title + "\n" + body) + [TITLE_MARK + g for g in grams(title)] + [LEAD_MARK + g for g in grams(lead)]
    return {"body": " ".join(f"'{g}'" for g in marked), "flat": flat}


def insert_sql(sqlite: bool) -> str:
    if sqlite:
        return ("INSERT INTO document_search (rowid, title, lead, body, flat) "
                "VALUES (:id, :title, :lead, :body, :flat)")
    return "INSERT INTO document_search (document_id, body, flat) VALUES (:id, CAST(:body AS tsvector), :flat)"


def index_document(session: Session, doc: Document) -> None:
    unindex_document(session, doc)
    sqlite = _is_sqlite(session)
    session.execute(text(insert_sql(sqlite)), {"id": doc.id, **index_row(doc.title, doc.text, doc.masks, sqlite)})


def unindex_document(session: Session, doc: Document) -> None:
    key = "rowid" if _is_sqlite(session) else "document_id"
    session.execute(text(f"DELETE FROM document_search WHERE {key} = :id"), {"id": doc.id})


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

def _fts5_term(term: Term) -> str:
    if term.prefix:
        return f'"{term.run}" *'
    return "(" + " AND ".join(f'"{g}"' for g in term.grams) + ")"


def _tsquery_term(term: Term, mark: str = "") -> str:
    if term.prefix:
        return f"'{mark}{term.run}':*"
    return "(" + " & ".join(f"'{mark}{g}'" for g in term.grams) + ")"


def _query(session: Session, found: list[Term], mark: str = "") -> str:
    if _is_sqlite(session):
        return " AND ".join(_fts5_term(t) for t in found)
    return " & ".join(_tsquery_term(t, mark) for t in found)


@dataclass(frozen=True)
class Found:
    """SELECTs of the ids of the indexed documents holding every run of a query: anywhere, in the
    title alone, in the lead alone."""

    anywhere: TextualSelect
    title: TextualSelect
    lead: TextualSelect
    #: No run rechecked: the MATCH expressions (SQLite) or tsqueries (PostgreSQL) of the title
    #: tier, the lead tier and all hits, which the full-text index counts alone.
    tier_matches: tuple[str, str, str] | None = None


def found(session: Session, query: str) -> Found | None:
    """``Found`` for ``query``; None when it has nothing to search for (the caller shows everything)."""
    wanted = terms(query)
    if not wanted:
        return None
    q = _query(session, wanted)
    # a long run is checked against the text itself: its trigrams apart are no hit (24000亿元)
    long = {f"r{i}": t.run for i, t in enumerate(t for t in wanted if len(t.run) >= RECHECKED_RUN)}
    if _is_sqlite(session):
        checks = "".join(f" AND instr(flat, :{name}) > 0" for name in long)
        where = {"q_all": q, "q_title": "{title} : (" + q + ")", "q_lead": "{lead} : (" + q + ")"}
        selects = [text(f"SELECT rowid AS document_id FROM document_search WHERE document_search MATCH :{name}"
                        + (checks if name == "q_all" else ""))
                   .bindparams(**{name: match}, **(long if name == "q_all" else {})).columns(document_id=Integer)
                   for name, match in where.items()]
        title, lead = where["q_title"], where["q_lead"]
        if not long:
            return Found(*selects, tier_matches=(title, f"({lead}) NOT ({title})", q))
    else:   # (one name per SELECT: the three may stand in one statement)
        checks = "".join(f" AND strpos(flat, :{name}) > 0" for name in long)
        where = {"q_body": q, "q_title": _query(session, wanted, TITLE_MARK),
                 "q_lead": _query(session, wanted, LEAD_MARK)}
        selects = [text(f"SELECT document_id FROM document_search WHERE body @@ CAST(:{name} AS tsquery)"
                        + (checks if name == "q_body" else ""))
                   .bindparams(**{name: match}, **(long if name == "q_body" else {})).columns(document_id=Integer)
                   for name, match in where.items()]
        if not long:
            title, lead = where["q_title"], where["q_lead"]
            return Found(*selects, tier_matches=(title, f"({lead}) & !({title})", q))
    return Found(*selects)


def matching(session: Session, query: str) -> TextualSelect | None:
    """A SELECT of the ids of indexed documents holding every run of ``query``, for
    ``Document.id.in_(…)``; None as ``found``."""
    hits = found(session, query)
    return None if hits is None else hits.anywhere


def page(session: Session, where: list, query: str, offset: int, limit: int) -> tuple[int, list] | None:
    """How many published documents meeting ``where`` (conditions on ``Document``) hold ``query``, and
    the ``limit`` of them after ``offset``, best first: those whose title holds the whole query,
    then those whose lead does, then the rest; newest first within each.

    The tiers are counted in one pass, and each is paged on its own — newest first along the
    listing index, stopping at ``limit`` — so a word in 90,000 documents is never sorted whole.
    None as ``found``."""
    hits = found(session, query)
    if hits is None:
        return None
    if _is_sqlite(session):
        return _page(session, hits, where, offset, limit)
    # PostgreSQL reads every row's tsvector (TOASTed: decompressed, ~0.7 s at 100,000) when it
    # expects most rows to match; the GIN index answers from its own pages. For this search only.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        return _page(session, hits, where, offset, limit)
    finally:
        session.execute(text("SET LOCAL enable_seqscan = on"))


def _page(session: Session, hits: Found, where: list, offset: int, limit: int) -> tuple[int, list]:
    def tiers(key) -> tuple:
        """Membership of ``key`` (the document id, or an expression of it) in each tier."""
        in_title, in_lead, in_any = key.in_(hits.title), key.in_(hits.lead), key.in_(hits.anywhere)
        level = case((in_title, TITLE), (in_lead, LEAD), else_=BODY).label("tier")
        return level, {TITLE: [in_title, in_any], LEAD: [in_lead, ~in_title, in_any],
                       BODY: [in_any, ~in_title, ~in_lead]}

    # the index holds exactly the published documents: count in it alone
    if hits.tier_matches:
        count = ("SELECT count(*) FROM document_search WHERE document_search MATCH :q" if _is_sqlite(session) else
                 "SELECT count(*) FROM document_search WHERE body @@ CAST(:q AS tsquery)")
        title, lead, total = (session.execute(text(count), {"q": m}).scalar_one() for m in hits.tier_matches)
        counts = {TITLE: title, LEAD: lead, BODY: total - title - lead}
    else:
        ids = hits.anywhere.subquery()
        counts = _counts(session, select(tiers(ids.c.document_id)[0]).subquery())
    published = [Document.status == "published", *where]
    if where:   # many hits: walk the listing index and probe the hits, not one row per hit
        level, _ = tiers(_key(sum(counts.values())))
        counts = _counts(session, select(level).where(*published, _key(sum(counts.values())).in_(hits.anywhere))
                         .subquery())
    rows: list = []
    skip = offset
    for tier in (TITLE, LEAD, BODY):
        n = counts.get(tier, 0)
        if skip >= n:
            skip -= n
            continue
        rows += session.execute(select(Document).where(*published, *tiers(_key(n))[1][tier])
                                .order_by(Document.published_at.desc(), Document.id.desc())
                                .offset(skip).limit(limit - len(rows))).scalars().all()
        skip = 0
        if len(rows) >= limit:
            break
    return sum(counts.values()), rows


#: Above this many hits a page walks the listing index newest first and probes each document
#: against the hits; at or below it, it reads the hits' rows and sorts them.
DRIVE_BY_LISTING = 2000


def _key(hits: int):
    """The document id as a page's conditions should name it: ``id + 0`` when there are many
    hits, which keeps the database from reading a row per hit (SQLite otherwise looks up every
    id of an ``IN`` list by its primary key — 100,000 rows, overflow pages and all — and sorts)."""
    return Document.id + 0 if hits > DRIVE_BY_LISTING else Document.id


def _counts(session: Session, per_tier) -> dict[int, int]:
    return dict(session.execute(select(per_tier.c.tier, func.count()).group_by(per_tier.c.tier)).all())


def matching_ids(session: Session, query: str) -> list[int] | None:
    """Ids of indexed documents holding every run of ``query``, best first (None as ``found``)."""
    result = page(session, [], query, 0, 10**9)
    return None if result is None else [doc.id for doc in result[1]]


def staff_condition(query: str) -> ColumnElement[bool] | None:
    """For staff lists (the review queue, submissions), where documents are not yet published
    and so not in the index: documents whose title, file name or text holds every run of
    ``query``, read by the database (``LIKE``) from the rows the list's own filters leave.
    Staff see the text as read, unmasked. None when the query has nothing to search for."""
    wanted = terms(query)
    if not wanted:
        return None
    columns = (Document.title, Document.filename, Document.text)
    return and_(*(or_(*(func.lower(c).contains(t.run, autoescape=True) for c in columns)) for t in wanted))
