"""rq job functions: module-level, ids only, the runtime from the worker process."""
from __future__ import annotations

from service import runtime
from service.bulk_import import ingest_many
from service.db import ReclassBatch, transaction
from service.processing import ingest
from service.queue import forget_chunk
from service.reclassify import BatchStateError, compute_batch, compute_shard, unfinished_shards
from service.retrain import retrain


def ingest_job(document_id: int) -> str:
    return ingest(runtime.current(), int(document_id))


def retrain_job(actor: str) -> dict:

    rt = runtime.current()
    return retrain(rt.settings, rt.sessions, actor)


def ingest_many_job(document_ids: list[int]) -> dict[str, str]:
    """Ingest a chunk of documents (archive import): one job, many ids, no fork per file."""

    rt = runtime.current()
    ids = [int(i) for i in document_ids]
    outcomes = ingest_many(rt, ids)
    forget_chunk(rt.queue, ids)
    return outcomes


RECLASSIFY_SHARD_FUNC = "service.jobs.reclassify_shard_job"


def enqueue_reclassify(queue, sessions, batch_id: int) -> list[str]:
    """Queue one ``reclassify_shard_job`` per unfinished shard of a computing batch; return the job ids.

    Used when a batch is created in the background and when it is resumed. A batch whose
    shards are all done (cancelled just as it ended) gets one job, which makes it ready.
    Queuing a shard twice is harmless: no document gets two items.
    """
    import time

    from rq import Queue


    stamp = time.time_ns()
    job_ids = {seq: f"{queue.name}-reclassify-{batch_id}-{seq}-{stamp}"
               for seq in unfinished_shards(sessions, batch_id) or [0]}
    queue.enqueue_many([
        Queue.prepare_data(RECLASSIFY_SHARD_FUNC, args=(int(batch_id), seq), job_id=job_id, timeout=6 * 3600,
                           result_ttl=7 * 24 * 3600, failure_ttl=7 * 24 * 3600)
        for seq, job_id in job_ids.items()])
    return list(job_ids.values())


def _meta_progress(batch_id: int):
    """A ``progress(done, total)`` that records the batch's counts in the current job's meta."""
    from rq import get_current_job

    job = get_current_job()

    def progress(done: int, total: int) -> None:
        if job is not None:
            job.meta.update({"batch_id": int(batch_id), "done": done, "total": total})
            job.save_meta()
    return progress


def reclassify_shard_job(batch_id: int, seq: int) -> dict:
    """Compute one shard of a reclassification batch; the batch's ``done``/``total`` in the job's meta.

    A batch cancelled before or while the job runs ends the job quietly (``status``
    ``cancelled``); ``gongkai batches resume`` queues the unfinished shards again.
    """

    rt = runtime.current()
    try:
        status = compute_shard(rt.sessions, rt.settings, int(batch_id), int(seq), progress=_meta_progress(batch_id))
    except BatchStateError:  # cancelled (or finished) before this job started

        with transaction(rt.sessions, readonly=True) as s:
            status = s.get(ReclassBatch, int(batch_id)).status
    return {"batch_id": int(batch_id), "shard": int(seq), "status": status}


def reclassify_job(batch_id: int) -> dict:
    """Compute every unfinished shard of a batch in this one job (``reclassify_shard_job`` spreads them).

    Cancelling (the batch's status set to ``cancelled`` in the database) stops it between
    pages; ``gongkai batches resume`` queues it again and it continues where it stopped.
    """

    rt = runtime.current()
    status = compute_batch(rt.sessions, rt.settings, int(batch_id), progress=_meta_progress(batch_id))
    return {"batch_id": int(batch_id), "status": status}
