"""The job queue: rq on Redis, JSON-serialized, jobs that take ids only.

Which Redis (an external one, or the embedded server ``gongkai serve`` runs) is
``service.redis_server``'s business; this module puts work on it and finds lost work.

Redis carries work; the database is the source of truth. ``requeue_stuck`` finds
documents that have sat in received/processing too long (a flushed Redis, a killed
worker, a lost job) and queues them again; ingest is idempotent, so a duplicate does no
harm.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select

from service.db import Document, transaction, utcnow

log = logging.getLogger(__name__)

INGEST_FUNC = "service.jobs.ingest_job"
#: Infrastructure failures (database or Redis away, storage unreachable) are retried with backoff.
INGEST_RETRY = Retry(max=5, interval=[5, 15, 60, 180, 600])
#: Job states in which a queued job will still run by itself.
WAITING = {"queued", "deferred", "scheduled"}


def ingest_queue(connection: Redis, name: str = "gongkai-ingest") -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer)


def ingest_job_id(queue: Queue, document_id: int, generation: int = 0) -> str:
    return f"{queue.name}-{document_id}" + (f"-r{generation}" if generation else "")


def enqueue_ingest(queue: Queue, document_ids: list[int], generation: int = 0) -> None:
    document_ids = list(dict.fromkeys(document_ids))
    if not document_ids:
        return
    queue.enqueue_many([
        Queue.prepare_data(INGEST_FUNC, args=(doc_id,), job_id=ingest_job_id(queue, doc_id, generation),
                           retry=INGEST_RETRY, result_ttl=3600, failure_ttl=7 * 24 * 3600, timeout=600)
        for doc_id in document_ids
    ])


INGEST_MANY_FUNC = "service.jobs.ingest_many_job"


def chunk_index_key(queue: Queue) -> str:
    """A Redis hash: document id -> the chunk job that holds it, while that job has not run.

    ``requeue_stuck`` reads it so that a document waiting far down a long import queue
    is not mistaken for a stuck one. It only saves work: a lost or stale entry points
    at a job that is not waiting, and the document is swept as before.
    """
    return f"gongkai:{queue.name}:chunk-of"


def chunk_job_id(queue_name: str, ids: list[int]) -> str:
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    return f"{queue_name}-many-{digest}"


def enqueue_ingest_chunks(queue: Queue, document_ids: list[int], chunk_size: int = 25) -> list[str]:
    """Queue ``document_ids`` as jobs of ``chunk_size`` ids each (archive import); return the job ids.

    A chunk's job id is derived from its ids, so enqueueing the same chunk while its job
    still waits does not queue it twice. A job never raises for one document (see
    ``service.bulk_import.ingest_many``); documents it could not finish are swept up by
    ``requeue_stuck``.
    """

    ids = list(dict.fromkeys(int(i) for i in document_ids))
    chunks = {chunk_job_id(queue.name, chunk): chunk
              for chunk in (ids[start:start + chunk_size] for start in range(0, len(ids), chunk_size))}
    if not chunks:
        return []
    waiting = _waiting_jobs(queue, set(chunks))
    prepared = [Queue.prepare_data(INGEST_MANY_FUNC, args=(chunk,), job_id=job_id, result_ttl=3600,
                                   failure_ttl=7 * 24 * 3600, timeout=150 * len(chunk) + 60)
                for job_id, chunk in chunks.items() if job_id not in waiting]
    # The index is written before the jobs exist, so a worker's clean-up after a job always comes later.
    queue.connection.hset(chunk_index_key(queue), mapping={doc_id: job_id for job_id, chunk in chunks.items()
                                                           for doc_id in chunk})
    if prepared:
        queue.enqueue_many(prepared)
    return list(chunks)


def forget_chunk(queue: Queue, document_ids: list[int]) -> None:
    """Drop a finished chunk's entries from the chunk index."""
    if document_ids:
        queue.connection.hdel(chunk_index_key(queue), *document_ids)


def job_status(queue: Queue, job_id: str) -> str | None:
    job = Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer) \
        if Job.exists(job_id, connection=queue.connection) else None
    return job.get_status(refresh=False) if job is not None else None


def requeue_stuck(sessions, queue: Queue, stuck_after_seconds: int) -> list[int]:
    """Queue again every document stuck in received/processing; return their ids.

    A document is left alone while a job that will run it still waits: its own ingest
    job, or the archive-import chunk that holds it. Redis is asked in pipelined batches,
    so a sweep over a long import queue costs a few round trips, not several per document.
    """
    cutoff = utcnow() - timedelta(seconds=stuck_after_seconds)
    with transaction(sessions) as s:
        rows = s.execute(select(Document.id, Document.attempts).where(
            Document.status.in_(("received", "processing")), Document.status_changed_at < cutoff)).all()
    requeued: list[int] = []
    for start in range(0, len(rows), 500):
        part = rows[start:start + 500]
        chunks = queue.connection.hmget(chunk_index_key(queue), [doc_id for doc_id, _ in part])
        candidates = [[ingest_job_id(queue, doc_id, 0), ingest_job_id(queue, doc_id, attempts + 1)]
                      + ([chunk.decode()] if chunk else [])
                      for (doc_id, attempts), chunk in zip(part, chunks, strict=True)]
        waiting = _waiting_jobs(queue, {job_id for ids in candidates for job_id in ids})
        by_generation: dict[int, list[int]] = {}
        in_lost_chunk = []
        for (doc_id, attempts), chunk, job_ids in zip(part, chunks, candidates, strict=True):
            if waiting.isdisjoint(job_ids):
                by_generation.setdefault(attempts + 1, []).append(doc_id)
                if chunk:
                    in_lost_chunk.append(doc_id)
        for generation, doc_ids in by_generation.items():
            enqueue_ingest(queue, doc_ids, generation=generation)
            requeued += doc_ids
        forget_chunk(queue, in_lost_chunk)
    if requeued:
        log.warning("re-queued %d stuck documents: %s", len(requeued), requeued[:20])
    return requeued


def _waiting_jobs(queue: Queue, job_ids: set[str]) -> set[str]:
    """Those of ``job_ids`` that exist and will still run by themselves (one pipelined fetch)."""
    ordered = sorted(job_ids)
    jobs = Job.fetch_many(ordered, connection=queue.connection, serializer=JSONSerializer)
    return {job_id for job_id, job in zip(ordered, jobs, strict=True)
            if job is not None and job.get_status(refresh=False) in WAITING}
