"""Stuck-document sweep benchmark: what one ``requeue_stuck`` costs on a long import queue.

    .venv/bin/python bench/bench_sweep.py [--docs 20000]     # writes bench/results/sweep.md

For each database (SQLite, and PostgreSQL when reachable) ``--docs`` documents are
inserted in bulk as ``received`` long ago (older than the stuck threshold) and queued in
archive-import chunks of 25 on the local Redis, as ``gongkai import`` leaves them while
the workers are busy elsewhere. Side by side, in one run:

1. the sweep while every chunk still waits (nothing may be re-queued);
2. the sweep after every chunk job was lost (each document is re-queued on its own job);
3. the sweep right after, with those single-document jobs waiting (nothing re-queued).

Clock: one ``requeue_stuck`` call from this process, database query included.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_archive import each_database  # noqa: E402
from bench_ingest import REDIS_URL  # noqa: E402


def seed(rt, n: int) -> list[int]:
    """``n`` documents received an hour ago, in one department; their ids."""
    from sqlalchemy import insert, select

    from service.db import Department, Document, transaction, utcnow

    with transaction(rt.sessions) as s:
        dept = Department(code=f"sweep-{uuid.uuid4().hex[:6]}", name="基准测试部门")
        s.add(dept)
        s.flush()
        dept_id = dept.id
    past = utcnow() - timedelta(hours=1)
    for start in range(0, n, 5000):
        with transaction(rt.sessions) as s:
            s.execute(insert(Document), [
                {"department_id": dept_id, "uploaded_by": "bench", "filename": f"doc-{i:06d}.pdf",
                 "sha256": f"{i:064x}", "size": 150_000, "status": "received", "media_type": "application/pdf",
                 "status_changed_at": past} for i in range(start, min(n, start + 5000))])
    with transaction(rt.sessions, readonly=True) as s:
        return list(s.execute(select(Document.id).where(Document.department_id == dept_id)).scalars())


def run_case(db_url: str, data_dir: Path, n: int) -> list[tuple[str, int, int, float]]:
    from rq.job import Job

    from service import config
    from service.migrate import upgrade
    from service.queue import enqueue_ingest_chunks, requeue_stuck
    from service.runtime import Runtime

    settings = config.load({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir),
                            "queue_name": f"bench-{uuid.uuid4().hex[:8]}"})
    rt = Runtime.from_settings(settings)
    upgrade(rt.engine)
    rows = []
    try:
        chunk_jobs = enqueue_ingest_chunks(rt.queue, seed(rt, n))

        def sweep(label: str) -> None:
            waiting = rt.queue.count
            t0 = time.perf_counter()
            requeued = requeue_stuck(rt.sessions, rt.queue, settings.stuck_after_seconds)
            rows.append((label, waiting, len(requeued), time.perf_counter() - t0))

        sweep("all chunks still waiting")
        for start in range(0, len(chunk_jobs), 500):
            for job in Job.fetch_many(chunk_jobs[start:start + 500], connection=rt.redis):
                if job is not None:
                    job.delete()
        sweep("every chunk job lost")
        sweep("right after: the single-document jobs waiting")
    finally:
        rt.queue.empty()
        rt.redis.delete(*rt.redis.keys(f"*{settings.queue_name}*") or ["-"])
        rt.close()
    return rows


def main() -> None:
    import logging

    logging.disable(logging.WARNING)  # the sweep logs every re-queue
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    args = parser.parse_args()
    results = each_database("bench-sweep-", lambda url, data_dir: run_case(url, data_dir, args.docs))
    machine = f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.machine()}"
    size = f" --docs {args.docs}" if args.docs != 20_000 else ""
    lines = ["## Stuck-document sweep on a long import queue", "",
             f"`.venv/bin/python bench/bench_sweep.py{size}` — {machine}. {args.docs:,} documents received "
             "long ago, queued in import chunks of 25; one `requeue_stuck` call (database query and Redis "
             "look-ups). A sweep runs in every worker on start and every `GONGKAI_REQUEUE_INTERVAL_SECONDS`.", "",
             "| database | queue | jobs waiting | re-queued | seconds |", "|---|---|---:|---:|---:|"]
    for db, rows in results:
        if rows is None:
            lines.append(f"| {db} | — | — | — | not reachable |")
            continue
        for label, waiting, requeued, seconds in rows:
            lines.append(f"| {db} | {label} | {waiting:,} | {requeued:,} | {seconds:.2f} |")
    lines.append("")
    (ROOT / "bench" / "results" / "sweep.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
