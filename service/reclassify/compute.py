"""Computing a reclassification batch: what the workers do, shard by shard.

A shard (an id range) is read a page at a time, classified from the stored tokens (and the
head of the stored text, for rule hints) and written as items; the shard that ends last makes
the batch ``ready``. Run by ``service.jobs.reclassify_shard_job`` (or ``compute_batch`` in one process).
"""
from __future__ import annotations
import contextlib
from collections.abc import Callable, Sequence
from typing import Any



from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service import audit
from service.analysis.normalize import analysis_form
from service.analysis.tokenizer import DocumentTokens
from service.classifier.model import HINT_CHARS, hint_text
from service.classifier.store import store_from_settings
from service.db import Document, transaction, utcnow
from service.reclassify.batches import (
    BATCHES,
    ITEMS,
    KINDS,
    PAGE_SIZE,
    PREDICT_CHUNK,
    SHARDS,
    BatchStateError,
    ReclassifyError,
    cancel,
    is_confirmed,
    load_batch,
    selection_conditions,
    state_error,
)

#: What a page reads of each document. Its candidates and explanation are not read: only
#: ``change`` items keep them (what a roll back restores), copied by the database (``_keep_old_details``).
_DOC_COLUMNS = (Document.id, Document.status, Document.category, Document.tokens, Document.suggested_category,
                Document.confidence, Document.needs_attention, Document.model_version, Document.title,
                # rule hints read the body's head, as at intake (``model.hint_text``)
                func.substr(Document.text, 1, HINT_CHARS).label("head"))


def unfinished_shards(sessions: sessionmaker[Session], batch_id: int) -> list[int]:
    """The shard numbers of a batch that still have documents without an item (what to (re)queue)."""
    with transaction(sessions, readonly=True) as s:
        return list(s.execute(select(SHARDS.c.seq).where(SHARDS.c.batch_id == int(batch_id),
                                                         SHARDS.c.status != "done").order_by(SHARDS.c.seq)).scalars())


def compute_batch(sessions: sessionmaker[Session], settings, batch_id: int,
                  progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, page_size: int = PAGE_SIZE) -> str:
    """Compute every unfinished shard of the batch in this process (in id order); return the batch's status.

    The same work as one ``compute_shard`` per shard on as many workers as are running
    (``service.jobs.enqueue_reclassify``). See ``compute_shard`` for resuming, progress and
    stopping; a shard another process is computing at the same time is harmless (no
    document gets two items), and the batch becomes ``ready`` once, when the last shard ends.
    """

    with transaction(sessions, readonly=True) as s:
        batch = load_batch(s, batch_id)
        if batch.status != "computing":
            raise state_error(batch, "计算")
        version = batch.model_version
    classifier = store_from_settings(settings).load(version)
    status = "computing"
    for seq in unfinished_shards(sessions, batch_id):
        status = compute_shard(sessions, settings, batch_id, seq, progress=progress, should_stop=should_stop,
                               page_size=page_size, classifier=classifier)
        if status != "computing":
            return status
    return _finish(sessions, batch_id, None, progress) if status == "computing" else status


