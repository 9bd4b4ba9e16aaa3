"""The REST API under /api/v1: JSON in, JSON out, errors as {"error": {"code", "message"}}."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request, send_file, url_for
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from service import access, disclosure, localtime, public_copy, quality, review, search, secrecy_review, validity
from service import api_tokens
from service import audit_query
from service import report as R
from service.db import Department, Document, transaction
from service.errors import GongkaiError, InvalidRequest
from service.index_numbers import Scheme
from service.queue import enqueue_ingest, ingest_job_id, job_status
from service.receiving import display_filename, receive
from service.states import STATE_NAMES_ZH
from service.web.auth import current, require
from service.web.inputs import json_object, query_day, query_int, text
from service.web.openapi import spec
from service.web.pages import send_public_file
from service.web.views import detail_view, public_view, view_for

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)
MAX_PER_PAGE = 200


class NotFound(GongkaiError):
    code = "not_found"
    http_status = 404
    message_zh = "找不到该文件，或您无权查看。"
    message_en = "No such document, or you may not see it."


#: A parameter or body the API cannot use (422); ``service.web.inputs`` raises it too.
BadRequest = InvalidRequest


class NotMultipart(GongkaiError):
    code = "unsupported_media_type"
    http_status = 415
    message_zh = "请以 multipart/form-data 方式上传，文件字段名为 file。"
    message_en = "Upload as multipart/form-data with a 'file' field."


def rt():
    return current_app.extensions["gongkai"]


def taxonomy():
    return current_app.extensions["gongkai.taxonomy"]


# ---------------------------------------------------------------------------
# Representations
# ---------------------------------------------------------------------------

def _load_visible(session, document_id: int, who) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or not access.can_see(who, doc):
        raise NotFound(str(document_id))
    return doc


# ---------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------

@bp.post("/documents")
@require("uploader", "admin")
def upload():
    who = current()
    if not request.content_type or not request.content_type.startswith("multipart/form-data"):
        raise NotMultipart()
    file = request.files.get("file")
    if file is None:
        raise NotMultipart()
    department_id = who.department_id
    if who.role == "admin":
        code = request.form.get("department", "")
        with transaction(rt().sessions, readonly=True) as s:
            dept = s.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
        if dept is None:
            raise BadRequest(what="管理员上传须指定 department（部门代码）")
        department_id = dept.id
    got = receive(rt().sessions, rt().storage, department_id=department_id, filename=file.filename or "",
                  stream=file.stream, uploaded_by=who.name, max_bytes=rt().settings.max_upload_bytes)
    queued = got.created and _queue_ingest(got.document_id)
    body = {"id": got.document_id, "status": got.status, "created": got.created, "queued": queued}
    return jsonify(body), 202, {"Location": url_for("api.get_document", document_id=got.document_id)}


def _queue_ingest(document_id: int) -> bool:
    """Hand a stored document to the workers. The original and its row are committed already
    (the database is the source of truth): with Redis unreachable the upload still succeeds
    and the workers' sweep (``service.queue.requeue_stuck``) queues it once Redis is back."""
    try:
        enqueue_ingest(rt().queue, [document_id])
        return True
    except RedisError as exc:
        log.warning("document %s stored but not queued (Redis: %s); the sweep will queue it", document_id, exc)
        return False


# ---------------------------------------------------------------------------
# Read
# ---------------------------------------------------------------------------

@bp.get("/documents")
def list_documents():
    who = current()
    query = select(Document).where(access.visible(who))
    if who.authenticated:   # full_view lists each document's reviews: one query for the page, not one each
        query = query.options(selectinload(Document.secrecy_reviews))
    if status := request.args.get("status"):
        if status not in STATE_NAMES_ZH:   # a misspelt filter is an error, not an empty list
            raise InvalidRequest(what=f"status 应为以下之一：{'、'.join(STATE_NAMES_ZH)}")
        query = query.where(Document.status == status)
    if category := request.args.get("category"):
        if category not in taxonomy().names:
            raise InvalidRequest(what=f"category 应为以下之一：{'、'.join(taxonomy().names)}")
        query = query.where((Document.category == category) | (Document.suggested_category == category))
    department = request.args.get("department")
    if department:
        query = query.join(Department).where(Department.code == department)
    q = (request.args.get("q") or "").strip()[:100]
    if since := query_day("since"):
        query = query.where(Document.created_at >= localtime.day_start(since))
    if until := query_day("until"):
        query = query.where(Document.created_at < localtime.day_end(until))
    page, per_page = query_int("page", 1), query_int("per_page", 50, maximum=MAX_PER_PAGE)
    with transaction(rt().sessions, readonly=True) as s:
        if department and s.execute(select(Department.id).where(Department.code == department)).first() is None:
            raise InvalidRequest(what=f"没有部门代码为 {department} 的部门")
        if q:   # words, numbers or a 文号: staff in what they may see, the public in the index
            holds = search.staff_condition(q) if who.authenticated else None
            found = None if who.authenticated else search.matching(s, q)
            if holds is not None:
                query = query.where(holds)
            if found is not None:
                query = query.where(Document.id.in_(found))
        total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        docs = s.execute(query.order_by(Document.id.desc())
                         .offset((page - 1) * per_page).limit(per_page)).scalars().all()
        items = [view_for(who, d) for d in docs]
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


