"""Pages for staff: upload and my submissions (uploaders), the review queue and review page (reviewers)."""
from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from service import access, audit_query, disclosure, localtime, search, secrecy_review, validity
from service.classifier.explanation import FIELD_LABELS_ZH, term_label
from service.db import AuditEntry, Department, Document, transaction
from service.receiving import display_filename
from service.review import (
    BATCH_CONFIDENCE,
    EDITABLE_FIELDS,
    batchable,
    change_masks,
    has_pii,
    load_for_change,
    queue_order,
    queue_page,
    set_disclosure,
    uncertain,
    update_fields,
)
from service.secrecy_review import page_list_zh, pages_needing_reading
from service.web import auth
from service.web.inputs import query_int
from service.web.pages import error_pages, page, runtime
from service.web.views import detail_view, full_view

bp = error_pages(Blueprint("desk", __name__))
PER_PAGE = 30
#: Documents on one page of the review queue (its order is computed whole: ``review.queue_order``).
QUEUE_PAGE = 50
ACCEPT = ".pdf,.docx,.doc,.wps,.rtf,.ofd,.txt,.jpg,.jpeg,.png,.tif,.tiff"


def _taxonomy():
    return current_app.extensions["gongkai.taxonomy"]


def _load(s, document_id: int) -> Document:
    doc = s.get(Document, document_id)
    if doc is None or not access.can_see(auth.current(), doc):
        abort(404)
    return doc


# ---------------------------------------------------------------------------
# Uploaders
# ---------------------------------------------------------------------------

@bp.get("/upload")
@page("uploader", "admin")
def upload():
    departments = []
    with transaction(runtime().sessions, readonly=True) as s:
        if auth.current().role == "admin":
            departments = [(d.code, d.name) for d in s.execute(select(Department).order_by(Department.code)).scalars()]
        rejected = recently_rejected(s, auth.current())
    return render_template("upload.html", max_bytes=runtime().settings.max_upload_bytes, accept=ACCEPT,
                           departments=departments, rejected=rejected)


#: How far back the rejection notice looks (the list keeps every rejection).
REJECTED_NOTICE_DAYS = 30


def uploader_notes(doc: Document) -> list[tuple[str, str, str]]:
    """What the uploader should know of a document as read, as (kind, short tag, sentence)."""
    notes = []
    if doc.secrecy_blocked:
        notes.append(("secret", "密级", "文件中有密级标志，不会公开；如标注有误，请联系审核人员。"))
    if has_pii(doc):
        notes.append(("pii", "个人信息", "文件含身份证号、手机号或银行卡号等个人信息，公开版将遮盖。"))
    unread = page_list_zh(pages_needing_reading(doc.warnings, doc.pages)) if doc.status != "failed" else ""
    if unread:
        notes.append(("unread", "需逐页阅读", f"第 {unread} 页无法识别文字，审核人员须对照原件逐页阅读。"))
    return notes


def recently_rejected(s, who) -> list[dict]:
    """Documents ``who`` may see that were rejected in the last ``REJECTED_NOTICE_DAYS`` days, newest
    first, with the reason (at most ten): the notice on the uploader's pages."""
    since = localtime.now() - timedelta(days=REJECTED_NOTICE_DAYS)
    rows = s.execute(select(Document.id, Document.title, Document.filename, Document.reject_reason,
                            Document.status_changed_at)
                     .where(access.visible(who), Document.status == "rejected",
                            Document.status_changed_at >= localtime.as_utc(since))
                     .order_by(Document.status_changed_at.desc()).limit(10)).all()
    return [{"id": r.id, "title": r.title or display_filename(r.filename), "reason": r.reject_reason,
             "at": r.status_changed_at} for r in rows]


@bp.get("/submissions")
@page("uploader", "admin")
def submissions():
    who = auth.current()
    status = request.args.get("status") or None
    q = (request.args.get("q") or "").strip()[:100]
    page_no = query_int("page", 1)
    query = select(Document).where(access.visible(who))
    if status:
        query = query.where(Document.status == status)
    holds = search.staff_condition(q)
    if holds is not None:
        query = query.where(holds)
    with transaction(runtime().sessions, readonly=True) as s:
        total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        docs = s.execute(query.options(selectinload(Document.secrecy_reviews))
                         .order_by(Document.id.desc()).offset((page_no - 1) * PER_PAGE).limit(PER_PAGE)).scalars()
        items = [{**full_view(d), "notes": uploader_notes(d)} for d in docs]
        rejected = recently_rejected(s, who)
    return render_template("submissions.html", items=items, status=status, q=q, total=total, page=page_no,
                           rejected=rejected,
                           pages=max(1, math.ceil(total / PER_PAGE)))