def compute_shard(sessions: sessionmaker[Session], settings, batch_id: int, seq: int,
                  progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, page_size: int = PAGE_SIZE,
                  classifier=None) -> str:
    """Classify one shard's documents page by page (id order); return the batch's status after.

    Resumable: documents that already have an item in this batch are skipped, so a
    cancelled or interrupted shard continues where it stopped. Every page adds its items
    and its count to the batch's ``done`` in one transaction, which also checks that the
    batch is still ``computing`` (a cancelled batch drops the page; ``resume`` redoes it).
    ``progress(done, total)`` gets the batch row's counts after every page; ``should_stop()``
    is checked between pages and cancels the batch. The shard that ends last makes the
    batch ``ready`` (``_finish``); others return ``computing``.
    """
    with transaction(sessions, readonly=True) as s:
        batch = load_batch(s, batch_id)
        if batch.status != "computing":
            raise state_error(batch, "计算")
        filters, version = dict(batch.filters), batch.model_version
        shard = s.execute(select(SHARDS).where(SHARDS.c.batch_id == batch.id, SHARDS.c.seq == int(seq))).one_or_none()
    if shard is None:
        raise ReclassifyError(what=f"批次 {batch_id} 没有第 {seq} 段")
    if shard.status == "done":
        return _finish(sessions, batch_id, None, progress)
    if classifier is None:

        classifier = store_from_settings(settings).load(version)
    conditions = [Document.id <= shard.last_id, *selection_conditions(filters)]
    cursor = shard.first_id - 1
    while True:
        with transaction(sessions, readonly=True) as s:
            rows = s.execute(select(*_DOC_COLUMNS).where(Document.id > cursor, *conditions)
                             .order_by(Document.id).limit(page_size)).all()
            seen = _seen(s, batch_id, rows[0].id, rows[-1].id) if rows else set()
        if not rows:
            break
        cursor = rows[-1].id
        values = _classify(classifier, [r for r in rows if r.id not in seen])
        counts = _write_page(sessions, batch_id, values, rows[0].id, rows[-1].id)
        if isinstance(counts, str):  # cancelled from elsewhere: this page is dropped
            return counts
        if progress:
            progress(*counts)
        if should_stop and should_stop():
            with contextlib.suppress(BatchStateError):  # already cancelled from elsewhere
                cancel(sessions, batch_id, "system", reason="stopped")
            return "cancelled"
    return _finish(sessions, batch_id, shard.seq, progress)


def _seen(s: Session, batch_id: int, first: int, last: int) -> set[int]:
    return set(s.execute(select(ITEMS.c.document_id).where(ITEMS.c.batch_id == batch_id, ITEMS.c.document_id >= first,
                                                          ITEMS.c.document_id <= last)).scalars())


def _write_page(sessions: sessionmaker[Session], batch_id: int, values: list[dict[str, Any]], first: int,
                last: int) -> tuple[int, int] | str:
    """Insert a page's items and add them to the batch's ``done``; (done, total), or the status if not computing.

    Only the batch row's update takes its lock, at the end, so pages of other shards insert
    in parallel (PostgreSQL). Should another process have written some of these documents
    meanwhile (a shard queued twice), the page is retried without them.
    """
    for attempt in range(3):
        try:
            with transaction(sessions) as s:
                if attempt:
                    seen = _seen(s, batch_id, first, last)
                    values = [v for v in values if v["document_id"] not in seen]
                if values:
                    s.execute(insert(ITEMS), [{**v, "batch_id": batch_id} for v in values])
                    if any(v["kind"] == "change" for v in values):
                        _keep_old_details(s, batch_id, first, last)
                row = s.execute(update(BATCHES).where(BATCHES.c.id == batch_id, BATCHES.c.status == "computing")
                                .values(done=BATCHES.c.done + len(values))
                                .returning(BATCHES.c.done, BATCHES.c.total)).one_or_none()
                if row is None:
                    raise _NotComputing()
                return int(row.done), int(row.total)
        except _NotComputing:
            with transaction(sessions, readonly=True) as s:
                return load_batch(s, batch_id).status
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _keep_old_details(s: Session, batch_id: int, first: int, last: int) -> None:
    """Copy the candidates and explanation of the suggestion each ``change`` item of the page
    would replace from its document, inside the database (no JSON through Python). Only while
    the document still has the suggestion the item saw; if it changed meanwhile, the batch
    can never apply that item (``apply_batch`` skips it as ``skipped_changed``)."""
    doc = Document.__table__
    same = (doc.c.id == ITEMS.c.document_id,
            doc.c.suggested_category.is_not_distinct_from(ITEMS.c.old_suggested_category),
            doc.c.confidence.is_not_distinct_from(ITEMS.c.old_confidence),
            doc.c.needs_attention == ITEMS.c.old_needs_attention,
            doc.c.model_version.is_not_distinct_from(ITEMS.c.old_model_version))
    s.execute(update(ITEMS).where(ITEMS.c.batch_id == batch_id, ITEMS.c.document_id >= first,
                                  ITEMS.c.document_id <= last, ITEMS.c.kind == "change")
              .values(old_candidates=select(doc.c.candidates).where(*same).scalar_subquery(),
                      old_explanation=select(doc.c.explanation).where(*same).scalar_subquery()))


class _NotComputing(Exception):
    """Raised inside a page's transaction to roll it back."""


