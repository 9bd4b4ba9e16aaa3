"""Ingest one document: the worker's job, free of rq so tests and the CLI can call it.

    received ─► processing ─► parse (isolated) ─► clean ─► 公文 fields ─► tokens
             ─► classify ─► privacy & 密级 scan ─► pending_review      (or failed, with a code)

Idempotent: a document already past processing is left alone, and the final write
happens only if the document is still in processing (another worker may have finished
it first). A ParseError is a final, coded state; anything else (database, storage) is
an infrastructure error and propagates so the queue retries it.
"""
from __future__ import annotations

import logging

from service.analysis import analyze
from service.db import Document, transaction
from service.parsers import ParseError
from service.pipeline import extract
from service.runtime import Runtime
from service.states import FINAL_FOR_INTAKE, transition

log = logging.getLogger(__name__)
ACTOR = "system:ingest"


def _start(rt: Runtime, document_id: int) -> tuple[str, str] | str:
    with transaction(rt.sessions) as s:
        doc = s.get(Document, document_id, with_for_update=True)
        if doc is None:
            return "missing"
        if doc.status in FINAL_FOR_INTAKE:
            return doc.status
        if doc.status == "received":
            transition(s, doc, "processing", actor=ACTOR)
        doc.attempts += 1
        return doc.sha256, doc.filename


def _finish(rt: Runtime, document_id: int, apply) -> str:
    with transaction(rt.sessions) as s:
        doc = s.get(Document, document_id, with_for_update=True)
        if doc is None or doc.status != "processing":
            return doc.status if doc is not None else "missing"
        apply(s, doc)
        return doc.status


def ingest(rt: Runtime, document_id: int) -> str:
    """Run the pipeline on one document and store the outcome; return its final state."""
    started = _start(rt, document_id)
    if isinstance(started, str):
        return started
    sha256, filename = started
    path = rt.storage.local_path(sha256)
    if not path.is_file():
        raise FileNotFoundError(f"original {sha256} missing for document {document_id}")  # infrastructure

    try:
        extraction = extract(path, filename=filename, settings=rt.settings)
    except ParseError as exc:
        error = exc
        log.info("document %s failed: %s (%s)", document_id, error.code, error.detail)

        def fail(s, doc):
            doc.error_code, doc.error_message = error.code, error.message
            transition(s, doc, "failed", actor=ACTOR, reason=error.code, detail=error.detail)
        return _finish(rt, document_id, fail)

    result = analyze(extraction, rt.settings)

    def store(s, doc):
        d = extraction.document
        doc.media_type, doc.plugin, doc.title = extraction.media_type, extraction.plugin, extraction.title
        doc.text, doc.pages = extraction.text, d.page_count
        doc.tables = [[list(r) for r in t.rows] for t in d.tables]
        doc.gongwen = {k: v.to_dict() for k, v in extraction.metadata.items()}
        doc.hidden_text = [{"kind": h.kind, "text": h.text, "where": h.where} for h in d.hidden]
        doc.warnings = [{"code": w.code, "message": w.message} for w in d.warnings]
        doc.tokens = result.tokens
        doc.error_code = doc.error_message = None
        p = result.prediction
        doc.suggested_category, doc.confidence = p["category"], p["confidence"]
        doc.candidates, doc.explanation = p["candidates"], p["explanation"]
        doc.needs_attention, doc.model_version = p["needs_attention"], p["model"]
        doc.findings, doc.secrecy_blocked = result.findings, result.secrecy_blocked
        transition(s, doc, "pending_review", actor=ACTOR, category=doc.suggested_category,
                   confidence=doc.confidence, findings=len(result.findings), secrecy=result.secrecy_blocked)
    return _finish(rt, document_id, store)
