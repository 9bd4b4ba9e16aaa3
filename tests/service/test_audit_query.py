"""Reading the audit log: filters, keyset pages, Beijing days, Chinese names, CSV rows; SQLite and PostgreSQL."""
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from service import audit, audit_query as auditlog, localtime
from service.db import AuditEntry, transaction


@pytest.fixture
def logged(sessions):
    """Ten entries: logins, a user change, a document's life, a token."""
    with transaction(sessions) as s:
        audit.append(s, "adm", "login", ip="10.0.0.1")
        audit.append(s, "mallory", "login.failed", ip="10.0.0.66")
        audit.append(s, "mallory", "login.failed", ip="10.0.0.66")
        audit.append(s, "system", "user.lock", username="mallory", minutes=15)
        audit.append(s, "adm", "user.create", username="up_a", role="uploader", department="a")
        audit.append(s, "up_a", "document.received", document_id=7, filename="通知.docx")
        audit.append(s, "gongkai-worker", "status", document_id=7, **{"from": "received", "to": "processing"})
        audit.append(s, "rev", "review.confirm", document_id=7, category="工作动态")
        audit.append(s, "rev", "publish", document_id=7, index_number="a-2026-00001", category="工作动态")
        audit.append(s, "adm", "token.create", department="a", label="协同办公", token_id=1)
    return sessions


def read(sessions, **args):
    with transaction(sessions, readonly=True) as s:
        return auditlog.page(s, auditlog.parse({k: str(v) for k, v in args.items()}))


def test_filters_by_actor_kind_and_document_newest_first(logged):
    entries, more = read(logged)
    assert [e["seq"] for e in entries] == list(range(10, 0, -1)) and more is None
    assert [e["action"] for e in read(logged, actor="mallory")[0]] == ["login.failed", "login.failed"]
    # a kind is the action itself and every "<kind>.<…>"; one action is only itself
    assert [e["action"] for e in read(logged, kind="login")[0]] == ["login.failed", "login.failed", "login"]
    assert [e["seq"] for e in read(logged, kind="login.failed")[0]] == [3, 2]
    assert [e["action"] for e in read(logged, kind="user")[0]] == ["user.create", "user.lock"]
    assert [e["action"] for e in read(logged, document=7)[0]] == ["publish", "review.confirm", "status",
                                                                   "document.received"]
    assert read(logged, actor="rev", kind="publish")[0][0]["detail"]["index_number"] == "a-2026-00001"
    assert read(logged, kind="log")[0] == []          # not a prefix match on letters


def test_entries_read_in_chinese_and_beijing_time(logged):
    newest = read(logged)[0][0]
    assert newest["action_zh"] == "新建接口令牌" and newest["actor"] == "adm"
    assert newest["at"].endswith("+08:00") and len(newest["hash"]) == 64
    assert auditlog.detail_text(newest["detail"]) == "department=a · label=协同办公 · token_id=1"
    assert auditlog.action_name("something.new") == "something.new"      # an unknown action reads as itself


def test_pages_chain_through_every_entry_once(logged):
    seen, before = [], None
    while True:
        entries, before = read(logged, limit=3, **({"before": before} if before else {}))
        seen += [e["seq"] for e in entries]
        if before is None:
            break
    assert seen == list(range(10, 0, -1))
    with transaction(logged, readonly=True) as s:
        assert [e["seq"] for e in auditlog.every(s, auditlog.parse({"kind": "login"}), batch=2)] == [3, 2, 1]
        assert len(list(auditlog.every(s, auditlog.AuditQuery(), batch=4))) == 10


def test_days_are_beijing_days(logged):
    today = localtime.now().date()
    assert len(read(logged, since=today.isoformat())[0]) == 10
    with transaction(logged) as s:   # moved to 00:30 on 1 January 2026, Beijing time
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1)
                  .values(at=datetime(2025, 12, 31, 16, 30, tzinfo=UTC)))
    assert [e["seq"] for e in read(logged, since="2026-01-01", until="2026-01-01")[0]] == [1]
    assert read(logged, until="2025-12-31")[0] == []
    assert read(logged, since="2026-01-01", until="2026-01-01")[0][0]["at"] == "2026-01-01T00:30:00+08:00"


@pytest.mark.parametrize("args, message", [
    ({"since": "2026-13-01"}, "起始日期应为 YYYY-MM-DD"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "起始日期晚于截止日期"),
    ({"document": "七"}, "文件编号应为正整数"),
    ({"before": "0"}, "翻页位置应为正整数"),
])
def test_bad_filters_say_what_is_wrong(args, message):
    with pytest.raises(auditlog.AuditQueryError) as caught:
        auditlog.parse(args)
    assert caught.value.message_zh_text == f"查询条件有误：{message}" and caught.value.http_status == 422


def test_limit_is_capped_and_filters_round_trip():
    q = auditlog.parse({"limit": "100000", "actor": " rev ", "kind": "review", "document": "7", "since": "2026-01-01"})
    assert q.limit == auditlog.MAX_PAGE_SIZE
    assert q.filters() == {"actor": "rev", "kind": "review", "document": "7", "since": "2026-01-01"}
    assert auditlog.parse(q.filters()) == auditlog.AuditQuery(actor="rev", kind="review", document_id=7,
                                                              since=date(2026, 1, 1))


def test_csv_row_and_verify_problems_in_chinese(logged):
    newest = read(logged)[0][0]
    row = auditlog.csv_row(newest)
    assert len(row) == len(auditlog.CSV_HEADER)
    assert row[:5] == ["10", localtime.display(newest["at"], seconds=True), "adm", "新建接口令牌", "token.create"]
    with transaction(logged) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(actor="someone-else"))
    with transaction(logged, readonly=True) as s:
        result = audit.verify(s)
    assert not result.ok and auditlog.problem_zh(result.problem) == "记录内容与其哈希不符（被改动过）"
    assert auditlog.problem_zh("entry 5 is missing") == "这一条记录缺失"
