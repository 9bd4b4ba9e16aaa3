import pytest
from sqlalchemy import select

from service import audit
from service.db import AuditEntry, Department, Document, transaction
from service.states import TRANSITIONS, InvalidTransition, transition


def new_document(sessions) -> int:
    with transaction(sessions) as s:
        dept = Department(code="mzj", name="县民政局")
        s.add(dept)
        s.flush()
        doc = Document(department_id=dept.id, filename="通知.pdf", sha256="a" * 64, size=10)
        s.add(doc)
        s.flush()
        return doc.id


HAPPY_PATH = ["processing", "pending_review", "approved", "published", "withdrawn", "published"]


def test_every_step_of_the_happy_path_is_audited_with_who_and_why(sessions):
    doc_id = new_document(sessions)
    for target in HAPPY_PATH:
        with transaction(sessions) as s:
            transition(s, s.get(Document, doc_id), target, actor="李四", reason=f"to {target}")
    with transaction(sessions) as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.document_id == doc_id)
                            .order_by(AuditEntry.seq)).scalars().all()
        assert [e.detail["to"] for e in entries] == HAPPY_PATH
        assert [e.detail["from"] for e in entries] == ["received", *HAPPY_PATH[:-1]]
        assert all(e.actor == "李四" and e.detail["reason"].startswith("to ") for e in entries)
        assert s.get(Document, doc_id).status == "published"
        assert audit.verify(s).ok


@pytest.mark.parametrize("path", [
    ["processing", "failed", "received", "processing", "pending_review", "rejected", "pending_review"],
    ["processing", "received", "processing", "pending_review", "processing", "pending_review",
     "approved", "pending_review", "approved", "published"],
])
def test_side_paths(sessions, path):
    doc_id = new_document(sessions)
    for target in path:
        with transaction(sessions) as s:
            transition(s, s.get(Document, doc_id), target, actor="system")
    with transaction(sessions) as s:
        assert s.get(Document, doc_id).status == path[-1]


ALL_STATES = sorted(TRANSITIONS)


@pytest.mark.parametrize("current", ALL_STATES)
def test_forbidden_transitions_are_refused_and_leave_no_trace(sessions, current):
    doc_id = new_document(sessions)
    with transaction(sessions) as s:
        s.get(Document, doc_id).status = current
    for target in ALL_STATES:
        if target in TRANSITIONS[current]:
            continue
        with pytest.raises(InvalidTransition) as info, transaction(sessions) as s:
            transition(s, s.get(Document, doc_id), target, actor="x")
        assert info.value.code == "invalid_transition"
    with transaction(sessions) as s:
        assert s.get(Document, doc_id).status == current
        assert audit.verify(s).entries == 0


def test_publishing_straight_from_review_is_refused(sessions):
    doc_id = new_document(sessions)
    with transaction(sessions) as s:
        transition(s, s.get(Document, doc_id), "processing", actor="system")
        transition(s, s.get(Document, doc_id), "pending_review", actor="system")
    with pytest.raises(InvalidTransition) as info, transaction(sessions) as s:
        transition(s, s.get(Document, doc_id), "published", actor="reviewer")
    assert "待审核" in info.value.message
