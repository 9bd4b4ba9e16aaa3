"""Annual disclosure statistics (政府信息公开工作年度报告), counted from the data.

The county's annual report lists what was made public in the year, category by category
("其中工作动态 652 条、政策法规及规范性文件类信息 29 条……"); today someone counts it in a
spreadsheet. Here it is counted from the documents themselves:

- a document counts for year Y when it was published (主动公开) in Y, Beijing time
  (China has one time zone), and is published or withdrawn now; a withdrawn one is also
  counted as withdrawn. A document withdrawn and republished counts in the year of its
  latest publication;
- categories come in the taxonomy's order; a published category the taxonomy no longer
  has (an older taxonomy) is listed after them, not dropped;
- beside the counts: by department and category, by month, how often reviewers kept
  the model's suggestion, and the year's intake (documents received in Y by state now).

``annual_report`` returns plain data; ``as_rows`` the table the CSV export and the CLI
print; ``summary_sentence`` the sentence of the report's section 二 (主动公开情况).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import spreadsheet, timeliness
from service.kept import Kept
from service.db import Department, Document
from service.localtime import beijing, year_bounds
from service.taxonomy import Taxonomy

YEARS = range(1900, 9999)       # what a report may ask for (year_bounds needs year + 1)
COUNTED_STATES = ("published", "withdrawn")


def parse_year(text: str | None) -> int | None:
    """``text`` as a year a report can cover (``YEARS``), else None."""
    try:
        year = int(text)
    except (TypeError, ValueError):
        return None
    return year if year in YEARS else None


@dataclass
class AnnualReport:
    year: int
    categories: list[str]
    published: dict[str, int]                       # category -> documents published in the year
    withdrawn: dict[str, int]                       # of those, withdrawn since
    departments: list[dict[str, Any]]               # {code, name, counts: {category: n}, total}
    months: list[int]                               # January..December
    suggestion: dict[str, int]                      # published with a pre-selected category; of those kept
    intake: dict[str, int] = field(default_factory=dict)   # received in the year, by state now
    #: 主动公开时限 (service.timeliness): on_time / late / no_date (no 成文日期 to count from)
    timeliness: dict[str, int] = field(default_factory=dict)
    #: 公开属性 (service.disclosure) of the documents reviewed in the year: active / on_request / not_disclosed
    disclosure: dict[str, int] = field(default_factory=dict)
    #: 有效性 (service.validity) of published documents now: effective (现行有效) / amended / repealed / expired
    validity: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.published.values())

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "total": self.total, "withdrawn_total": sum(self.withdrawn.values()),
                "categories": [{"category": c, "published": self.published.get(c, 0),
                                "withdrawn": self.withdrawn.get(c, 0)} for c in self.categories],
                "departments": self.departments, "months": self.months, "suggestion": self.suggestion,
                "intake": self.intake, "timeliness": self.timeliness, "disclosure": self.disclosure,
                "validity": self.validity, "summary": summary_sentence(self)}


#: Reports kept per process (``annual_report``): a few years of a few databases.
_kept = Kept(16)


def annual_report(session: Session, year: int, taxonomy: Taxonomy) -> AnnualReport:
    """The year's figures. Counting reads every document of the year (a second at a city's
    100,000), so a report is kept while the audit chain's head is unchanged — every change to a
    document is recorded there — for the same day and taxonomy (``service.kept``)."""
    return _kept.get(session, ("annual", year, tuple(taxonomy.names)),
                     lambda: count_annual_report(session, year, taxonomy))


def count_annual_report(session: Session, year: int, taxonomy: Taxonomy) -> AnnualReport:
    """The year's figures, counted now from the documents."""
    start, end = year_bounds(year)
    rows = session.execute(
        select(Document.category, Document.status, Document.published_at, Document.suggested_category,
               Department.code, Department.name, Document.gongwen["date"]["value"].as_string())
        .join(Department, Department.id == Document.department_id)
        .where(Document.status.in_(COUNTED_STATES), Document.published_at >= start, Document.published_at < end)
    ).all()
    published, withdrawn, months = Counter(), Counter(), [0] * 12
    by_department: dict[tuple[str, str], Counter] = defaultdict(Counter)
    suggested = kept = 0
    timely = Counter({"on_time": 0, "late": 0, "no_date": 0})
    for category, status, published_at, suggestion, code, name, formed in rows:
        day = beijing(published_at).date()
        counted = timeliness.assess({"date": {"value": formed}}, day, day) if formed else None
        timely[counted.state if counted else "no_date"] += 1
        category = category or "未分类"
        published[category] += 1
        if status == "withdrawn":
            withdrawn[category] += 1
        months[beijing(published_at).month - 1] += 1
        by_department[(code, name)][category] += 1
        if suggestion:
            suggested += 1
            kept += suggestion == category
    known = list(taxonomy.names)
    categories = known + sorted(c for c in published if c not in known)
    departments = [{"code": code, "name": name, "counts": {c: counts[c] for c in categories if counts[c]},
                    "total": sum(counts.values())}
                   for (code, name), counts in sorted(by_department.items(),
                                                      key=lambda kv: (-sum(kv[1].values()), kv[0]))]
    received = session.execute(select(Document.status, func.count()).where(
        Document.created_at >= start, Document.created_at < end).group_by(Document.status)).all()
    return AnnualReport(year=year, categories=categories, published=dict(published), withdrawn=dict(withdrawn),
                        departments=departments, months=months, suggestion={"with_suggestion": suggested, "kept": kept},
                        intake={status: n for status, n in received}, timeliness=dict(timely),
                        disclosure=_disclosure_counts(session, start, end),
                        validity=dict(session.execute(select(Document.validity_status, func.count()).where(
                            Document.status == "published", Document.validity_status.is_not(None))
                            .group_by(Document.validity_status)).all()))