@bp.get("/documents/<id:document_id>")
def get_document(document_id: int):
    who = current()
    with transaction(rt().sessions, readonly=True) as s:
        doc = _load_visible(s, document_id, who)
        return jsonify(detail_view(doc) if who.authenticated else public_view(doc))


@bp.get("/documents/<id:document_id>/original")
def download_original(document_id: int):
    who = current()
    with transaction(rt().sessions, readonly=True) as s:
        doc = _load_visible(s, document_id, who)
        access.check_original(who, doc)
        sha, name, media = doc.sha256, display_filename(doc.filename), doc.media_type or "application/octet-stream"
    return send_file(rt().storage.open(sha), mimetype=media, as_attachment=True, download_name=name)


@bp.get("/documents/<id:document_id>/public-file")
def download_public_file(document_id: int):
    """What the public downloads of this document: the original, or its 去标识化 PDF (reviewers
    preview it before publishing)."""
    who = current()
    with transaction(rt().sessions, readonly=True) as s:
        doc = _load_visible(s, document_id, who)
        found = public_copy.plan(doc, rt().settings)
    return send_public_file(public_copy.public_file(rt(), found), inline=request.args.get("inline") == "1")


@bp.get("/documents/<id:document_id>/job")
def job(document_id: int):
    who = current()
    with transaction(rt().sessions, readonly=True) as s:
        doc = _load_visible(s, document_id, who)
        if not who.authenticated:
            raise NotFound(str(document_id))
        status, attempts = doc.status, doc.attempts
    queue = rt().queue
    job_id = ingest_job_id(queue, document_id)
    return jsonify({"document_id": document_id, "status": status, "attempts": attempts,
                    "job_id": job_id, "job_status": job_status(queue, job_id)})


# ---------------------------------------------------------------------------
# Review and publication
# ---------------------------------------------------------------------------

def _act(document_id: int, action) -> dict:
    """A reviewer's action on one document, on the row locked for this transaction: two
    actions at once run one after the other, and the second sees the first's result."""
    who = current()
    with transaction(rt().sessions) as s:
        doc = review.load_for_change(s, document_id)
        if doc is None or not access.can_see(who, doc):
            raise NotFound(str(document_id))
        action(s, doc)
        return detail_view(doc)


@bp.post("/documents/<id:document_id>/review")
@require("reviewer", "admin")
def review_document(document_id: int):
    data = json_object()
    act, who = data.get("action"), current().name
    if act == "confirm":
        category = text(data, "category", None)
        body = _act(document_id, lambda s, d: review.confirm(s, d, who, taxonomy(), category))
    elif act == "correct":
        category = text(data, "category")
        body = _act(document_id, lambda s, d: review.correct(s, d, who, taxonomy(), category))
    elif act == "reject":
        reason = text(data, "reason")
        body = _act(document_id, lambda s, d: review.reject(s, d, who, reason))
    else:
        raise BadRequest(what="action 应为 confirm、correct 或 reject")
    return jsonify(body)


@bp.post("/documents/<id:document_id>/acknowledge-pii")
@require("reviewer", "admin")
def acknowledge(document_id: int):
    note = text(json_object(), "note")
    return jsonify(_act(document_id, lambda s, d: review.acknowledge_pii(s, d, current().name, note)))


@bp.post("/documents/<id:document_id>/masks")
@require("reviewer", "admin")
def change_masks(document_id: int):
    """The public copy's masks: ``{"add": "赵德明"}``, ``{"remove": "赵德明"}`` or
    ``{"exempt": "13800138000", "reason": "单位服务热线"}``."""
    body = json_object()
    fields = {name: text(body, name, default=None) for name in ("add", "remove", "exempt")}
    reason = text(body, "reason") or ""
    return jsonify(_act(document_id, lambda s, d: review.change_masks(s, d, current().name, reason=reason, **fields)))


@bp.get("/disclosure")
@require("uploader", "reviewer", "admin")
def disclosure_rules():
    """The 公开属性 and their reasons from the 条例 (``service/data/disclosure.json``)."""
    found = disclosure.rules()
    return jsonify({
        "attributes": [{"code": a.code, "name": a.name, "reason_required": a.reason_required,
                        "description": a.description} for a in found.attributes],
        "reasons": [{"code": r.code, "article": r.article, "name": r.name, "for": list(r.applies_to)}
                    for r in found.reasons]})


@bp.post("/documents/<id:document_id>/disclosure")
@require("reviewer", "admin")
def set_disclosure(document_id: int):
    """公开属性: ``{"attribute": "not_disclosed", "reason": "art16_process", "note": …}``."""
    body = json_object()
    attribute, reason = text(body, "attribute") or "", text(body, "reason", default=None)
    note = text(body, "note") or ""
    return jsonify(_act(document_id, lambda s, d: review.set_disclosure(s, d, current().name, attribute, reason, note)))


