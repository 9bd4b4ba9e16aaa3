"""Review and publication: what reviewers do to a document, as plain functions.

Every function takes a session (the caller's transaction) and the acting user's name,
checks the rule it enforces, changes the document and records it in the audit log.
密级 hard-blocks publishing here, in the server; PII needs an explicit, audited
acknowledgment before publishing.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service import access, audit, localtime, search, secrecy_review
from service.access import Principal
from service.analysis.masking import KEPT_DIGITS, digits_of
from service.analysis.privacy import scan_text
from service.db import Department, Document, IndexCounter, dialect_insert, utcnow
from service.disclosure import ACTIVE, describe
from service.disclosure import rules as disclosure_rules
from service.errors import GongkaiError
from service.index_numbers import Scheme, uses_credit_code
from service.localtime import as_utc
from service.states import NotUnderReview, check_transition, transition
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
    message_zh = "文件含有个人信息（{kinds}），发布前须由审核人员确认遮盖（公开版本只含去标识化文字）。"
    message_en = "The document contains personal information ({kinds}); acknowledge it before publishing."


class SecrecyReviewRequired(GongkaiError):
    """Publishing needs a cleared 保密审查 of the document that this one does not have yet."""

    code = "secrecy_review_required"
    http_status = 409
    message_zh = "{what}"
    message_en = "A cleared secrecy review (保密审查) of the document is required before publishing."


class TwoPersonRequired(GongkaiError):
    code = "two_person_required"
    http_status = 409
    message_zh = "此文件的保密审查由 {who} 完成，须由另一名审核人员发布（审查与发布分人）。"
    message_en = "The secrecy review was done by {who}; another reviewer must publish (two-person rule)."


PII_NAMES = {"resident_id": "身份证号", "mobile": "手机号", "bank_card": "银行卡号"}


def confirm(session: Session, doc: Document, actor: str, taxonomy: Taxonomy, category: str | None = None) -> None:
    """Confirm the suggestion (or the category given)."""
    chosen = category or doc.suggested_category
    if not chosen:
        raise CategoryRequired()
    _approve(session, doc, actor, taxonomy, chosen,
             "review.confirm" if chosen == doc.suggested_category else "review.correct")


def correct(session: Session, doc: Document, actor: str, taxonomy: Taxonomy, category: str) -> None:
    if not category:
        raise CategoryRequired()
    _approve(session, doc, actor, taxonomy, category, "review.correct")


def _approve(session: Session, doc: Document, actor: str, taxonomy: Taxonomy, category: str, action: str) -> None:
    if category not in taxonomy:
        raise UnknownCategory(category=category)
    transition(session, doc, "approved", actor=actor, category=category, stage="初审")
    doc.category, doc.reviewed_by, doc.reviewed_at = category, actor, utcnow()
    audit.append(session, actor, action, document_id=doc.id, category=category,
                 suggested=doc.suggested_category, confidence=doc.confidence)


def reject(session: Session, doc: Document, actor: str, reason: str) -> None:
    if not (reason or "").strip():
        raise ReasonRequired()
    transition(session, doc, "rejected", actor=actor, reason=reason.strip())
    doc.reject_reason, doc.reviewed_by, doc.reviewed_at = reason.strip(), actor, utcnow()


class AlreadyAcknowledged(GongkaiError):
    code = "already_acknowledged"
    http_status = 409
    message_zh = "个人信息已由 {who} 确认处理，无需重复确认。"
    message_en = "The personal information was already acknowledged by {who}."


def pii_findings(doc: Document) -> list[dict]:
    return [f for f in (doc.findings or []) if not f.get("blocking")]


def acknowledge_pii(session: Session, doc: Document, actor: str, note: str = "") -> None:
    """Record that a reviewer has dealt with the personal information, once, before publishing.

    ``doc`` must have been read with a row lock (``load_for_change``): a second
    acknowledgment at the same moment then sees the first and is refused."""
    if doc.status not in ("pending_review", "approved"):
        raise NotUnderReview(doc.status)
    if doc.pii_acknowledged_at is not None:
        raise AlreadyAcknowledged(who=doc.pii_acknowledged_by or "")
    doc.pii_acknowledged_by, doc.pii_acknowledged_at = actor, utcnow()
    audit.append(session, actor, "privacy.acknowledge", document_id=doc.id, note=note,
                 findings=[{"kind": f.get("kind"), "location": f.get("location")} for f in pii_findings(doc)])


def load_for_change(session: Session, document_id: int) -> Document | None:
    """A document read with its row locked until the transaction ends (SELECT … FOR UPDATE
    on PostgreSQL; SQLite's writers are serialized from BEGIN IMMEDIATE): what a reviewer's
    action checks is what it changes, and a second action on the same document waits and
    then sees the first one's result."""
    return session.get(Document, document_id, with_for_update=True, populate_existing=True)


def _take_sequence(session: Session, department_id: int, year: int) -> int:
    """The next value of the department's counter for ``year``, taken atomically (an upsert
    that increments): two transactions never get the same value, and a value is never
    given back, even when the publish that took it is withdrawn."""
    table = IndexCounter.__table__
    stmt = dialect_insert(session)(table).values(department_id=department_id, year=year, last_value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.department_id, table.c.year],
                                      set_={"last_value": table.c.last_value + 1}).returning(table.c.last_value)
    return session.execute(stmt).scalar_one()


