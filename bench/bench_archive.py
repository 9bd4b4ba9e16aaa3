"""Archive benchmark (issue #6): a historical import and a batch reclassification, 1 and 2 workers.

    .venv/bin/python bench/bench_archive.py                           # 10,000 files, 100,000 documents
    .venv/bin/python bench/bench_archive.py --files 500 --docs 5000   # a quick run
    .venv/bin/python bench/bench_archive.py --cases reclassify        # one case (the other's table is kept)
    # writes bench/results/archive.md; `.venv/bin/python bench/assemble.py` puts it in BENCHMARKS.md

For each database (SQLite, and PostgreSQL when reachable) and 1 and 2 real `gongkai
worker` processes on the local Redis (started, and their model loaded, before the clock
starts):

- **import**: a folder of typical 3-page documents — Chinese PDFs laid out from the
  shipped corpus the way ``bench_ingest.make_pdfs`` does, one in twenty a 公文 .docx —
  imported with the real command, ``gongkai import FOLDER --wait`` (store every original,
  create the rows, queue chunked ``ingest_many`` jobs, wait until every document is final).
  Clock: from starting the command to its exit.
- **reclassify**: documents inserted in bulk with stored tokens made by the real tokenizer
  from the corpus (a few hundred distinct token sets) and the suggestion a previous model
  would have left (mostly the shipped model's, one in six different; a fifth of them
  reviewer-confirmed). A batch with the shipped model is created, then one
  ``reclassify_shard_job`` per shard is queued. Clock: from queuing to the batch being
  ``ready``. Creating the batch (selecting ids, writing shards) is reported apart.

Peak memory is each process's high-water mark (``VmHWM``): the workers (sum and max; a
worker's parse server and its children are counted apart, as "parse helpers") and the
import command.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_ingest import PG_URL, REDIS_URL, postgres_schema_url as _new_schema_url  # noqa: E402
from build_pdf import build_pdf, paginate  # noqa: E402

CORPUS = ROOT / "models" / "training" / "documents.jsonl"
DOCX_EVERY = 20  # one file in twenty is a .docx


SCHEMAS: list[str] = []  # PostgreSQL schemas this run made (dropped at the end)


def postgres_schema_url() -> str | None:
    url = _new_schema_url()
    if url:
        SCHEMAS.append(url.rsplit("search_path%3D", 1)[1])
    return url


def each_database(prefix: str, run) -> list[tuple[str, object]]:
    """``run(url, data_dir)`` on SQLite and, when reachable, on a fresh PostgreSQL schema,
    in one temporary directory; ``(database, result or None when not reachable)`` each.
    The schemas are dropped afterwards."""
    import tempfile

    results = []
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            for db in ("sqlite", "postgresql"):
                (Path(tmp) / db).mkdir()
                url = f"sqlite:///{Path(tmp) / db / 'gongkai.db'}" if db == "sqlite" else postgres_schema_url()
                rows = run(url, Path(tmp) / db) if url else None
                results.append((db, rows))
                print(db, rows, flush=True)
    finally:
        drop_schemas()
    return results


def drop_schemas() -> None:
    from sqlalchemy import create_engine, text

    if not SCHEMAS:
        return
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        for schema in SCHEMAS:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def corpus() -> list[dict]:
    return [json.loads(line) for line in open(CORPUS, encoding="utf-8")]


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def make_files(directory: Path, n: int) -> Path:
    """``n`` distinct typical documents in ``directory`` (kept between runs: built once per size)."""
    from build_docx import build_gongwen_docx

    done = directory.with_name(directory.name + ".complete")  # beside the folder: not imported
    if done.exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    texts = [t for t in corpus() if len(t["text"]) > 2500]
    for i in range(n):
        doc = texts[i % len(texts)]
        paragraphs = [p for p in doc["text"].splitlines() if p.strip()]
        sub = directory / f"{i // 1000:02d}"  # a folder tree, as archives come
        sub.mkdir(exist_ok=True)
        if i % DOCX_EVERY == DOCX_EVERY - 1:
            body = tuple(f"　　{p}" for p in paragraphs[1:40]) or ("　　正文。",)
            build_gongwen_docx(sub / f"doc-{i:05d}.docx", doc_number=f"X政发〔2024〕{i}号",
                               title_lines=(paragraphs[0][:40], f"（编号 {i}）"), body=body)
        else:
            pages = paginate([f"（编号 {i}）"] + paragraphs, chars_per_line=30, lines_per_page=26)[:3]
            build_pdf(sub / f"doc-{i:05d}.pdf", pages, footer="— {n} —")
    done.write_text(str(n))
    return directory


def seed_documents(rt, n: int, distinct: int = 300) -> int:
    """Insert ``n`` processed documents with real stored tokens in bulk; return the department id."""
    from sqlalchemy import insert

    from service.db import Department, Document, transaction
    from service.classifier.store import store_from_settings
    from service.analysis.tokenizer import tokenize_document

    texts = [t for t in corpus() if len(t["text"]) > 1500][:distinct]
    token_sets = [tokenize_document(None, t["text"][:3000]).to_dict() for t in texts]
    classifier = store_from_settings(rt.settings).load()
    from service.analysis.tokenizer import DocumentTokens

    predictions = classifier.predict_many([DocumentTokens.from_dict(t) for t in token_sets], explain=True)
    names = classifier.taxonomy.names
    with transaction(rt.sessions) as s:
        dept = Department(code=f"bench-{uuid.uuid4().hex[:6]}", name="基准测试部门")
        s.add(dept)
        s.flush()
        dept_id = dept.id
    rnd = random.Random(6)
    for start in range(0, n, 2000):
        rows = []
        for i in range(start, min(n, start + 2000)):
            k = i % len(token_sets)
            p = predictions[k]
            old = p.category if rnd.random() < 5 / 6 else rnd.choice(names)
            roll = rnd.random()
            status = "pending_review" if roll < 0.8 else ("approved" if roll < 0.95 else "published")
            rows.append({"department_id": dept_id, "uploaded_by": "bench", "filename": f"doc-{i:06d}.pdf",
                         "sha256": f"{i:064x}", "size": 150_000, "status": status, "media_type": "application/pdf",
                         "plugin": "pdf", "title": texts[k]["text"][:30], "pages": 3, "tokens": token_sets[k],
                         "suggested_category": old, "confidence": p.confidence, "candidates": p.candidates,
                         "explanation": p.explanation, "needs_attention": old is None, "model_version": "previous",
                         "category": None if status == "pending_review"
                         else (p.top_category if roll < 0.9 else names[0])})
        with transaction(rt.sessions) as s:
            s.execute(insert(Document), rows)
    return dept_id


# ---------------------------------------------------------------------------
# Processes and memory
# ---------------------------------------------------------------------------


def vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def parse_helpers(pid: int) -> list[int]:
    """The worker's parse server (``python -m service.parsing.parse_server``) and the parse children it forked.

    rq's scheduler, also a child of the worker, is left out: it is a fork of the worker
    whose high-water mark is mostly the worker's own pages, shared."""
    import psutil

    found = []
    try:
        for child in psutil.Process(pid).children():
            try:
                if "service.parsing.parse_server" in " ".join(child.cmdline()):
                    found += [child.pid] + [c.pid for c in child.children(recursive=True)]
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return found


