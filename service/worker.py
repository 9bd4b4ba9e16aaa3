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

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from service import runtime as runtime_module
from service.queue import requeue_stuck
from service.runtime import Runtime

log = logging.getLogger(__name__)


def preload(rt: Runtime) -> None:
    """Load what every job needs once: parser registry, tokenizer, model."""
    from service.modelstore import active_classifier
    from service.pipeline import default_registry
    from service.text import get_tokenizer

    default_registry()
    get_tokenizer()
    active_classifier(rt.settings).feature_names()  # the names explanations use: ~0.3 s, once, not in the first job


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
        worker = SimpleWorker([queue], connection=rt.redis, serializer=JSONSerializer, name=name)
        return worker.work(burst=burst, with_scheduler=True, logging_level=os.environ.get("GONGKAI_WORKER_LOG_LEVEL", "WARNING"))
    finally:
        stop.set()
