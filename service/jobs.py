"""rq job functions: module-level, ids only, the runtime from the worker process."""
from __future__ import annotations

from service import runtime
from service.ingest import ingest


def ingest_job(document_id: int) -> str:
    return ingest(runtime.current(), int(document_id))


def retrain_job(actor: str) -> dict:
    from service.retrain import retrain

    rt = runtime.current()
    return retrain(rt.settings, rt.sessions, actor)


def ingest_many_job(document_ids: list[int]) -> dict[str, str]:
    """Ingest a chunk of documents (archive import): one job, many ids, no fork per file."""
    from service.archive import ingest_many

    return ingest_many(runtime.current(), [int(i) for i in document_ids])


def reclassify_job(batch_id: int) -> dict:
    """Compute a reclassification batch; progress in the job's meta (``done``, ``total``).

    Cancelling (the batch's status set to ``cancelled`` in the database) stops it between
    pages; ``gongkai batches resume`` queues it again and it continues where it stopped.
    """
    from rq import get_current_job

    from service.reclassify import compute_batch

    rt = runtime.current()
    job = get_current_job()

    def progress(done: int, total: int) -> None:
        if job is not None:
            job.meta.update({"batch_id": int(batch_id), "done": done, "total": total})
            job.save_meta()

    status = compute_batch(rt.sessions, rt.settings, int(batch_id), progress=progress)
    return {"batch_id": int(batch_id), "status": status}
