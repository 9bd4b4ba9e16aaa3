"""Batch reclassification: run a model version over stored token streams, review, apply, roll back.

A *batch* (``ReclassBatch``) records, for every selected document, its suggestion before
(category, confidence, candidates, explanation, needs_attention, model version) and the
new model's answer (``ReclassItem``). Documents are classified from their stored
``tokens`` (``DocumentTokens.from_dict``): nothing is parsed or segmented again.

Item kinds:

- ``change``: an unconfirmed document whose suggested category would change;
- ``same``: the suggestion would not change (or a confirmed document the model agrees with);
- ``disagreement``: a reviewer-confirmed or published document whose confirmed category the
  new model's top category differs from — listed for audit, never applied;
- ``no_tokens``: the document has no stored tokens (not yet processed, failed): skipped.

A batch is ``computing`` → ``ready`` → ``applied`` → ``rolled_back``; ``computing`` may be
``cancelled`` and resumed (documents that already have an item are skipped). Computing
is split into shards (id ranges of ``SHARD_SIZE`` documents), one rq job each, so any
number of workers share a batch; the batch row's ``done``/``total`` is the progress, and
the shard that ends last makes the batch ``ready``. Only
accepted ``change`` items are applied, in one transaction, and only when the document
is still unconfirmed and its suggestion is still the one the batch saw. The confirmed
``category`` is never touched. Every change (apply and roll back) is audited with the
batch id. A dry-run batch is kept for review but can never be applied.

Pure of HTTP and rq: the CLI, the pages and the rq jobs (``service.jobs.reclassify_shard_job``) call
these. ``batches``: the reviewer side (create, decide, apply, roll back, read); ``compute``: the
worker side (classify shards, write items, finish the batch).
"""
from service.reclassify.batches import (
    BATCH_STATES_ZH,
    KINDS,
    BatchNotFound,
    BatchStateError,
    ReclassifyError,
    apply_batch,
    batch_progress,
    cancel,
    create_batch,
    decide,
    is_confirmed,
    list_batches,
    resume,
    rollback_batch,
    since_value,
    summary,
)
from service.reclassify.compute import compute_batch, compute_shard, unfinished_shards

__all__ = ["BATCH_STATES_ZH", "KINDS", "BatchNotFound", "BatchStateError", "ReclassifyError", "apply_batch",
           "batch_progress", "cancel", "compute_batch", "compute_shard", "create_batch", "decide", "is_confirmed",
           "list_batches", "resume", "rollback_batch", "since_value", "summary", "unfinished_shards"]