class Workers:
    """``n`` real ``gongkai worker`` processes; peak memory read before they stop."""

    def __init__(self, rt, n: int) -> None:
        from rq import Worker

        env = env_of(rt)
        self.procs = [subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--name",
                                        f"{rt.settings.queue_name}-{k}"], env=env, cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for k in range(n)]
        deadline = time.monotonic() + 120
        while len(Worker.all(queue=rt.queue)) < n:  # registered = model loaded, parse server up
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError("workers did not start")
            time.sleep(0.1)
        self.helper_peaks: dict[int, int] = {}

    def sample(self) -> None:
        """Remember the peaks of the workers' children (parse server, parse children) while they live."""
        for p in self.procs:
            for pid in parse_helpers(p.pid):
                self.helper_peaks[pid] = max(self.helper_peaks.get(pid, 0), vm_hwm_kib(pid))

    def stop(self) -> dict:
        self.sample()
        peaks = [vm_hwm_kib(p.pid) for p in self.procs]
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=60)
        helpers = sorted(self.helper_peaks.values(), reverse=True)
        return {"worker_peak_sum_mib": sum(peaks) / 1024, "worker_peak_max_mib": max(peaks) / 1024,
                "helper_peak_max_mib": (helpers[0] / 1024) if helpers else 0.0}


def env_of(rt) -> dict:
    return dict(os.environ, GONGKAI_DATABASE_URL=rt.settings.database_url, GONGKAI_REDIS_URL=REDIS_URL,
                GONGKAI_DATA_DIR=str(rt.settings.data_dir), GONGKAI_QUEUE_NAME=rt.settings.queue_name,
                GONGKAI_MODELS_DIR=str(rt.settings.models_dir))