#: ``<department code>-<year>-<5-digit sequence>``, the scheme of a deployment that sets none.
DEFAULT_SCHEME = Scheme()


class SignOffRequired(GongkaiError):
    code = "sign_off_required"
    http_status = 409
    message_zh = "初审与签发须由不同人员：此件由「{reviewer}」初审，须由其他审核人员或签发人签发。"
    message_en = "初审 and 签发 are different people: {reviewer} approved this document, someone else must publish it."


class NotActiveDisclosure(GongkaiError):
    code = "not_active_disclosure"
    http_status = 409
    message_zh = "此件公开属性为「{attribute}」（{reason}），不进入公开目录；如应主动公开，请先修改公开属性。"
    message_en = "The document is not for active disclosure ({attribute}); change its disclosure attribute first."


class DisclosureInvalid(ReviewError):
    code = "disclosure_invalid"
    http_status = 422
    message_zh = "公开属性有误：{what}"
    message_en = "Invalid disclosure attribute: {what}"


def set_disclosure(session: Session, doc: Document, actor: str, attribute: str, reason: str | None = None,
                   note: str = "") -> bool:
    """Set the 公开属性 of ``doc`` (read with ``load_for_change``) under review: 主动公开, or 依申请公开 /
    不予公开 with a reason of the 条例 that fits it (``service/data/disclosure.json``); audited.
    Returns whether it changed."""
    if doc.status not in ("pending_review", "approved"):
        raise NotUnderReview(doc.status)
    rules = disclosure_rules()
    found = rules.attribute(attribute)
    if found is None:
        raise DisclosureInvalid(attribute, what=f"未知的公开属性「{attribute}」")
    why = rules.reason(reason) if reason else None
    if found.reason_required and (why is None or attribute not in why.applies_to):
        choices = "；".join(r.label for r in rules.reasons_for(attribute))
        raise DisclosureInvalid(reason, what=f"「{found.name}」须选择依据：{choices}")
    code = why.code if why and found.reason_required else None
    if (attribute, code) == ((doc.disclosure or ACTIVE), doc.disclosure_reason):
        return False
    audit.append(session, actor, "review.disclosure", document_id=doc.id,
                 **{"from": doc.disclosure or ACTIVE, "to": attribute}, reason=code, note=note.strip()[:500] or None)
    doc.disclosure, doc.disclosure_reason = attribute, code
    return True


class CreditCodeMissing(ReviewError):
    code = "credit_code_missing"
    http_status = 409
    message_zh = ("部门「{department}」未设置统一社会信用代码，无法按本系统的索引号规则编号；"
                  "请管理员在系统管理中设置后再发布。")
    message_en = "Department {department} has no unified social credit code, which the index-number scheme needs."


