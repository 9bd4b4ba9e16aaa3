"""年度报告: the year's 政府信息公开工作年度报告 in the 2021 format — the page (with a print view and
charts), the yearly form for the figures gongkai does not hold, 定稿 and 重新打开, and the .docx."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from service.web import charts
from service import annual_format as F
from service import annual_report as A
from service import localtime
from service import report as R
from service.db import transaction
from service.web import auth
from service.web.pages import error_pages, page, runtime

bp = error_pages(Blueprint("annual", __name__))
EDITORS = ("reviewer", "admin")
DONE = {"saved": "已保存。", "final": "已定稿：报告及其 Word 文件已存档，数据不再变化。",
        "reopened": "已重新打开，可以修改。"}


def _year() -> int:
    return R.parse_year(request.values.get("year")) or localtime.now().year - (localtime.now().month < 7)


def _organisation() -> str:
    return runtime().settings.site_name.strip()


def _compose(year: int) -> dict:
    with transaction(runtime().sessions, readonly=True) as s:
        return A.compose(s, year, current_app.extensions["gongkai.taxonomy"], _organisation())


@bp.get("/report/annual")
@page("reviewer", "signer", "admin")
def view():
    """The whole report as it stands, with what does not add up, and the actions its state allows."""
    year = _year()
    report = _compose(year)
    stats = report["statistics"]
    return render_template("annual.html", report=report, F=F, done=DONE.get(request.args.get("done", "")),
                           years=sorted({*range(localtime.now().year, localtime.now().year - 6, -1), year},
                                        reverse=True),
                           charts={"categories": charts.category_bars(stats), "months": charts.month_columns(stats),
                                   "departments": charts.department_share(stats)},
                           can_edit=auth.current().role in EDITORS, is_admin=auth.current().role == "admin")


def _form_page(year: int, values: dict, errors: dict | None = None, message: str = "", status: int = 200):
    report = _compose(year)
    return render_template("annual_form.html", report=report, F=F, values=values, errors=errors or {},
                           message=message, texts=values.get("texts") or report["texts"],
                           revision=values.get("revision", report["revision"])), status


@bp.get("/report/annual/form")
@page(*EDITORS)
def form():
    year = _year()
    report = _compose(year)
    if report["status"] == "final":
        return redirect(url_for("annual.view", year=year))
    texts = dict(report["texts"])
    return _form_page(year, {**F.form_fields(report["figures"]), "texts": texts})


@bp.post("/report/annual/form")
@page(*EDITORS)
def save():
    """Save the figures and texts; a wrong figure or a concurrent save shows the form again with
    every input kept and the reason beside it."""
    year = _year()
    values = {k: v for k, v in request.form.items() if k not in ("csrf_token", "year")}
    texts = {k: request.form.get(f"text.{k}", "").replace("\r\n", "\n") for k in A.TEXT_FIELDS}
    try:
        revision = int(request.form.get("revision", "0"))
    except ValueError:
        revision = -1
    values.update(texts=texts, revision=revision)
    if texts["overview"].strip() == _compose(year)["overview_skeleton"].strip():
        texts["overview"] = ""      # the skeleton untouched: keep following the data
    try:
        figures = F.parse_figures(request.form)
        with transaction(runtime().sessions) as s:
            A.save(s, year, auth.current().name, figures, texts, revision)
    except F.FiguresInvalid as exc:
        return _form_page(year, values, exc.errors, "有填写错误的数据，请按红字提示改正后再保存。", 422)
    except (A.ReportChanged, A.ReportFinal, A.ReportTextTooLong) as exc:
        return _form_page(year, values, None, exc.message, exc.http_status)
    return redirect(url_for("annual.view", year=year, done="saved"))


@bp.post("/report/annual/finalize")
@page(*EDITORS)
def finalize():
    year = _year()
    with transaction(runtime().sessions) as s:
        A.finalize(s, runtime().storage, year, auth.current().name, current_app.extensions["gongkai.taxonomy"],
                   _organisation())
    return redirect(url_for("annual.view", year=year, done="final"))


@bp.post("/report/annual/reopen")
@page("admin")
def reopen():
    year = _year()
    with transaction(runtime().sessions) as s:
        A.reopen(s, year, auth.current().name, request.form.get("reason", ""))
    return redirect(url_for("annual.view", year=year, done="reopened"))


@bp.get("/report/annual.docx")
@page("reviewer", "signer", "admin")
def docx():
    """The Word file: a final report's stored one, else made now (refused while figures disagree)."""
    year = _year()
    report = _compose(year)
    body = A.stored_docx(runtime().storage, report) or A.docx_bytes(report)
    name = f"{report['title']}{'' if report['status'] == 'final' else '（草稿）'}.docx"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f"attachment; filename=annual-report-{year}.docx; "
                                                    f"filename*=UTF-8''{quote(name)}"})