def _finish(sessions: sessionmaker[Session], batch_id: int, seq: int | None,
            progress: Callable[[int, int], None] | None) -> str:
    """Mark shard ``seq`` done; if no shard is left, make the batch ``ready`` (exactly once); return its status.

    The shard row is updated first, then the batch row is locked (``FOR UPDATE`` on
    PostgreSQL, the write lock on SQLite) before the remaining shards are counted: of two
    shards ending together the second one waits, then sees the first one's ``done``.
    """
    with transaction(sessions) as s:
        if seq is not None:
            s.execute(update(SHARDS).where(SHARDS.c.batch_id == batch_id, SHARDS.c.seq == seq,
                                           SHARDS.c.status != "done").values(status="done", finished_at=utcnow()))
        batch = load_batch(s, batch_id, lock=True)
        if batch.status != "computing":
            return batch.status
        left = s.execute(select(func.count()).select_from(SHARDS).where(SHARDS.c.batch_id == batch_id,
                                                                        SHARDS.c.status != "done")).scalar_one()
        if left:
            return "computing"
        counts = dict(s.execute(select(ITEMS.c.kind, func.count()).where(ITEMS.c.batch_id == batch_id)
                                .group_by(ITEMS.c.kind)).all())
        batch.counts = {k: int(counts.get(k, 0)) for k in KINDS}
        batch.done = sum(batch.counts.values())
        batch.total = batch.done
        batch.status = "ready"
        audit.append(s, "system", "reclassify.ready", batch_id=batch_id, counts=batch.counts)
        done, total = batch.done, batch.total
    if progress:
        progress(done, total)
    return "ready"


def _item(row, kind: str, confirmed: bool) -> dict[str, Any]:
    return {"document_id": row.id, "kind": kind, "old_suggested_category": row.suggested_category,
            "old_confidence": row.confidence, "old_candidates": None, "old_explanation": None,
            "old_needs_attention": bool(row.needs_attention), "old_model_version": row.model_version,
            "new_category": None, "new_top_category": None, "new_confidence": None, "new_candidates": None,
            "new_explanation": None, "new_needs_attention": False, "new_model_version": None,
            "confirmed_category": row.category if confirmed else None, "decision": "pending",
            "decided_by": None, "outcome": None}


def _classify(classifier, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The items (column values, for one bulk insert) of ``rows``.

    Only what the review needs is kept: every item has both categories and confidences;
    candidates go with ``change`` and ``disagreement`` items, explanations with ``change``
    items (the old ones are copied in the database when the page is written).
    """
    items: list[dict[str, Any]] = []
    with_tokens = []
    for row in rows:
        confirmed = is_confirmed(row.status, row.category)
        tokens = row.tokens
        if not tokens or not (tokens.get("title") or tokens.get("body")):
            items.append(_item(row, "no_tokens", confirmed))
        else:
            item = _item(row, "same", confirmed)
            items.append(item)
            with_tokens.append((item, row, confirmed, DocumentTokens.from_dict(tokens)))
    for start in range(0, len(with_tokens), PREDICT_CHUNK):
        chunk = with_tokens[start:start + PREDICT_CHUNK]

        def changes(i: int, p, chunk=chunk) -> bool:
            """A suggestion that may change; only these get explanations (the terms behind it)."""
            _item_, row, confirmed, _tokens = chunk[i]
            return not confirmed and (p.category != row.suggested_category
                                      or p.needs_attention != bool(row.needs_attention))

        predictions = classifier.predict_many([t for *_x, t in chunk],
                                              [hint_text(t, row.title, analysis_form(row.head or ""))
                                               for _i, row, _c, t in chunk], explain=changes)
        for i, ((item, row, confirmed, _tokens), p) in enumerate(zip(chunk, predictions, strict=True)):
            item.update(new_category=p.category, new_top_category=p.top_category, new_confidence=p.confidence,
                        new_candidates=p.candidates, new_needs_attention=p.needs_attention, new_model_version=p.model,
                        new_explanation=p.explanation)
            if confirmed:
                item["kind"] = "disagreement" if p.top_category != row.category else "same"
            elif changes(i, p):
                item["kind"] = "change"
            if item["kind"] == "same":
                item.update(new_candidates=None, new_explanation=None)
    return items
