"""What a document looks like to the outside: the public's view (the 去标识化 public copy) and
staff's full view.

The API answers with these, and the pages render them: what the public may see of a
document is decided here, in one place (never the text of an unpublished one — ``access``
decides who sees which documents; this decides which fields).
"""
from __future__ import annotations

from datetime import UTC, datetime

from service import disclosure, localtime, secrecy_review, timeliness, validity
from service.access import original_is_public
from service.analysis.masking import public_form
from service.db import Document
from service.localtime import beijing
from service.receiving import display_filename


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _field(doc: Document, name: str):
    hit = (doc.gongwen or {}).get(name)
    return hit.get("value") if hit else None


def _listing(doc: Document) -> dict:
    return {
        "id": doc.id, "index_number": doc.index_number, "title": doc.title or display_filename(doc.filename),
        "category": doc.category, "issuer": _field(doc, "issuer") or doc.department.name,
        "doc_number": _field(doc, "doc_number"), "date": _field(doc, "date"),
        "department": doc.department.name, "published_at": _iso(doc.published_at),
        "filename": display_filename(doc.filename), "media_type": doc.media_type, "pages": doc.pages,
    }


def public_listing(doc: Document) -> dict:
    """A catalogue row: the public copy's title (personal numbers masked, ``analysis.masking``)
    and whether the original file may be downloaded — no text, so no scan of it."""
    view = _listing(doc)
    view["title"] = public_form(view["title"], doc.masks)[0]
    view["original_public"] = original_is_public(doc)
    view["validity"] = validity.describe(None, doc.validity, localtime.now().date())
    # what the public downloads: the original, or its 去标识化 PDF (service.public_copy)
    view["public_file"] = f"/api/v1/documents/{doc.id}/public-file"
    return view


def public_view(doc: Document) -> dict:
    """What anyone may see of a document: its 去标识化 public copy, title and text."""
    return {**public_listing(doc), "text": public_form(doc.text, doc.masks)[0]}


def full_view(doc: Document) -> dict:
    """What staff see in lists: the document as read, unmasked."""
    return {
        **_listing(doc), "text": doc.text,
        "masks": doc.masks or {"added": [], "exempt": []},
        "original_public": original_is_public(doc),
        "status": doc.status, "status_changed_at": _iso(doc.status_changed_at), "department_id": doc.department_id,
        "uploaded_by": doc.uploaded_by, "sha256": doc.sha256, "size": doc.size, "created_at": _iso(doc.created_at),
        "error": {"code": doc.error_code, "message": doc.error_message} if doc.error_code else None,
        "plugin": doc.plugin, "tables": doc.tables, "metadata": doc.gongwen, "hidden_text": doc.hidden_text,
        "warnings": doc.warnings, "suggestion": {
            "category": doc.suggested_category, "confidence": doc.confidence, "candidates": doc.candidates,
            "needs_attention": doc.needs_attention, "explanation": doc.explanation, "model": doc.model_version,
        },
        "findings": doc.findings, "secrecy_blocked": doc.secrecy_blocked,
        "pii_acknowledged_by": doc.pii_acknowledged_by, "pii_acknowledged_at": _iso(doc.pii_acknowledged_at),
        "reviewed_by": doc.reviewed_by, "reviewed_at": _iso(doc.reviewed_at), "reject_reason": doc.reject_reason,
        "secrecy_reviews": [secrecy_review.to_dict(r) for r in doc.secrecy_reviews],
        "timeliness": _timeliness(doc),
        "disclosure": disclosure.describe(doc.disclosure, doc.disclosure_reason),
        "validity": validity.describe(None, doc.validity, localtime.now().date()),
    }


def _timeliness(doc: Document) -> dict | None:
    """主动公开时限 (``service.timeliness``): working days from the 成文日期 to publication, or to today."""
    published = beijing(doc.published_at).date() if doc.published_at else None
    found = timeliness.assess(doc.gongwen, published, localtime.now().date())
    return {**found.to_dict(), "state_zh": found.state_zh, "left": found.left} if found else None


def detail_view(doc: Document) -> dict:
    """What staff see of one document: ``full_view`` and, beside it, the public copy's text (a scan
    of the whole text: for one document at a time, not for lists)."""
    return {**full_view(doc), "public_text": public_form(doc.text, doc.masks)[0]}


def view_for(who, doc: Document) -> dict:
    return full_view(doc) if who.authenticated else public_view(doc)
