"""操作日志: the audit log for admins — filter, page, export as CSV, check the hash chain."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, stream_with_context, url_for

from service import audit, localtime, spreadsheet
from service import audit_query as auditlog
from service.db import transaction
from service.web.pages import error_pages, page, runtime

bp = error_pages(Blueprint("auditlog", __name__))


@bp.get("/admin/audit")
@page("admin")
def index():
    error, entries, next_before = None, [], None
    try:
        query = auditlog.parse(request.args)
    except auditlog.AuditQueryError as exc:
        error, query = exc.message_zh_text, auditlog.AuditQuery()
    else:
        with transaction(runtime().sessions, readonly=True) as s:
            entries, next_before = auditlog.page(s, query)
    for e in entries:
        e["detail_text"] = auditlog.detail_text(e["detail"])
    return render_template("audit.html", entries=entries, next_before=next_before, query=query,
                           filters=query.filters(), kinds=auditlog.KINDS_ZH, actions=auditlog.ACTION_NAMES_ZH,
                           error=error, verification=session.pop("audit_verification", None))


@bp.get("/admin/audit.csv")
@page("admin")
def export():
    """Every entry the filters select (not only one page), newest first, streamed."""
    query = auditlog.parse(request.args)
    sessions = runtime().sessions

    def rows():
        with transaction(sessions, readonly=True) as s:
            yield from auditlog.csv_table(s, query)

    stamp = localtime.now().strftime("%Y%m%d-%H%M%S")
    return Response(stream_with_context(c.encode("utf-8") for c in spreadsheet.chunks(rows())), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=gongkai-audit-{stamp}.csv"})


@bp.post("/admin/audit/verify")
@page("admin")
def verify():
    """Recompute the whole hash chain now; the result is shown once on the log page."""
    with transaction(runtime().sessions, readonly=True) as s:
        result = audit.verify(s)
    session["audit_verification"] = {"ok": result.ok, "entries": result.entries, "first_bad_seq": result.first_bad_seq,
                                     "problem": auditlog.problem_zh(result.problem) if result.problem else ""}
    # back to the page the admin was on, with its filters (the form carries them as the page had them)
    try:
        kept = auditlog.parse(request.form).filters()
    except auditlog.AuditQueryError:
        kept = {}
    return redirect(url_for("auditlog.index", **kept))