#: States of a document a reviewer has decided on (approved and after; a rejection is no decision on 公开属性).
REVIEWED_STATES = ("approved", "published", "withdrawn")


def _disclosure_counts(session: Session, start, end) -> dict[str, int]:
    """Documents reviewed in the year by 公开属性: what 依申请公开 and 不予公开 decisions were made."""
    counts = dict(session.execute(select(Document.disclosure, func.count()).where(
        Document.status.in_(REVIEWED_STATES), Document.reviewed_at >= start, Document.reviewed_at < end)
        .group_by(Document.disclosure)).all())
    return {code: int(counts.get(code, 0)) for code in ("active", "on_request", "not_disclosed")}


def years_with_data(session: Session) -> list[int]:
    """The years (Beijing time) from the first publication to the last, newest first."""
    first, last = session.execute(select(func.min(Document.published_at), func.max(Document.published_at)).where(
        Document.status.in_(COUNTED_STATES))).one()
    if first is None:
        return []
    return list(range(beijing(last).year, beijing(first).year - 1, -1))


def summary_sentence(report: AnnualReport) -> str:
    """The annual report's 主动公开 sentence, in the seed report's own words."""
    if not report.total:
        return f"{report.year}年未主动公开政府信息。"
    parts = [f"{c} {report.published[c]} 条" for c in report.categories if report.published.get(c)]
    sentence = f"{report.year}年共主动公开政府信息 {report.total} 条，其中" + "、".join(parts) + "。"
    withdrawn = sum(report.withdrawn.values())
    if withdrawn:
        sentence += f"已公开信息中有 {withdrawn} 条此后撤回。"
    return sentence


def as_rows(report: AnnualReport) -> list[list[Any]]:
    """The department × category table with totals: a header row, one row per department,
    a total row, and a row of withdrawn counts."""
    header = ["部门", *report.categories, "合计"]
    rows = [header]
    for d in report.departments:
        rows.append([d["name"], *(d["counts"].get(c, 0) for c in report.categories), d["total"]])
    rows.append(["合计", *(report.published.get(c, 0) for c in report.categories), report.total])
    rows.append(["其中已撤回", *(report.withdrawn.get(c, 0) for c in report.categories),
                 sum(report.withdrawn.values())])
    return rows


def write_csv(report: AnnualReport, stream) -> None:
    """The report's rows as CSV for Excel/WPS (``service.spreadsheet``)."""
    spreadsheet.write_rows(stream, as_rows(report))
