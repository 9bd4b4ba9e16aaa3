"""Reclassification batches as reviewers handle them: create, cancel and resume, decide
on items, apply and roll back, and read (summary, progress, list). What computing a batch
does on the workers is ``service.reclassify.compute``."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any


from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from service import audit, localtime
from service.db import Department, Document, ReclassBatch, ReclassItem, ReclassShard, transaction, utcnow
from service.errors import GongkaiError

PAGE_SIZE = 1000


#: Documents per shard: the unit of work one rq job computes (``service.jobs.reclassify_shard_job``).
SHARD_SIZE = 5000


PREDICT_CHUNK = 250


#: Document states whose category a reviewer has confirmed (or that were published).
CONFIRMED_STATES = frozenset({"approved", "published", "withdrawn"})


KINDS = ("change", "same", "disagreement", "no_tokens")


BATCH_STATES_ZH = {"computing": "计算中", "ready": "待审核", "applied": "已应用", "rolled_back": "已回滚",
                   "cancelled": "已取消"}


class ReclassifyError(GongkaiError):
    code = "reclassify_error"
    http_status = 409
    message_zh = "批量重新分类：{what}"
    message_en = "Batch reclassification: {what}"


class BatchNotFound(ReclassifyError):
    code = "batch_not_found"
    http_status = 404
    message_zh = "没有编号为 {batch_id} 的重新分类批次。"
    message_en = "No reclassification batch {batch_id}."


class BatchStateError(ReclassifyError):
    code = "batch_state"
    message_zh = "批次 {batch_id} 当前状态为「{state}」，不能{action}。"
    message_en = "Batch {batch_id} is {state}; cannot {action}."


def state_error(batch: ReclassBatch, action: str) -> BatchStateError:
    return BatchStateError(batch_id=batch.id, state=BATCH_STATES_ZH.get(batch.status, batch.status), action=action)


def is_confirmed(status: str, category: str | None) -> bool:
    return category is not None or status in CONFIRMED_STATES


def since_value(since: date | datetime | str | None) -> str | None:
    if since is None or since == "":
        return None
    if isinstance(since, str):
        since = date.fromisoformat(since)
    if isinstance(since, datetime):
        return localtime.as_utc(since).isoformat()
    return localtime.day_start(since).isoformat()


def create_batch(sessions: sessionmaker[Session], store, actor: str, model_version: str | None = None,
                 statuses: Sequence[str] | None = None, department: str | None = None,
                 since: date | datetime | str | None = None, dry_run: bool = False,
                 shard_size: int = SHARD_SIZE) -> int:
    """Create a ``computing`` batch for the documents the filters select; return its id.

    ``store`` is a ``ModelStore``; ``model_version`` defaults to its active version and must
    load. The selection is fixed now: documents created later (a higher id) are not in it.
    The selected ids are split into shards of ``shard_size`` documents (``reclass_shards``),
    each computed by ``compute_shard`` — by one process (``compute_batch``) or one rq job
    per shard on any number of workers (``service.jobs.enqueue_reclassify``).
    """
    version = model_version or store.active_version()
    classifier = store.load(version)  # raises a coded ModelError when it does not load
    filters: dict[str, Any] = {"statuses": sorted(statuses) if statuses else None, "department": department,
                               "since": since_value(since)}
    with transaction(sessions) as s:
        if department is not None:
            dept_id = s.execute(select(Department.id).where(Department.code == department)).scalar_one_or_none()
            if dept_id is None:
                raise ReclassifyError(what=f"没有部门 {department}")
            filters["department_id"] = dept_id
        filters["max_document_id"] = s.execute(select(func.max(Document.id))).scalar_one() or 0
        ids = s.execute(select(Document.id).where(*selection_conditions(filters)).order_by(Document.id)).scalars().all()
        total = len(ids)
        batch = ReclassBatch(created_by=actor, model_version=version, filters=filters, status="computing",
                             dry_run=dry_run, counts={}, done=0, total=total)
        s.add(batch)
        s.flush()
        s.execute(insert(SHARDS), _shard_rows(batch.id, ids, max(1, int(shard_size))))
        audit.append(s, actor, "reclassify.create", batch_id=batch.id, model=classifier.name, filters=filters,
                     total=total, dry_run=dry_run)
        return batch.id


def selection_conditions(filters: dict[str, Any]) -> list:
    out = [Document.id <= int(filters.get("max_document_id") or 0)]
    if filters.get("statuses"):
        out.append(Document.status.in_(filters["statuses"]))
    if filters.get("department_id") is not None:
        out.append(Document.department_id == filters["department_id"])
    if filters.get("since"):
        out.append(Document.created_at >= datetime.fromisoformat(filters["since"]))
    return out


SHARDS = ReclassShard.__table__


ITEMS = ReclassItem.__table__


BATCHES = ReclassBatch.__table__


def _shard_rows(batch_id: int, ids: Sequence[int], shard_size: int) -> list[dict[str, Any]]:
    """Consecutive id ranges of at most ``shard_size`` selected documents (one empty shard if none)."""
    if not ids:
        return [{"batch_id": batch_id, "seq": 0, "first_id": 0, "last_id": 0, "total": 0, "status": "pending"}]
    return [{"batch_id": batch_id, "seq": n, "first_id": ids[start],
             "last_id": ids[min(start + shard_size, len(ids)) - 1],
             "total": min(shard_size, len(ids) - start), "status": "pending"}
            for n, start in enumerate(range(0, len(ids), shard_size))]


def load_batch(s: Session, batch_id: int, lock: bool = False) -> ReclassBatch:
    stmt = select(ReclassBatch).where(ReclassBatch.id == int(batch_id))
    batch = s.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if batch is None:
        raise BatchNotFound(batch_id=batch_id)
    return batch


def cancel(sessions: sessionmaker[Session], batch_id: int, actor: str, reason: str = "") -> None:
    """Stop a computing batch (every shard stops at the page in hand; ``resume`` continues it)."""
    with transaction(sessions) as s:
        batch = load_batch(s, batch_id, lock=True)
        if batch.status != "computing":
            raise state_error(batch, "取消")
        batch.status = "cancelled"
        audit.append(s, actor, "reclassify.cancel", batch_id=batch.id, done=batch.done, total=batch.total,
                     reason=reason)


def resume(sessions: sessionmaker[Session], batch_id: int, actor: str) -> None:
    """Make a cancelled batch ``computing`` again (then run ``compute_batch``, or queue its
    unfinished shards with ``service.jobs.enqueue_reclassify``)."""
    with transaction(sessions) as s:
        batch = load_batch(s, batch_id, lock=True)
        if batch.status == "computing":
            return  # an interrupted computation: compute_batch continues it as it is
        if batch.status != "cancelled":
            raise state_error(batch, "继续计算")
        batch.status = "computing"
        audit.append(s, actor, "reclassify.resume", batch_id=batch.id, done=batch.done)


def decide(sessions: sessionmaker[Session], batch_id: int, actor: str, *, item_ids: Iterable[int] | None = None,
           group: tuple[str | None, str | None] | None = None, min_confidence: float | None = None,
           accept: bool = True) -> int:
    """Accept (or reject) ``change`` items: by id, by group (old → new), and/or above a confidence.

    The selectors combine (all given must hold); none given means every change item.
    Returns how many items were decided.
    """
    with transaction(sessions) as s:
        batch = load_batch(s, batch_id, lock=True)
        if batch.status != "ready":
            raise state_error(batch, "审核")
        conditions = [ReclassItem.batch_id == batch.id]
        if item_ids is not None:
            ids = [int(i) for i in item_ids]
            wrong = s.execute(select(ReclassItem.id).where(ReclassItem.batch_id == batch.id, ReclassItem.id.in_(ids),
                                                           ReclassItem.kind != "change")).scalars().all()
            if wrong:
                raise ReclassifyError(what=f"条目 {', '.join(map(str, wrong))} "
                                           "不是可应用的分类变更（已确认文件的分歧只供核查）")
            conditions.append(ReclassItem.id.in_(ids))
        conditions.append(ReclassItem.kind == "change")
        if group is not None:
            old, new = group
            conditions.append(ReclassItem.old_suggested_category.is_(None) if old is None
                              else ReclassItem.old_suggested_category == old)
            conditions.append(ReclassItem.new_category.is_(None) if new is None else ReclassItem.new_category == new)
        if min_confidence is not None:
            conditions.append(ReclassItem.new_confidence >= float(min_confidence))
        decision = "accepted" if accept else "rejected"
        n = s.execute(update(ReclassItem).where(*conditions).values(decision=decision, decided_by=actor)
                      .execution_options(synchronize_session=False)).rowcount
        audit.append(s, actor, "reclassify.decide", batch_id=batch.id, decision=decision, items=n,
                     item_ids=sorted(int(i) for i in item_ids) if item_ids is not None else None,
                     group=list(group) if group is not None else None, min_confidence=min_confidence)
        return int(n or 0)


def _suggestion(doc: Document) -> tuple:
    return (doc.suggested_category, doc.confidence, doc.needs_attention, doc.model_version)


def _set_suggestion(doc: Document, category, confidence, candidates, explanation, needs_attention, model) -> None:
    """Write a suggestion; the reviewer's ``category`` is never touched here."""
    doc.suggested_category, doc.confidence = category, confidence
    doc.candidates, doc.explanation = candidates, explanation
    doc.needs_attention, doc.model_version = needs_attention, model


