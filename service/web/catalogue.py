"""The public 公开目录: published documents by category and year, full-text search, print view.

A year is a Beijing-time year (``service.localtime``), the same year the annual report counts
a document in: published at 07:00 on 1 January, it is in the new year's catalogue."""
from __future__ import annotations

import math

from flask import Blueprint, abort, render_template, request
from sqlalchemy import case, func, select

from service import localtime, public_copy, search, validity
from service.analysis.masking import public_form
from service.kept import Kept
from service.search_grams import marked, snippet
from service.db import Document, transaction
from service.localtime import beijing, year_bounds
from service.web.caching import public_cache
from service.web.inputs import query_int
from service.web.pages import error_pages, runtime, send_public_file
from service.web.views import public_listing, public_view

bp = error_pages(Blueprint("catalogue", __name__))
PER_PAGE = 20
#: The years a catalogue (like an annual report, ``service.report.YEARS``) may be asked for.
FIRST_YEAR, LAST_YEAR = 1900, 9998


@bp.get("/catalogue")
@public_cache
def index():
    category, year = request.args.get("category") or None, query_int("year", minimum=FIRST_YEAR, maximum=LAST_YEAR)
    status = request.args.get("validity") or None
    status = status if status in validity.STATUSES else None
    q = (request.args.get("q") or "").strip()
    page_no = query_int("page", 1)
    published = Document.status == "published"
    with transaction(runtime().sessions, readonly=True) as s:
        categories, years, statuses = _sidebar.get(s, "sidebar", lambda: _sidebar_counts(s))
        where = []
        if category:
            where.append(Document.category == category)
        if status:
            where.append(Document.validity_status == status)
        if year:
            start, end = year_bounds(year)
            where += [Document.published_at >= start, Document.published_at < end]
        query = select(Document).where(published, *where)
        offset = (page_no - 1) * PER_PAGE
        found = search.page(s, where, q, offset, PER_PAGE) if q else None
        if found is not None:   # best first: title hits, then lead hits, then the rest
            total, docs = found
            items = [_found(d, q) for d in docs]
        else:
            total = _sidebar.get(s, ("total", category, status, year),   # counted once per change
                                 lambda: s.execute(select(func.count()).select_from(query.subquery())).scalar_one())
            docs = s.execute(query.order_by(Document.published_at.desc(), Document.id.desc())
                             .offset(offset).limit(PER_PAGE)).scalars().all()
            items = [public_listing(d) for d in docs]
    pages = max(1, math.ceil(total / PER_PAGE))
    counts = [(code, name, statuses[code]) for code, name in validity.STATUSES.items() if code in statuses]
    return render_template("catalogue.html", items=items, total=total, page=page_no, pages=pages,
                           categories=categories, years=years, validity_counts=counts,
                           category=category, year=year, q=q, validity=status)


#: The catalogue's counts by category, year and 有效性, and of each filter's documents, kept until
#: something changes (``service.kept``).
_sidebar = Kept(64)


def _sidebar_counts(s) -> tuple[list, list, dict]:
    published = Document.status == "published"
    categories = [tuple(row) for row in s.execute(select(Document.category, func.count()).where(published)
                                                  .group_by(Document.category).order_by(Document.category)).all()]
    statuses = dict(s.execute(select(Document.validity_status, func.count()).where(
        published, Document.validity_status.is_not(None)).group_by(Document.validity_status)).all())
    return categories, _years(s, published), statuses


def _found(doc: Document, q: str) -> dict:
    """A catalogue row of a search result: the title with the query marked, and a snippet of the
    public text around the first place the query stands."""
    view = public_listing(doc)
    view["title_parts"] = marked(view["title"], q)
    view["snippet"] = snippet(public_form(doc.text, doc.masks)[0], q)
    return view


def _years(s, published) -> list[tuple[int, int]]:
    """(Beijing year, documents published in it), newest first, years without any left out."""
    first, last = s.execute(select(func.min(Document.published_at), func.max(Document.published_at))
                            .where(published)).one()
    if first is None:
        return []
    years = list(range(beijing(last).year, beijing(first).year - 1, -1))
    in_year = [func.sum(case((Document.published_at >= start, 1), else_=0)).label(f"y{y}")
               for y, (start, _) in ((y, year_bounds(y)) for y in years)]
    # "published on or after 1 January Y" per year in one pass; a year's count is the difference.
    on_or_after = s.execute(select(*in_year).where(published)).one()
    counts, later = [], 0
    for y, n in zip(years, on_or_after, strict=True):
        counts.append((y, int(n or 0) - later))
        later = int(n or 0)
    return [(y, n) for y, n in counts if n]


@bp.get("/catalogue/<id:document_id>")
@public_cache
def item(document_id: int):
    with transaction(runtime().sessions, readonly=True) as s:
        doc = s.get(Document, document_id)
        if doc is None or doc.status != "published":
            abort(404)
        view = public_view(doc)
        view["validity"] = validity.describe(s, doc.validity, localtime.now().date())
    return render_template("catalogue_item.html", doc=view)


@bp.get("/catalogue/<id:document_id>/download")
def download(document_id: int):
    with transaction(runtime().sessions, readonly=True) as s:
        doc = s.get(Document, document_id)
        if doc is None or doc.status != "published":
            abort(404)
        # the catalogue is the public's, whoever browses it: the original, or its public PDF
        found = public_copy.plan(doc, runtime().settings)
    return send_public_file(public_copy.public_file(runtime(), found))
