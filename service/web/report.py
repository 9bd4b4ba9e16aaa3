"""年度统计: the annual report's disclosure statistics for 政务公开办 staff, with a CSV export."""
from __future__ import annotations

import io

from flask import Blueprint, Response, current_app, render_template, request

from service import localtime
from service import report as R
from service.db import transaction
from service.states import STATE_NAMES_ZH
from service.web.pages import error_pages, page, runtime

bp = error_pages(Blueprint("report", __name__))


def _year() -> int:
    """The year asked for; this year when none, or not one a report can cover."""
    return R.parse_year(request.args.get("year")) or localtime.now().year


def _report(year: int) -> tuple[R.AnnualReport, list[int]]:
    with transaction(runtime().sessions, readonly=True) as s:
        return (R.annual_report(s, year, current_app.extensions["gongkai.taxonomy"]), R.years_with_data(s))


@bp.get("/report")
@page("reviewer", "signer", "admin")
def index():
    year = _year()
    report, years = _report(year)
    years = sorted({*years, localtime.now().year, year}, reverse=True)
    peak = max(report.months) or 1
    return render_template("report.html", report=report, years=years, rows=R.as_rows(report), peak=peak,
                           summary=R.summary_sentence(report), state_zh=STATE_NAMES_ZH)


@bp.get("/report.csv")
@page("reviewer", "signer", "admin")
def export():
    year = _year()
    report, _ = _report(year)
    buffer = io.StringIO()
    R.write_csv(report, buffer)
    return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=gongkai-report-{year}.csv"})
