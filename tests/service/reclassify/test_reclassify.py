"""Batch reclassification (service/reclassify.py, `gongkai reclassify`, `gongkai batches`) on SQLite and PostgreSQL."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, update

from service import audit, config, reclassify as R
from service.db import AuditEntry, Department, Document, ReclassBatch, ReclassItem, transaction
from service.classifier.store import store_from_settings
from service.analysis.tokenizer import tokenize_document
from testenv import SHIPPED_MODEL
from sample_texts import TEXTS

ROOT = Path(__file__).resolve().parents[3]



@pytest.fixture
def settings(db_url, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models" / "county-default", models / "county-default")
    return config.load({"database_url": db_url, "data_dir": str(tmp_path / "data"), "models_dir": str(models)})


@pytest.fixture
def world(settings, sessions):
    """Unconfirmed documents carrying a deliberately wrong old suggestion, confirmed and published
    ones with a (partly wrong) confirmed category, and one without tokens."""
    with transaction(sessions) as s:
        dept = Department(code="xzf", name="XX县人民政府办公室")
        s.add(dept)
        s.flush()
        ids: dict[str, list[int]] = {"unconfirmed": [], "confirmed": [], "no_tokens": []}
        for n, (title, body) in enumerate(TEXTS):
            tokens = tokenize_document(title, body).to_dict()
            if n < 6:
                kind, status, category = "unconfirmed", "pending_review", None
            else:
                kind, status, category = "confirmed", ("approved" if n % 2 else "published"), "其他"
            doc = Document(department_id=dept.id, filename=f"{n}.txt", sha256=f"{n:064d}", size=1, status=status,
                           title=title, text=body, tokens=tokens, category=category,
                           suggested_category="其他" if n % 3 else None, confidence=0.31 + n / 100,
                           candidates=[{"category": "其他", "probability": 0.31}],
                           explanation={"rules": [], "terms": [{"term": "旧", "weight": 1.0}]},
                           needs_attention=not n % 3, model_version="county-default/2020.01.01-1")
            s.add(doc)
            s.flush()
            ids[kind].append(doc.id)
        doc = Document(department_id=dept.id, filename="new.txt", sha256="f" * 64, size=1, status="received")
        s.add(doc)
        s.flush()
        ids["no_tokens"].append(doc.id)
    return ids


def snapshot(sessions) -> dict[int, tuple]:
    with transaction(sessions, readonly=True) as s:
        return {d.id: (d.status, d.category, d.suggested_category, d.confidence, d.candidates, d.explanation,
                       d.needs_attention, d.model_version) for d in s.execute(select(Document)).scalars()}


def items(sessions, batch_id) -> list[ReclassItem]:
    with transaction(sessions, readonly=True) as s:
        return s.execute(select(ReclassItem).where(ReclassItem.batch_id == batch_id)
                         .order_by(ReclassItem.document_id)).scalars().all()


def new_batch(settings, sessions, **kw) -> int:
    batch_id = R.create_batch(sessions, store_from_settings(settings), "tester", **kw)
    assert R.compute_batch(sessions, settings, batch_id) == "ready"
    return batch_id


def test_batch_never_touches_confirmed_and_lists_disagreements(settings, sessions, world):
    before = snapshot(sessions)
    batch_id = new_batch(settings, sessions)
    assert snapshot(sessions) == before  # computing changes no document
    result = R.summary(sessions, batch_id)
    assert result["status"] == "ready" and result["done"] == result["total"] == 11
    assert result["kinds"]["no_tokens"] == 1
    by_doc = {i.document_id: i for i in items(sessions, batch_id)}
    assert len(by_doc) == 11
    for doc_id in world["confirmed"]:
        item = by_doc[doc_id]
        assert item.confirmed_category == "其他" and item.kind in ("same", "disagreement")
        assert (item.kind == "disagreement") == (item.new_top_category != "其他")
    assert result["kinds"]["disagreement"] >= 2  # 规划纲要, 职责, 意见 … are not 其他
    assert {d["document_id"] for d in result["disagreements"]} == {
        d for d in world["confirmed"] if by_doc[d].kind == "disagreement"}
    for doc_id in world["unconfirmed"]:
        assert by_doc[doc_id].kind in ("change", "same") and by_doc[doc_id].confirmed_category is None
    assert result["kinds"]["change"] >= 3
    assert sum(g["count"] for g in result["groups"]) == result["kinds"]["change"]
    # Accepting everything and applying still leaves every confirmed category and suggestion alone.
    disagreeing = [by_doc[d].id for d in world["confirmed"] if by_doc[d].kind == "disagreement"]
    with pytest.raises(R.ReclassifyError):  # a disagreement is for audit, never accepted
        R.decide(sessions, batch_id, "rev", item_ids=disagreeing[:1])
    R.decide(sessions, batch_id, "rev")
    R.apply_batch(sessions, batch_id, "rev")
    after = snapshot(sessions)
    for doc_id in world["confirmed"] + world["no_tokens"]:
        assert after[doc_id] == before[doc_id]


def test_accept_above_threshold_apply_audit_and_roll_back_exactly(settings, sessions, world):
    before = snapshot(sessions)
    batch_id = new_batch(settings, sessions)
    changes = [i for i in items(sessions, batch_id) if i.kind == "change"]
    threshold = sorted(i.new_confidence for i in changes)[len(changes) // 2]
    n = R.decide(sessions, batch_id, "rev", min_confidence=threshold)
    accepted = {i.document_id: i for i in changes if i.new_confidence >= threshold}
    assert n == len(accepted) >= 1 and len(accepted) < len(changes) + 1
    # reject one group entirely, then re-accept it per item: per-group and per-item decisions
    g = R.summary(sessions, batch_id)["groups"][0]
    R.decide(sessions, batch_id, "rev", group=(g["old"], g["new"]), accept=False)
    group_items = [i for i in items(sessions, batch_id)
                   if (i.old_suggested_category, i.new_category) == (g["old"], g["new"]) and i.kind == "change"]
    assert all(i.decision == "rejected" for i in group_items)
    R.decide(sessions, batch_id, "rev", item_ids=[i.id for i in group_items if i.document_id in accepted])
    assert {i.document_id for i in items(sessions, batch_id) if i.decision == "accepted"} == set(accepted)

    out = R.apply_batch(sessions, batch_id, "rev")
    assert out == {"applied": len(accepted)}
    after = snapshot(sessions)
    for doc_id, item in accepted.items():
        status, category, suggested, confidence, candidates, explanation, attention, model = after[doc_id]
        assert (status, category) == before[doc_id][:2]
        assert (suggested, confidence, attention) == (item.new_category, item.new_confidence, item.new_needs_attention)
        assert model == f"county-default/{SHIPPED_MODEL}" and candidates == item.new_candidates
        assert explanation["terms"]  # the terms behind the new suggestion
    for doc_id in set(before) - set(accepted):
        assert after[doc_id] == before[doc_id]
    with transaction(sessions, readonly=True) as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "reclassify.apply")).scalars().all()
        assert {e.document_id for e in entries} == set(accepted)
        assert {e.detail["batch_id"] for e in entries} == {batch_id}
    with pytest.raises(R.BatchStateError):
        R.apply_batch(sessions, batch_id, "rev")  # applied once, in one step

    assert R.rollback_batch(sessions, batch_id, "rev") == {"rolled_back": len(accepted)}
    assert snapshot(sessions) == before
    with transaction(sessions, readonly=True) as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "reclassify.rollback")).scalars().all()
        assert {e.document_id for e in entries} == set(accepted)
        assert {e.detail["batch_id"] for e in entries} == {batch_id}
        assert audit.verify(s).ok
        assert s.get(ReclassBatch, batch_id).status == "rolled_back"


def test_document_confirmed_or_reanalysed_between_compute_and_apply_is_not_changed(settings, sessions, world):
    batch_id = new_batch(settings, sessions)
    changes = [i for i in items(sessions, batch_id) if i.kind == "change"]
    assert len(changes) >= 2
    confirmed, reanalysed = changes[0].document_id, changes[1].document_id
    with transaction(sessions) as s:
        s.execute(update(Document).where(Document.id == confirmed).values(status="approved", category="工作动态"))
        s.execute(update(Document).where(Document.id == reanalysed).values(suggested_category="规划计划",
                                                                           confidence=0.99, needs_attention=False))
    before = snapshot(sessions)
    R.decide(sessions, batch_id, "rev")
    out = R.apply_batch(sessions, batch_id, "rev")
    assert out["skipped_confirmed"] == 1 and out["skipped_changed"] == 1
    after = snapshot(sessions)
    assert after[confirmed] == before[confirmed] and after[reanalysed] == before[reanalysed]
    assert out["applied"] == len(changes) - 2


def test_change_items_keep_the_replaced_candidates_and_explanation_only_while_the_document_still_has_them(
        settings, sessions, world, monkeypatch):
    from service.reclassify import compute

    classify = compute._classify
    moved: list[int] = []

    def classify_then_reanalyse_one(classifier, rows):
        values = classify(classifier, rows)
        doc_id = next(v["document_id"] for v in values if v["kind"] == "change")
        with transaction(sessions) as s:  # re-analysed between reading the page and writing its items
            s.execute(update(Document).where(Document.id == doc_id)
                      .values(suggested_category="规划计划", confidence=0.99))
        moved.append(doc_id)
        return values

    monkeypatch.setattr(compute, "_classify", classify_then_reanalyse_one)
    batch_id = new_batch(settings, sessions)
    by_kind: dict[str, list[ReclassItem]] = {}
    for item in items(sessions, batch_id):
        by_kind.setdefault(item.kind, []).append(item)
    kept = [i for i in by_kind["change"] if i.document_id not in moved]
    assert len(moved) == 1 and kept
    assert all(i.old_candidates == [{"category": "其他", "probability": 0.31}] and i.old_explanation["terms"]
               for i in kept)
    assert all(i.new_candidates and i.new_explanation["terms"] for i in by_kind["change"])
    stale = next(i for i in by_kind["change"] if i.document_id == moved[0])
    assert stale.old_candidates is None and stale.old_explanation is None
    assert all(i.old_candidates is None and i.new_candidates is None for i in by_kind["same"])
    R.decide(sessions, batch_id, "rev")
    assert R.apply_batch(sessions, batch_id, "rev")["skipped_changed"] == 1  # never applied, so never rolled back to


def test_dry_run_batch_cannot_be_applied(settings, sessions, world):
    batch_id = new_batch(settings, sessions, dry_run=True)
    R.decide(sessions, batch_id, "rev")
    with pytest.raises(R.ReclassifyError):
        R.apply_batch(sessions, batch_id, "rev")


def test_filters_select_status_and_department(settings, sessions, world):
    batch_id = new_batch(settings, sessions, statuses=["pending_review"], department="xzf")
    assert {i.document_id for i in items(sessions, batch_id)} == set(world["unconfirmed"])
    with pytest.raises(R.ReclassifyError):
        R.create_batch(sessions, store_from_settings(settings), "tester", department="nope")
    assert R.summary(sessions, new_batch(settings, sessions, since="2999-01-01"))["total"] == 0
    assert R.summary(sessions, new_batch(settings, sessions, since="2000-01-01"))["total"] == 11


def test_cancel_midway_and_resume_gives_one_item_per_document(settings, sessions, world):
    batch_id = R.create_batch(sessions, store_from_settings(settings), "tester")
    pages = []
    status = R.compute_batch(sessions, settings, batch_id, page_size=3, progress=lambda d, t: pages.append((d, t)),
                             should_stop=lambda: len(pages) >= 2)
    assert status == "cancelled" and pages == [(3, 11), (6, 11)]
    with pytest.raises(R.BatchStateError):
        R.compute_batch(sessions, settings, batch_id)  # a cancelled batch must be resumed first
    with pytest.raises(R.BatchStateError):
        R.apply_batch(sessions, batch_id, "rev")
    R.resume(sessions, batch_id, "tester")
    assert R.compute_batch(sessions, settings, batch_id, page_size=4) == "ready"
    got = [i.document_id for i in items(sessions, batch_id)]
    with transaction(sessions, readonly=True) as s:
        all_ids = s.execute(select(Document.id).order_by(Document.id)).scalars().all()
    assert got == all_ids  # exactly one item per document
    assert R.summary(sessions, batch_id)["done"] == 11


def test_cancel_from_elsewhere_stops_computing(settings, sessions, world):
    batch_id = R.create_batch(sessions, store_from_settings(settings), "tester")
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 1:
            R.cancel(sessions, batch_id, "admin")

    assert R.compute_batch(sessions, settings, batch_id, page_size=4, progress=progress) == "cancelled"
    assert calls == [4] and len(items(sessions, batch_id)) == 4


def test_no_re_segmentation(settings, sessions, world, monkeypatch):
    import service.analysis.tokenizer as text_module

    def boom(*a, **kw):
        raise AssertionError("re-segmented")

    monkeypatch.setattr(text_module, "tokenize_document", boom)
    monkeypatch.setattr(text_module, "get_tokenizer", boom)
    monkeypatch.setattr(text_module.Tokenizer, "segment", boom)
    monkeypatch.setattr(text_module.Tokenizer, "tokens", boom)
    import service.classifier.model as model_module

    monkeypatch.setattr(model_module, "tokenize_document", boom, raising=False)
    monkeypatch.setattr(model_module, "get_tokenizer", boom, raising=False)
    batch_id = new_batch(settings, sessions)
    R.decide(sessions, batch_id, "rev")
    R.apply_batch(sessions, batch_id, "rev")
    assert R.summary(sessions, batch_id)["kinds"]["change"] >= 1


def cli(settings, *args: str, redis_url: str | None = None, queue: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, GONGKAI_DATABASE_URL=settings.database_url, GONGKAI_DATA_DIR=str(settings.data_dir),
               GONGKAI_MODELS_DIR=str(settings.models_dir))
    if redis_url:
        env.update(GONGKAI_REDIS_URL=redis_url, GONGKAI_QUEUE_NAME=queue)
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=False)


def test_cli_reclassify_review_apply_rollback(settings, sessions, world):
    before = snapshot(sessions)
    done = cli(settings, "reclassify", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "重新分类批次" in done.stdout and "试运行" in done.stdout and "重新分类" in done.stderr  # summary, bar
    done = cli(settings, "reclassify", "--status", "pending_review", "--status", "approved", "--status", "published",
               "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    batch_id = result["batch_id"]
    assert result["status"] == "ready" and result["total"] == 10 and result["kinds"]["no_tokens"] == 0
    assert cli(settings, "batches", "apply", "1").returncode == 2  # the dry run
    done = cli(settings, "batches", "accept", str(batch_id), "--above", "0", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["decided"] == result["kinds"]["change"]
    done = cli(settings, "batches", "show", str(batch_id))
    assert "原建议 → 新建议" in done.stdout and ("分歧" in done.stdout)
    done = cli(settings, "batches", "apply", str(batch_id))
    assert done.returncode == 0 and "已应用" in done.stdout, done.stderr
    assert snapshot(sessions) != before
    done = cli(settings, "batches", "rollback", str(batch_id), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["rolled_back"] == result["kinds"]["change"]
    assert snapshot(sessions) == before
    assert "已回滚" in cli(settings, "batches", "list").stdout


def test_background_batch_reports_progress_in_job_meta(settings, sessions, world, redis_url):
    from testenv import unique_queue_name
    from redis import Redis
    from rq.job import Job
    from rq.serializers import JSONSerializer

    queue = unique_queue_name()
    done = cli(settings, "reclassify", "--background", "--json", redis_url=redis_url, queue=queue)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "computing" and len(result["job_ids"]) == 1  # 11 documents: one shard
    done = cli(settings, "worker", "--burst", redis_url=redis_url, queue=queue)
    assert done.returncode == 0, done.stderr[-3000:]
    job = Job.fetch(result["job_ids"][0], connection=Redis.from_url(redis_url), serializer=JSONSerializer)
    assert job.get_status() == "finished"
    assert job.meta["done"] == job.meta["total"] == 11
    assert R.summary(sessions, result["batch_id"])["status"] == "ready"


# ---------------------------------------------------------------------------
# Shards: one batch computed by many jobs
# ---------------------------------------------------------------------------


def add_documents(sessions, n: int, status: str = "pending_review") -> list[int]:
    """``n`` more documents with real stored tokens (bulk insert), cycling through TEXTS."""
    from sqlalchemy import insert

    token_sets = [tokenize_document(title, body).to_dict() for title, body in TEXTS]
    with transaction(sessions) as s:
        dept_id = s.execute(select(Department.id)).scalars().first()
        first = (s.execute(select(Document.id).order_by(Document.id.desc())).scalars().first() or 0) + 1
        s.execute(insert(Document), [
            {"department_id": dept_id, "filename": f"bulk-{k}.txt", "sha256": f"b{k:063x}", "size": 1, "status": status,
             "title": TEXTS[k % len(TEXTS)][0], "tokens": token_sets[k % len(token_sets)],
             "suggested_category": "其他", "confidence": 0.5, "needs_attention": False, "model_version": "old"}
            for k in range(n)])
        return s.execute(select(Document.id).where(Document.id >= first).order_by(Document.id)).scalars().all()


def all_document_ids(sessions) -> list[int]:
    with transaction(sessions, readonly=True) as s:
        return s.execute(select(Document.id).order_by(Document.id)).scalars().all()


def ready_entries(sessions, batch_id) -> int:
    with transaction(sessions, readonly=True) as s:
        return sum(1 for e in s.execute(select(AuditEntry).where(AuditEntry.action == "reclassify.ready")).scalars()
                   if e.detail.get("batch_id") == batch_id)


def test_shards_in_any_order_and_twice_end_ready_once(settings, sessions, world):
    add_documents(sessions, 30)
    batch_id = R.create_batch(sessions, store_from_settings(settings), "tester", shard_size=9)
    assert R.unfinished_shards(sessions, batch_id) == [0, 1, 2, 3, 4]  # 41 documents
    seen = []
    for seq in (3, 0, 3, 4, 1):  # shard 3 twice: a job queued again does no harm
        assert R.compute_shard(sessions, settings, batch_id, seq,
                               progress=lambda d, t: seen.append((d, t))) == "computing"
    assert R.unfinished_shards(sessions, batch_id) == [2]
    assert seen[-1] == (32, 41) and R.batch_progress(sessions, batch_id)["done"] == 32
    assert R.compute_shard(sessions, settings, batch_id, 2) == "ready"
    with pytest.raises(R.BatchStateError):  # a late duplicate job changes nothing (the job reports the state)
        R.compute_shard(sessions, settings, batch_id, 2)
    assert [i.document_id for i in items(sessions, batch_id)] == all_document_ids(sessions)
    assert R.summary(sessions, batch_id)["done"] == R.summary(sessions, batch_id)["total"] == 41
    assert ready_entries(sessions, batch_id) == 1


def test_batch_cancelled_after_its_last_page_is_finished_by_resume(settings, sessions, world):
    batch_id = R.create_batch(sessions, store_from_settings(settings), "tester", shard_size=4)
    calls = []

    def progress(done, total):
        calls.append(done)
        if done == total:  # the last page of the last shard written, not yet finished
            R.cancel(sessions, batch_id, "admin")

    assert R.compute_batch(sessions, settings, batch_id, progress=progress) == "cancelled"
    assert R.unfinished_shards(sessions, batch_id) == []  # every shard has all its items
    R.resume(sessions, batch_id, "tester")
    assert R.compute_batch(sessions, settings, batch_id) == "ready"
    assert [i.document_id for i in items(sessions, batch_id)] == all_document_ids(sessions)
    assert ready_entries(sessions, batch_id) == 1


def start_workers(rt, n: int, tag: str) -> list[subprocess.Popen]:
    from testenv import runtime_env

    return [subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--name", f"{tag}-{k}"],
                             env=runtime_env(rt), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for k in range(n)]


def wait_for(predicate, timeout: float = 120, what: str = "") -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def worker_runtime(settings, redis_url):
    from testenv import unique_queue_name
    from service.runtime import Runtime

    rt = Runtime.from_settings(config.load({
        **{k: getattr(settings, k) for k in ("database_url", "data_dir", "models_dir")},
        "redis_url": redis_url, "queue_name": unique_queue_name()}))
    procs: list[subprocess.Popen] = []
    yield rt, procs
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)
    rt.queue.delete(delete_jobs=True)
    rt.close()


def workers_ready(rt, n: int) -> bool:
    from rq import Worker

    return len(Worker.all(queue=rt.queue)) >= n


def test_two_workers_compute_a_sharded_batch_once(settings, sessions, world, worker_runtime):
    from rq.job import Job

    from service.jobs import enqueue_reclassify

    rt, procs = worker_runtime
    add_documents(sessions, 3000)
    procs += start_workers(rt, 2, rt.settings.queue_name)
    wait_for(lambda: workers_ready(rt, 2), what="two workers")
    batch_id = R.create_batch(sessions, store_from_settings(settings), "tester", shard_size=300)
    job_ids = enqueue_reclassify(rt.queue, sessions, batch_id)
    assert len(job_ids) == 11
    wait_for(lambda: R.batch_progress(sessions, batch_id)["status"] == "ready", what="the batch to be ready")
    jobs = Job.fetch_many(job_ids, connection=rt.redis, serializer=rt.queue.serializer)
    wait_for(lambda: all(j.get_status(refresh=True) == "finished" for j in jobs), what="every job")
    assert len({j.worker_name for j in jobs}) == 2  # both workers took shards
    assert sorted(j.return_value()["status"] for j in jobs).count("ready") == 1
    assert [i.document_id for i in items(sessions, batch_id)] == all_document_ids(sessions)
    result = R.summary(sessions, batch_id)
    assert result["done"] == result["total"] == 3011 and sum(result["kinds"].values()) == 3011
    assert ready_entries(sessions, batch_id) == 1 and R.unfinished_shards(sessions, batch_id) == []


def test_two_workers_cancel_midway_then_resume_without_duplicates(settings, sessions, world, worker_runtime):
    from rq.job import Job

    from service.jobs import enqueue_reclassify

    rt, procs = worker_runtime
    add_documents(sessions, 3000)
    procs += start_workers(rt, 2, rt.settings.queue_name)
    wait_for(lambda: workers_ready(rt, 2), what="two workers")
    batch_id = R.create_batch(sessions, store_from_settings(settings), "tester", shard_size=200)
    job_ids = enqueue_reclassify(rt.queue, sessions, batch_id)
    wait_for(lambda: R.batch_progress(sessions, batch_id)["done"] > 0, what="the first page")
    R.cancel(sessions, batch_id, "admin")
    jobs = Job.fetch_many(job_ids, connection=rt.redis, serializer=rt.queue.serializer)
    wait_for(lambda: all(j.get_status(refresh=True) == "finished" for j in jobs), what="the jobs to stop")
    stopped = R.batch_progress(sessions, batch_id)
    assert stopped["status"] == "cancelled" and 0 < stopped["done"] < stopped["total"] == 3011
    assert len(items(sessions, batch_id)) == stopped["done"]
    assert R.unfinished_shards(sessions, batch_id)

    R.resume(sessions, batch_id, "tester")
    enqueue_reclassify(rt.queue, sessions, batch_id)
    wait_for(lambda: R.batch_progress(sessions, batch_id)["status"] == "ready", what="the resumed batch")
    assert [i.document_id for i in items(sessions, batch_id)] == all_document_ids(sessions)
    assert R.summary(sessions, batch_id)["done"] == 3011 and ready_entries(sessions, batch_id) == 1


def test_cli_background_wait_follows_the_batch_row(settings, sessions, world, worker_runtime):
    rt, procs = worker_runtime
    add_documents(sessions, 40)
    procs += start_workers(rt, 1, rt.settings.queue_name)
    wait_for(lambda: workers_ready(rt, 1), what="a worker")
    done = cli(settings, "reclassify", "--background", "--wait", "--json", redis_url=rt.settings.redis_url,
               queue=rt.settings.queue_name)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "ready" and result["done"] == result["total"] == 51
    assert "重新分类" in done.stderr  # the bar, driven by the batch row


def test_applying_or_rolling_back_one_batch_twice_at_once_does_it_once(settings, sessions, world):
    """Two admins (or a double click) on 应用 / 回滚 at the same moment: one does it, the other is told."""
    from live_server import at_once

    batch_id = new_batch(settings, sessions)
    assert R.decide(sessions, batch_id, "rev") >= 1
    for act, done in ((R.apply_batch, "reclassify.applied"), (R.rollback_batch, "reclassify.rolled_back")):
        outcomes = at_once([lambda act=act: act(sessions, batch_id, "甲"),
                            lambda act=act: act(sessions, batch_id, "乙")])
        assert sorted(type(o).__name__ for o in outcomes) == ["BatchStateError", "dict"], outcomes
        with transaction(sessions, readonly=True) as s:
            assert len(s.execute(select(AuditEntry).where(AuditEntry.action == done)).scalars().all()) == 1
            assert audit.verify(s).ok
