"""Publishing: index numbers stay unique and gap-free when reviewers publish at the same moment."""
import threading

from sqlalchemy import func, select

from service import audit
from service.db import Department, Document, transaction
from service.review import publish


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

import pytest
from werkzeug.security import generate_password_hash

from conftest import unique_queue_name
from live_server import at_once, copy_of, serving, signed_in
from service import create_app
from service.db import AuditEntry, IndexCounter, User

PASSWORD = "correct horse 电池"


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
    assert rev.post(f"{base}/api/v1/documents/{third}/publish", timeout=60).json()["index_number"] == f"mzj-{year}-00003"
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
        answers = at_once([lambda: one.post(f"{base}/api/v1/documents/{doc}/review", json=first, timeout=60),
                           lambda: two.post(f"{base}/api/v1/documents/{doc}/review", json=second, timeout=60)])
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
    answers = at_once([lambda c=copy_of(rev): c.post(f"{base}/api/v1/documents/{pii}/acknowledge-pii",
                                                      json={"note": "已遮盖"}, timeout=60) for _ in range(4)])
    assert statuses(answers) == [200, 409, 409, 409]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"already_acknowledged"}
    assert len(history(sessions, pii, "privacy.acknowledge")) == 1

    doc = live["approved"][0]
    assert rev.post(f"{base}/api/v1/documents/{doc}/publish", timeout=60).status_code == 200
    answers = at_once([lambda c=copy_of(rev): c.post(f"{base}/api/v1/documents/{doc}/withdraw",
                                                      json={"reason": "内容有误"}, timeout=60) for _ in range(4)])
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
