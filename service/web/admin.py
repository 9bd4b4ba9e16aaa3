"""Admin pages: departments and users, the taxonomy in use, model versions and how they fare on
reviewed documents, queue and workers."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from service import audit, auth, quality
from service.db import ROLES, Department, Document, User, transaction
from service.errors import GongkaiError
from service.modelcard import GOALS
from service.web import error_pages, page, runtime

bp = error_pages(Blueprint("admin", __name__))
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AdminInputError(GongkaiError):
    code = "bad_request"
    http_status = 422
    message_zh = "填写有误：{what}"
    message_en = "Invalid input: {what}"


def _queue_status() -> dict:
    """Jobs waiting, running and failed, and the workers on this queue; None values if Redis is down."""
    try:
        from rq import Worker
        from rq.registry import FailedJobRegistry, StartedJobRegistry

        queue = runtime().queue
        workers = [w for w in Worker.all(connection=queue.connection) if queue.name in w.queue_names()]
        return {"ok": True, "queued": queue.count, "started": len(StartedJobRegistry(queue=queue)),
                "failed": len(FailedJobRegistry(queue=queue)),
                "workers": [{"name": w.name, "state": w.get_state(), "done": w.successful_job_count,
                             "failed": w.failed_job_count} for w in workers]}
    except Exception:  # noqa: BLE001 - the page still shows everything else
        return {"ok": False, "queued": None, "started": None, "failed": None, "workers": []}


def _models() -> dict:
    from service.modelstore import store_from_settings

    store = store_from_settings(runtime().settings)
    return {"versions": [v.to_dict() for v in store.versions()], "history": store.history()[-10:][::-1]}


@bp.get("/admin")
@page("admin")
def index():
    with transaction(runtime().sessions, readonly=True) as s:
        departments = s.execute(select(Department, func.count(Document.id)).outerjoin(
            Document, Document.department_id == Department.id).group_by(Department.id).order_by(Department.code)).all()
        departments = [{"code": d.code, "name": d.name, "documents": n} for d, n in departments]
        users = [{"username": u.username, "name": u.display_name, "role": u.role, "active": u.active,
                  "department": u.department.name if u.department else ""}
                 for u in s.execute(select(User).order_by(User.username)).scalars()]
        by_status = dict(s.execute(select(Document.status, func.count()).group_by(Document.status)).all())
        failures = [{"id": d.id, "filename": d.filename, "department": d.department.name, "code": d.error_code,
                     "message": d.error_message} for d in s.execute(
            select(Document).where(Document.status == "failed").order_by(Document.id.desc()).limit(10)).scalars()]
        taxonomy = current_app.extensions["gongkai.taxonomy"]
        in_use = quality.quality_by_version(s, taxonomy.names)
    from service.web.batches import running

    return render_template("admin.html", departments=departments, users=users, by_status=by_status,
                           failures=failures, queue=_queue_status(), models=_models(), roles=ROLES,
                           running_batches=running(), in_use=in_use, goals=GOALS, taxonomy=taxonomy)


@bp.post("/admin/departments")
@page("admin")
def add_department():
    code, name = request.form.get("code", "").strip(), request.form.get("name", "").strip()
    if not CODE.match(code) or not name:
        raise AdminInputError(what="部门代码须为小写字母、数字、- 或 _，名称不能为空")
    with transaction(runtime().sessions) as s:
        if s.execute(select(Department).where(Department.code == code)).scalar_one_or_none():
            raise AdminInputError(what=f"部门代码「{code}」已存在")
        s.add(Department(code=code, name=name))
        audit.append(s, auth.current().name, "department.create", code=code, name=name)
    return redirect(url_for("admin.index"))


@bp.post("/admin/users")
@page("admin")
def add_user():
    form = request.form
    username, role = form.get("username", "").strip(), form.get("role", "")
    password, dept_code = form.get("password", ""), form.get("department", "")
    if not CODE.match(username.lower()) or role not in ROLES or len(password) < 8:
        raise AdminInputError(what="用户名须为字母、数字、- 或 _，角色须有效，密码至少 8 位")
    with transaction(runtime().sessions) as s:
        if s.execute(select(User).where(User.username == username)).scalar_one_or_none():
            raise AdminInputError(what=f"用户名「{username}」已存在")
        dept = s.execute(select(Department).where(Department.code == dept_code)).scalar_one_or_none()
        if role == "uploader" and dept is None:
            raise AdminInputError(what="经办人必须属于一个部门")
        s.add(User(username=username, display_name=form.get("name", "").strip(), role=role,
                   department_id=dept.id if dept else None, password_hash=generate_password_hash(password)))
        audit.append(s, auth.current().name, "user.create", username=username, role=role,
                     department=dept.code if dept else None)
    return redirect(url_for("admin.index"))


@bp.post("/admin/models")
@page("admin")
def model_action():
    from service.modelstore import store_from_settings

    store, action = store_from_settings(runtime().settings), request.form.get("action")
    reason = request.form.get("reason", "").strip() or "管理员在网页上操作"
    if action == "activate":
        version = request.form.get("version", "")
        store.activate(version, reason)
    elif action == "rollback":
        version = store.rollback(reason)
    elif action == "retrain":
        # Training takes a while: it runs as a background job on a worker.
        runtime().queue.enqueue("service.jobs.retrain_job", auth.current().name, job_timeout=3600,
                                result_ttl=7 * 24 * 3600, failure_ttl=7 * 24 * 3600)
        version = "(后台训练中)"
    else:
        raise AdminInputError(what="未知操作")
    with transaction(runtime().sessions) as s:
        audit.append(s, auth.current().name, f"model.{action}", version=version, reason=reason)
    return redirect(url_for("admin.index"))