@bp.get("/documents/<id:document_id>")
@page("uploader", "reviewer", "signer", "admin")
def document(document_id: int):
    with transaction(runtime().sessions, readonly=True) as s:
        doc = full_view(_load(s, document_id))
        history = s.execute(select(AuditEntry).where(AuditEntry.document_id == document_id)
                            .order_by(AuditEntry.seq)).scalars().all()
        events = [{"at": e.at, "actor": e.actor, "action": audit_query.action_name(e.action), "detail": e.detail,
                   "code": e.action} for e in history]
    return render_template("document.html", doc=doc, events=events, review_results=secrecy_review.RESULT_NAMES_ZH)


@bp.get("/documents/<id:document_id>/original/view")
@page("uploader", "reviewer", "signer", "admin")
def original_inline(document_id: int):
    """The original shown in the page (PDF in a frame), with the same access check as the API."""
    with transaction(runtime().sessions, readonly=True) as s:
        doc = _load(s, document_id)
        sha, name, media = doc.sha256, display_filename(doc.filename), doc.media_type or "application/octet-stream"
    inline = media == "application/pdf"
    response = send_file(runtime().storage.open(sha), mimetype=media, as_attachment=not inline, download_name=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------------------
# Reviewers
# ---------------------------------------------------------------------------

def _queue_filters() -> dict:
    return {"status": request.args.get("status") or "pending_review",
            "department": request.args.get("department") or None, "category": request.args.get("category") or None,
            "q": (request.args.get("q") or "").strip()[:100] or None}


@bp.get("/review")
@page("reviewer", "signer", "admin")
def queue():
    filters = _queue_filters()
    page_no = query_int("page", 1)
    with transaction(runtime().sessions, readonly=True) as s:
        order = queue_order(s, auth.current(), **filters)
        docs = queue_page(s, order[(page_no - 1) * QUEUE_PAGE:page_no * QUEUE_PAGE])
        rows = [{**full_view(d), "pii": has_pii(d), "low": uncertain(d),
                 "batchable": batchable(d),
                 "unread": page_list_zh(pages_needing_reading(d.warnings, d.pages))} for d in docs]
        departments = [(d.code, d.name) for d in s.execute(select(Department).order_by(Department.code)).scalars()]
    return render_template("queue.html", rows=rows, filters=filters, departments=departments, total=len(order),
                           page=page_no, pages=max(1, math.ceil(len(order) / QUEUE_PAGE)),
                           categories=_taxonomy().names, batch_confidence=BATCH_CONFIDENCE,
                           stages=runtime().settings.review_stages)


def highlight(text: str, findings: list[dict]) -> Markup:
    """``text`` escaped, with every finding's value marked where it occurs (密级 and PII)."""
    spans: list[tuple[int, int, str]] = []
    for f in findings:
        value = f.get("value") or ""
        if len(value) < 2:
            continue
        kind = "secret" if f.get("blocking") else "pii"
        start = text.find(value)
        while start >= 0:
            spans.append((start, start + len(value), kind))
            start = text.find(value, start + len(value))
    out, pos = [], 0
    for start, end, kind in sorted(spans):
        if start < pos:
            continue
        out.append(escape(text[pos:start]))
        out.append(Markup('<mark class="{}">{}</mark>').format(kind, text[start:end]))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


@bp.get("/review/<id:document_id>")
@page("reviewer", "signer", "admin")
def review(document_id: int):
    filters = _queue_filters()
    with transaction(runtime().sessions, readonly=True) as s:
        doc = _load(s, document_id)
        view = detail_view(doc)
        assessment = secrecy_review.assess(doc)
        open_review = secrecy_review.open_review(s, doc.id)
        open_review = {**secrecy_review.to_dict(open_review), "at": open_review.reviewed_at} if open_review else None
        order = queue_order(s, auth.current(), **filters)
    position = order.index(document_id) + 1 if document_id in order else None   # n of N in this queue
    if position:
        i = position - 1
        prev_id, next_id = (order[i - 1] if i > 0 else None), (order[i + 1] if i + 1 < len(order) else None)
    else:
        prev_id, next_id = None, (order[0] if order else None)
    names = _taxonomy().names
    # Every category in the taxonomy's order, whatever the model ranked: key 3 is always the same
    # category, so a reviewer's hands learn it (doccano's fixed label keys); the first nine have keys.
    # A category an older taxonomy gave it stays choosable after them.
    older = [c for c in (view["category"], view["suggestion"]["category"]) if c and c not in names]
    choices = list(names) + list(dict.fromkeys(older))
    explanation = view["suggestion"]["explanation"] or {}
    return render_template("review.html", doc=view, choices=choices, all_categories=names,
                           disclosure_rules=disclosure.rules(), validity_statuses=validity.STATUSES,
                           validity_proposal=validity.propose(view["text"]),
                           text_html=highlight(view["text"] or "", view["findings"] or []),
                           terms=explanation.get("terms") or [], term_fields=FIELD_LABELS_ZH, term_label=term_label,
                           rules=explanation.get("rules") or [],
                           abstained=explanation.get("abstained"), position=position, queue_size=len(order),
                           prev_url=url_for("desk.review", document_id=prev_id, **_clean(filters)) if prev_id else "",
                           next_url=url_for("desk.review", document_id=next_id, **_clean(filters)) if next_id else "",
                           queue_url=url_for("desk.queue", **_clean(filters)),
                           pii=[f for f in view["findings"] or [] if not f.get("blocking")],
                           secrets=[f for f in view["findings"] or [] if f.get("blocking")],
                           fields=EDITABLE_FIELDS, read_pages=assessment.page_rows_zh(),
                           needs_person=assessment.needs_person, open_review=open_review,
                           review_results=secrecy_review.RESULT_NAMES_ZH,
                           reviewable=doc.status in secrecy_review.REVIEWABLE,
                           two_person=runtime().settings.publish_two_person and needs_two_person(doc),
                           stages=runtime().settings.review_stages,
                           can_review=auth.current().role in ("reviewer", "admin"))


def _change(document_id: int, change, anchor: str = ""):
    """One reviewer's change to a document from the review page: the document read with its row
    locked, 404 for one the person may not see, ``change(session, doc, actor)`` inside the
    transaction, then back to the review page at ``anchor``."""
    with transaction(runtime().sessions) as s:
        doc = load_for_change(s, document_id)
        if doc is None or not access.can_see(auth.current(), doc):
            abort(404)
        change(s, doc, auth.current().name)
    return redirect(url_for("desk.review", document_id=document_id) + anchor)


@bp.post("/review/<id:document_id>/masks")
@page("reviewer", "admin")
def edit_masks(document_id: int):
    """Add or remove a mask of the public copy, or exempt a number that is not personal; audited."""
    form = request.form
    return _change(document_id, lambda s, doc, actor: change_masks(
        s, doc, actor, add=form.get("add") or None, remove=form.get("remove") or None,
        exempt=form.get("exempt") or None, reason=form.get("reason", "")), "#public-text")


@bp.post("/review/<id:document_id>/fields")
@page("reviewer", "admin")
def edit_fields(document_id: int):
    """Correct the 公文 fields read from the document; every change is audited."""
    fields = {key: request.form[key] for key, _label in EDITABLE_FIELDS if key in request.form}
    return _change(document_id, lambda s, doc, actor: update_fields(s, doc, actor, fields))


@bp.post("/review/<id:document_id>/disclosure")
@page("reviewer", "admin")
def edit_disclosure(document_id: int):
    """公开属性: 主动公开, or 依申请公开 / 不予公开 with the 条例's reason; audited."""
    form = request.form
    return _change(document_id, lambda s, doc, actor: set_disclosure(
        s, doc, actor, form.get("attribute", ""), form.get("reason") or None, form.get("note", "")), "#disclosure")


@bp.post("/review/<id:document_id>/validity")
@page("reviewer", "admin")
def edit_validity(document_id: int):
    """有效性 of a rule: status, dates, what changed it; audited. Also after publication."""
    form = request.form
    return _change(document_id, lambda s, doc, actor: validity.set_validity(
        s, doc, actor, form.get("status") or None, effective_from=form.get("effective_from"),
        expires_on=form.get("expires_on"), ends_on=form.get("ends_on"), changed_by=form.get("changed_by"),
        note=form.get("note", "")), "#validity")


def needs_two_person(doc: Document) -> bool:
    return secrecy_review.assess(doc).two_person


def _clean(filters: dict) -> dict:
    return {k: v for k, v in filters.items() if v and not (k == "status" and v == "pending_review")}
