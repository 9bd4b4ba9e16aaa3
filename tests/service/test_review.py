"""Publishing: index numbers stay unique and gap-free when reviewers publish at the same moment."""
import threading
from datetime import UTC, datetime

import pytest
from web_client import PASSWORD, api_as
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from build_pdf import build_scanned_pdf
from live_server import at_once, copy_of, serving, signed_in
from service import audit, review, secrecy_review
from service.db import AuditEntry, Department, Document, IndexCounter, SecrecyReview, User, transaction
from service.processing import ingest
from service.receiving import receive
from service.review import publish
from service.web import create_app
from testenv import unique_queue_name


def approved_documents(sessions, n: int) -> list[int]:
    with transaction(sessions) as s:
        dept = Department(code="zfb", name="县政府办")
        s.add(dept)
        s.flush()
        docs = [Document(department_id=dept.id, filename=f"通知{i}.pdf", sha256=f"{i:064x}", size=10,
                         status="approved", category="工作动态") for i in range(n)]
        s.add_all(docs)
        s.flush()
        return [d.id for d in docs]


def test_concurrent_publishes_get_distinct_consecutive_index_numbers(sessions):
    ids = approved_documents(sessions, 8)
    start, errors = threading.Barrier(len(ids)), []

    def publish_one(doc_id: int) -> None:
        try:
            start.wait()
            with transaction(sessions) as s:
                publish(s, s.get(Document, doc_id, with_for_update=True), actor="审核员")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=publish_one, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with transaction(sessions, readonly=True) as s:
        numbers = sorted(s.execute(select(Document.index_number).where(Document.id.in_(ids))).scalars())
        assert s.execute(select(Document.status).where(Document.id.in_(ids))).scalars().all() == ["published"] * 8
        assert audit.verify(s).ok
    year = numbers[0].split("-")[1]
    assert numbers == [f"zfb-{year}-{k:05d}" for k in range(1, 9)]


# ---------------------------------------------------------------------------
# Through a real server: parallel requests on one document (a double click, two reviewers)
# ---------------------------------------------------------------------------



@pytest.fixture
def live(db_url, redis_url, tmp_path):
    """A real server on the test database, two reviewers and a department with documents in review."""
    app = create_app({"database_url": db_url, "redis_url": redis_url, "data_dir": str(tmp_path / "data"),
                      "secret_key": "test-secret", "queue_name": unique_queue_name()})
    sessions = app.extensions["gongkai"].sessions
    with transaction(sessions) as s:
        dept = Department(code="mzj", name="县民政局")
        s.add(dept)
        s.add_all([User(username=name, role="reviewer", password_hash=generate_password_hash(PASSWORD))
                   for name in ("rev1", "rev2")])
        s.flush()

        def add(status: str, n: int, **fields) -> list[int]:
            first = s.execute(select(func.count()).select_from(Document)).scalar_one()
            docs = [Document(department_id=dept.id, filename=f"{status}{i}.pdf", sha256=f"{first + i:064x}",
                             size=1, status=status, title=f"通知{i}", suggested_category="工作动态", confidence=0.95,
                             **fields) for i in range(n)]
            s.add_all(docs)
            s.flush()
            return [d.id for d in docs]

        world = {"pending": add("pending_review", 12), "approved": add("approved", 3, category="工作动态"),
                 "pii": add("pending_review", 1, findings=[{"kind": "mobile", "value": "138****5678",
                                                            "blocking": False, "location": "正文"}], )}
    with serving(app) as base:
        yield {"base": base, "sessions": sessions, **world}
    app.extensions["gongkai"].close()


def statuses(answers) -> list[int]:
    assert not [a for a in answers if isinstance(a, Exception)], answers
    return sorted(a.status_code for a in answers)


def history(sessions, document_id: int, action: str) -> list[dict]:
    with transaction(sessions, readonly=True) as s:
        return [e.detail for e in s.execute(select(AuditEntry).where(AuditEntry.document_id == document_id,
                                                                      AuditEntry.action == action)).scalars()]


