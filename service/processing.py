"""Ingest one document: the worker's job, free of rq so tests and the CLI can call it.

    received ─► processing ─► parse (isolated) ─► clean ─► 公文 fields ─► tokens
             ─► classify ─► privacy & 密级 scan ─► pending_review      (or failed, with a code)

Idempotent: a document already past processing is left alone, and the final write
happens only if the document is still in processing (another worker may have finished
it first). A ParseError is a final, coded state; anything else (database, storage) is
an infrastructure error and propagates so the queue retries it.

The two writes per document (claim: → processing; settle: → pending_review or failed)
are Core statements on one connection — the row is read with only the columns they
need, the audit entry goes in with the same transaction — so the hot path pays no ORM
unit of work. ``ingest_chain`` (chunk jobs) settles one document and claims the next in
a single transaction.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from service import audit, disclosure
from service.classifier.store import active_classifier
from service.db import Document, utcnow
from service.parsers import ParseError
from service.pipeline import process as run_pipeline
from service.runtime import Runtime
from service.states import FINAL_FOR_INTAKE, transition_entry

log = logging.getLogger(__name__)
ACTOR = "system:ingest"
_DOCS = Document.__table__
# Built once (building a statement cost more than running it); the SET columns come from the parameters.
_LOCK_FOR_CLAIM = (select(_DOCS.c.status, _DOCS.c.sha256, _DOCS.c.filename)
                   .where(_DOCS.c.id == bindparam("doc_id")).with_for_update())
_LOCK_FOR_SETTLE = select(_DOCS.c.status).where(_DOCS.c.id == bindparam("doc_id")).with_for_update()
_CLAIM = update(_DOCS).where(_DOCS.c.id == bindparam("doc_id")).values(attempts=_DOCS.c.attempts + 1)
# The common cases in one statement each (one round trip instead of two on PostgreSQL): a received
# document claimed, a processing one settled. The row is locked by the update itself.
_CLAIM_RECEIVED = (_CLAIM.where(_DOCS.c.status == "received")
                   .values(status="processing", status_changed_at=bindparam("now"))
                   .returning(_DOCS.c.sha256, _DOCS.c.filename))
_SETTLE = (update(_DOCS).where(_DOCS.c.id == bindparam("doc_id"), _DOCS.c.status == "processing")
           .returning(_DOCS.c.id))


@dataclass(frozen=True)
class Outcome:
    """What processing a document produced: the columns to store and the state to move to."""

    values: dict[str, Any]
    target: str
    reason: str | None = None
    detail: dict[str, Any] | None = None


def _claim(conn: Connection, document_id: int, entries: list) -> tuple[str, str] | str:
    """received → processing (audit entry appended to ``entries``), attempts + 1; or why not."""
    row = conn.execute(_CLAIM_RECEIVED, {"doc_id": document_id, "now": utcnow()}).one_or_none()
    if row is not None:
        entries.append(transition_entry(document_id, "received", "processing", actor=ACTOR))
        return row.sha256, row.filename
    row = conn.execute(_LOCK_FOR_CLAIM, {"doc_id": document_id}).one_or_none()
    if row is None:
        return "missing"
    if row.status in FINAL_FOR_INTAKE:
        return row.status
    if row.status == "received":
        entries.append(transition_entry(document_id, "received", "processing", actor=ACTOR))
        conn.execute(_CLAIM, {"doc_id": document_id, "status": "processing", "status_changed_at": utcnow()})
    else:  # processing already (a job run again): count the attempt, keep the state and its time
        conn.execute(_CLAIM, {"doc_id": document_id})
    return row.sha256, row.filename


def _settle(conn: Connection, document_id: int, outcome: Outcome, entries: list) -> str:
    """processing → the outcome's state with its columns, if the document is still in processing."""
    entry = transition_entry(document_id, "processing", outcome.target, actor=ACTOR, reason=outcome.reason,
                             **(outcome.detail or {}))
    updated = conn.execute(_SETTLE, {**outcome.values, "doc_id": document_id, "status": outcome.target,
                                     "status_changed_at": utcnow()}).one_or_none()
    if updated is None:  # not in processing (any more): say where it is
        status = conn.execute(_LOCK_FOR_SETTLE, {"doc_id": document_id}).scalar_one_or_none()
        return status if status is not None else "missing"
    entries.append(entry)
    return outcome.target


def _write(rt: Runtime, steps: Callable[[Connection, list], Any]) -> Any:
    """One transaction: ``steps(conn, entries)`` changes rows and lists their audit entries.

    On PostgreSQL the commit does not wait for its WAL to reach the disk
    (``synchronous_commit = off``, this transaction only). Everything ingest writes can be
    derived again from the stored original: should the server crash within the last
    ~0.6 s of commits, those documents are back in received/processing — with their audit
    entries and the chain head rolled back alike — and the stuck-document sweep ingests
    them again. Uploads and reviewers' decisions keep synchronous commits (and flush any
    earlier ingest commit with them). The same durability SQLite's default here has
    (WAL, ``synchronous=NORMAL``); the audit head lock is no longer held through an fsync.
    """
    with rt.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        entries: list = []
        result = steps(conn, entries)
        audit.append_many(conn, entries)
        return result