def runtime_for(db_url: str, data_dir: Path):
    from service import config
    from service.migrate import upgrade
    from service.runtime import Runtime

    data_dir.mkdir(parents=True, exist_ok=True)
    models = data_dir / "models"
    if not models.exists():
        shutil.copytree(ROOT / "models" / "county-default", models / "county-default")
    settings = config.load({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir),
                            "models_dir": str(models), "queue_name": f"bench-{uuid.uuid4().hex[:8]}"})
    rt = Runtime.from_settings(settings)
    upgrade(rt.engine)
    return rt


def new_queue(rt):
    """A fresh queue name for the next case on the same database."""
    from dataclasses import replace

    from service.runtime import Runtime

    rt.close()
    return Runtime.from_settings(replace(rt.settings, queue_name=f"bench-{uuid.uuid4().hex[:8]}"))


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


def run_import(db_url: str, folder: Path, workers: int, data_dir: Path) -> dict:
    from sqlalchemy import func, select

    from service.db import Department, Document, transaction

    rt = runtime_for(db_url, data_dir)
    with transaction(rt.sessions) as s:
        s.add(Department(code="archive", name="档案室"))
    pool = Workers(rt, workers)
    out_path = data_dir / "import.json"
    start = time.perf_counter()
    with open(out_path, "w") as out:
        cmd = subprocess.Popen([sys.executable, "-m", "service.cli", "import", str(folder), "--department", "archive",
                                "--wait", "--json", "--no-progress"], env=env_of(rt), cwd=ROOT,
                               stdout=out, stderr=subprocess.DEVNULL)
    import_peak_kib = 0
    while True:
        # The import command's peak is its VmHWM, read while it runs (ru_maxrss from wait4 would
        # also count this script's pages the child had between fork and exec).
        import_peak_kib = max(import_peak_kib, vm_hwm_kib(cmd.pid))
        pid, status, _usage = os.wait4(cmd.pid, os.WNOHANG)
        if pid:
            break
        pool.sample()
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    cmd.returncode = os.waitstatus_to_exitcode(status)
    memory = pool.stop()
    import_peak = import_peak_kib / 1024
    out = out_path.read_text(encoding="utf-8")
    summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    with transaction(rt.sessions, readonly=True) as s:
        states = dict(s.execute(select(Document.status, func.count()).group_by(Document.status)).all())
    rt.close()
    docs = sum(states.values())
    return {"docs": docs, "seconds": elapsed, "docs_per_s": docs / elapsed, "states": states,
            "failed": summary.get("failed_total"), "import_peak_mib": import_peak, **memory}


def run_reclassify(rt, docs: int, workers: int) -> tuple[dict, object]:
    from service import reclassify as R
    from service.jobs import enqueue_reclassify
    from service.classifier.store import store_from_settings

    rt = new_queue(rt)
    pool = Workers(rt, workers)
    t0 = time.perf_counter()
    batch_id = R.create_batch(rt.sessions, store_from_settings(rt.settings), "bench")
    created = time.perf_counter() - t0
    start = time.perf_counter()
    jobs = enqueue_reclassify(rt.queue, rt.sessions, batch_id)
    while (state := R.batch_progress(rt.sessions, batch_id))["status"] == "computing":
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    memory = pool.stop()
    result = R.summary(rt.sessions, batch_id, disagreement_limit=0)
    return ({"docs": state["done"], "shards": len(jobs), "status": state["status"], "seconds": elapsed,
             "docs_per_s": state["done"] / elapsed, "create_s": created, "kinds": result["kinds"], **memory}, rt)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="documents to import (default 10,000)")
    parser.add_argument("--docs", type=int, default=100_000, help="stored documents to reclassify (default 100,000)")
    parser.add_argument("--cases", default="import,reclassify", help="comma-separated: import, reclassify")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--files-dir", type=Path, help="where the generated files are kept (default: a temp dir)")
    args = parser.parse_args()
    cases = args.cases.split(",")
    worker_counts = [int(w) for w in args.workers.split(",")]
    from bench_classifier import core_scaling

    args.machine_check = [core_scaling()[1]]  # how free the second core is, before and after the cases
    imports, reclassifies = [], []
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        tmp = Path(tmp)
        if "import" in cases:
            folder = make_files((args.files_dir or tmp) / f"files-{args.files}", args.files)
        for db in args.databases.split(","):
            if "import" in cases:
                for workers in worker_counts:
                    data_dir = tmp / f"{db}-import-{workers}"
                    url = f"sqlite:///{data_dir / 'gongkai.db'}" if db == "sqlite" else postgres_schema_url()
                    r = run_import(url, folder, workers, data_dir) if url else None
                    imports.append((db, workers, r))
                    print("import", db, workers, r, flush=True)
            if "reclassify" in cases:
                url = f"sqlite:///{tmp / 'reclassify.db'}" if db == "sqlite" else postgres_schema_url()
                if url is None:
                    reclassifies += [(db, w, None) for w in worker_counts]
                    continue
                rt = runtime_for(url, tmp / f"{db}-reclassify")
                t0 = time.perf_counter()
                seed_documents(rt, args.docs)
                print("seeded", db, args.docs, f"{time.perf_counter() - t0:.0f} s", flush=True)
                for workers in worker_counts:
                    r, rt = run_reclassify(rt, args.docs, workers)
                    reclassifies.append((db, workers, r))
                    print("reclassify", db, workers, r, flush=True)
                rt.close()
    args.machine_check.append(core_scaling()[1])
    drop_schemas()
    write_report(args, imports, reclassifies)


