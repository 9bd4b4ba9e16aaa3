"""Publishing: index numbers stay unique and gap-free when reviewers publish at the same moment."""
import threading

from sqlalchemy import select

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
