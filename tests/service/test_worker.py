"""Real worker processes on a real Redis: the queue carries work, the database decides."""
from collections import Counter
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select, update

from service import audit
from service.db import Document, transaction, utcnow
from service.receiving import receive
from testenv import runtime_env, unique_queue_name
from service.queue import chunk_job_id
from service.queue import chunk_index_key, enqueue_ingest, enqueue_ingest_chunks, requeue_stuck

FINAL = {"pending_review", "failed"}


@pytest.fixture
def rt(make_runtime):
    return make_runtime(redis=True, stuck_after_seconds=3, requeue_interval_seconds=1)


def start_worker(rt, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "worker", *extra], env=runtime_env(rt),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def upload_texts(rt, n: int, prefix: str = "") -> list[int]:
    ids = []
    for i in range(n):
        body = (f"{prefix}关于做好第{i}批政府信息公开工作的通知\n"
                f"各乡镇人民政府：\n现将第{i}项有关事项通知如下。").encode()
        import io
        ids.append(receive(rt.sessions, rt.storage, department_id=1, filename=f"{i}.txt", stream=io.BytesIO(body),
                           uploaded_by="test").document_id)
    return ids


def lose_queue(rt) -> None:
    conn = redis.Redis.from_url(rt.settings.redis_url)
    name = rt.settings.queue_name
    keys = [f"rq:queue:{name}", *conn.scan_iter(f"rq:job:{name}-*")]
    conn.delete(*keys)
    assert rt.queue.count == 0


def states(rt, ids) -> dict[int, str]:
    with transaction(rt.sessions, readonly=True) as s:
        return dict(s.execute(select(Document.id, Document.status).where(Document.id.in_(ids))).all())


def wait_final(rt, ids, timeout=180) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = states(rt, ids)
        if all(v in FINAL for v in now.values()):
            return now
        time.sleep(0.5)
    return states(rt, ids)


