import threading

from sqlalchemy import text, update

from service import audit
from service.db import AuditEntry, transaction


def test_entries_chain_and_verify(sessions):
    with transaction(sessions) as s:
        first = audit.append(s, "admin", "department.create", code="xzf", name="XX乡人民政府")
        second = audit.append(s, "张三", "status", document_id=7, **{"from": "received", "to": "processing"})
    assert first.prev_hash == audit.GENESIS and second.prev_hash == first.hash
    with transaction(sessions) as s:
        result = audit.verify(s)
    assert result.ok and result.entries == 2


def test_tampering_with_an_entry_is_detected(sessions):
    with transaction(sessions) as s:
        for i in range(5):
            audit.append(s, "reviewer", "review.confirm", document_id=i, category="工作动态")
    with transaction(sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone-else"))
    with transaction(sessions) as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_seq == 3


def test_deleting_an_entry_is_detected(sessions):
    with transaction(sessions) as s:
        for i in range(4):
            audit.append(s, "admin", "noop", n=i)
    with transaction(sessions) as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with transaction(sessions) as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_seq == 3


def test_deleting_the_newest_entries_is_detected(sessions):
    with transaction(sessions) as s:
        for i in range(3):
            audit.append(s, "admin", "noop", n=i)
    with transaction(sessions) as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    with transaction(sessions) as s:
        assert not audit.verify(s).ok


def test_a_rolled_back_change_leaves_no_entry(sessions):
    try:
        with transaction(sessions) as s:
            audit.append(s, "admin", "noop")
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    with transaction(sessions) as s:
        assert audit.verify(s).entries == 0


def test_concurrent_writers_never_fork_the_chain(sessions):
    errors = []

    def writer(n):
        try:
            for i in range(10):
                with transaction(sessions) as s:
                    audit.append(s, f"worker-{n}", "noop", i=i)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(sessions) as s:
        result = audit.verify(s)
    assert result.ok and result.entries == 40


def test_a_changed_kind_is_detected_though_it_is_not_hashed(sessions):
    """The kind decides what the 操作日志 page's kind filter shows: hiding an entry from it is tampering."""
    with transaction(sessions) as s:
        audit.append(s, "adm", "user.password_reset", username="rev")
        audit.append(s, "adm", "login")
    with transaction(sessions) as s:
        assert [k for (k,) in s.execute(text("SELECT kind FROM audit_log ORDER BY seq"))] == ["user", "login"]
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(kind="login"))
    with transaction(sessions) as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_seq == 1 and "kind" in result.problem