@bp.post("/documents/<id:document_id>/validity")
@require("reviewer", "admin")
def set_validity(document_id: int):
    """有效性: ``{"status": "repealed", "ends_on": "2026-06-30", "changed_by": "索引号或文号"}``;
    ``{"status": null}`` clears it. Also after publication (a rule is repealed later)."""
    body = json_object()
    fields = {name: text(body, name, default=None) for name in ("effective_from", "expires_on", "ends_on",
                                                                 "changed_by")}
    status, note = text(body, "status", default=None), text(body, "note") or ""
    return jsonify(_act(document_id, lambda s, d: validity.set_validity(s, d, current().name, status, note=note,
                                                                        **fields)))


@bp.post("/documents/<id:document_id>/fields")
@require("reviewer", "admin")
def edit_fields(document_id: int):
    """Correct the title and the 公文 fields: ``{"title": …, "doc_number": …, "addressee": …}``
    (any of ``review.EDITABLE_FIELDS``; an empty value clears a field, never the title)."""
    body = json_object()
    values = {key: text(body, key) or "" for key, _label in review.EDITABLE_FIELDS if key in body}
    return jsonify(_act(document_id, lambda s, d: review.update_fields(s, d, current().name, values)))


@bp.post("/documents/<id:document_id>/publish")
@require("reviewer", "signer", "admin")
def publish(document_id: int):
    """签发: publish an approved document — with two review stages (``GONGKAI_REVIEW_STAGES``), by a
    signer or a reviewer other than the one who approved it (409 sign_off_required)."""
    settings = rt().settings
    scheme = Scheme.of(settings.index_number_template, taxonomy())
    return jsonify(_act(document_id, lambda s, d: review.publish(
        s, d, current().name, two_person=settings.publish_two_person, scheme=scheme, stages=settings.review_stages)))


@bp.post("/documents/<id:document_id>/secrecy-review")
@require("reviewer", "admin")
def record_secrecy_review(document_id: int):
    """Record a 保密审查: ``result`` cleared / not_cleared, ``pages_read`` (pages read by eye), ``note``."""
    data = json_object()
    result = text(data, "result")
    note = text(data, "note", "")
    pages = data.get("pages_read", [])
    if not isinstance(pages, list):
        raise BadRequest(what="pages_read 应为页码列表")
    return jsonify(_act(document_id, lambda s, d: secrecy_review.record(s, d, current().name, result, pages, note)))


@bp.post("/documents/<id:document_id>/withdraw")
@require("reviewer", "signer", "admin")
def withdraw(document_id: int):
    reason = text(json_object(), "reason")
    return jsonify(_act(document_id, lambda s, d: review.withdraw(s, d, current().name, reason)))


@bp.post("/departments/<code>/tokens")
@require("admin")
def create_token(code: str):
    """A department token for a system that uploads; the token is in this answer only."""
    label = text(json_object(), "label")
    with transaction(rt().sessions) as s:
        token, secret = api_tokens.create(s, code, label, current().name)
        body = {**api_tokens.to_dict(token), "token": secret}
    return jsonify(body), 201


@bp.get("/departments/<code>/tokens")
@require("admin")
def list_tokens(code: str):
    with transaction(rt().sessions, readonly=True) as s:
        return jsonify({"tokens": api_tokens.listing(s, code)})


@bp.post("/tokens/<id:token_id>/revoke")
@require("admin")
def revoke_token(token_id: int):
    with transaction(rt().sessions) as s:
        return jsonify(api_tokens.to_dict(api_tokens.revoke(s, token_id, current().name)))


@bp.get("/audit")
@require("admin")
def audit_log():
    with transaction(rt().sessions, readonly=True) as s:
        entries, next_before = audit_query.page(s, audit_query.parse(request.args))
    return jsonify({"entries": entries, "next_before": next_before})


@bp.get("/model-quality")
@require("reviewer", "admin")
def model_quality():
    """The admin page's 在本单位文件上的实际表现 as JSON (``service.quality``)."""

    since = query_day("since")
    with transaction(rt().sessions, readonly=True) as s:
        versions = quality.quality_by_version(s, taxonomy().names, since=localtime.day_start(since) if since else None)
    return jsonify({"since": since.isoformat() if since else None, "versions": versions})


@bp.get("/report")
@require("reviewer", "admin")
def annual_report():
    """The year's disclosure statistics (``service.report``) as JSON; ``year`` defaults to this one."""

    raw = request.args.get("year")
    year = localtime.now().year if raw is None else R.parse_year(raw)
    if year is None:
        raise BadRequest(what=f"year 应为 {R.YEARS.start}–{R.YEARS.stop - 1} 之间的年份")
    with transaction(rt().sessions, readonly=True) as s:
        return jsonify(R.annual_report(s, year, taxonomy()).to_dict())


@bp.get("/openapi.json")
def openapi():

    return jsonify(spec())

