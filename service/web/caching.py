"""HTTP caching of the public catalogue's pages: an ETag, Last-Modified and a short public max-age.

A county's catalogue is crawled and linked from the news; most requests ask for a page that has
not changed. What a public page shows changes only when something is recorded in the audit log
(publication, withdrawal, 有效性, a department's name: every change is audited), when the date
changes (有效性 is shown as of today) or when the code does. So a page's ETag is the hash of
the audit log's last entry, today's Beijing date, this build, the site's name and the URL: a request that sends
it back gets 304 Not Modified without the page being composed, and a proxy or browser may reuse
a page for ``MAX_AGE`` seconds. The process also keeps the pages it composed by ETag, so a page
asked for again by anyone (a crawler, the news's readers) is sent as it was, not composed again.
Signed-in people see their name on every page: their pages stay ``no-store``
(``app.security_headers``), are never answered 304 and never kept.
"""
from __future__ import annotations

import datetime
import hashlib
import threading
from collections import OrderedDict
from functools import wraps
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from flask import Response, current_app, make_response, request
from sqlalchemy import select

from service import audit, localtime
from service.db import AuditEntry, transaction
from service.web import auth
from service.web.pages import runtime

#: Seconds a browser or proxy may show a public page without asking again.
MAX_AGE = 60
#: Public pages kept composed per process, by ETag (the newest used kept); a page larger than
#: ``KEPT_BYTES`` is not kept.
KEPT_PAGES = 512
KEPT_BYTES = 512 * 1024
_kept_lock = threading.Lock()


def _pages() -> OrderedDict[str, tuple[bytes, str]]:
    """This application's kept pages (one process may hold several applications: tests)."""
    return current_app.extensions.setdefault("gongkai.kept_pages", OrderedDict())


def _build() -> str:
    """This build: the package version and when its templates last changed."""
    try:
        release = version("gongkai")
    except PackageNotFoundError:   # pragma: no cover - run from a checkout without an install
        release = "dev"
    templates = Path(__file__).with_name("templates")
    changed = max((p.stat().st_mtime_ns for p in templates.iterdir()), default=0)
    return f"{release}-{changed}"


BUILD = _build()


def _last_change() -> tuple[str, datetime.datetime | None]:
    """The audit chain's head (its hash) and when its last entry was made."""
    with transaction(runtime().sessions, readonly=True) as s:
        seq, head = audit.last_change(s)
        at = s.execute(select(AuditEntry.at).where(AuditEntry.seq == seq)).scalar() if seq else None
    return head, at


def _recall(tag: str) -> tuple[bytes, str] | None:
    with _kept_lock:
        kept = _pages()
        page = kept.get(tag)
        if page is not None:
            kept.move_to_end(tag)
        return page


def _keep(tag: str, response: Response) -> None:
    if response.direct_passthrough or response.is_streamed:
        return
    body = response.get_data()
    if len(body) > KEPT_BYTES:
        return
    with _kept_lock:
        kept = _pages()
        kept[tag] = (body, response.content_type or "text/html; charset=utf-8")
        while len(kept) > KEPT_PAGES:
            kept.popitem(last=False)


def public_cache(view):
    """Give a public page's 200 response an ETag, Last-Modified and ``Cache-Control: public``, and
    answer 304 to a request that already holds it."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if auth.current().kind != "public":
            return view(*args, **kwargs)
        seq, at = _last_change()
        today = localtime.now().date()
        # the database (two empty audit logs look alike) and the site's name (on every page) too
        database, site = runtime().engine.url, runtime().settings.site_name
        tag = hashlib.sha256(f"{BUILD}|{database}|{site}|{seq}|{today}|{request.full_path}".encode()).hexdigest()[:32]
        if request.if_none_match.contains(tag):
            response = Response(status=304)
        elif (page := _recall(tag)) is not None:   # composed before, and nothing changed since
            response = Response(page[0], content_type=page[1])
        else:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            _keep(tag, response)
        response.set_etag(tag)
        midnight = localtime.day_start(today)
        response.last_modified = max(localtime.as_utc(at), midnight) if at else midnight
        response.cache_control.public = True
        response.cache_control.max_age = MAX_AGE
        response.vary.add("Cookie")
        return response
    return wrapped
