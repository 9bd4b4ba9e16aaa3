"""操作日志: the audit log for admins — filter, page, export as CSV, check the hash chain."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, stream_with_context, url_for

from service import audit, localtime, spreadsheet
from service import audit_query
from service.db import transaction
from service.web.pages import error_pages, page, runtime

bp = error_pages(Blueprint("auditlog", __name__))


@bp.get("/admin/audit")
@page("admin")
def index():
    error, entries, next_before = None, [], None
    try:
        query = audit_query.parse(request.args)
    except audit_query.AuditQueryError as exc:
        error, query = exc.message_zh_text, audit_query.AuditQuery()
    else:
        with transaction(runtime().sessions, readonly=True) as s:
            entries, next_before = audit_query.page(s, query)
    for e in entries:
        e["detail_text"] = audit_query.detail_text(e["detail"])
    return render_template("audit.html", entries=entries, next_before=next_before, query=query,
                           filters=query.filters(), kinds=audit_query.KINDS_ZH, actions=audit_query.ACTION_NAMES_ZH,
                           error=error, verification=session.pop("audit_verification", None))


@bp.get("/admin/audit.csv")
@page("admin")
def export():
    """Every entry the filters select (not only one page), newest first, streamed."""
    query = audit_query.parse(request.args)
    sessions = runtime().sessions

    def rows():
        with transaction(sessions, readonly=True) as s:
            yield from audit_query.csv_table(s, query)

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
                                     "problem": audit_query.problem_zh(result.problem) if result.problem else ""}
    # back to the page the admin was on, with its filters (the form carries them as the page had them)
    try:
        kept = audit_query.parse(request.form).filters()
    except audit_query.AuditQueryError:
        kept = {}
    return redirect(url_for("auditlog.index", **kept))
