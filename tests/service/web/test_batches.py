"""Batch reclassification pages (service/web/batches.py): admins only, CSRF, live progress,
grouped review, decisions, apply and exact roll back — on SQLite and PostgreSQL, with a real
rq worker on the test Redis; and once in a real browser against `gongkai serve`.
"""
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from browser import CHROMIUM, SHOTS, Guard, new_page
from browser import log_in as log_in_page
from web_client import PASSWORD, log_in_with_token
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from service import reclassify as R
from service import runtime as runtime_module
from service.db import AuditEntry, Department, Document, ReclassBatch, ReclassItem, User, transaction
from service.analysis.tokenizer import tokenize_document
from service.web import batches as web_batches
from testenv import SHIPPED_MODEL
from sample_texts import TEXTS

MODELS = Path(__file__).resolve().parents[3] / "models"
OLD_MODEL = "county-default/2020.01.01-1"


@pytest.fixture
def app(make_app):
    app = make_app(with_models=True)
    with transaction(app.extensions["gongkai"].sessions) as s:
        dept = Department(code="xzf", name="XX县人民政府办公室")
        s.add(dept)
        s.flush()
        s.add(User(username="adm", role="admin", password_hash=generate_password_hash(PASSWORD)))
        s.add(User(username="rev", role="reviewer", password_hash=generate_password_hash(PASSWORD)))
        s.add(User(username="upl", role="uploader", department_id=dept.id,
                   password_hash=generate_password_hash(PASSWORD)))
    return app


def add_documents(app, texts=TEXTS, confirmed_from: int = 6) -> dict[str, list[int]]:
    """Unconfirmed documents carrying an old model's (deliberately poor) suggestion, confirmed and
    published ones with a partly wrong confirmed category, and one without tokens."""
    ids: dict[str, list[int]] = {"unconfirmed": [], "confirmed": [], "no_tokens": []}
    with transaction(app.extensions["gongkai"].sessions) as s:
        dept_id = s.execute(select(Department.id).where(Department.code == "xzf")).scalar_one()
        for n, (title, body) in enumerate(texts):
            if n < confirmed_from:
                kind, status, category = "unconfirmed", "pending_review", None
            else:
                kind, status, category = "confirmed", ("approved" if n % 2 else "published"), "其他"
            doc = Document(department_id=dept_id, filename=f"{n}.txt", sha256=f"{n:064d}", size=1, status=status,
                           title=title, text=body, tokens=tokenize_document(title, body).to_dict(), category=category,
                           suggested_category="其他" if n % 3 else None, confidence=0.31 + n / 1000,
                           candidates=[{"category": "其他", "probability": 0.31}],
                           explanation={"rules": [], "terms": [{"term": "旧", "weight": 1.0}]},
                           needs_attention=not n % 3, model_version=OLD_MODEL)
            s.add(doc)
            s.flush()
            ids[kind].append(doc.id)
        doc = Document(department_id=dept_id, filename="new.txt", sha256="f" * 64, size=1, status="received")
        s.add(doc)
        s.flush()
        ids["no_tokens"].append(doc.id)
    return ids


def snapshot(app) -> dict[int, tuple]:
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        return {d.id: (d.status, d.category, d.suggested_category, d.confidence, d.candidates, d.explanation,
                       d.needs_attention, d.model_version) for d in s.execute(select(Document)).scalars()}


def batch_items(app, batch_id) -> list[ReclassItem]:
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        return s.execute(select(ReclassItem).where(ReclassItem.batch_id == batch_id)
                         .order_by(ReclassItem.document_id)).scalars().all()


def work_off(app) -> None:
    """Run the queued jobs with a real rq worker (burst), in this process, on the app's runtime."""
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    rt = app.extensions["gongkai"]
    previous = runtime_module._current
    runtime_module.install(rt)
    try:
        worker = SimpleWorker([rt.queue], connection=rt.redis, serializer=JSONSerializer)
        assert worker.work(burst=True)
    finally:
        runtime_module._current = previous


def progress(client, batch_id) -> dict:
    response = client.get(f"/admin/batches/progress?ids={batch_id}")
    assert response.status_code == 200 and response.is_json
    (row,) = response.get_json()["batches"]
    return row