def process(rt: Runtime, document_id: int, sha256: str, filename: str) -> Outcome:
    """Parse and analyse a claimed document. ParseErrors become a ``failed`` outcome."""
    path = rt.storage.local_path(sha256)
    if not path.is_file():
        raise FileNotFoundError(f"original {sha256} missing for document {document_id}")  # infrastructure
    try:
        processed = run_pipeline(path, active_classifier(rt.settings), filename=filename, settings=rt.settings)
    except ParseError as error:
        log.info("document %s failed: %s (%s)", document_id, error.code, error.detail)
        return Outcome({"error_code": error.code, "error_message": error.message}, "failed", reason=error.code,
                       detail={"detail": error.detail})
    extraction, result = processed.extraction, processed.analysis
    d = extraction.document
    p = result.prediction
    values = {
        "media_type": extraction.media_type, "plugin": extraction.plugin, "title": extraction.title,
        "text": extraction.text, "pages": d.page_count,
        "tables": [[list(r) for r in t.rows] for t in d.tables],
        "gongwen": {k: v.to_dict() for k, v in extraction.metadata.items()},
        # 公开属性 as the document's own note says (（此件依申请公开）), else 主动公开; a reviewer may change it
        "disclosure": disclosure.from_gongwen({k: v.to_dict() for k, v in extraction.metadata.items()}),
        "disclosure_reason": None,
        "hidden_text": [{"kind": h.kind, "text": h.text, "where": h.where} for h in d.hidden],
        "warnings": [{"code": w.code, "message": w.message, "pages": list(w.pages)} for w in d.warnings],
        "ocr_lines": [{"page": ln.page, "text": ln.text, "box": list(ln.box), "confidence": ln.confidence}
                      for ln in d.ocr_lines] or None,
        "tokens": result.tokens, "error_code": None, "error_message": None,
        "suggested_category": p["category"], "confidence": p["confidence"],
        "candidates": p["candidates"], "explanation": p["explanation"],
        "needs_attention": p["needs_attention"], "model_version": p["model"],
        "findings": result.findings, "secrecy_blocked": result.secrecy_blocked,
    }
    return Outcome(values, "pending_review", detail={
        "category": p["category"], "confidence": p["confidence"], "findings": len(result.findings),
        "secrecy": result.secrecy_blocked})


def ingest(rt: Runtime, document_id: int) -> str:
    """Run the pipeline on one document and store the outcome; return its final state."""
    started = _write(rt, lambda conn, entries: _claim(conn, document_id, entries))
    if isinstance(started, str):
        return started
    outcome = process(rt, document_id, *started)
    return _write(rt, lambda conn, entries: _settle(conn, document_id, outcome, entries))


def ingest_chain(rt: Runtime, document_ids: list[int],
                 settled: Callable[[int, str], None] | None = None) -> dict[int, str]:
    """Ingest documents one after another, settling each and claiming the next in one transaction.

    n documents take n + 1 transactions instead of 2n; every transition is still its own
    audit entry, and a document is still claimed (processing) only right before it is
    parsed. One document's trouble never stops the rest: an infrastructure error while
    processing a document leaves it in processing (the stuck-document sweeper finds it)
    and is logged; a combined write that fails is retried as two separate ones, so the
    other document is not lost with it. ``settled(document_id, status)`` is called after
    each document's final write. Returns each document's state, or ``"error"``.
    """
    outcomes: dict[int, str] = {}
    ids = [int(i) for i in document_ids]

    def done(doc_id: int, status: str) -> None:
        outcomes[doc_id] = status
        if settled is not None and status != "error":
            try:
                settled(doc_id, status)
            except Exception:  # noqa: BLE001 - reported as this document's error, the chunk goes on
                log.exception("document %s: after ingest", doc_id)
                outcomes[doc_id] = "error"

    def claim_alone(doc_id: int):
        try:
            return _write(rt, lambda conn, entries: _claim(conn, doc_id, entries))
        except Exception:  # noqa: BLE001
            log.exception("document %s: claim failed; the stuck-document sweep will retry it", doc_id)
            return "error"

    pending: tuple[int, Outcome] | None = None  # processed, not yet written
    k = 0
    started = claim_alone(ids[0]) if ids else None
    while k < len(ids):
        doc_id = ids[k]
        if isinstance(started, str):  # final already, missing or error: nothing to process
            done(doc_id, started)
        else:
            try:
                pending = (doc_id, process(rt, doc_id, *started))
            except Exception:  # noqa: BLE001
                log.exception("document %s: ingest failed; the stuck-document sweep will retry it", doc_id)
                done(doc_id, "error")
        k += 1
        nxt = ids[k] if k < len(ids) else None
        if pending is None:
            started = claim_alone(nxt) if nxt is not None else None
            continue
        settle_id, outcome = pending
        pending = None

        def both(conn, entries, settle_id=settle_id, outcome=outcome, nxt=nxt):
            status = _settle(conn, settle_id, outcome, entries)
            return status, (_claim(conn, nxt, entries) if nxt is not None else None)
        try:
            status, started = _write(rt, both)
        except Exception:  # noqa: BLE001 - write them one at a time, so one cannot sink the other
            log.warning("documents %s/%s: combined write failed; writing them separately", settle_id, nxt,
                        exc_info=True)
            try:
                status = _write(rt, lambda conn, entries, settle_id=settle_id, outcome=outcome:
                                _settle(conn, settle_id, outcome, entries))
            except Exception:  # noqa: BLE001
                log.exception("document %s: final write failed; the stuck-document sweep will retry it", settle_id)
                status = "error"
            started = claim_alone(nxt) if nxt is not None else None
        done(settle_id, status)
    return outcomes