def apply_batch(sessions: sessionmaker[Session], batch_id: int, actor: str) -> dict[str, int]:
    """Apply every accepted change in one transaction; return counts of applied and skipped items."""
    out = Counter()
    with transaction(sessions) as s:
        batch = load_batch(s, batch_id, lock=True)
        if batch.dry_run:
            raise ReclassifyError(what=f"批次 {batch.id} 是试运行（--dry-run），不能应用；请不加 --dry-run 重新计算")
        if batch.status != "ready":
            raise state_error(batch, "应用")
        items = s.execute(select(ReclassItem).where(ReclassItem.batch_id == batch.id, ReclassItem.kind == "change",
                                                    ReclassItem.decision == "accepted")
                          .order_by(ReclassItem.document_id)).scalars().all()
        for item in items:
            doc = s.execute(select(Document).where(Document.id == item.document_id).with_for_update()).scalar_one()
            if is_confirmed(doc.status, doc.category):
                item.outcome = "skipped_confirmed"
            elif _suggestion(doc) != (item.old_suggested_category, item.old_confidence, item.old_needs_attention,
                                      item.old_model_version):
                item.outcome = "skipped_changed"
            else:
                _set_suggestion(doc, item.new_category, item.new_confidence, item.new_candidates,
                                item.new_explanation, item.new_needs_attention, item.new_model_version)
                item.outcome = "applied"
                audit.append(s, actor, "reclassify.apply", document_id=doc.id, batch_id=batch.id, item_id=item.id,
                             old={"category": item.old_suggested_category, "confidence": item.old_confidence,
                                  "model": item.old_model_version},
                             new={"category": item.new_category, "confidence": item.new_confidence,
                                  "model": item.new_model_version})
            out[item.outcome] += 1
        batch.status, batch.applied_at = "applied", utcnow()
        batch.counts = {**batch.counts, **{k: int(v) for k, v in out.items()}}
        audit.append(s, actor, "reclassify.applied", batch_id=batch.id, **{k: int(v) for k, v in out.items()})
    return dict(out)


