"""`gongkai import PATH [--department D] [--manifest FILE] [--wait] [--json]`: archive import.

See ``service/bulk_import.py`` for what is imported and how. Progress bars (``service/cli/progress.py``) go
to stderr; the summary goes to stdout (``--json`` for a JSON object). Exit status 0 when
nothing failed (and, with ``--wait``, everything finished in time), 1 otherwise, 2 for a usage
error (no such department, bad manifest, …).
"""
from __future__ import annotations

import json
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from service import bulk_import, config
from service.cli import progress
from service.db import Department, Document, transaction
from service.receiving import display_filename
from service.redis_server import NO_SHARED_REDIS_ZH, with_shared_redis
from service.runtime import Runtime
from service.states import STATE_NAMES_ZH


def register(sub) -> None:
    p = sub.add_parser("import", help="import a folder or a .zip of historical files (历史文件批量导入)")
    p.add_argument("path", help="a folder (recursive) or a .zip")
    p.add_argument("--department", help="department code; may be omitted when exactly one department exists")
    p.add_argument("--manifest", help="CSV or JSON: path, category, date, doc_number, status per file")
    p.add_argument("--user", default="cli", help="recorded as uploaded_by 'import:<user>'")
    p.add_argument("--chunk-size", type=int, default=25, help="documents per ingest job")
    p.add_argument("--wait", action="store_true", help="wait until every queued document is processed")
    p.add_argument("--timeout", type=float, default=0, help="seconds --wait waits at most (0: no limit)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    progress.add_arguments(p)
    p.set_defaults(func=run_import)


def _err(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _department(rt: Runtime, code: str | None) -> Department | None:
    with transaction(rt.sessions, readonly=True) as s:
        if code:
            return s.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
        found = s.execute(select(Department).limit(2)).scalars().all()
        return found[0] if len(found) == 1 else None


def _bar(args, **kw):
    return progress.bar(args, **kw)


def run_import(args) -> int:
    settings = with_shared_redis(config.load())
    if not settings.redis_url:
        return _err("导入" + NO_SHARED_REDIS_ZH)
    source = Path(args.path)
    if not source.exists():
        return _err(f"找不到导入源：{source}")
    rt = Runtime.from_settings(settings)
    try:
        dept = _department(rt, args.department)
        if dept is None:
            return _err(f"没有部门 {args.department}" if args.department
                        else "请用 --department 指定部门代码（系统中不止一个部门或还没有部门）。")
        manifest = {}
        if args.manifest:
            from service.taxonomy import from_settings

            manifest = bulk_import.load_manifest(Path(args.manifest), from_settings(settings))
        feeder = _ChunkFeeder(rt, max(1, args.chunk_size))
        result = _store(rt, args, source, dept.id, manifest, feeder.add)
        job_ids = feeder.flush()
        final = _wait(rt, args, result) if args.wait else None
        summary = _summary(rt, result, final, job_ids)
    finally:
        rt.close()
    _print(summary, args.json)
    return 1 if summary["failed_total"] or summary.get("unfinished") else 0


def _store(rt: Runtime, args, source: Path, department_id: int, manifest, queue) -> bulk_import.ImportResult:
    uploaded_by = f"import:{args.user}"
    if source.is_dir():
        items = list(bulk_import.iter_folder(source))
        return _run_items(rt, args, items, department_id, uploaded_by, manifest, queue)
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise bulk_import.ArchiveError(str(exc), what=f"{source.name} 不是可读的文件夹或 .zip 压缩包") from exc
    with zf:
        items = list(bulk_import.iter_zip(zf, rt.settings.max_upload_bytes))
        return _run_items(rt, args, items, department_id, uploaded_by, manifest, queue)


def _run_items(rt, args, items, department_id, uploaded_by, manifest, queue) -> bulk_import.ImportResult:
    with _bar(args, total=len(items), desc="导入文件", unit="个") as bar:
        return bulk_import.import_items(rt, iter(items), department_id=department_id, uploaded_by=uploaded_by,
                                    manifest=manifest, progress=lambda _item: bar.update(1), queue=queue)


class _ChunkFeeder:
    """Queues documents in chunks while the import is still storing the rest: the workers
    start on the first chunk instead of waiting for the whole archive."""

    def __init__(self, rt: Runtime, chunk_size: int) -> None:
        self.rt, self.chunk_size = rt, chunk_size
        self.pending: list[int] = []
        self.job_ids: list[str] = []

    def add(self, document_id: int) -> None:
        self.pending.append(document_id)
        if len(self.pending) >= self.chunk_size:
            self._send()

    def _send(self) -> None:
        from service.queue import enqueue_ingest_chunks

        if self.pending:
            self.job_ids += enqueue_ingest_chunks(self.rt.queue, self.pending, chunk_size=self.chunk_size)
            self.pending = []

    def flush(self) -> list[str]:
        self._send()
        return self.job_ids


def _settled(rt: Runtime, result: bulk_import.ImportResult, ids: list[int]) -> dict[int, str]:
    """Documents that reached a state the import will not change any more.

    The manifest outcomes are read before the states: a chunk job writes a document's outcome
    after its last change, so a state read afterwards is that last one. (Read the other way
    round, a job finishing between the two reads left its document counted in the state it
    had before publishing: 'approved' instead of 'published'.) Only this import's outcomes
    count: one from an earlier import of the same file does not mean this one is applied.
    """
    wishes = bulk_import.manifest_wishes(rt, ids) if ids else set()
    applied = bulk_import.manifest_outcomes(rt, [i for i in ids if i in wishes], after_seq=result.audit_seq) \
        if wishes else {}
    with transaction(rt.sessions, readonly=True) as s:
        rows = dict(s.execute(select(Document.id, Document.status).where(Document.id.in_(ids))).all()) if ids else {}
    done = {}
    for doc_id, status in rows.items():
        if status in ("received", "processing"):
            continue
        if status in ("pending_review", "approved") and doc_id in wishes and doc_id not in applied:
            # The chunk job applies the manifest right after ingest: confirm (→ approved), then
            # publish in a second transaction; the outcome entry is written last.
            continue
        done[doc_id] = status
    return done


def _wait(rt: Runtime, args, result: bulk_import.ImportResult) -> dict[int, str]:
    ids = list(result.to_queue)
    deadline = time.monotonic() + args.timeout if args.timeout else None
    done: dict[int, str] = {}
    shown = time.monotonic()
    with _bar(args, total=len(ids), desc="处理文件", unit="个") as bar:
        while True:
            # Chunked queries keep the IN lists small on big imports.
            pending = [i for i in ids if i not in done]
            for k in range(0, len(pending), 500):
                done.update(_settled(rt, result, pending[k:k + 500]))
            if len(done) > bar.n:
                bar.update(len(done) - bar.n)
            elif time.monotonic() - shown > 5:
                bar.refresh()  # keep the elapsed time moving without flooding a log
                shown = time.monotonic()
            if len(done) == len(ids) or (deadline and time.monotonic() > deadline):
                return done
            time.sleep(0.5)


def _summary(rt: Runtime, result: bulk_import.ImportResult, final: dict[int, str] | None, job_ids) -> dict:
    failed = Counter(f["code"] for f in result.failures)
    failures = list(result.failures)
    summary = {
        "scanned": result.scanned, "imported": len(result.imported), "duplicates": len(result.duplicates),
        "retried": len(result.retried), "queued": len(result.to_queue), "jobs": len(job_ids),
        "manifest_unmatched": result.manifest_unmatched,
    }
    if final is not None:
        ids = list(final)
        with transaction(rt.sessions, readonly=True) as s:
            rows = s.execute(select(Document.id, Document.filename, Document.status, Document.error_code,
                                    Document.error_message)
                             .where(Document.id.in_(ids))).all() if ids else []
        states: Counter = Counter()
        for doc_id, filename, status, code, message in rows:
            states[status] += 1          # as the documents are now, not as each was when first seen settled
            if status == "failed":
                failed[code or "parser_failed"] += 1
                failures.append({"path": display_filename(filename), "document_id": doc_id,
                                 "code": code or "parser_failed",
                                 **({"message": message} if message else {})})
        summary["states"] = dict(states)
        summary["unfinished"] = len(result.to_queue) - len(final)
        outcomes = bulk_import.manifest_outcomes(rt, list(result.manifest), after_seq=result.audit_seq)
        summary["manifest"] = dict(Counter(o["outcome"] for o in outcomes.values()))
        summary["publish_refused"] = [{"document_id": i, "code": o.get("code")} for i, o in outcomes.items()
                                      if o["outcome"] == "publish_refused"]
    summary["failed"] = dict(sorted(failed.items()))
    summary["failed_total"] = sum(failed.values())
    summary["failures"] = failures
    return summary


def _print(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    print(f"扫描文件 {summary['scanned']} 个：新导入 {summary['imported']}，重复 {summary['duplicates']}"
          f"（其中重新处理失败文件 {summary['retried']}），失败 {summary['failed_total']}；"
          f"已排队处理 {summary['queued']} 个（{summary['jobs']} 个任务）。")
    if "states" in summary:
        states = "，".join(f"{STATE_NAMES_ZH.get(k, k)} {v}" for k, v in sorted(summary["states"].items()))
        print(f"处理结果：{states or '无'}"
              + (f"；尚未处理完 {summary['unfinished']} 个" if summary["unfinished"] else ""))
        for item in summary["publish_refused"]:
            print(f"  清单要求发布但被拒绝（{item['code']}），已保留为已审核：文件 {item['document_id']}")
    for code, n in summary["failed"].items():
        print(f"  失败（{bulk_import.CODE_NAMES_ZH.get(code, code)}，{code}）：{n} 个")
    for f in summary["failures"]:
        print(f"    {f['path']}：{f.get('message') or f['code']}")
    if summary["manifest_unmatched"]:
        print(f"  清单中有 {len(summary['manifest_unmatched'])} 个路径没有对应文件："
              + "、".join(summary["manifest_unmatched"][:10]))