def next_index_number(session: Session, doc: Document, scheme: Scheme = DEFAULT_SCHEME) -> str:
    """索引号 by the deployment's ``scheme`` (``service.index_numbers``; by default
    ``<department code>-<year>-<5-digit sequence>``).

    The sequence comes from the department's counter for the year (``index_counters``).
    A number already on some document (one brought in by hand, say) is skipped.
    """
    year = localtime.now().year   # the year the annual report counts it in (service.report)
    dept = session.get(Department, doc.department_id)
    if uses_credit_code(scheme.template) and not dept.credit_code:
        raise CreditCodeMissing(department=dept.name)
    while True:
        number = scheme.number(credit_code=dept.credit_code, dept_code=dept.code, year=year, category=doc.category,
                               seq=_take_sequence(session, doc.department_id, year))
        if session.execute(select(Document.id).where(Document.index_number == number)).first() is None:
            return number


def publish(session: Session, doc: Document, actor: str, *, two_person: bool = True,
            automatic_only: bool = False, scheme: Scheme = DEFAULT_SCHEME, stages: int = 2) -> None:
    """Publish ``doc`` (read with ``load_for_change``): the one function every path calls —
    the review page (through the API), the API and the manifest import.

    Gates, in order: a 密级 mark blocks; ``automatic_only`` (the manifest import) publishes
    only what the automatic checks fully cleared; personal information needs its
    acknowledgment; and every publication needs a cleared 保密审查 no earlier publication
    relied on (一事一审). Where the automatic checks leave nothing for a person to judge,
    the review is recorded here, with the publisher as reviewer; otherwise a reviewer's
    cleared review must exist, list the unreadable pages as read by eye, and — with
    ``two_person`` (``GONGKAI_PUBLISH_TWO_PERSON``) — be someone else's than the publisher's.
    With two review ``stages`` (``GONGKAI_REVIEW_STAGES``) publishing is the 签发: never by the
    reviewer who approved the document (the manifest import's automatic publishing aside).
    """
    # A second click after a publish hears "already published", not that a review is missing
    # (the review the first publish used is spent).
    check_transition(doc.status, "published")
    if (doc.disclosure or ACTIVE) != ACTIVE:
        shown = describe(doc.disclosure, doc.disclosure_reason)
        raise NotActiveDisclosure(attribute=shown["name"], reason=shown["reason_name"] or "未选择理由")
    if doc.secrecy_blocked:
        marks = "、".join(sorted({f.get("value", "") for f in doc.findings or [] if f.get("blocking")})) or "密级"
        raise SecrecyBlocked(marks=marks)
    assessment = secrecy_review.assess(doc)
    if automatic_only and assessment.needs_person:
        raise SecrecyReviewRequired("automatic publishing", what=assessment.missing_zh()
                                    + "导入清单只能发布自动检查全部通过的文件。")
    pii = pii_findings(doc)
    if pii and not doc.pii_acknowledged_at:
        kinds = "、".join(sorted({PII_NAMES.get(f.get("kind"), f.get("kind", "")) for f in pii}))
        raise PiiNotAcknowledged(kinds=kinds)
    reviewed = secrecy_review.open_review(session, doc.id)
    if reviewed is None:
        if assessment.needs_person:
            raise SecrecyReviewRequired("no review", what=assessment.missing_zh())
        reviewed = secrecy_review.record_automatic(session, doc, actor)
    elif reviewed.result != secrecy_review.CLEARED:
        raise SecrecyReviewRequired("not cleared", what=f"最近一次保密审查（{reviewed.reviewer}）结论为不予通过，"
                                                        "须重新审查并通过后才能发布。")
    else:
        unread = sorted(set(assessment.pages) - set(reviewed.pages_read or []))
        if unread:
            raise SecrecyReviewRequired("pages not read", what=(
                f"第 {secrecy_review.page_list_zh(unread)} 页无法识别文字，保密审查未记录已逐页阅读这些页的原件，"
                "须重新审查后才能发布。"))
        if two_person and assessment.two_person and reviewed.reviewer == actor:
            raise TwoPersonRequired(who=reviewed.reviewer)
    if stages >= 2 and not automatic_only and doc.reviewed_by == actor:
        raise SignOffRequired(reviewer=actor)   # 初审 and 签发: two people
    number = doc.index_number or next_index_number(session, doc, scheme)
    transition(session, doc, "published", actor=actor)
    doc.index_number = number
    doc.published_at = utcnow()
    reviewed.used_for_publish_at = doc.published_at
    search.index_document(session, doc)
    audit.append(session, actor, "publish", document_id=doc.id, index_number=doc.index_number, category=doc.category,
                 secrecy_review=reviewed.id, secrecy_reviewer=reviewed.reviewer,
                 stage="签发" if stages >= 2 and not automatic_only else "发布", approved_by=doc.reviewed_by)