def create_batch(app, client, token, **form) -> int:
    before = {b["batch_id"] for b in R.list_batches(app.extensions["gongkai"].sessions)}
    response = client.post("/admin/batches", data={"csrf_token": token, **form})
    assert response.status_code == 302, response.get_data(as_text=True)
    (batch_id,) = {b["batch_id"] for b in R.list_batches(app.extensions["gongkai"].sessions)} - before
    assert response.headers["Location"].endswith(f"/admin/batches#batch-{batch_id}")
    return batch_id


def computed_batch(app, client, token, **form) -> int:
    batch_id = create_batch(app, client, token, **form)
    work_off(app)
    assert progress(client, batch_id)["status"] == "ready"
    return batch_id


def test_only_admins_reach_the_batch_pages(app):
    add_documents(app)
    adm, adm_token = log_in_with_token(app, "adm")
    batch_id = computed_batch(app, adm, adm_token)
    anonymous = app.test_client()
    assert anonymous.get("/admin/batches").status_code == 302
    assert "/login" in anonymous.get(f"/admin/batches/{batch_id}").headers["Location"]
    for username in ("rev", "upl"):
        client, token = log_in_with_token(app, username)
        for url in ("/admin/batches", f"/admin/batches/{batch_id}", f"/admin/batches/{batch_id}/group?old=-&new=-",
                    f"/admin/batches/progress?ids={batch_id}"):
            assert client.get(url).status_code == 403, (username, url)
        for url, data in (("/admin/batches", {}),
                          (f"/admin/batches/{batch_id}/decide", {"action": "accept", "scope": "all"}),
                          (f"/admin/batches/{batch_id}/apply", {}), (f"/admin/batches/{batch_id}/rollback", {}),
                          (f"/admin/batches/{batch_id}/cancel", {}), (f"/admin/batches/{batch_id}/resume", {})):
            response = client.post(url, data={"csrf_token": token, **data})
            assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True), (username, url)
    assert [b["batch_id"] for b in R.list_batches(app.extensions["gongkai"].sessions)] == [batch_id]
    assert all(i.decision == "pending" for i in batch_items(app, batch_id))
    # the header links the list for admins only
    assert "批量重新分类" in adm.get("/admin").get_data(as_text=True)
    rev, _ = log_in_with_token(app, "rev")
    assert "/admin/batches" not in rev.get("/review").get_data(as_text=True)


def test_posts_without_the_csrf_token_are_refused(app):
    world = add_documents(app)
    adm, token = log_in_with_token(app, "adm")
    assert adm.post("/admin/batches", data={}).status_code == 403
    assert adm.post("/admin/batches", data={"csrf_token": "forged"}).status_code == 403
    assert R.list_batches(app.extensions["gongkai"].sessions) == []
    assert app.extensions["gongkai"].queue.count == 0
    batch_id = computed_batch(app, adm, token)
    before = snapshot(app)
    for url, data in ((f"/admin/batches/{batch_id}/decide", {"action": "accept", "scope": "all", "threshold": "0"}),
                      (f"/admin/batches/{batch_id}/apply", {})):
        assert adm.post(url, data=data).status_code == 403
    assert all(i.decision == "pending" for i in batch_items(app, batch_id))
    assert progress(adm, batch_id)["status"] == "ready" and snapshot(app) == before
    assert world["unconfirmed"]