def test_burst_worker_processes_the_queue(rt):
    ids = upload_texts(rt, 5)
    enqueue_ingest(rt.queue, ids)
    done = subprocess.run([sys.executable, "-m", "service.cli", "worker", "--burst"], env=runtime_env(rt),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(states(rt, ids).values()) == {"pending_review"}


def test_documents_lost_from_redis_are_found_again_in_the_database(rt):
    ids = upload_texts(rt, 3)
    enqueue_ingest(rt.queue, ids)
    lose_queue(rt)  # as if Redis restarted empty: the jobs are gone
    with transaction(rt.sessions) as s:
        s.execute(update(Document).values(status_changed_at=utcnow() - timedelta(minutes=10)))
    assert sorted(requeue_stuck(rt.sessions, rt.queue, 3)) == sorted(ids)
    assert requeue_stuck(rt.sessions, rt.queue, 3) == []  # already waiting: not queued twice
    done = subprocess.run([sys.executable, "-m", "service.cli", "worker", "--burst"], env=runtime_env(rt),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(states(rt, ids).values()) == {"pending_review"}


def test_documents_waiting_in_a_queued_chunk_are_not_queued_again(rt):
    """An archive import queues many chunks; a document far down the queue is waiting, not stuck."""
    ids = upload_texts(rt, 4)
    enqueue_ingest_chunks(rt.queue, ids, chunk_size=2)
    with transaction(rt.sessions) as s:
        s.execute(update(Document).values(status_changed_at=utcnow() - timedelta(minutes=10)))
    assert requeue_stuck(rt.sessions, rt.queue, 3) == []
    # A chunk whose job is gone (Redis lost it, or it was deleted) leaves its documents stuck again.
    Job.fetch(chunk_job_id(rt.queue.name, ids[:2]), connection=rt.redis, serializer=JSONSerializer).delete()
    assert sorted(requeue_stuck(rt.sessions, rt.queue, 3)) == sorted(ids[:2])
    assert requeue_stuck(rt.sessions, rt.queue, 3) == []
    done = subprocess.run([sys.executable, "-m", "service.cli", "worker", "--burst"], env=runtime_env(rt),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(states(rt, ids).values()) == {"pending_review"}
    assert rt.redis.hlen(chunk_index_key(rt.queue)) == 0  # nothing left in the chunk index


def test_fault_two_workers_one_killed_and_redis_flushed(rt):
    """200 uploads through 2 workers; SIGKILL one mid-run; flush Redis once. Nothing is lost or doubled."""
    n = 200
    ids = upload_texts(rt, n, prefix="故障测试")
    queue = rt.queue
    enqueue_ingest(queue, ids)
    workers = [start_worker(rt, "--name", f"fault-{k}") for k in range(2)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sum(v in FINAL for v in states(rt, ids).values()) < n // 4:
            time.sleep(0.2)
        done_at_kill = sum(v in FINAL for v in states(rt, ids).values())
        workers[0].send_signal(signal.SIGKILL)  # killed mid-run, maybe mid-job
        workers[0].wait()
        killed_at = time.monotonic()
        redis.Redis.from_url(rt.settings.redis_url).flushdb()  # and Redis loses every queued job
        final = wait_final(rt, ids, timeout=240)
        recovered_in = time.monotonic() - killed_at
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
    counts = {state: list(final.values()).count(state) for state in set(final.values())}
    assert len(final) == n and set(final.values()) <= FINAL, counts
    with transaction(rt.sessions, readonly=True) as s:
        assert s.execute(select(func.count()).select_from(Document)).scalar_one() == n  # none duplicated
        result = audit.verify(s)
        assert result.ok, result
        # Each document reached pending_review exactly once.
        from service.db import AuditEntry
        reached = [e for e in s.execute(select(AuditEntry).where(AuditEntry.action == "status")).scalars()
                   if e.detail.get("to") == "pending_review"]
        assert len(reached) == n and len({e.document_id for e in reached}) == n
        attempts = Counter(s.execute(select(Document.attempts).where(Document.id.in_(ids))).scalars())
    print(f"\nfault test: {n} uploads, 2 workers; {done_at_kill} final when one was SIGKILLed and Redis flushed; "
          f"all final {recovered_in:.1f} s later: {counts}; "
          f"ingest attempts per document {dict(sorted(attempts.items()))}; "
          f"{len(reached)} reached pending_review once each; audit chain {result.entries} entries verified")


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                found.append(int(status.parent.name))
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_a_killed_worker_takes_its_scheduler_process_with_it(rt):
    worker = start_worker(rt)
    try:
        deadline = time.monotonic() + 60
        forked = []
        while time.monotonic() < deadline and not forked:
            forked = _children(worker.pid)  # rq's scheduler, forked once the worker holds the scheduler lock
            time.sleep(0.2)
        assert forked, "the worker never started its scheduler"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in forked):
        time.sleep(0.1)
    assert not any(_alive(p) for p in forked)


def test_worker_heartbeats_keep_the_worker_key_alive(redis_url):
    """Plain heartbeats are coalesced, but a job's short TTL is always followed by a full one."""
    from rq.serializers import JSONSerializer

    from service.queue import ingest_queue
    from service.worker import IngestWorker

    conn = redis.Redis.from_url(redis_url)
    worker = IngestWorker([ingest_queue(conn, unique_queue_name())], connection=conn, serializer=JSONSerializer)
    worker.register_birth()
    try:
        full = worker.worker_ttl + 60
        worker.heartbeat()
        assert conn.ttl(worker.key) > full - 5
        worker.heartbeat(30)  # as rq does while a job runs
        assert conn.ttl(worker.key) <= 30
        worker.heartbeat()  # right after: not skipped, the full TTL is back
        assert conn.ttl(worker.key) > full - 5
        conn.expire(worker.key, 100)
        worker.heartbeat()  # within HEARTBEAT_EVERY of a full one: skipped
        assert conn.ttl(worker.key) <= 100
        worker._full_heartbeat_at -= worker.HEARTBEAT_EVERY
        worker.heartbeat()
        assert conn.ttl(worker.key) > full - 5
        worker.set_state("idle")
        conn.hset(worker.key, "state", "x")
        worker.set_state("idle")  # unchanged: not written again
        assert conn.hget(worker.key, "state") == b"x"
        worker.set_state("busy")
        assert conn.hget(worker.key, "state") == b"busy"
    finally:
        conn.delete(worker.key)
        conn.close()