def test_a_burst_of_publishes_of_one_document_gives_one_number_and_the_department_publishes_on(live):
    base, doc, other, third = live["base"], *live["approved"]
    rev = signed_in(base, "rev1", PASSWORD)
    clicks = [copy_of(rev) for _ in range(8)]
    answers = at_once([lambda c=c: c.post(f"{base}/api/v1/documents/{doc}/publish", timeout=60) for c in clicks])
    assert statuses(answers) == [200] + [409] * 7
    refused = next(a for a in answers if a.status_code == 409).json()["error"]
    assert refused["code"] == "invalid_transition" and refused["status"] == "published"
    assert "已发布" in refused["message"]
    year = localtime_year()
    assert [a.json()["index_number"] for a in answers if a.status_code == 200] == [f"mzj-{year}-00001"]
    assert len(history(live["sessions"], doc, "publish")) == 1
    assert [d["to"] for d in history(live["sessions"], doc, "status")] == ["published"]
    # the department's next publishes succeed, with the next numbers; a withdrawn number is never reused
    assert rev.post(f"{base}/api/v1/documents/{doc}/withdraw", json={"reason": "有误"}, timeout=60).status_code == 200
    nxt = rev.post(f"{base}/api/v1/documents/{other}/publish", timeout=60)
    assert nxt.status_code == 200 and nxt.json()["index_number"] == f"mzj-{year}-00002"
    again = rev.post(f"{base}/api/v1/documents/{doc}/publish", timeout=60)   # republished: keeps its number
    assert again.status_code == 200 and again.json()["index_number"] == f"mzj-{year}-00001"
    assert (rev.post(f"{base}/api/v1/documents/{third}/publish", timeout=60).json()["index_number"]
            == f"mzj-{year}-00003")
    with transaction(live["sessions"], readonly=True) as s:
        assert s.execute(select(IndexCounter.last_value)).scalar_one() == 3
        assert audit.verify(s).ok


def localtime_year() -> int:
    from service import localtime

    return localtime.now().year


@pytest.mark.parametrize("first, second", [
    ({"action": "confirm"}, {"action": "reject", "reason": "不属于公开范围"}),
    ({"action": "correct", "category": "人事任免"}, {"action": "correct", "category": "规划计划"}),
])
def test_two_reviewers_deciding_one_document_at_once_one_wins_and_the_other_is_told(live, first, second):
    base, sessions = live["base"], live["sessions"]
    one, two = signed_in(base, "rev1", PASSWORD), signed_in(base, "rev2", PASSWORD)
    for doc in live["pending"][:5]:      # several rounds: the race has to be won by the code, not by luck
        answers = at_once([lambda doc=doc: one.post(f"{base}/api/v1/documents/{doc}/review", json=first, timeout=60),
                           lambda doc=doc: two.post(f"{base}/api/v1/documents/{doc}/review", json=second, timeout=60)])
        assert statuses(answers) == [200, 409]
        winner = next(a for a in answers if a.status_code == 200).json()
        loser = next(a for a in answers if a.status_code == 409).json()["error"]
        assert loser["status"] == winner["status"] in ("approved", "rejected")
        transitions = history(sessions, doc, "status")
        assert [(d["from"], d["to"]) for d in transitions] == [("pending_review", winner["status"])]
        with transaction(sessions, readonly=True) as s:
            stored = s.get(Document, doc)
            assert stored.status == winner["status"]
            assert (stored.category is None) == (stored.status == "rejected")   # never rejected with a category


def test_a_double_click_on_acknowledge_or_withdraw_records_it_once(live):
    base, sessions, (pii,) = live["base"], live["sessions"], live["pii"]
    rev = signed_in(base, "rev1", PASSWORD)
    clients = [copy_of(rev) for _ in range(4)]   # one session copy per click
    answers = at_once([lambda c=c: c.post(f"{base}/api/v1/documents/{pii}/acknowledge-pii",
                                          json={"note": "已遮盖"}, timeout=60) for c in clients])
    assert statuses(answers) == [200, 409, 409, 409]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"already_acknowledged"}
    assert len(history(sessions, pii, "privacy.acknowledge")) == 1

    doc = live["approved"][0]
    assert rev.post(f"{base}/api/v1/documents/{doc}/publish", timeout=60).status_code == 200
    clients = [copy_of(rev) for _ in range(4)]
    answers = at_once([lambda c=c: c.post(f"{base}/api/v1/documents/{doc}/withdraw",
                                          json={"reason": "内容有误"}, timeout=60) for c in clients])
    assert statuses(answers) == [200, 409, 409, 409]
    assert [d["to"] for d in history(sessions, doc, "status")] == ["published", "withdrawn"]