def test_creating_a_batch_queues_it_and_progress_comes_live_from_the_batch_row(app):
    add_documents(app)
    adm, token = log_in_with_token(app, "adm")
    page = adm.get("/admin/batches").get_data(as_text=True)
    assert f"{SHIPPED_MODEL}（使用中）" in page and 'name="dry_run"' in page and "XX县人民政府办公室" in page
    batch_id = create_batch(app, adm, token, model=SHIPPED_MODEL, status=["pending_review", "approved", "published"],
                            department="xzf", since="2020-01-01")
    (job,) = app.extensions["gongkai"].queue.get_jobs()  # 10 documents: one shard
    assert job.func_name == "service.jobs.reclassify_shard_job" and job.args == [batch_id, 0]
    row = progress(adm, batch_id)
    assert row["status"] == "computing" and row["status_zh"] == "计算中"
    assert (row["done"], row["total"], row["percent"]) == (0, 10, 0.0)  # the received document has another status
    listing = adm.get("/admin/batches").get_data(as_text=True)
    assert f'id="batch-{batch_id}"' in listing and "计算中" in listing and "0 / 10 件（0.0%）" in listing
    assert "状态：待审核、已审核、已发布；部门：XX县人民政府办公室；接收于 2020-01-01 及以后" in listing
    assert 'batches.js' in listing and 'data-status="computing"' in listing
    page = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert "data-reload-when-done" in page and "计算完成后在这里分组列出" in page and 'id="apply"' not in page
    panel = adm.get("/admin").get_data(as_text=True)
    assert "批量重新分类" in panel and f"批次 #{batch_id}" in panel and "0 / 10 件" in panel
    # progress is the database row's: a shard of work (here written as a job would) shows at once
    with transaction(app.extensions["gongkai"].sessions) as s:
        s.execute(update(ReclassBatch).where(ReclassBatch.id == batch_id).values(done=4))
    assert progress(adm, batch_id)["percent"] == 40.0
    with transaction(app.extensions["gongkai"].sessions) as s:
        s.execute(update(ReclassBatch).where(ReclassBatch.id == batch_id).values(done=0))

    work_off(app)
    row = progress(adm, batch_id)
    assert row["status"] == "ready" and row["done"] == row["total"] == 10 and row["percent"] == 100.0
    assert sum(row["counts"].values()) == 10 and row["counts"]["change"] >= 3
    assert f"批次 #{batch_id}" not in adm.get("/admin").get_data(as_text=True)  # no longer running
    assert "当前没有正在计算的批次" in adm.get("/admin").get_data(as_text=True)
    everything = adm.get("/admin/batches/progress").get_json()["batches"]
    assert [b["batch_id"] for b in everything] == [batch_id]
    assert adm.get("/admin/batches/progress?ids=x").status_code == 422


def test_cancel_and_resume_from_the_list(app):
    add_documents(app)
    adm, token = log_in_with_token(app, "adm")
    batch_id = create_batch(app, adm, token)
    assert adm.post(f"/admin/batches/{batch_id}/resume", data={"csrf_token": token}).status_code == 422  # computing
    assert adm.post(f"/admin/batches/{batch_id}/cancel", data={"csrf_token": token}).status_code == 302
    assert progress(adm, batch_id)["status"] == "cancelled"
    work_off(app)  # the queued job finds the batch cancelled and stops
    assert progress(adm, batch_id)["status"] == "cancelled"
    page = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert "已取消" in page and "继续计算" in page
    assert adm.post(f"/admin/batches/{batch_id}/resume", data={"csrf_token": token}).status_code == 302
    assert progress(adm, batch_id)["status"] == "computing"
    work_off(app)
    assert progress(adm, batch_id)["status"] == "ready" and len(batch_items(app, batch_id)) == 11
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        actions = [e.action for e in s.query(AuditEntry).order_by(AuditEntry.seq)]
    assert actions.count("reclassify.cancel") == 1 and actions.count("reclassify.resume") == 1


