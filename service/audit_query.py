"""Reading the audit log: who did what, when — filtered, paged, named in Chinese, exported.

``service.audit`` writes the hash-chained log; this module is how an admin (or a 等保
assessor) reads it: by actor, by kind of action, by document, by Beijing day, newest first,
a page at a time (keyset paging on ``seq``, so a page stays cheap however long the log is),
and all of a filtered selection as CSV rows. Nothing here writes.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit import kind_of
from service.db import AuditEntry
from service.errors import GongkaiError
from service.localtime import beijing, day_end, day_start, display
from service.receiving import without_bidi
from service.values import INT32_MAX, INT64_MAX, parse_day

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# Kinds of action an admin filters by: the action itself or any "<kind>.<something>".
KINDS_ZH = {
    "login": "登录", "user": "账号", "department": "部门", "token": "接口令牌",
    "document": "收件", "status": "状态变更", "review": "审核", "privacy": "个人信息", "secrecy": "保密审查",
    "publish": "发布", "import": "档案导入", "reclassify": "批量重新分类", "model": "模型", "report": "年度报告",
}

ACTION_NAMES_ZH = {
    "login": "登录", "login.failed": "登录失败", "login.locked": "登录被拒（已锁定）", "login.logout": "退出登录",
    "user.create": "新建账号", "user.lock": "账号锁定", "user.password_change": "修改本人密码",
    "user.password_reset": "重设密码", "user.activate": "启用账号", "user.deactivate": "停用账号",
    "department.create": "新建部门", "token.create": "新建接口令牌", "token.revoke": "吊销接口令牌",
    "document.received": "收到文件", "status": "状态变更",
    "review.confirm": "确认分类", "review.correct": "更正分类", "review.fields": "修改公文要素",
    "review.disclosure": "设置公开属性", "review.validity": "设置有效性",
    "privacy.acknowledge": "确认遮盖个人信息", "privacy.masks": "修改遮盖", "secrecy.review": "保密审查",
    "publish": "发布",
    "import.manifest": "档案导入清单", "import.manifest_applied": "应用导入清单",
    "reclassify.create": "新建重分类批次", "reclassify.ready": "重分类计算完成",
    "reclassify.cancel": "取消重分类批次", "reclassify.resume": "继续重分类批次",
    "reclassify.decide": "处理重分类建议", "reclassify.apply": "应用重分类（单件）",
    "reclassify.applied": "应用重分类批次", "reclassify.rollback": "撤销重分类（单件）",
    "reclassify.rolled_back": "撤销重分类批次",
    "model.activate": "启用模型", "model.rollback": "回滚模型", "model.retrained": "重新训练模型",
    "report.saved": "保存年度报告数据", "report.finalized": "年度报告定稿", "report.reopened": "重新打开年度报告",
}

# How verify's problems read to a person.
PROBLEMS_ZH = {
    "missing": "这一条记录缺失",
    "previous-hash link broken": "与上一条记录的链接被破坏",
    "entry content does not match its hash": "记录内容与其哈希不符（被改动过）",
    "entries after the last one were removed": "末尾的记录被删除",
    "entry kind does not match its action": "记录的操作类别与操作不符（被改动过）",
}

CSV_HEADER = ["序号", "时间（北京时间）", "操作人", "操作", "操作代码", "文件编号", "详情", "哈希"]


class AuditQueryError(GongkaiError):
    code = "bad_request"
    http_status = 422
    message_zh = "查询条件有误：{what}"
    message_en = "Invalid audit log query: {what}"


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    kind: str | None = None               # an action ("login.failed") or a kind ("user": user.*)
    document_id: int | None = None
    since: date | None = None             # Beijing days, inclusive
    until: date | None = None
    before: int | None = None             # entries with seq below this (the next page)
    limit: int = PAGE_SIZE

    def filters(self) -> dict[str, str]:
        """The filters as query parameters (for links to the next page and the export)."""
        out = {"actor": self.actor, "kind": self.kind, "document": self.document_id,
               "since": self.since.isoformat() if self.since else None,
               "until": self.until.isoformat() if self.until else None}
        return {k: str(v) for k, v in out.items() if v not in (None, "")}


def _day(args: Mapping[str, str], name: str, label: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError:
        raise AuditQueryError(what=f"{label}应为 YYYY-MM-DD") from None


def _number(args: Mapping[str, str], name: str, label: str, maximum: int = INT32_MAX) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise AuditQueryError(what=f"{label}应为正整数") from None
    if value < 1:
        raise AuditQueryError(what=f"{label}应为正整数")
    if value > maximum:
        raise AuditQueryError(what=f"{label}超出范围（最大 {maximum}）")
    return value


def parse(args: Mapping[str, str]) -> AuditQuery:
    """The query a page's or the API's parameters ask for; AuditQueryError says what is wrong."""
    since, until = _day(args, "since", "起始日期"), _day(args, "until", "截止日期")
    if since and until and since > until:
        raise AuditQueryError(what="起始日期晚于截止日期")
    limit = _number(args, "limit", "每页条数", INT64_MAX) or PAGE_SIZE
    return AuditQuery(actor=(args.get("actor") or "").strip() or None,
                      kind=(args.get("kind") or "").strip() or None,
                      document_id=_number(args, "document", "文件编号"),
                      since=since, until=until, before=_number(args, "before", "翻页位置", INT64_MAX),
                      limit=min(limit, MAX_PAGE_SIZE))


def _statement(q: AuditQuery):
    stmt = select(AuditEntry)
    if q.actor:
        stmt = stmt.where(AuditEntry.actor == q.actor)
    if q.kind:   # "user" is every user.* (and a bare "user"); "user.create" is that action only
        stmt = stmt.where(AuditEntry.kind == kind_of(q.kind))
        if "." in q.kind:
            stmt = stmt.where(AuditEntry.action == q.kind)
    if q.document_id:
        stmt = stmt.where(AuditEntry.document_id == q.document_id)
    if q.since:
        stmt = stmt.where(AuditEntry.at >= day_start(q.since))
    if q.until:
        stmt = stmt.where(AuditEntry.at < day_end(q.until))
    return stmt.order_by(AuditEntry.seq.desc())


def page(session: Session, q: AuditQuery) -> tuple[list[dict[str, Any]], int | None]:
    """One page of matching entries, newest first, and the ``before`` of the next page (None at the end)."""
    stmt = _statement(q)
    if q.before:
        stmt = stmt.where(AuditEntry.seq < q.before)
    rows = session.execute(stmt.limit(q.limit + 1)).scalars().all()
    entries = [to_dict(e) for e in rows[:q.limit]]
    return entries, (entries[-1]["seq"] if len(rows) > q.limit else None)


def every(session: Session, q: AuditQuery, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """All matching entries, newest first, read ``batch`` at a time (for the export)."""
    before = q.before
    while True:
        stmt = _statement(q)
        if before:
            stmt = stmt.where(AuditEntry.seq < before)
        rows = session.execute(stmt.limit(batch)).scalars().all()
        for e in rows:
            yield to_dict(e)
        if len(rows) < batch:
            return
        before = rows[-1].seq
        session.expunge_all()   # a long export must not keep every entry in the identity map


def action_name(action: str) -> str:
    return ACTION_NAMES_ZH.get(action, action)


def to_dict(e: AuditEntry) -> dict[str, Any]:
    return {"seq": e.seq, "at": beijing(e.at).isoformat(timespec="seconds"), "actor": e.actor,
            "action": e.action, "action_zh": action_name(e.action), "document_id": e.document_id,
            "detail": e.detail or {}, "hash": e.hash}


def detail_text(detail: Mapping[str, Any]) -> str:
    """A detail dict on one line: 'to=approved · category=工作动态'."""
    def value(v: Any) -> str:
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
    # a file name received before intake removed bidi characters must not reorder the line
    return without_bidi(" · ".join(f"{k}={value(v)}" for k, v in detail.items()))


def csv_table(session: Session, q: AuditQuery) -> Iterator[list[str]]:
    """``CSV_HEADER``, then every matching entry as a row (for ``service.spreadsheet`` to write)."""
    yield CSV_HEADER
    for entry in every(session, q):
        yield csv_row(entry)


def csv_row(entry: Mapping[str, Any]) -> list[str]:
    """One entry as a row under ``CSV_HEADER`` (``service.spreadsheet`` writes it safely)."""
    return [str(entry["seq"]), display(entry["at"], seconds=True), entry["actor"], entry["action_zh"],
            entry["action"], str(entry["document_id"] or ""), detail_text(entry["detail"]), entry["hash"]]


def problem_zh(problem: str) -> str:
    for key, text in PROBLEMS_ZH.items():
        if key in problem:
            return text
    return problem
