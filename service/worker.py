"""``gongkai worker``: an rq worker for ingest jobs, plus the stuck-document sweeper.

A SimpleWorker (no fork per job): parsing is already isolated in its own limited child
process, so the worker keeps its loaded model and tokenizer across jobs instead of
re-paying them in every fork. On start and every ``requeue_interval_seconds`` it
re-queues documents stuck in received/processing (the database is the source of truth).
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from rq import SimpleWorker
from rq.serializers import JSONSerializer
from rq.worker import WorkerStatus

from service import runtime as runtime_module
from service.analysis.tokenizer import get_tokenizer
from service.classifier.store import active_classifier
from service.parsing.registry import default_registry
from service.queue import requeue_stuck
from service.runtime import Runtime

log = logging.getLogger(__name__)


def preload(rt: Runtime) -> None:
    """Load what every job needs once: parser registry, tokenizer, model."""

    default_registry()
    get_tokenizer()
    active_classifier(rt.settings).feature_names()  # the names explanations use: ~0.3 s, once, not in the first job


class IngestWorker(SimpleWorker):
    """rq's SimpleWorker with fewer Redis round trips per job; jobs, retries and registries unchanged.

    - A worker heartbeat outside a pipeline (rq sends one before and after each dequeue and
      after each job, each as three separate commands) is sent as one pipelined round trip,
      and skipped when a full-TTL heartbeat went out less than ``HEARTBEAT_EVERY`` seconds
      ago and no shorter in-job TTL was set since. The worker's key still never has less
      than ``worker_ttl + 60 - HEARTBEAT_EVERY`` seconds left while idle.
    - Setting the worker's state to the state it already has (rq sets ``idle`` twice per
      job) is skipped; after a job, ``idle`` and the full-TTL heartbeat go in one round trip.
    - The pubsub thread (``rq`` commands such as stop-job) polls every second instead of
      every 60: stopping the worker joins that thread, which otherwise kept a SIGTERMed
      worker alive for up to a minute.
    """

    HEARTBEAT_EVERY = 5.0

    _full_heartbeat_at: float | None = None

    def heartbeat(self, timeout=None, pipeline=None):
        if timeout is not None:  # a job's shorter TTL: the next full heartbeat must go out
            self._full_heartbeat_at = None
            return super().heartbeat(timeout, pipeline)
        at = time.monotonic()
        if pipeline is not None:
            super().heartbeat(None, pipeline)
        elif self._full_heartbeat_at is not None and at - self._full_heartbeat_at < self.HEARTBEAT_EVERY:
            return
        else:
            with self.connection.pipeline(transaction=False) as pipe:
                super().heartbeat(None, pipe)
                pipe.execute()
        self._full_heartbeat_at = at

    def execute_job(self, job, queue):
        """SimpleWorker.execute_job, with the state and heartbeat after the job in one pipeline."""
        execution = self.prepare_execution(job)
        self.perform_job(job, queue, execution)
        with self.connection.pipeline(transaction=False) as pipe:
            self.set_state(WorkerStatus.IDLE, pipeline=pipe)
            self.heartbeat(pipeline=pipe)
            pipe.execute()

    def set_state(self, state, pipeline=None):
        if pipeline is None and state == getattr(self, "_state", None):
            return
        super().set_state(state, pipeline)

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)


def _sweeper(rt: Runtime, queue, stop: threading.Event) -> None:
    while not stop.wait(rt.settings.requeue_interval_seconds):
        try:
            requeue_stuck(rt.sessions, queue, rt.settings.stuck_after_seconds)
        except Exception:  # noqa: BLE001 - the sweeper must outlive a passing database/Redis fault
            log.exception("stuck-document sweep failed; will try again")


def _die_with_parent() -> None:
    """In a process the worker forks (rq's scheduler): exit when the worker dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != _worker_pid:  # the worker died before prctl took effect
        os._exit(1)


_worker_pid = 0


def run_worker(rt: Runtime, burst: bool = False, name: str | None = None) -> bool:
    global _worker_pid
    if sys.platform.startswith("linux") and not _worker_pid:
        # rq forks its scheduler from the worker; without this a SIGKILLed worker leaves it running.
        _worker_pid = os.getpid()
        os.register_at_fork(after_in_child=_die_with_parent)
    runtime_module.install(rt)
    preload(rt)
    queue = rt.queue
    requeue_stuck(rt.sessions, queue, rt.settings.stuck_after_seconds)
    stop = threading.Event()
    sweeper = threading.Thread(target=_sweeper, args=(rt, queue, stop), name="gongkai-sweeper", daemon=True)
    sweeper.start()
    try:
        worker = IngestWorker([queue], connection=rt.redis, serializer=JSONSerializer, name=name)
        return worker.work(burst=burst, with_scheduler=True, logging_level=rt.settings.worker_log_level)
    finally:
        stop.set()