def test_acknowledging_is_for_documents_under_review(live):
    base, doc = live["base"], live["approved"][0]
    rev = signed_in(base, "rev1", PASSWORD)
    assert rev.post(f"{base}/api/v1/documents/{doc}/publish", timeout=60).status_code == 200
    refused = rev.post(f"{base}/api/v1/documents/{doc}/acknowledge-pii", json={}, timeout=60)
    assert refused.status_code == 409 and refused.json()["error"]["status"] == "published"


def test_a_number_someone_already_holds_is_skipped_and_gaps_do_not_repeat_numbers(sessions):
    """Numbers were count + 1: after a gap (a number given by hand) the next one repeated."""
    ids = approved_documents(sessions, 3)
    year = localtime_year()
    with transaction(sessions) as s:
        s.get(Document, ids[0]).index_number = f"zfb-{year}-00002"   # e.g. brought in with the archive
        s.get(Document, ids[0]).status = "published"
    for doc_id in ids[1:]:
        with transaction(sessions) as s:
            publish(s, s.get(Document, doc_id), actor="审核员")
    with transaction(sessions, readonly=True) as s:
        assert sorted(s.execute(select(Document.index_number)).scalars()) == [
            f"zfb-{year}-00001", f"zfb-{year}-00002", f"zfb-{year}-00003"]


def test_a_stale_read_cannot_move_a_document_that_moved_meanwhile(sessions):
    """The compare-and-set in the state machine, without any lock taken by the caller."""
    from service.review import reject
    from service.states import InvalidTransition

    (doc_id,) = approved_documents(sessions, 1)
    with transaction(sessions) as s:
        s.get(Document, doc_id).status = "pending_review"
    with transaction(sessions, readonly=True) as s:
        stale = s.get(Document, doc_id)                  # read while pending_review, then left
    with transaction(sessions) as s:
        reject(s, s.get(Document, doc_id), "审核员甲", "重复")
    with transaction(sessions) as s:
        doc = s.merge(stale, load=False)                 # acted on as it was read
        assert doc.status == "pending_review"
        with pytest.raises(InvalidTransition) as refused:
            reject(s, doc, "审核员乙", "不公开")
        assert refused.value.status == "rejected"
    with transaction(sessions, readonly=True) as s:
        assert s.get(Document, doc_id).reviewed_by == "审核员甲"


# ---------------------------------------------------------------------------
# 保密审查 and the scan gate (issue #21 items 1 and 4)
# ---------------------------------------------------------------------------


@pytest.fixture
def scans(db_url, redis_url, tmp_path):
    """An app on the test database, two reviewers and an admin, and two ingested scans: a notice
    marked 秘密★1年 scanned as images only (2 pages), and a 3-page file whose pages 2–3 are scans."""
    app = create_app({"database_url": db_url, "redis_url": redis_url, "data_dir": str(tmp_path / "data"),
                      "secret_key": "test-secret", "queue_name": unique_queue_name()})
    rt = app.extensions["gongkai"]
    with transaction(rt.sessions) as s:
        dept = Department(code="bmj", name="县保密局")
        s.add(dept)
        s.add_all([User(username=name, role=role, password_hash=generate_password_hash(PASSWORD))
                   for name, role in (("rev1", "reviewer"), ("rev2", "reviewer"), ("adm", "admin"))])
        s.flush()
        dept_id = dept.id
    ids = {}
    for name, path in (("secret", build_scanned_pdf(tmp_path / "秘密通知.pdf", 2)),
                       ("partial", build_scanned_pdf(tmp_path / "部分扫描.pdf", 3, text_pages={
                           1: ["关于做好全县防汛工作的通知", "各乡镇人民政府：请按要求做好防汛准备。"]}))):
        with open(path, "rb") as fh:
            ids[name] = receive(rt.sessions, rt.storage, department_id=dept_id, filename=path.name, stream=fh,
                                uploaded_by="上传员").document_id
        assert ingest(rt, ids[name]) == "pending_review"
    yield {"app": app, "rt": rt, **ids}
    rt.close()



