"""Admin pages for batch reclassification (``service/reclassify.py``): list, create, review, apply.

- ``/admin/batches``: every batch with its live progress; the form that creates one (the
  computation runs as one ``service.jobs.reclassify_shard_job`` per shard on the runtime's
  queue, so several workers share it);
- ``/admin/batches/<id>``: the change items grouped old → new category, decisions by
  threshold, group or item, apply and roll back, and the disagreements on confirmed
  documents (for audit only);
- ``/admin/batches/progress``: the JSON the pages poll (``static/batches.js``) while a
  batch is computing. Progress is read from the ``ReclassBatch`` row, the source of truth
  however many jobs compute it.

Every action goes through the public functions of ``service.reclassify``; this module only
reads for display.
"""
from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from sqlalchemy import and_, func, select

from service import localtime
from service import reclassify as R
from service.classifier.store import store_from_settings
from service.db import STATES, Department, Document, ReclassBatch, ReclassItem, transaction
from service.errors import GongkaiError
from service.jobs import enqueue_reclassify
from service.receiving import display_filename
from service.states import STATE_NAMES_ZH
from service.values import parse_day, parse_int
from service.web import auth
from service.web.inputs import query_int
from service.web.pages import error_pages, page, runtime, same_site_path

bp = error_pages(Blueprint("batches", __name__))

#: A suggestion of "no confident category" (needs attention); ``-`` in forms and URLs.
NONE_LABEL = "（需人工判断）"
NONE_VALUE = "-"
#: Items shown per group on the review page; the group's own page shows the rest, paged.
GROUP_PREVIEW = 20
GROUP_PAGE = 100
DISAGREEMENT_LIMIT = 200
LIST_LIMIT = 100
OUTCOMES_ZH = {"applied": "已应用", "skipped_confirmed": "已确认，跳过", "skipped_changed": "建议已变，跳过",
               "rolled_back": "已回滚", "rollback_skipped": "建议又变，未回滚"}
DECISIONS_ZH = {"pending": "未审", "accepted": "接受", "rejected": "拒绝"}


class BatchInputError(GongkaiError):
    code = "bad_request"
    http_status = 422
    message_zh = "填写有误：{what}"
    message_en = "Invalid input: {what}"


class QueueUnavailable(GongkaiError):
    code = "queue_unavailable"
    http_status = 503
    message_zh = "无法把计算任务排入队列（Redis 不可用）：批次 {batch_id} 已取消，队列恢复后可点「继续计算」。"
    message_en = "Could not queue the computation (Redis unavailable); batch {batch_id} was cancelled, resume it later."


def label(category: str | None) -> str:
    return category if category is not None else NONE_LABEL


def _category_arg(value: str | None) -> str | None:
    return None if value in (None, "", NONE_VALUE) else value


def _category_value(category: str | None) -> str:
    return NONE_VALUE if category is None else category


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def progress_row(b: ReclassBatch) -> dict[str, Any]:
    """What the progress bar needs, from the database row."""
    total, done = int(b.total or 0), int(b.done or 0)
    percent = 100.0 if b.status in ("ready", "applied", "rolled_back") else (
        round(min(done, total) * 100.0 / total, 1) if total else 0.0)
    return {"batch_id": b.id, "status": b.status, "status_zh": R.BATCH_STATES_ZH.get(b.status, b.status),
            "dry_run": bool(b.dry_run), "done": done, "total": total, "percent": percent,
            "counts": dict(b.counts or {})}


def _filters_zh(filters: dict[str, Any], departments: dict[str, str]) -> str:

    parts = []
    if filters.get("statuses"):
        ordered = sorted(filters["statuses"], key=lambda x: STATES.index(x) if x in STATES else len(STATES))
        parts.append("状态：" + "、".join(STATE_NAMES_ZH.get(x, x) for x in ordered))
    if filters.get("department"):
        parts.append("部门：" + departments.get(filters["department"], filters["department"]))
    if filters.get("since"):
        parts.append("接收于 " + localtime.display_date(filters["since"]) + " 及以后")
    return "；".join(parts) or "全部文件"


