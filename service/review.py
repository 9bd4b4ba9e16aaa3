"""Review and publication: what reviewers do to a document, as plain functions.

Every function takes a session (the caller's transaction) and the acting user's name,
checks the rule it enforces, changes the document and records it in the audit log.
密级 hard-blocks publishing here, in the server; PII needs an explicit, audited
acknowledgment before publishing.
"""
from __future__ import annotations


from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import audit, localtime, search
from service.db import Department, Document, utcnow
from service.errors import GongkaiError
from service.states import transition
from service.taxonomy import Taxonomy


class ReviewError(GongkaiError):
    code = "review_error"
    http_status = 422


class UnknownCategory(ReviewError):
    code = "unknown_category"
    message_zh = "分类「{category}」不在当前分类体系中。"
    message_en = "Category {category} is not in the taxonomy in use."


class CategoryRequired(ReviewError):
    code = "category_required"
    message_zh = "系统没有给出把握足够的建议分类，请选择一个分类后再确认。"
    message_en = "No confident suggestion: choose a category."


class ReasonRequired(ReviewError):
    code = "reason_required"
    message_zh = "请填写原因。"
    message_en = "A reason is required."


class SecrecyBlocked(GongkaiError):
    code = "secrecy_blocked"
    http_status = 409
    message_zh = "文件含有密级标志（{marks}），依法不得公开发布。请确认文件是否已解密或撤回。"
    message_en = "The document carries a classification mark ({marks}) and cannot be published."


class PiiNotAcknowledged(GongkaiError):
    code = "pii_not_acknowledged"
    http_status = 409
    message_zh = "文件含有个人信息（{kinds}），发布前须由审核人员确认已处理。"
    message_en = "The document contains personal information ({kinds}); acknowledge it before publishing."


PII_NAMES = {"resident_id": "身份证号", "mobile": "手机号", "bank_card": "银行卡号"}


def confirm(session: Session, doc: Document, actor: str, taxonomy: Taxonomy, category: str | None = None) -> None:
    """Confirm the suggestion (or the category given)."""
    chosen = category or doc.suggested_category
    if not chosen:
        raise CategoryRequired()
    _approve(session, doc, actor, taxonomy, chosen, "review.confirm" if chosen == doc.suggested_category else "review.correct")


def correct(session: Session, doc: Document, actor: str, taxonomy: Taxonomy, category: str) -> None:
    if not category:
        raise CategoryRequired()
    _approve(session, doc, actor, taxonomy, category, "review.correct")


def _approve(session: Session, doc: Document, actor: str, taxonomy: Taxonomy, category: str, action: str) -> None:
    if category not in taxonomy:
        raise UnknownCategory(category=category)
    transition(session, doc, "approved", actor=actor, category=category)
    doc.category, doc.reviewed_by, doc.reviewed_at = category, actor, utcnow()
    audit.append(session, actor, action, document_id=doc.id, category=category,
                 suggested=doc.suggested_category, confidence=doc.confidence)


def reject(session: Session, doc: Document, actor: str, reason: str) -> None:
    if not (reason or "").strip():
        raise ReasonRequired()
    transition(session, doc, "rejected", actor=actor, reason=reason.strip())
    doc.reject_reason, doc.reviewed_by, doc.reviewed_at = reason.strip(), actor, utcnow()


def pii_findings(doc: Document) -> list[dict]:
    return [f for f in (doc.findings or []) if not f.get("blocking")]


def acknowledge_pii(session: Session, doc: Document, actor: str, note: str = "") -> None:
    doc.pii_acknowledged_by, doc.pii_acknowledged_at = actor, utcnow()
    audit.append(session, actor, "privacy.acknowledge", document_id=doc.id, note=note,
                 findings=[{"kind": f.get("kind"), "location": f.get("location")} for f in pii_findings(doc)])


def next_index_number(session: Session, doc: Document) -> str:
    """索引号: ``<department code>-<year>-<5-digit sequence within department and year>``.

    Called after ``transition`` has appended to the audit log, which locks the audit head
    row until commit: concurrent publishes are serialized there, so each count sees the
    numbers committed before it (tests/service/test_review.py publishes from 8 threads).
    """
    year = localtime.now().year   # the year the annual report counts it in (service.report)
    dept = session.get(Department, doc.department_id)
    prefix = f"{dept.code}-{year}-"
    count = session.execute(select(func.count()).select_from(Document).where(
        Document.department_id == doc.department_id, Document.index_number.like(prefix + "%"))).scalar_one()
    return f"{prefix}{count + 1:05d}"


def publish(session: Session, doc: Document, actor: str) -> None:
    if doc.secrecy_blocked:
        marks = "、".join(sorted({f.get("value", "") for f in doc.findings or [] if f.get("blocking")})) or "密级"
        raise SecrecyBlocked(marks=marks)
    pii = pii_findings(doc)
    if pii and not doc.pii_acknowledged_at:
        kinds = "、".join(sorted({PII_NAMES.get(f.get("kind"), f.get("kind", "")) for f in pii}))
        raise PiiNotAcknowledged(kinds=kinds)
    transition(session, doc, "published", actor=actor)
    if not doc.index_number:
        doc.index_number = next_index_number(session, doc)
    doc.published_at = utcnow()
    search.index_document(session, doc)
    audit.append(session, actor, "publish", document_id=doc.id, index_number=doc.index_number, category=doc.category)


def withdraw(session: Session, doc: Document, actor: str, reason: str) -> None:
    if not (reason or "").strip():
        raise ReasonRequired()
    transition(session, doc, "withdrawn", actor=actor, reason=reason.strip())
    search.unindex_document(session, doc)