def _section(text: str, heading: str) -> str:
    """A section of the previous results file, up to the next section or the closing notes."""
    body = text[text.index(heading):]
    ends = [i for i in (body.find("\n### ", 1), body.find("\nGoals (")) if i > 0]
    return body[:min(ends)].rstrip() if ends else body.rstrip()


def write_report(args, imports, reclassifies) -> None:
    """bench/results/archive.md; a case not run this time keeps its section from the previous file."""
    results = Path(ROOT / "bench" / "results" / "archive.md")
    old = results.read_text(encoding="utf-8") if results.exists() else ""
    check = " / ".join(args.machine_check)
    machine = (f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.machine()}, machine check {check} × "
               "before / after (pure-Python work, 2 processes vs 1; 2.0 = two free cores)")
    lines = ["## Archive: historical import and batch reclassification (issue #6)", "",
             "Real `gongkai worker` processes on the local Redis, started (model loaded) before the clock; "
             "peak memory is each process's VmHWM. Each table names the command that reproduces it.", ""]
    if imports:
        size = f" --files {args.files}" if args.files != 10_000 else ""
        lines += [f"### Import: `gongkai import FOLDER --wait`, {args.files:,} typical 3-page documents "
                  f"(PDF, one in {DOCX_EVERY} .docx)", "",
                  f"`.venv/bin/python bench/bench_archive.py --cases import{size}` — {machine}. Clock: from starting "
                  "the command (it stores every original) until it exits with every document final.", "",
                  "| database | workers | docs | failed | seconds | docs/s | workers' peak RSS (sum / max) | "
                  "parse helpers' peak | import command peak |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for db, workers, r in imports:
            if r is None:
                lines.append(f"| {db} | {workers} | — | — | — | not reachable | — | — | — |")
                continue
            lines.append(f"| {db} | {workers} | {r['docs']:,} | {r['failed']} | {r['seconds']:.0f} | "
                         f"{r['docs_per_s']:.1f} | "
                         f"{r['worker_peak_sum_mib']:.0f} / {r['worker_peak_max_mib']:.0f} MiB | "
                         f"{r['helper_peak_max_mib']:.0f} MiB | {r['import_peak_mib']:.0f} MiB |")
        lines.append("")
    elif "### Import" in old:
        lines += [_section(old, "### Import"), ""]
    if reclassifies:
        size = f" --docs {args.docs}" if args.docs != 100_000 else ""
        lines += [f"### Reclassify: {args.docs:,} stored documents, shipped model, one rq job per "
                  "shard of 5,000", "",
                  f"`.venv/bin/python bench/bench_archive.py --cases reclassify{size}` — {machine}. Clock: from "
                  "queuing the shard jobs until the batch is `ready`; creating the batch is apart.", "",
                  "| database | workers | docs | shards | create batch | compute | docs/s | changes | "
                  "workers' peak RSS (sum / max) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for db, workers, r in reclassifies:
            if r is None:
                lines.append(f"| {db} | {workers} | — | — | — | — | not reachable | — | — |")
                continue
            lines.append(f"| {db} | {workers} | {r['docs']:,} | {r['shards']} | {r['create_s']:.1f} s | "
                         f"{r['seconds']:.1f} s | {r['docs_per_s']:.0f} | {r['kinds']['change']:,} | "
                         f"{r['worker_peak_sum_mib']:.0f} / {r['worker_peak_max_mib']:.0f} MiB |")
        lines.append("")
    elif "### Reclassify" in old:
        lines += [_section(old, "### Reclassify"), ""]
    lines += ["Goals (issue #6, 2 cores): reclassify ≥ 2,000 docs/s and faster with 2 workers than with 1. "
              "The same 2 cores also run the database and this script.", ""]
    text = "\n".join(lines)
    results.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
