"""The file the public downloads of a published document: its original, or its public PDF.

A document without personal data is downloaded as it was uploaded. One whose public copy
masks something (``access.original_is_public`` is false) is downloaded as its 去标识化 PDF
(``service.rendition``): made in the parse sandbox the first time it is asked for (by the
public, or by a reviewer previewing it before publishing), stored with the originals and
recorded on the document (``documents.public_copy``). Its ``key`` digests everything it was
made from; when the masks change, or the renderer does (``RENDITION_VERSION``), the next
request makes it again. Two requests at once may both make it: the same content is stored
once, and the row records whichever finished last.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from plugins.converter import font_dir
from service import config as config_module
from service.access import original_is_public
from service.analysis.masking import public_form
from service.db import Document, transaction, utcnow
from service.errors import GongkaiError
from service.parsers import ParseError, RenditionContext
from service.parsing.parse_server import render_isolated
from service.pipeline import parse_limits, sandbox_limits
from service.rendition.covers import document_values
from service.rendition.typeset import find_font
from service.runtime import Runtime

RENDERER = "service.rendition.renderer:PublicPdfRenderer"
#: Part of every public PDF's key: raise it when the renderer's output changes.
RENDITION_VERSION = "1"
PDF = "application/pdf"
#: Sources of findings that are on the pages (the rest are comments, tracked changes, properties).
ON_PAGE = ("body", "table")


class PublicCopyUnavailable(GongkaiError):
    code = "public_copy_unavailable"
    http_status = 503
    message_zh = "公开版文件暂时无法生成；请查看页面上已去标识化的文字，或稍后再试。"
    message_en = "The public PDF could not be made; the de-identified text is on the page."


@dataclass(frozen=True)
class Plan:
    """What serving a document's public file needs, read from its row inside a transaction."""

    document_id: int
    sha256: str
    filename: str
    media_type: str
    original_public: bool
    key: str = ""
    stored: dict | None = None
    context: RenditionContext | None = None


@dataclass(frozen=True)
class PublicFile:
    sha256: str
    filename: str
    media_type: str
    #: For a public PDF: pages, covered, method ("redacted" / "text"), reason.
    about: dict | None = None


def plan(doc: Document, settings: config_module.Settings) -> Plan:
    media = doc.media_type or "application/octet-stream"
    if original_is_public(doc):
        return Plan(doc.id, doc.sha256, doc.filename, media, original_public=True)
    values = document_values(doc.findings, doc.masks)
    on_page = document_values([f for f in doc.findings or [] if f.get("source") in ON_PAGE], doc.masks)
    public_text, _ = public_form(doc.text, doc.masks)
    font = find_font(font_dir())   # the fonts LibreOffice is given
    context = RenditionContext(
        media_type=media, filename=doc.filename, limits=parse_limits(settings),
        title=public_form(doc.title, doc.masks)[0], public_text=public_text, masks=doc.masks,
        values=tuple((v.kind, v.text) for v in values), required=tuple((v.kind, v.text) for v in on_page),
        ocr_lines=tuple(doc.ocr_lines or ()), font_path=str(font) if font else None)
    key = hashlib.sha256(json.dumps(
        [RENDITION_VERSION, doc.sha256, media, doc.masks, context.values, public_text, context.title],
        ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return Plan(doc.id, doc.sha256, doc.filename, media, original_public=False, key=key,
                stored=doc.public_copy, context=context)


def public_name(filename: str) -> str:
    """``通知.doc`` → ``通知（公开版）.pdf``."""
    return f"{Path(filename).stem or '文件'}（公开版）.pdf"


def public_file(rt: Runtime, found: Plan) -> PublicFile:
    """The original when it may be public; else the stored public PDF, made now if it is missing or stale."""
    if found.original_public:
        return PublicFile(found.sha256, found.filename, found.media_type)
    stored = found.stored
    if stored and stored.get("key") == found.key and rt.storage.exists(stored["sha256"]):
        return PublicFile(stored["sha256"], public_name(found.filename), PDF, stored)
    assert found.context is not None
    try:
        made = render_isolated(RENDERER, rt.storage.local_path(found.sha256), found.context,
                               sandbox_limits(rt.settings))
    except ParseError as exc:
        raise PublicCopyUnavailable(f"{exc.code}: {exc.detail}") from exc
    kept = rt.storage.put(io.BytesIO(made.pdf))
    about = {"key": found.key, "sha256": kept.sha256, "pages": made.pages, "covered": made.covered,
             "method": made.method, "reason": made.reason, "made_at": utcnow().isoformat()}
    with transaction(rt.sessions) as s:
        doc = s.get(Document, found.document_id)
        if doc is not None and plan(doc, rt.settings).key == found.key:
            doc.public_copy = about
    return PublicFile(kept.sha256, public_name(found.filename), PDF, about)
