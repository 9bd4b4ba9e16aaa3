"""保密审查: the secrecy review every publication needs (先审查、后公开, 一事一审).

What a person has to judge before a document is published is read off what intake stored:

- pages the machine could not read (``no_text_layer``, ``partial_text_layer``,
  ``garbled_text_layer``, ``ocr_incomplete``, OCR pages of low confidence): a person reads
  them in the original, page by page — a scanned notice marked 秘密★1年 has no text for the
  密级 scan to find;
- findings: personal information and 内部 marks (a 密级 mark blocks publishing outright).

A review records who checked, when, on what basis (the findings and pages they were shown,
the pages they read by eye, a note) and the result (``cleared`` / ``not_cleared``).
``service.review.publish`` applies the rule; this module computes what needs judging and
records reviews. Plain functions of a session: no Flask.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.analysis.privacy import KIND_LABELS
from service.db import Document, SecrecyReview, utcnow
from service.errors import GongkaiError
from service.localtime import as_utc
from service.states import NotUnderReview

CLEARED, NOT_CLEARED = "cleared", "not_cleared"
RESULTS = (CLEARED, NOT_CLEARED)
RESULT_NAMES_ZH = {CLEARED: "审查通过", NOT_CLEARED: "不予通过"}
#: Statuses in which a document can be reviewed (before a publication or a republication).
REVIEWABLE = ("pending_review", "approved", "withdrawn")
MAX_NOTE = 2000
AUTOMATIC_BASIS_ZH = "自动检查未发现密级标志和个人信息，全部页面已读取"

#: Warnings that leave pages unread by the machine, and why, as a reviewer reads it.
#: A warning without ``pages`` (or with an empty list) concerns every page of the document.
UNREAD_REASONS_ZH = {
    "no_text_layer": "没有可提取的文字（扫描件或图片）",
    "partial_text_layer": "该页没有可提取的文字（扫描页）",
    "garbled_text_layer": "提取出的文字疑似乱码",
    "ocr_incomplete": "文字识别（OCR）未完成",
    "ocr_low_confidence": "文字识别（OCR）可信度低",
}
#: An OCR warning may name its low-confidence pages under this key instead.
LOW_CONFIDENCE_KEY = "low_confidence_pages"


class SecrecyReviewInvalid(GongkaiError):
    code = "bad_request"
    http_status = 422
    message_zh = "保密审查记录有误：{what}"
    message_en = "Invalid secrecy review: {what}"


class PagesNotRead(GongkaiError):
    code = "pages_not_read"
    http_status = 422
    message_zh = "第 {pages} 页无法识别文字，须逐页阅读原件并勾选后才能审查通过。"
    message_en = "Pages {pages} could not be read by the machine; read them in the original before clearing."


def page_list_zh(pages: Iterable[int]) -> str:
    """``[2, 3]`` → ``2、3`` (long lists shortened)."""
    pages = sorted(pages)
    shown = "、".join(str(n) for n in pages[:30])
    return shown + ("…" if len(pages) > 30 else "")


def _all_pages(page_count: int | None) -> list[int]:
    return list(range(1, max(page_count or 1, 1) + 1))


def pages_needing_reading(warnings: list[dict[str, Any]] | None, page_count: int | None) -> dict[int, list[str]]:
    """The pages a person must read in the original, each with the warning codes behind it.

    A warning that names its pages concerns those; one stored without ``pages`` (documents
    ingested before pages were recorded) or with none concerns every page, conservatively.
    Pages beyond the document's page count are ignored; a document of unknown page count
    counts as one page."""
    every = _all_pages(page_count)
    out: dict[int, list[str]] = {}
    for w in warnings or []:
        code = w.get("code")
        pages: list[int] | None = None
        if code in UNREAD_REASONS_ZH:
            listed = [int(n) for n in w.get("pages") or [] if isinstance(n, int) or str(n).isdigit()]
            pages = [n for n in listed if n in every] if listed else every
        elif w.get(LOW_CONFIDENCE_KEY):
            code = "ocr_low_confidence"
            pages = [int(n) for n in w[LOW_CONFIDENCE_KEY] if int(n) in every]
        for n in pages or []:
            out.setdefault(n, [])
            if code not in out[n]:
                out[n].append(code)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Assessment:
    """What the automatic checks leave for a person to judge on one document."""

    pages: dict[int, list[str]] = field(default_factory=dict)     # page → warning codes
    findings: list[dict[str, Any]] = field(default_factory=list)  # kind, label, location (no values)
    secret: bool = False                                          # a 密级 mark was found

    @property
    def needs_person(self) -> bool:
        return bool(self.pages or self.findings or self.secret)

    @property
    def two_person(self) -> bool:
        """Review and publication by different people (``GONGKAI_PUBLISH_TWO_PERSON``): personal
        information, 内部 marks, 密级, or pages read by eye."""
        return self.needs_person

    def basis(self) -> dict[str, Any]:
        return {"findings": self.findings,
                "pages": [{"page": n, "reasons": codes} for n, codes in self.pages.items()]}

    def page_rows_zh(self) -> list[dict[str, Any]]:
        """For the review page: each page to read with why, in Chinese."""
        return [{"page": n, "reasons": "；".join(UNREAD_REASONS_ZH.get(c, c) for c in codes)}
                for n, codes in self.pages.items()]

    def missing_zh(self) -> str:
        """What is left for a person, as a sentence (the publish refusal)."""
        parts = []
        if self.pages:
            parts.append(f"第 {page_list_zh(self.pages)} 页无法识别文字，"
                         "须由审查人逐页阅读原件并记录保密审查后才能发布。")
        if self.findings or self.secret:
            kinds = "、".join(dict.fromkeys(f.get("label") or f.get("kind") or "" for f in self.findings))
            parts.append(f"文件含有{kinds or '需人工判断的内容'}，须由审查人核对并记录保密审查后才能发布。")
        return "".join(parts)


def assess(doc: Document) -> Assessment:
    findings = [{"kind": f.get("kind"), "label": f.get("label") or KIND_LABELS.get(f.get("kind"), f.get("kind")),
                 "location": f.get("location")}
                for f in doc.findings or []]
    return Assessment(pages=pages_needing_reading(doc.warnings, doc.pages), findings=findings,
                      secret=bool(doc.secrecy_blocked))


def open_review(session: Session, document_id: int) -> SecrecyReview | None:
    """The latest review no publication has relied on yet (the one the next publish would use)."""
    return session.execute(select(SecrecyReview).where(SecrecyReview.document_id == document_id,
                                                       SecrecyReview.used_for_publish_at.is_(None))
                           .order_by(SecrecyReview.id.desc()).limit(1)).scalar_one_or_none()


def reviews_of(session: Session, document_id: int) -> list[SecrecyReview]:
    return list(session.execute(select(SecrecyReview).where(SecrecyReview.document_id == document_id)
                                .order_by(SecrecyReview.id)).scalars())


def _add(session: Session, doc: Document, actor: str, result: str, pages_read: list[int], note: str,
         assessment: Assessment, automatic: bool) -> SecrecyReview:
    row = SecrecyReview(document_id=doc.id, reviewer=actor, reviewed_at=utcnow(), result=result,
                        pages_read=pages_read, basis=assessment.basis(), note=note, automatic=automatic)
    session.add(row)
    session.flush()
    audit.append(session, actor, "secrecy.review", document_id=doc.id, review_id=row.id, result=result,
                 automatic=automatic, pages_read=pages_read, note=note, **assessment.basis())
    return row


def record(session: Session, doc: Document, actor: str, result: str, pages_read: Iterable[Any] = (),
           note: str = "") -> SecrecyReview:
    """Record a reviewer's 保密审查 of ``doc`` (read with ``review.load_for_change``).

    A cleared review must list every page the machine could not read as read by eye."""
    if doc.status not in REVIEWABLE:
        raise NotUnderReview(doc.status)
    if result not in RESULTS:
        raise SecrecyReviewInvalid(what="result 应为 cleared（审查通过）或 not_cleared（不予通过）")
    pages: list[int] = []
    every = set(_all_pages(doc.pages))
    for n in pages_read or ():
        if isinstance(n, bool) or not isinstance(n, int) or n not in every:
            raise SecrecyReviewInvalid(what=f"页码应为 1–{max(every)} 之间的整数")
        if n not in pages:
            pages.append(n)
    pages.sort()
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise SecrecyReviewInvalid(what=f"说明不超过 {MAX_NOTE} 字")
    if result == NOT_CLEARED and not note:
        raise SecrecyReviewInvalid(what="不予通过须在说明中写明理由")
    assessment = assess(doc)
    unread = sorted(set(assessment.pages) - set(pages))
    if result == CLEARED and unread:
        raise PagesNotRead(pages=page_list_zh(unread))
    return _add(session, doc, actor, result, pages, note, assessment, automatic=False)


def record_automatic(session: Session, doc: Document, actor: str) -> SecrecyReview:
    """The review ``publish`` records when the automatic checks leave nothing to judge."""
    assessment = assess(doc)
    assert not assessment.needs_person, "an automatic review only where nothing needs a person"
    return _add(session, doc, actor, CLEARED, [], AUTOMATIC_BASIS_ZH, assessment, automatic=True)


def to_dict(row: SecrecyReview) -> dict[str, Any]:

    return {"id": row.id, "reviewer": row.reviewer, "reviewed_at": as_utc(row.reviewed_at).isoformat(),
            "result": row.result, "pages_read": list(row.pages_read or []), "basis": row.basis or {},
            "note": row.note or "", "automatic": bool(row.automatic),
            "used_for_publish_at": as_utc(row.used_for_publish_at).isoformat() if row.used_for_publish_at else None}