def test_a_scanned_secret_notice_is_published_by_no_path_until_a_cleared_review_read_its_pages(scans):
    app, rt, doc = scans["app"], scans["rt"], scans["secret"]
    rev1, rev2, adm = api_as(app, "rev1"), api_as(app, "rev2"), api_as(app, "adm")
    stored = rev1.get(f"/api/v1/documents/{doc}").get_json()
    assert stored["findings"] == [] and not stored["secrecy_blocked"]          # the mark is pixels: nothing found
    assert stored["warnings"][0]["code"] == "no_text_layer" and stored["warnings"][0]["pages"] == [1, 2]
    assert rev1.post(f"/api/v1/documents/{doc}/review",
                     json={"action": "correct", "category": "工作动态"}).status_code == 200

    # The API, for anyone: a recorded 保密审查 that read pages 1 and 2 is missing.
    for client in (rev1, adm):
        refused = client.post(f"/api/v1/documents/{doc}/publish")
        assert refused.status_code == 409
        error = refused.get_json()["error"]
        assert error["code"] == "secrecy_review_required"
        assert "第 1、2 页无法识别文字，须由审查人逐页阅读原件并记录保密审查后才能发布。" in error["message"]
    # The manifest import's path: the automatic checks did not clear it, so it never publishes.
    with pytest.raises(review.SecrecyReviewRequired), transaction(rt.sessions) as s:
        review.publish(s, review.load_for_change(s, doc), "import:manifest", automatic_only=True)

    # Clearing without having read every page is refused; a reviewer who read them and saw the mark refuses.
    half = rev1.post(f"/api/v1/documents/{doc}/secrecy-review", json={"result": "cleared", "pages_read": [1]})
    assert half.status_code == 422 and half.get_json()["error"]["code"] == "pages_not_read"
    assert "第 2 页" in half.get_json()["error"]["message"]
    bad_page = rev1.post(f"/api/v1/documents/{doc}/secrecy-review", json={"result": "cleared", "pages_read": [1, 2, 9]})
    assert bad_page.status_code == 422
    refusal = rev1.post(f"/api/v1/documents/{doc}/secrecy-review", json={
        "result": "not_cleared", "pages_read": [1, 2], "note": "第 1 页右上角标有“秘密★1年”"})
    assert refusal.status_code == 200
    blocked = rev2.post(f"/api/v1/documents/{doc}/publish")
    assert blocked.status_code == 409 and blocked.get_json()["error"]["code"] == "secrecy_review_required"
    assert "不予通过" in blocked.get_json()["error"]["message"]

    # Declassified (解密) later: a cleared review that read both pages; then someone else publishes.
    cleared = rev1.post(f"/api/v1/documents/{doc}/secrecy-review", json={
        "result": "cleared", "pages_read": [2, 1], "note": "经核实已于 2026 年 3 月解密"})
    assert cleared.status_code == 200
    same = rev1.post(f"/api/v1/documents/{doc}/publish")
    assert same.status_code == 409 and same.get_json()["error"]["code"] == "two_person_required"
    assert "rev1" in same.get_json()["error"]["message"] and "另一名" in same.get_json()["error"]["message"]
    published = rev2.post(f"/api/v1/documents/{doc}/publish")
    assert published.status_code == 200, published.get_json()
    body = published.get_json()
    assert body["status"] == "published" and body["index_number"]
    twice = rev2.post(f"/api/v1/documents/{doc}/publish")     # a second click: already published, not "no review"
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "invalid_transition"
    assert twice.get_json()["error"]["status"] == "published"

    # The record: the document's JSON, its history page and the audit log.
    reviews = body["secrecy_reviews"]
    assert [(r["reviewer"], r["result"], r["pages_read"], r["automatic"]) for r in reviews] == [
        ("rev1", "not_cleared", [1, 2], False), ("rev1", "cleared", [1, 2], False)]
    assert reviews[0]["used_for_publish_at"] is None and reviews[1]["used_for_publish_at"]
    assert [p["page"] for p in reviews[1]["basis"]["pages"]] == [1, 2]
    html = adm.get(f"/documents/{doc}").get_data(as_text=True)
    assert html.count("<b>保密审查</b>") == 2 and "不予通过" in html and "审查通过" in html
    assert "已逐页阅读原件第 1、2 页" in html and "经核实已于 2026 年 3 月解密" in html
    entries = adm.get(f"/api/v1/audit?kind=secrecy&document={doc}").get_json()["entries"]
    assert [(e["action"], e["action_zh"], e["detail"]["result"]) for e in entries] == [
        ("secrecy.review", "保密审查", "cleared"), ("secrecy.review", "保密审查", "not_cleared")]
    publish_entry = adm.get(f"/api/v1/audit?kind=publish&document={doc}").get_json()["entries"][0]
    assert publish_entry["actor"] == "rev2" and publish_entry["detail"]["secrecy_review"] == reviews[1]["id"]
    with transaction(rt.sessions, readonly=True) as s:
        assert audit.verify(s).ok