def withdraw(session: Session, doc: Document, actor: str, reason: str) -> None:
    if not (reason or "").strip():
        raise ReasonRequired()
    transition(session, doc, "withdrawn", actor=actor, reason=reason.strip())
    search.unindex_document(session, doc)


# ---------------------------------------------------------------------------
# The review queue
# ---------------------------------------------------------------------------

QUEUE_LIMIT = 2000
#: At or above this confidence an item with a pre-selected category and no findings may be
#: confirmed together with others (below it, one by one, even when the model pre-selected it).
BATCH_CONFIDENCE = 0.9


def has_pii(doc: Document) -> bool:
    return any(not f.get("blocking") for f in doc.findings or [])


def uncertain(doc: Document) -> bool:
    """The model pre-selected no category (below its threshold: ``needs_attention``)."""
    return bool(doc.needs_attention)


def batchable(doc: Document) -> bool:
    return (doc.status == "pending_review" and not doc.secrecy_blocked and not has_pii(doc) and not uncertain(doc)
            and (doc.confidence or 0.0) >= BATCH_CONFIDENCE)


def attention_key(doc: Document):
    """密级 first, then personal information, then uncertain suggestions, then the oldest."""
    return (not doc.secrecy_blocked, not has_pii(doc), not uncertain(doc), as_utc(doc.created_at), doc.id)


def queue_order(s: Session, who: Principal, status: str, department: str | None,
                category: str | None, q: str | None = None) -> list[int]:
    """The ids of the review queue ``who`` sees, filtered (``q``: words, numbers or a 文号 in the
    title, file name or text), most urgent first (``attention_key``). Only the five columns the
    order needs are read: a page then loads its own rows (``queue_page``)."""
    query = select(Document.id, Document.secrecy_blocked, Document.findings, Document.needs_attention,
                   Document.created_at).where(access.visible(who), Document.status == status)
    holds = search.staff_condition(q or "")
    if holds is not None:
        query = query.where(holds)
    if department:
        query = query.join(Department).where(Department.code == department)
    if category:
        query = query.where(Document.suggested_category == category)
    rows = s.execute(query.order_by(Document.id).limit(QUEUE_LIMIT)).all()
    return [r.id for r in sorted(rows, key=attention_key)]


def queue_page(s: Session, ids: list[int]) -> list[Document]:
    """The documents of ``ids``, in that order, with what the queue shows of them."""
    docs = {d.id: d for d in s.execute(select(Document).where(Document.id.in_(ids))
                                       .options(selectinload(Document.secrecy_reviews))).scalars()}
    return [docs[i] for i in ids if i in docs]


def queue_documents(s: Session, who: Principal, status: str, department: str | None,
                    category: str | None, q: str | None = None) -> list[Document]:
    """The whole review queue ``who`` sees, filtered, most urgent first (``queue_order``)."""
    return queue_page(s, queue_order(s, who, status, department, category, q))


# ---------------------------------------------------------------------------
# 公文 fields
# ---------------------------------------------------------------------------

#: 公文 fields a reviewer may correct before publishing (keys of ``Document.gongwen``).
#: What a reviewer may correct: the title (``documents.title``) and the 公文 fields as the parser
#: names them (``analysis.gongwen``: the 主送机关 is ``addressee``).
EDITABLE_FIELDS = (("title", "标题"), ("issuer", "发文机关"), ("doc_number", "发文字号"), ("date", "成文日期"),
                   ("signer", "签发人"), ("addressee", "主送机关"))
MAX_TITLE_CHARS = 500


class TitleRequired(ReviewError):
    code = "title_required"
    http_status = 422
    message_zh = "标题不能为空。"
    message_en = "The title may not be empty."