def batch_rows(ids: list[int] | None = None, status: str | None = None,
               limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    with transaction(runtime().sessions, readonly=True) as s:
        stmt = select(ReclassBatch).order_by(ReclassBatch.id.desc())
        if ids is not None:
            stmt = stmt.where(ReclassBatch.id.in_(ids))
        if status is not None:
            stmt = stmt.where(ReclassBatch.status == status)
        departments = dict(s.execute(select(Department.code, Department.name)).all())
        out = []
        for b in s.execute(stmt.limit(limit)).scalars():
            row = progress_row(b)
            row.update(model_version=b.model_version, created_by=b.created_by,
                       created_at=b.created_at.isoformat() if b.created_at else "",
                       filters_zh=_filters_zh(dict(b.filters or {}), departments))
            out.append(row)
        return out


def running() -> list[dict[str, Any]]:
    """The batches being computed now (for the panel on the admin index page)."""
    return batch_rows(status="computing")


def _group_condition(old: str | None, new: str | None):
    return and_(ReclassItem.old_suggested_category.is_(None) if old is None
                else ReclassItem.old_suggested_category == old,
                ReclassItem.new_category.is_(None) if new is None else ReclassItem.new_category == new)


_ITEM_COLUMNS = (ReclassItem.id, ReclassItem.document_id, Document.title, Document.filename,
                 ReclassItem.old_suggested_category, ReclassItem.old_confidence, ReclassItem.new_category,
                 ReclassItem.new_confidence, ReclassItem.decision, ReclassItem.outcome)


def _item(row) -> dict[str, Any]:
    return {"id": row.id, "document_id": row.document_id, "title": row.title or display_filename(row.filename),
            "old": row.old_suggested_category, "old_confidence": row.old_confidence, "new": row.new_category,
            "new_confidence": row.new_confidence, "decision": row.decision, "outcome": row.outcome}


def change_groups(sessions, batch_id: int, preview: int = GROUP_PREVIEW) -> list[dict[str, Any]]:
    """The change items grouped old → new (largest first), each with its first ``preview`` items.

    Two queries whatever the batch's size: the group aggregates, and the first items of
    every group by a window function (SQLite ≥ 3.25 and PostgreSQL both have it).
    """
    base = (ReclassItem.batch_id == batch_id, ReclassItem.kind == "change")
    with transaction(sessions, readonly=True) as s:
        rows = s.execute(select(ReclassItem.old_suggested_category, ReclassItem.new_category, ReclassItem.decision,
                                func.count(), func.sum(ReclassItem.new_confidence))
                         .where(*base).group_by(ReclassItem.old_suggested_category, ReclassItem.new_category,
                                                ReclassItem.decision)).all()
        groups: dict[tuple, dict[str, Any]] = {}
        for old, new, decision, n, total_confidence in rows:
            g = groups.setdefault((old, new), {"old": old, "new": new, "old_value": _category_value(old),
                                              "new_value": _category_value(new), "count": 0, "pending": 0,
                                              "accepted": 0, "rejected": 0, "_sum": 0.0, "items": []})
            g["count"] += int(n)
            g[decision] = g.get(decision, 0) + int(n)
            g["_sum"] += float(total_confidence or 0.0)
        rank = func.row_number().over(partition_by=(ReclassItem.old_suggested_category, ReclassItem.new_category),
                                      order_by=(ReclassItem.new_confidence.desc(), ReclassItem.id)).label("rank")
        ranked = (select(*_ITEM_COLUMNS, rank).join(Document, Document.id == ReclassItem.document_id)
                  .where(*base).subquery())
        for row in s.execute(select(ranked).where(ranked.c.rank <= preview)
                             .order_by(ranked.c.rank)).all():
            groups[(row.old_suggested_category, row.new_category)]["items"].append(_item(row))
    for g in groups.values():
        g["mean_confidence"] = g.pop("_sum") / g["count"] if g["count"] else None
    return sorted(groups.values(), key=lambda g: (-g["count"], g["old"] or "", g["new"] or ""))


def group_items(sessions, batch_id: int, old: str | None, new: str | None, page_no: int,
                per_page: int = GROUP_PAGE) -> tuple[list[dict[str, Any]], int]:
    """One page of one group's items (highest new confidence first) and the group's size."""
    where = (ReclassItem.batch_id == batch_id, ReclassItem.kind == "change", _group_condition(old, new))
    with transaction(sessions, readonly=True) as s:
        total = s.execute(select(func.count()).select_from(ReclassItem).where(*where)).scalar_one()
        rows = s.execute(select(*_ITEM_COLUMNS).join(Document, Document.id == ReclassItem.document_id).where(*where)
                         .order_by(ReclassItem.new_confidence.desc(), ReclassItem.id)
                         .offset((page_no - 1) * per_page).limit(per_page)).all()
    return [_item(r) for r in rows], int(total)


def _batch_or_404(batch_id: int) -> dict[str, Any]:
    rows = batch_rows(ids=[batch_id])
    if not rows:
        raise R.BatchNotFound(batch_id=batch_id)
    return rows[0]


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


def _model_versions() -> list[dict[str, Any]]:

    return [v.to_dict() for v in store_from_settings(runtime().settings).versions()]


@bp.get("/admin/batches")
@page("admin")
def index():
    with transaction(runtime().sessions, readonly=True) as s:
        departments = s.execute(select(Department.code, Department.name).order_by(Department.code)).all()
    return render_template("batches.html", batches=batch_rows(), models=_model_versions(), departments=departments,
                           states=STATES)


@bp.get("/admin/batches/progress")
@page("admin")
def progress():
    """``{"now": …, "batches": [{batch_id, status, status_zh, done, total, percent, counts, dry_run}]}``.

    ``?ids=1,2`` for those batches; without it, the most recent ones.
    """
    ids = None
    if request.args.get("ids"):
        try:
            ids = [parse_int(x) for x in request.args["ids"].split(",") if x.strip()][:LIST_LIMIT]
        except ValueError as exc:
            raise BatchInputError(what="ids 应为以逗号分隔的批次编号") from exc
    rows = batch_rows(ids=ids)
    response = jsonify({"now": datetime.now(UTC).isoformat(),
                        "batches": [{k: r[k] for k in ("batch_id", "status", "status_zh", "dry_run", "done", "total",
                                                       "percent", "counts")} for r in rows]})
    response.headers["Cache-Control"] = "no-store"
    return response


def _enqueue(batch_id: int) -> list[str]:
    """Queue the batch's unfinished shards on this runtime's queue (as the CLI's ``--background`` does)."""

    rt = runtime()
    try:
        return enqueue_reclassify(rt.queue, rt.sessions, batch_id)
    except Exception as exc:  # noqa: BLE001 - Redis away: leave the batch resumable, say so
        with contextlib.suppress(R.ReclassifyError):
            R.cancel(runtime().sessions, batch_id, "system", reason=f"enqueue failed: {type(exc).__name__}")
        raise QueueUnavailable(batch_id=batch_id) from exc


@bp.post("/admin/batches")
@page("admin")
def create():

    form = request.form
    statuses = [x for x in form.getlist("status") if x]
    if any(x not in STATES for x in statuses):
        raise BatchInputError(what="未知的文件状态")
    since = form.get("since", "").strip() or None
    if since is not None:
        try:
            since = parse_day(since).isoformat()
        except ValueError as exc:
            raise BatchInputError(what="起始日期格式应为 YYYY-MM-DD") from exc
    batch_id = R.create_batch(runtime().sessions, store_from_settings(runtime().settings), auth.current().name,
                              model_version=form.get("model", "").strip() or None, statuses=statuses or None,
                              department=form.get("department", "").strip() or None, since=since,
                              dry_run=bool(form.get("dry_run")))
    _enqueue(batch_id)
    return redirect(url_for("batches.index", _anchor=f"batch-{batch_id}"))


def _next_or(default: str) -> str:
    """The form's ``next`` when it is one of these pages (never another site)."""
    target = same_site_path(request.form.get("next"))
    return target if target.startswith("/admin/batches") else default


def _status(batch_id: int) -> str:
    return _batch_or_404(batch_id)["status"]


@bp.post("/admin/batches/<id:batch_id>/cancel")
@page("admin")
def cancel(batch_id: int):
    R.cancel(runtime().sessions, batch_id, auth.current().name, reason="管理员在网页上取消")
    return redirect(_next_or(url_for("batches.index")))


@bp.post("/admin/batches/<id:batch_id>/resume")
@page("admin")
def resume(batch_id: int):
    if _status(batch_id) == "computing":  # its job is still queued or running: never compute it twice
        raise BatchInputError(what=f"批次 {batch_id} 正在计算中")
    R.resume(runtime().sessions, batch_id, auth.current().name)
    _enqueue(batch_id)
    return redirect(_next_or(url_for("batches.index")))


@bp.get("/admin/batches/<id:batch_id>")
@page("admin")
def show(batch_id: int):
    batch = _batch_or_404(batch_id)
    result = R.summary(runtime().sessions, batch_id, disagreement_limit=DISAGREEMENT_LIMIT)
    groups = (change_groups(runtime().sessions, batch_id, preview=GROUP_PREVIEW)
              if batch["status"] != "computing" else [])
    return render_template("batch.html", batch=batch, result=result, groups=groups, label=label,
                           group=None, preview=GROUP_PREVIEW,
                           can_decide=batch["status"] == "ready" and not batch["dry_run"],
                           outcomes=OUTCOMES_ZH, decisions=DECISIONS_ZH, disagreement_limit=DISAGREEMENT_LIMIT)


@bp.get("/admin/batches/<id:batch_id>/group")
@page("admin")
def show_group(batch_id: int):
    batch = _batch_or_404(batch_id)
    old, new = _category_arg(request.args.get("old")), _category_arg(request.args.get("new"))
    page_no = query_int("page", 1)
    items, total = group_items(runtime().sessions, batch_id, old, new, page_no, per_page=GROUP_PAGE)
    group = {"old": old, "new": new, "old_value": _category_value(old), "new_value": _category_value(new),
             "count": total, "items": items, "page": page_no, "pages": max(1, -(-total // GROUP_PAGE))}
    return render_template("batch.html", batch=batch, result=None, groups=[], label=label, group=group,
                           preview=GROUP_PAGE, can_decide=batch["status"] == "ready" and not batch["dry_run"],
                           outcomes=OUTCOMES_ZH, decisions=DECISIONS_ZH, disagreement_limit=DISAGREEMENT_LIMIT)


def _back(batch_id: int) -> str:
    target = same_site_path(request.form.get("next"))
    prefix = url_for("batches.show", batch_id=batch_id)
    return target if target == prefix or target.startswith((prefix + "/", prefix + "?", prefix + "#")) else prefix


@bp.post("/admin/batches/<id:batch_id>/decide")
@page("admin")
def decide(batch_id: int):
    """``action`` accept|reject; ``scope`` all (with ``threshold`` in %), group (``old``, ``new``)
    or item (``item``)."""
    form = request.form
    if form.get("action") not in ("accept", "reject"):
        raise BatchInputError(what="未知操作")
    accept, scope = form["action"] == "accept", form.get("scope")
    kwargs: dict[str, Any] = {}
    if scope == "all":
        try:
            threshold = float(form.get("threshold", "").strip() or "0")
        except ValueError as exc:
            raise BatchInputError(what="阈值应为 0–100 之间的数") from exc
        if not 0 <= threshold <= 100:
            raise BatchInputError(what="阈值应为 0–100 之间的数")
        kwargs["min_confidence"] = threshold / 100.0
    elif scope == "group":
        kwargs["group"] = (_category_arg(form.get("old")), _category_arg(form.get("new")))
    elif scope == "item":
        try:
            kwargs["item_ids"] = [parse_int(x) for x in form.getlist("item")]
        except ValueError as exc:
            raise BatchInputError(what="条目编号不对") from exc
        if not kwargs["item_ids"]:
            raise BatchInputError(what="没有选择条目")
    else:
        raise BatchInputError(what="未知范围")
    R.decide(runtime().sessions, batch_id, auth.current().name, accept=accept, **kwargs)
    return redirect(_back(batch_id))


@bp.post("/admin/batches/<id:batch_id>/apply")
@page("admin")
def apply(batch_id: int):
    R.apply_batch(runtime().sessions, batch_id, auth.current().name)
    return redirect(url_for("batches.show", batch_id=batch_id))


@bp.post("/admin/batches/<id:batch_id>/rollback")
@page("admin")
def rollback(batch_id: int):
    R.rollback_batch(runtime().sessions, batch_id, auth.current().name)
    return redirect(url_for("batches.show", batch_id=batch_id))