def test_a_partly_scanned_file_needs_the_scanned_pages_read_and_the_review_page_lists_them(scans):
    app, doc = scans["app"], scans["partial"]
    rev1, rev2 = api_as(app, "rev1"), api_as(app, "rev2")
    page = rev1.get(f"/review/{doc}").get_data(as_text=True)
    assert '<li data-code="partial_text_layer">部分页面没有可提取的文字（可能是扫描页）：第 2、3 页。</li>' in page
    assert 'id="secrecy-review"' in page and "审查通过" in page and "不予通过" in page
    assert "已逐页阅读原件第 2 页" in page and "已逐页阅读原件第 3 页" in page
    assert "已逐页阅读原件第 1 页" not in page                 # page 1 was read by the machine
    assert "partial_text_layer）" not in page and "secrecy_review" not in page   # no internal codes shown
    rev1.post(f"/api/v1/documents/{doc}/review", json={"action": "correct", "category": "工作动态"})
    refused = rev1.post(f"/api/v1/documents/{doc}/publish").get_json()["error"]
    assert refused["code"] == "secrecy_review_required" and "第 2、3 页" in refused["message"]
    assert rev1.post(f"/api/v1/documents/{doc}/secrecy-review",
                     json={"result": "cleared", "pages_read": [2, 3], "note": ""}).status_code == 200
    page = rev1.get(f"/review/{doc}").get_data(as_text=True)
    assert "审查通过" in page and "已逐页阅读原件第 2、3 页" in page
    assert rev2.post(f"/api/v1/documents/{doc}/publish").status_code == 200


def test_an_ordinary_publish_records_the_review_itself(sessions):
    (doc_id,) = approved_documents(sessions, 1)
    with transaction(sessions) as s:
        review.publish(s, review.load_for_change(s, doc_id), "审核员")
    with transaction(sessions, readonly=True) as s:
        (row,) = secrecy_review.reviews_of(s, doc_id)
        assert (row.reviewer, row.result, row.automatic, row.pages_read) == ("审核员", "cleared", True, [])
        assert row.note == "自动检查未发现密级标志和个人信息，全部页面已读取"
        assert row.used_for_publish_at is not None
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "secrecy.review")).scalar_one()
        assert entry.actor == "审核员" and entry.detail["automatic"] is True and entry.document_id == doc_id
        assert audit.verify(s).ok


def test_stored_documents_without_pages_count_every_page_and_a_refusal_blocks_until_a_later_clearance(sessions):
    (doc_id,) = approved_documents(sessions, 1)
    with transaction(sessions) as s:
        doc = s.get(Document, doc_id)
        doc.pages = 3
        doc.warnings = [{"code": "garbled_text_layer", "message": "提取出的文字疑似乱码"}]   # stored before pages
    assert secrecy_review.pages_needing_reading([{"code": "no_text_layer"}], 2) == {1: ["no_text_layer"],
                                                                                  2: ["no_text_layer"]}
    assert secrecy_review.pages_needing_reading([{"code": "partial_text_layer", "pages": [3]},
                                                 {"code": "ocr_incomplete", "pages": [3, 4]}], 4) == {
        3: ["partial_text_layer", "ocr_incomplete"], 4: ["ocr_incomplete"]}
    assert secrecy_review.pages_needing_reading([{"code": "hidden_text_present", "pages": []}], 2) == {}
    from service.parsers import warning      # the old call, pages as message text, still works: every page
    old_style = warning("partial_text_layer", pages="第 2 页")
    assert old_style.message.endswith("第 2 页。") and old_style.pages == ()
    assert list(secrecy_review.pages_needing_reading([{"code": old_style.code, "pages": []}], 2)) == [1, 2]
    with transaction(sessions) as s:
        doc = review.load_for_change(s, doc_id)
        with pytest.raises(secrecy_review.PagesNotRead):
            secrecy_review.record(s, doc, "甲", "cleared", [1, 2])
        secrecy_review.record(s, doc, "甲", "cleared", [1, 2, 3])
        secrecy_review.record(s, doc, "乙", "not_cleared", [1], "第 2 页需进一步核实")
    with pytest.raises(review.SecrecyReviewRequired), transaction(sessions) as s:
        review.publish(s, review.load_for_change(s, doc_id), "丙")
    with transaction(sessions) as s:
        secrecy_review.record(s, review.load_for_change(s, doc_id), "乙", "cleared", [1, 2, 3], "已核实")
    with transaction(sessions) as s:     # without the two-person rule the reviewer may publish it too
        review.publish(s, review.load_for_change(s, doc_id), "乙", two_person=False)
        assert s.get(Document, doc_id).status == "published"


