"""Admin pages: departments and users, the taxonomy in use, model versions and how they fare on
reviewed documents, queue and workers."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from service import accounts, audit, quality
from service import api_tokens
from service.accounts import AccountInputError as AdminInputError
from service.classifier.card import GOALS
from service.classifier.store import store_from_settings
from service.db import ROLES, Department, Document, User, transaction
from service.index_numbers import uses_credit_code
from service.receiving import display_filename
from service.web import auth
from service.web.batches import running
from service.web.pages import ROLE_NAMES_ZH, error_pages, page, runtime

bp = error_pages(Blueprint("admin", __name__))

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

    store = store_from_settings(runtime().settings)
    return {"versions": [v.to_dict() for v in store.versions()], "history": store.history()[-10:][::-1]}


def locked_until_text(user: User) -> str:
    """'12-06 15:42' (Beijing time) while the account is locked after wrong passwords, else ''."""
    until = accounts.locked_until(user)
    return until.strftime("%m-%d %H:%M") if until else ""


@bp.get("/admin")
@page("admin")
def index():
    with transaction(runtime().sessions, readonly=True) as s:
        departments = s.execute(select(Department, func.count(Document.id)).outerjoin(
            Document, Document.department_id == Department.id).group_by(Department.id).order_by(Department.code)).all()
        departments = [{"code": d.code, "name": d.name, "credit_code": d.credit_code, "documents": n}
                       for d, n in departments]
        users = [{"username": u.username, "name": u.display_name, "role": u.role, "active": u.active,
                  "department": u.department.name if u.department else "", "locked_until": locked_until_text(u),
                  "must_change": accounts.password_change_due(u, runtime().settings.password_max_age_days)}
                 for u in s.execute(select(User).order_by(User.username)).scalars()]
        by_status = dict(s.execute(select(Document.status, func.count()).group_by(Document.status)).all())
        failures = [{"id": d.id, "filename": display_filename(d.filename), "department": d.department.name,
                     "code": d.error_code, "message": d.error_message} for d in s.execute(
            select(Document).where(Document.status == "failed").order_by(Document.id.desc()).limit(10)).scalars()]
        taxonomy = current_app.extensions["gongkai.taxonomy"]
        in_use = quality.quality_by_version(s, taxonomy.names)
        token_rows = api_tokens.listing(s)

    return render_template("admin.html", departments=departments, users=users, by_status=by_status,
                           failures=failures, queue=_queue_status(), models=_models(), roles=ROLES,
                           role_names=ROLE_NAMES_ZH,
                           running_batches=running(), in_use=in_use, goals=GOALS, taxonomy=taxonomy,
                           api_tokens=token_rows, new_token=session.pop("new_token", None),
                           index_template=runtime().settings.index_number_template,
                           index_uses_credit=uses_credit_code(runtime().settings.index_number_template))


@bp.post("/admin/departments")
@page("admin")
def add_department():
    with transaction(runtime().sessions) as s:
        accounts.add_department(s, request.form.get("code", ""), request.form.get("name", ""), auth.current().name,
                                credit_code=request.form.get("credit_code", ""))
    return redirect(url_for("admin.index"))


@bp.post("/admin/departments/<code>/credit-code")
@page("admin")
def set_credit_code(code: str):
    with transaction(runtime().sessions) as s:
        accounts.set_credit_code(s, code, request.form.get("credit_code", ""), auth.current().name)
    return redirect(url_for("admin.index"))


@bp.post("/admin/users")
@page("admin")
def add_user():
    form = request.form
    with transaction(runtime().sessions) as s:
        accounts.add_user(s, form.get("username", ""), form.get("role", ""), form.get("password", ""),
                          department=form.get("department", ""), display_name=form.get("name", ""),
                          actor=auth.current().name)
    return redirect(url_for("admin.index"))


@bp.post("/admin/users/<username>")
@page("admin")
def change_user(username: str):
    """Set a new password for a user who forgot theirs, or deactivate / reactivate an account."""
    form, actor = request.form, auth.current().name
    with transaction(runtime().sessions) as s:
        action = form.get("action")
        if action == "password":
            accounts.reset_password(s, username, form.get("password", ""), actor)
        elif action in ("deactivate", "activate"):
            accounts.set_active(s, username, action == "activate", actor)
        else:
            raise AdminInputError(what="未知操作")
    return redirect(url_for("admin.index"))


@bp.post("/admin/tokens")
@page("admin")
def create_token():
    """A department API token; shown once, on the admin page this redirects to."""
    with transaction(runtime().sessions) as s:
        token, secret = api_tokens.create(s, request.form.get("department", ""), request.form.get("label", ""),
                                      auth.current().name)
        session["new_token"] = {**api_tokens.to_dict(token), "department_name": token.department.name, "token": secret}
    return redirect(url_for("admin.index", _anchor="tokens"))


@bp.post("/admin/tokens/<id:token_id>/revoke")
@page("admin")
def revoke_token(token_id: int):
    with transaction(runtime().sessions) as s:
        api_tokens.revoke(s, token_id, auth.current().name)
    return redirect(url_for("admin.index", _anchor="tokens"))


@bp.post("/admin/models")
@page("admin")
def model_action():

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
