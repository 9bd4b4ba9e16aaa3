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