def test_two_reviews_at_once_are_both_recorded_and_publish_sees_one_state(live):
    base, sessions = live["base"], live["sessions"]
    rev1, rev2 = signed_in(base, "rev1", PASSWORD), signed_in(base, "rev2", PASSWORD)
    with transaction(sessions) as s:
        dept_id = s.execute(select(Department.id)).scalar_one()
        docs = [Document(department_id=dept_id, filename=f"含个人信息{i}.pdf", sha256=f"{900 + i:064x}", size=1,
                         status="approved", title=f"名单{i}", category="工作动态", pages=1,
                         findings=[{"kind": "mobile", "value": "138****5678", "blocking": False, "location": "正文"}],
                         pii_acknowledged_by="rev1", pii_acknowledged_at=datetime.now(UTC)) for i in range(4)]
        s.add_all(docs)
        s.flush()
        ids = [d.id for d in docs]
    url = f"{base}/api/v1/documents/{{}}/secrecy-review"
    # Two reviewers record a review of one document at the same moment: both are kept, in one order.
    answers = at_once([lambda: rev1.post(url.format(ids[0]), json={"result": "cleared", "note": "已遮盖"}, timeout=60),
                       lambda: rev2.post(url.format(ids[0]), json={"result": "not_cleared", "note": "未遮盖"},
                                         timeout=60)])
    assert statuses(answers) == [200, 200]
    with transaction(sessions, readonly=True) as s:
        rows = secrecy_review.reviews_of(s, ids[0])
        assert sorted(r.reviewer for r in rows) == ["rev1", "rev2"]
        latest = rows[-1]
    outcome = (rev2 if latest.reviewer == "rev1" else rev1).post(f"{base}/api/v1/documents/{ids[0]}/publish",
                                                                 timeout=60)
    # publish decides on the latest: published exactly when that one cleared it
    assert outcome.status_code == (200 if latest.result == "cleared" else 409)
    # A refusal racing a publish: either the publish used the clearance and the refusal comes too late,
    # or the refusal is in first and the publish is refused — never a publication past a refusal.
    for doc in ids[1:]:
        assert rev1.post(url.format(doc), json={"result": "cleared", "note": "已核对"}, timeout=60).status_code == 200
        answers = at_once([lambda d=doc: rev2.post(f"{base}/api/v1/documents/{d}/publish", timeout=60),
                           lambda d=doc: rev1.post(url.format(d), json={"result": "not_cleared", "note": "发现遗漏"},
                                                   timeout=60)])
        published, refused = answers
        assert sorted([published.status_code, refused.status_code]) == [200, 409], (published.text, refused.text)
        with transaction(sessions, readonly=True) as s:
            stored = s.get(Document, doc)
            rows = secrecy_review.reviews_of(s, doc)
            if published.status_code == 200:
                assert stored.status == "published" and [r.result for r in rows] == ["cleared"]
                assert refused.json()["error"]["status"] == "published"
            else:
                assert stored.status == "approved" and [r.result for r in rows] == ["cleared", "not_cleared"]
                assert published.json()["error"]["code"] == "secrecy_review_required"
                assert all(r.used_for_publish_at is None for r in rows)
    with transaction(sessions, readonly=True) as s:
        assert audit.verify(s).ok
        assert s.execute(select(func.count()).select_from(SecrecyReview)
                         .where(SecrecyReview.document_id.in_(ids))).scalar_one() >= 2 + 3