def rollback_batch(sessions: sessionmaker[Session], batch_id: int, actor: str) -> dict[str, int]:
    """Restore the suggestion a batch replaced, exactly, on every document it changed.

    A document whose suggestion changed again since (re-analysed, another batch) keeps it
    and is counted as ``rollback_skipped``.
    """
    out = Counter()
    with transaction(sessions) as s:
        batch = load_batch(s, batch_id, lock=True)
        if batch.status != "applied":
            raise state_error(batch, "回滚")
        items = s.execute(select(ReclassItem).where(ReclassItem.batch_id == batch.id, ReclassItem.outcome == "applied")
                          .order_by(ReclassItem.document_id)).scalars().all()
        for item in items:
            doc = s.execute(select(Document).where(Document.id == item.document_id).with_for_update()).scalar_one()
            if _suggestion(doc) != (item.new_category, item.new_confidence, item.new_needs_attention,
                                    item.new_model_version):
                item.outcome = "rollback_skipped"
            else:
                _set_suggestion(doc, item.old_suggested_category, item.old_confidence, item.old_candidates,
                                item.old_explanation, item.old_needs_attention, item.old_model_version)
                item.outcome = "rolled_back"
                audit.append(s, actor, "reclassify.rollback", document_id=doc.id, batch_id=batch.id, item_id=item.id,
                             restored={"category": item.old_suggested_category, "confidence": item.old_confidence,
                                       "model": item.old_model_version})
            out[item.outcome] += 1
        batch.status, batch.rolled_back_at = "rolled_back", utcnow()
        batch.counts = {**batch.counts, **{k: int(v) for k, v in out.items()}}
        audit.append(s, actor, "reclassify.rolled_back", batch_id=batch.id, **{k: int(v) for k, v in out.items()})
    return dict(out)