def test_review_page_groups_old_to_new_with_counts_and_mean_confidence(app):
    world = add_documents(app)
    adm, token = log_in_with_token(app, "adm")
    batch_id = computed_batch(app, adm, token)
    html = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    changes = [i for i in batch_items(app, batch_id) if i.kind == "change"]
    expected: dict[tuple, list[float]] = {}
    for i in changes:
        expected.setdefault((i.old_suggested_category, i.new_category), []).append(i.new_confidence)
    groups = web_batches.change_groups(app.extensions["gongkai"].sessions, batch_id)
    assert {(g["old"], g["new"]): g["count"] for g in groups} == {k: len(v) for k, v in expected.items()}
    assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)
    for g in groups:
        assert g["mean_confidence"] == pytest.approx(sum(expected[(g["old"], g["new"])]) / g["count"])
        head = f"{web_batches.label(g['old'])} → {web_batches.label(g['new'])}"
        assert head in html
        assert (f'<span class="group-count">{g["count"]}</span> 件 · '
                f'平均新把握 {g["mean_confidence"] * 100:.0f}%') in html
    for i in changes:  # each change item is listed with a link to its review page
        assert f'data-item="{i.id}"' in html and f'href="/review/{i.document_id}"' in html
    # the disagreements on confirmed documents are listed apart, without decision buttons
    disagreements = [i for i in batch_items(app, batch_id) if i.kind == "disagreement"]
    assert disagreements
    section = html.split('id="disagreements"', 1)[1]
    for i in disagreements:
        assert i.document_id in world["confirmed"]
        assert f'href="/review/{i.document_id}"' in section and f'data-item="{i.id}"' not in html
    assert "仅供核查，不会修改" in section and "data-action" not in section
    assert 'id="apply"' in html and 'id="accept-above"' in html and "试运行" not in html.split("<h2>", 1)[0]
    assert "没有可分析的文字而跳过" in html and "词元" not in html        # words a clerk reads, not the code's