def update_fields(session: Session, doc: Document, actor: str, values: dict[str, str]) -> dict[str, dict]:
    """Correct the title and the 公文 fields read from ``doc`` (read with ``load_for_change``); every
    change is audited. ``values`` maps field keys to what the reviewer typed; returns the changes."""
    if doc.status not in ("pending_review", "approved"):
        raise NotUnderReview(doc.status)
    fields, changes = dict(doc.gongwen or {}), {}
    if "title" in values:
        title = " ".join(values["title"].split())[:MAX_TITLE_CHARS]
        if not title:
            raise TitleRequired()
        if title != (doc.title or ""):
            changes["title"] = {"from": doc.title, "to": title}
            doc.title = title
    for key, _label in EDITABLE_FIELDS:
        if key not in values or key == "title":
            continue
        value, hit = values[key].strip()[:500], fields.get(key) or {}
        if value == (hit.get("value") or ""):
            continue
        changes[key] = {"from": hit.get("value"), "to": value}
        if value:
            fields[key] = {**hit, "value": value, "edited_by": actor}
        else:
            fields.pop(key, None)
    if set(changes) - {"title"}:
        doc.gongwen = fields
    if changes:
        if "doc_number" in changes and doc.tokens:
            # The classifier reads the 发文字号 from the stored tokens (metadata features, the 文号
            # rule hint): retraining and reclassification see the corrected one.
            doc.tokens = {**doc.tokens, "doc_number": changes["doc_number"]["to"] or None}
        audit.append(session, actor, "review.fields", document_id=doc.id, changes=changes)
    return changes


# ---------------------------------------------------------------------------
# The public copy's masks (去标识化)
# ---------------------------------------------------------------------------

#: Longest text a reviewer may add as a mask (a name, a street address).
MAX_MASK_CHARS = 50


class MaskInvalid(ReviewError):
    code = "mask_invalid"
    http_status = 422
    message_zh = "遮盖内容有误：{what}"
    message_en = "Invalid mask: {what}"


def change_masks(session: Session, doc: Document, actor: str, *, add: str | None = None,
                 remove: str | None = None, exempt: str | None = None, reason: str = "") -> dict:
    """Add a text the public copy masks (a name), remove an added one, or exempt a number the
    privacy gate found that is not personal (a reason required). ``doc`` is read with
    ``load_for_change``. The masks changed, the personal information must be confirmed again."""
    if doc.status not in ("pending_review", "approved"):
        raise NotUnderReview(doc.status)
    masks = {"added": list((doc.masks or {}).get("added", [])), "exempt": list((doc.masks or {}).get("exempt", []))}
    now, change = utcnow().isoformat(), {}
    if add is not None:
        add = add.strip()
        if not 1 <= len(add) <= MAX_MASK_CHARS or add not in (doc.text or "") + (doc.title or ""):
            raise MaskInvalid(what=f"须为正文中出现的 1–{MAX_MASK_CHARS} 个字")
        if all(m["text"] != add for m in masks["added"]):
            masks["added"].append({"text": add, "by": actor, "at": now})
            change["add"] = add
    if remove is not None:
        kept = [m for m in masks["added"] if m["text"] != remove.strip()]
        if len(kept) == len(masks["added"]):
            raise MaskInvalid(what="没有这一处添加的遮盖")
        masks["added"], change["remove"] = kept, remove.strip()
    if exempt is not None:
        if not reason.strip():
            raise ReasonRequired()
        found = {digits_of(value) for kind, value, _s, _e in scan_text(doc.text or "") if kind in KEPT_DIGITS}
        if digits_of(exempt) not in found:
            raise MaskInvalid(what="不是正文中自动遮盖的号码")
        masks["exempt"].append({"text": exempt.strip(), "reason": reason.strip(), "by": actor, "at": now})
        change.update(exempt=exempt.strip(), reason=reason.strip())
    if change:
        doc.masks = masks
        doc.pii_acknowledged_by = doc.pii_acknowledged_at = None   # the new masks are confirmed again
        audit.append(session, actor, "privacy.masks", document_id=doc.id, **change)
    return masks