def summary(sessions: sessionmaker[Session], batch_id: int, disagreement_limit: int | None = None) -> dict[str, Any]:
    """The batch, its change groups (old → new with counts and decisions) and the disagreements."""
    with transaction(sessions, readonly=True) as s:
        batch = load_batch(s, batch_id)
        kinds = dict(s.execute(select(ReclassItem.kind, func.count()).where(ReclassItem.batch_id == batch.id)
                               .group_by(ReclassItem.kind)).all())
        rows = s.execute(select(ReclassItem.old_suggested_category, ReclassItem.new_category, ReclassItem.decision,
                                func.count(), func.min(ReclassItem.new_confidence),
                                func.max(ReclassItem.new_confidence))
                         .where(ReclassItem.batch_id == batch.id, ReclassItem.kind == "change")
                         .group_by(ReclassItem.old_suggested_category, ReclassItem.new_category,
                                   ReclassItem.decision)).all()
        groups: dict[tuple, dict[str, Any]] = {}
        for old, new, decision, n, lo, hi in rows:
            g = groups.setdefault((old, new), {"old": old, "new": new, "count": 0, "pending": 0, "accepted": 0,
                                              "rejected": 0, "min_confidence": lo, "max_confidence": hi})
            g["count"] += n
            g[decision] = g.get(decision, 0) + n
            g["min_confidence"] = min(g["min_confidence"], lo) if lo is not None else g["min_confidence"]
            g["max_confidence"] = max(g["max_confidence"], hi) if hi is not None else g["max_confidence"]
        stmt = (select(ReclassItem.id, ReclassItem.document_id, Document.title, Document.status,
                       ReclassItem.confirmed_category, ReclassItem.new_top_category, ReclassItem.new_confidence)
                .join(Document, Document.id == ReclassItem.document_id)
                .where(ReclassItem.batch_id == batch.id, ReclassItem.kind == "disagreement")
                .order_by(ReclassItem.document_id))
        if disagreement_limit is not None:
            stmt = stmt.limit(disagreement_limit)
        disagreements = [{"item_id": i, "document_id": d, "title": t, "status": st, "confirmed_category": c,
                          "model_category": m, "confidence": p} for i, d, t, st, c, m, p in s.execute(stmt).all()]
        return {
            "batch_id": batch.id, "status": batch.status, "dry_run": batch.dry_run,
            "model_version": batch.model_version, "created_by": batch.created_by,
            "created_at": batch.created_at.isoformat() if batch.created_at else None,
            "filters": batch.filters, "done": batch.done, "total": batch.total,
            "kinds": {k: int(kinds.get(k, 0)) for k in KINDS}, "counts": batch.counts,
            "groups": sorted(groups.values(), key=lambda g: (-g["count"], g["old"] or "", g["new"] or "")),
            "disagreements": disagreements,
        }


def batch_progress(sessions: sessionmaker[Session], batch_id: int) -> dict[str, Any]:
    """The batch row's ``status``, ``done`` and ``total`` (cheap: for progress bars and polling)."""
    with transaction(sessions, readonly=True) as s:
        batch = load_batch(s, batch_id)
        return {"batch_id": batch.id, "status": batch.status, "done": batch.done, "total": batch.total}


def list_batches(sessions: sessionmaker[Session], limit: int = 50) -> list[dict[str, Any]]:
    with transaction(sessions, readonly=True) as s:
        rows = s.execute(select(ReclassBatch).order_by(ReclassBatch.id.desc()).limit(limit)).scalars().all()
        return [{"batch_id": b.id, "status": b.status, "dry_run": b.dry_run, "model_version": b.model_version,
                 "created_by": b.created_by, "created_at": b.created_at.isoformat() if b.created_at else None,
                 "done": b.done, "total": b.total, "counts": b.counts} for b in rows]