def test_threshold_group_and_item_decisions_then_apply_and_roll_back_exactly(app):
    world = add_documents(app)
    adm, token = log_in_with_token(app, "adm")
    before = snapshot(app)
    batch_id = computed_batch(app, adm, token)
    changes = [i for i in batch_items(app, batch_id) if i.kind == "change"]
    assert len(changes) >= 3
    threshold = sorted(i.new_confidence for i in changes)[len(changes) // 2]
    percent = int(threshold * 100)  # the page takes whole percents
    response = adm.post(f"/admin/batches/{batch_id}/decide",
                        data={"csrf_token": token, "action": "accept", "scope": "all", "threshold": str(percent)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/batches/{batch_id}")
    accepted = {i.id for i in changes if i.new_confidence >= percent / 100}
    assert {i.id for i in batch_items(app, batch_id) if i.decision == "accepted"} == accepted
    assert 1 <= len(accepted) < len(changes) or percent == 0

    # reject the largest group, then accept one of its items again
    g = web_batches.change_groups(app.extensions["gongkai"].sessions, batch_id)[0]
    response = adm.post(f"/admin/batches/{batch_id}/decide",
                        data={"csrf_token": token, "action": "reject", "scope": "group", "old": g["old_value"],
                              "new": g["new_value"], "next": f"/admin/batches/{batch_id}#group-1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/batches/{batch_id}#group-1")
    in_group = [i for i in batch_items(app, batch_id) if i.kind == "change"
                and (i.old_suggested_category, i.new_category) == (g["old"], g["new"])]
    assert in_group and all(i.decision == "rejected" for i in in_group)
    chosen = in_group[0]
    assert adm.post(f"/admin/batches/{batch_id}/decide", data={"csrf_token": token, "action": "accept", "scope": "item",
                                                               "item": str(chosen.id)}).status_code == 302
    state = {i.id: i.decision for i in batch_items(app, batch_id)}
    assert state[chosen.id] == "accepted" and all(state[i.id] == "rejected" for i in in_group[1:])
    final_accepted = {i for i, d in state.items() if d == "accepted"}
    # a disagreement can never be accepted: it is refused, and nothing changes
    disagreement = next(i for i in batch_items(app, batch_id) if i.kind == "disagreement")
    refused = adm.post(f"/admin/batches/{batch_id}/decide", data={"csrf_token": token, "action": "accept",
                                                                  "scope": "item", "item": str(disagreement.id)})
    assert refused.status_code == 409 and "分歧只供核查" in refused.get_data(as_text=True)
    # a rejected item is shown rejected on the page
    html = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert f'data-item="{chosen.id}" data-decision="accepted"' in html

    assert adm.post(f"/admin/batches/{batch_id}/apply", data={"csrf_token": token}).status_code == 302
    after = snapshot(app)
    items = {i.id: i for i in batch_items(app, batch_id)}
    for item_id in final_accepted:
        i = items[item_id]
        assert i.outcome == "applied"
        assert after[i.document_id][2:] == (i.new_category, i.new_confidence, i.new_candidates, i.new_explanation,
                                            i.new_needs_attention, i.new_model_version)
    untouched = set(before) - {items[i].document_id for i in final_accepted}
    assert {d: after[d] for d in untouched} == {d: before[d] for d in untouched}
    for doc_id in world["confirmed"] + world["no_tokens"]:  # confirmed documents are never touched
        assert after[doc_id] == before[doc_id]
    html = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert "已应用" in html and f"更新建议分类 <b>{len(final_accepted)}</b> 件" in html
    assert 'id="rollback"' in html and 'id="apply"' not in html and "data-action" not in html
    assert adm.post(f"/admin/batches/{batch_id}/apply", data={"csrf_token": token}).status_code == 409

    assert adm.post(f"/admin/batches/{batch_id}/rollback", data={"csrf_token": token}).status_code == 302
    assert snapshot(app) == before  # every suggestion restored exactly
    html = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert "已回滚" in html and f"恢复 <b>{len(final_accepted)}</b> 件" in html and 'id="rollback"' not in html
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        actions = [e.action for e in s.query(AuditEntry).filter(AuditEntry.actor == "adm")]
    assert actions.count("reclassify.apply") == actions.count("reclassify.rollback") == len(final_accepted)
    assert "reclassify.create" in actions and actions.count("reclassify.decide") == 3


def test_dry_run_batches_show_they_cannot_be_applied(app):
    add_documents(app)
    adm, token = log_in_with_token(app, "adm")
    before = snapshot(app)
    batch_id = computed_batch(app, adm, token, dry_run="1")
    html = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert 'id="dry-run-note"' in html and "不能应用" in html
    assert 'id="apply"' not in html and "data-action" not in html
    assert "试运行" in adm.get("/admin/batches").get_data(as_text=True)
    R.decide(app.extensions["gongkai"].sessions, batch_id, "adm")
    refused = adm.post(f"/admin/batches/{batch_id}/apply", data={"csrf_token": token})
    assert refused.status_code == 409 and "试运行" in refused.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_large_group_shows_its_first_items_and_pages_through_the_rest(app, monkeypatch):
    texts = [(f"关于开展全县安全生产大检查的通知（第{n}批）", TEXTS[3][1]) for n in range(27)]
    add_documents(app, texts, confirmed_from=len(texts))
    monkeypatch.setattr(web_batches, "GROUP_PREVIEW", 5)
    monkeypatch.setattr(web_batches, "GROUP_PAGE", 10)
    adm, token = log_in_with_token(app, "adm")
    batch_id = computed_batch(app, adm, token)
    groups = web_batches.change_groups(app.extensions["gongkai"].sessions, batch_id, preview=5)
    big = max(groups, key=lambda g: g["count"])
    assert big["count"] >= 12 and len(big["items"]) == 5
    html = adm.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert html.count('data-item="') == sum(min(g["count"], 5) for g in groups)
    assert f"本组共 {big['count']} 件，这里只列出把握最高的 5 件：查看全部" in html
    seen = []
    for page_no in range(1, -(-big["count"] // 10) + 1):
        page = adm.get(f"/admin/batches/{batch_id}/group",
                       query_string={"old": big["old_value"], "new": big["new_value"], "page": page_no})
        assert page.status_code == 200
        seen += re.findall(r'data-item="(\d+)"', page.get_data(as_text=True))
    assert len(seen) == len(set(seen)) == big["count"]
    # accepting the group from its own page comes back to that page
    url = f"/admin/batches/{batch_id}/group?old={big['old_value']}&new={big['new_value']}&page=2"
    done = adm.post(f"/admin/batches/{batch_id}/decide",
                    data={"csrf_token": token, "action": "accept", "scope": "group",
                          "old": big["old_value"], "new": big["new_value"], "next": url})
    assert done.status_code == 302 and unquote(done.headers["Location"]).endswith(url)
    assert sum(i.decision == "accepted" for i in batch_items(app, batch_id)) == big["count"]
    # a foreign "next" is not followed
    done = adm.post(f"/admin/batches/{batch_id}/decide",
                    data={"csrf_token": token, "action": "reject", "scope": "group",
                          "old": big["old_value"], "new": big["new_value"], "next": "https://example.org/"})
    assert done.headers["Location"].endswith(f"/admin/batches/{batch_id}")


# ---------------------------------------------------------------------------
# In a real browser, against `gongkai serve` (web + a real worker on the test Redis)
# ---------------------------------------------------------------------------

#: Archive documents already reviewed: enough that computing takes a few seconds, so the page
#: is seen moving (about 0.5 s per 1,000 on a laptop).
ARCHIVE = 30_000


@pytest.mark.skipif(not Path(CHROMIUM).exists() and __import__("os").environ.get("CI", "").lower() != "true",
                    reason="Chromium not installed (apt-get install chromium)")
def test_batch_from_the_page_progress_live_review_apply_and_roll_back(server, browser, tmp_path):
    from playwright.sync_api import expect
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    base = server["url"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    # the admin "boss" comes with the server fixture (tests/service/web/conftest.py)
    guard = Guard(base)

    # A clerk uploads six documents; the worker reads and classifies them with the active model.
    files = []
    for n, (title, body) in enumerate(TEXTS[:6]):
        path = tmp_path / f"{n}-{title[:12]}.txt"
        path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        files.append(str(path))
    clerk = new_page(browser, server, guard)
    log_in_page(clerk, base, "clerk")
    clerk.goto(f"{base}/upload")
    clerk.set_input_files("#picker", files)
    statuses = clerk.locator("#uploads .upload-status")
    for i in range(len(files)):
        expect(statuses.nth(i)).to_contain_text("待审核", timeout=120_000)

    # Their suggestions are made to look like an older model's (as after a model update); one is
    # reviewer-confirmed in a category the model disagrees with; and the county's reviewed archive
    # (the same texts, confirmed in the model's own category) makes the batch large.
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'gongkai.db'}")
    with Session(engine) as s, s.begin():
        docs = s.execute(select(Document).order_by(Document.id)).scalars().all()
        assert len(docs) == 6 and all(d.tokens and d.candidates for d in docs)
        confirmed = docs[0]
        top = confirmed.candidates[0]["category"]
        confirmed.status, confirmed.reviewed_by = "approved", "checker"
        confirmed.category = "其他" if top != "其他" else "工作动态"
        for d in docs[1:]:
            d.suggested_category, d.confidence, d.needs_attention, d.model_version = "其他", 0.35, False, OLD_MODEL
        archive = [{"department_id": d.department_id, "filename": f"archive-{n}.txt", "sha256": f"a{n:063d}",
                    "size": 1, "status": "approved", "title": d.title, "text": d.text, "tokens": d.tokens,
                    "category": d.candidates[0]["category"], "suggested_category": d.suggested_category,
                    "confidence": d.confidence, "model_version": OLD_MODEL}
                   for n, d in ((n, docs[1 + n % 5]) for n in range(ARCHIVE))]
        s.execute(insert(Document), archive)
        last_id, confirmed_id = docs[-1].id, confirmed.id
        confirmed_title, confirmed_category = confirmed.title, confirmed.category
    before = {d: row for d, row in _suggestions(engine).items() if d <= last_id}

    # The admin creates a batch from the page and watches it compute, without reloading.
    admin = new_page(browser, server, guard)
    admin.on("dialog", lambda dialog: dialog.accept())
    log_in_page(admin, base, "boss")
    admin.click("header.site nav >> text=批量重新分类")
    expect(admin.locator("h1")).to_have_text("批量重新分类")
    expect(admin.locator("table.batches")).to_contain_text("还没有重新分类批次")
    panel_page = new_page(browser, server, guard)  # a second tab, on the admin index page
    log_in_page(panel_page, base, "boss")
    admin.click("#create-batch")
    row = admin.locator("table.batches tbody tr").first
    batch_id = int(row.get_attribute("data-batch-row"))
    # The admin index page shows the running batch too, live.
    panel_page.goto(f"{base}/admin")
    panel = panel_page.locator("#reclassify-panel")
    expect(panel).to_contain_text(f"批次 #{batch_id}")
    expect(panel.locator(".batch-status")).to_have_text("计算中")
    bar = row.locator(".progress")
    admin.evaluate("window.__samePage = true")
    admin.wait_for_function("""id => { const p = document.querySelector('.progress[data-batch="' + id + '"]');
        const done = +p.dataset.done; return done > 0 && done < +p.dataset.total; }""", arg=str(batch_id),
                            timeout=60_000)
    expect(row.locator(".batch-status")).to_have_text("计算中")
    expect(row.locator("form[data-show-when=computing] button")).to_be_visible()  # cancel, not resume
    expect(row.locator("form[data-show-when=computing] button")).to_have_text("取消")
    expect(row.locator("form[data-show-when=cancelled]")).to_be_hidden()
    expect(bar.locator(".progress-rate")).to_contain_text("件/秒", timeout=30_000)
    expect(bar.locator(".progress-rate")).to_contain_text("预计剩余")


    expect(bar.locator(".progress-text")).to_contain_text("（100.0%）", timeout=120_000)
    expect(row.locator(".batch-status")).to_have_text("待审核")
    expect(row.locator("form[data-show-when=computing]")).to_be_hidden()
    assert bar.locator(".bar > span").evaluate("el => el.style.width") == "100%"
    assert admin.evaluate("window.__samePage") is True  # updated in place, not reloaded
    expect(row.locator(".batch-counts")).not_to_have_text("—")
    expect(panel.locator(".batch-status")).to_have_text("待审核", timeout=10_000)
    expect(panel.locator(".progress-text")).to_contain_text("（100.0%）")

    # Review: groups old → new; accept one group; the disagreement is listed apart.
    row.locator("text=查看").click()
    expect(admin.locator("h1")).to_have_text(f"重新分类批次 #{batch_id}")
    groups = admin.locator("section.group")
    assert groups.count() >= 1
    first = groups.first
    count = int(first.locator(".group-count").inner_text())
    assert count >= 1
    first.locator("button[data-action=accept-group]").click()
    first = admin.locator("section.group").first
    expect(first.locator(".group-accepted")).to_have_text(str(count))
    expect(first.locator("tr[data-decision=accepted]")).to_have_count(count)
    disagreements = admin.locator("#disagreements")
    expect(disagreements).to_contain_text(confirmed_title or "")
    expect(disagreements).to_contain_text("仅供核查，不会修改")
    expect(disagreements.locator("button")).to_have_count(0)
    admin.screenshot(path=str(SHOTS / "batch-review.png"), full_page=True)
    accepted_docs = [int(a.get_attribute("href").rsplit("/", 1)[1])
                     for a in first.locator("tr[data-decision=accepted] td:first-child a").all()]
    assert len(accepted_docs) == count and confirmed_id not in accepted_docs

    # Apply (confirmed in a dialog), then roll back: the suggestions come back exactly.
    admin.click("#apply button")
    expect(admin.locator("#outcome")).to_contain_text(f"更新建议分类 {count} 件")
    expect(admin.locator("#batch-status")).to_have_text("已应用")
    after = _suggestions(engine)
    for doc_id in accepted_docs:
        assert after[doc_id] != before[doc_id] and after[doc_id][1] != OLD_MODEL
    for doc_id in set(before) - set(accepted_docs):
        assert after[doc_id] == before[doc_id]
    admin.click("#rollback button")
    expect(admin.locator("#batch-status")).to_have_text("已回滚")
    expect(admin.locator("#outcome")).to_contain_text(f"恢复 {count} 件")
    restored = _suggestions(engine)
    assert {d: restored[d] for d in before} == before
    with Session(engine) as s:
        assert s.get(Document, confirmed_id).category == confirmed_category  # never touched
        approved = select(func.count()).select_from(Document).where(Document.status == "approved")
        assert s.execute(approved).scalar_one() == ARCHIVE + 1
    engine.dispose()
    assert not guard.foreign, guard.foreign


def _suggestions(engine) -> dict[int, tuple]:
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        return {r.id: (r.suggested_category, r.model_version, r.confidence, r.candidates, r.explanation,
                       r.needs_attention, r.status, r.category)
                for r in s.execute(select(Document.id, Document.suggested_category, Document.model_version,
                                          Document.confidence, Document.candidates, Document.explanation,
                                          Document.needs_attention, Document.status, Document.category))}
