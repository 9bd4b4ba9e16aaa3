"""A year's 政府信息公开工作年度报告 in the 2021 national format: composed from the data gongkai
holds and the figures a clerk enters, saved per year, made final and frozen.

- ``compose`` brings everything a report shows into one plain dict (the HTML page, the .docx
  and a final report's snapshot all read it): the year's statistics (``service.report``), the
  规范性文件 counts from the catalogue (``normative_counts``), the entered figures
  (``service.annual_format``), the texts of sections 一, 五 and 六, and what does not add up;
- ``save`` keeps the figures and texts of a draft (audited; a form carries the revision it was
  read at, so a second clerk's save does not silently overwrite the first's);
- ``finalize`` refuses while the figures do not add up, then stores the .docx and the snapshot
  and writes the .docx's SHA-256 into the audit log; a final report is what it was that day;
  ``reopen`` (an admin, with a reason) makes it a draft again.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service import annual_format as F
from service import audit
from service import report as R
from service.db import AnnualReportEntry, AuditEntry, Document, dialect_insert, utcnow
from service.errors import GongkaiError
from service.localtime import beijing, year_bounds
from service.storage import Storage
from service.taxonomy import Taxonomy

TEXT_FIELDS = {"overview": "一、总体情况", "problems": "五、存在的主要问题及改进情况",
               "other": "六、其他需要报告的事项"}
MAX_TEXT = 20_000
#: 有效性 statuses that end a rule's force (service.validity): 废止 counts the first two.
REPEALING = ("repealed", "expired")


class ReportError(GongkaiError):
    http_status = 409


class ReportFinal(ReportError):
    code = "report_final"
    message_zh = "{year} 年度报告已定稿，不能再修改；如需修改，请管理员说明理由后重新打开。"
    message_en = "The {year} annual report is final; an admin must reopen it first."


class ReportChanged(ReportError):
    code = "report_changed"
    message_zh = "{year} 年度报告已被 {who} 修改，请刷新页面，在最新内容上重新填写。"
    message_en = "The {year} annual report was changed by {who} meanwhile; reload and edit again."


class ReportUnbalanced(ReportError):
    code = "report_unbalanced"
    message_zh = "年度报告的数据对不上，不能生成：{what}"
    message_en = "The annual report's figures do not add up: {what}"


class ReportNotFinal(ReportError):
    code = "report_not_final"
    message_zh = "{year} 年度报告尚未定稿。"
    message_en = "The {year} annual report is not final."


class ReopenReasonRequired(GongkaiError):
    code = "reason_required"
    http_status = 422
    message_zh = "重新打开已定稿的年度报告须填写理由。"
    message_en = "Reopening a final annual report needs a reason."


class ReportTextTooLong(GongkaiError):
    code = "report_text_too_long"
    http_status = 422
    message_zh = "「{section}」过长（至多 {limit} 字）。"
    message_en = "Section {section} is too long (at most {limit} characters)."


def load(session: Session, year: int, lock: bool = False) -> AnnualReportEntry | None:
    stmt = select(AnnualReportEntry).where(AnnualReportEntry.year == year)
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()


def normative_counts(session: Session, year: int, taxonomy: Taxonomy) -> dict[str, int]:
    """行政规范性文件 of the year from the catalogue: 本年制发 (published in the year in a category
    of 第二十条第（一）项), 本年废止 (有效性 已废止 or 已失效 from a day in the year) and 现行有效 at
    the year's end (published in such a category or given a 有效性, and in force on 31 December:
    no 有效性 set counts as in force)."""
    start, end = year_bounds(year)
    last_day = dt.date(year, 12, 31).isoformat()
    categories = taxonomy.categories_for_item(1)
    issued = session.execute(select(func.count()).select_from(Document).where(
        Document.status == "published", Document.category.in_(categories),
        Document.published_at >= start, Document.published_at < end)).scalar_one()
    rows = session.execute(select(Document.status, Document.published_at, Document.validity).where(
        Document.status.in_(R.COUNTED_STATES), Document.published_at < end,
        or_(Document.category.in_(categories), Document.validity_status.is_not(None)))).all()
    repealed = effective = 0
    for status, _, validity in rows:
        validity = validity or {}
        ends_on = validity.get("ends_on") if validity.get("status") in ("amended", *REPEALING) else None
        if validity.get("status") in REPEALING and ends_on and str(year) == ends_on[:4]:
            repealed += 1
        if status != "published" or (ends_on and ends_on <= last_day):
            continue
        expires = validity.get("expires_on")
        effective += not (expires and expires < last_day)
    return {"issued": int(issued), "repealed": repealed, "effective": effective}


def overview_skeleton(stats: dict[str, Any], figures: dict[str, Any], normative: dict[str, int],
                      organisation: str) -> str:
    """Section 一 in sentences with the year's figures, for the clerk to complete and edit."""
    who = organisation or "本机关"
    year = stats["year"]
    parts = [f"{c['category']} {c['published']} 条" for c in stats["categories"] if c["published"]]
    active = (f"{year}年，{who}共主动公开政府信息 {stats['total']} 条" +
              (f"，其中{'、'.join(parts)}" if parts else "") + "。")
    departments = [f"{d['name']} {d['total']} 条" for d in stats["departments"]]
    if departments:
        active += f"按发布部门：{'、'.join(departments)}。"
    active += (f"制发行政规范性文件 {normative['issued']} 件，废止 {normative['repealed']} 件，"
               f"现行有效 {normative['effective']} 件。")
    apps = figures["applications"]
    received = F.row_total(figures, "new")
    handled = F.row_total(figures, "total")
    requests = (f"本年新收政府信息公开申请 {received} 件，上年结转 {F.row_total(figures, 'carried_in')} 件；"
                f"办理完结 {handled} 件，其中予以公开 {sum(apps['open'].values())} 件、部分公开 "
                f"{sum(apps['partial'].values())} 件；结转下年度继续办理 {F.row_total(figures, 'carried_out')} 件。")
    appeals = sum(F.appeal_total(figures, g) for g, _ in F.APPEAL_GROUPS)
    return "\n".join([
        f"（一）主动公开。{active}",
        f"（二）依申请公开。{requests}",
        "（三）政府信息管理。（请填写：政府信息公开审查、保密审查、公开属性认定和规范性文件清理情况。）",
        "（四）平台建设。（请填写：政府网站信息公开专栏、政务新媒体、公开栏等平台的建设和维护情况。）",
        "（五）监督保障。（请填写：工作机构、人员、培训、考核和社会评议情况。）"
        + (f"本年因政府信息公开工作被申请行政复议、提起行政诉讼共 {appeals} 件。" if appeals else
           "本年未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。"),
    ])


def other_matters_sentence(figures: dict[str, Any]) -> str:
    """六's fixed sentence on 信息处理费 (国办函〔2020〕109号)."""
    fee = figures.get("processing_fees") or "0"
    if float(fee) == 0:
        return "本年度未收取信息处理费。"
    return f"本年度依据《政府信息公开信息处理费管理办法》收取信息处理费 {fee} 元。"


def compose(session: Session, year: int, taxonomy: Taxonomy, organisation: str = "") -> dict[str, Any]:
    """Everything the year's report shows, as plain data. A final report is its snapshot."""
    entry = load(session, year)
    if entry is not None and entry.status == "final" and entry.final_snapshot:
        return {**entry.final_snapshot, **_state(entry)}
    stats = R.annual_report(session, year, taxonomy).to_dict()
    figures = _complete(entry.figures) if entry else F.empty_figures()
    texts = dict(entry.texts) if entry else {}
    normative = normative_counts(session, year, taxonomy)
    previous = load(session, year - 1)
    skeleton = overview_skeleton(stats, figures, normative, organisation)
    return {
        "year": year, "organisation": organisation,
        "title": f"{organisation}{year}年政府信息公开工作年度报告",
        "statistics": stats, "normative": normative, "normative_categories": taxonomy.categories_for_item(1),
        "figures": figures,
        "texts": {"overview": texts.get("overview") or skeleton, "problems": texts.get("problems") or "",
                  "other": texts.get("other") or ""},
        "overview_written": bool(texts.get("overview")), "overview_skeleton": skeleton,
        "other_sentence": other_matters_sentence(figures),
        "problems_found": F.problems(figures, _complete(previous.figures) if previous else None, year - 1),
        "period": f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
        **_state(entry),
    }


def _state(entry: AnnualReportEntry | None) -> dict[str, Any]:
    if entry is None:
        return {"status": "draft", "revision": 0, "updated_by": None, "updated_at": None, "finalized_by": None,
                "finalized_at": None, "sha256": None}
    return {"status": entry.status, "revision": entry.revision, "updated_by": entry.updated_by or None,
            "updated_at": beijing(entry.updated_at).strftime("%Y-%m-%d %H:%M") if entry.updated_at else None,
            "finalized_by": entry.finalized_by,
            "finalized_at": beijing(entry.finalized_at).strftime("%Y-%m-%d %H:%M") if entry.finalized_at else None,
            "sha256": entry.final_sha256}


def _complete(figures: dict[str, Any]) -> dict[str, Any]:
    """Stored figures over the empty form: a figure a later format version adds reads 0."""
    full = F.empty_figures()
    for key, value in figures.items():
        if isinstance(value, dict) and isinstance(full.get(key), dict):
            for sub, inner in value.items():
                full[key][sub] = {**full[key][sub], **inner} if isinstance(inner, dict) else inner
        else:
            full[key] = value
    return full


def _texts(texts: dict[str, Any]) -> dict[str, str]:
    clean = {}
    for key, section in TEXT_FIELDS.items():
        value = (texts.get(key) or "").replace("\r\n", "\n").strip()
        if len(value) > MAX_TEXT:
            raise ReportTextTooLong(section=section, limit=MAX_TEXT)
        clean[key] = value
    return clean


def save(session: Session, year: int, actor: str, figures: dict[str, Any], texts: dict[str, Any],
         revision: int) -> AnnualReportEntry:
    """Keep a draft's figures (already parsed by ``annual_format.parse_figures``) and texts;
    ``revision`` is the one the form was read at. Audited ``report.saved``."""
    texts = _texts(texts)
    entry = _load_or_create(session, year)
    if entry.status == "final":
        raise ReportFinal(year=year)
    if entry.revision != revision:
        raise ReportChanged(f"revision {entry.revision} != {revision}", year=year, who=entry.updated_by or "他人")
    changed = sorted(k for k in ("rules", *(d[0] for d in F.DECISIONS), "fees", "processing_fees", "applications",
                                 "appeals") if entry.figures.get(k) != figures.get(k))
    changed += sorted(k for k in TEXT_FIELDS if (entry.texts or {}).get(k, "") != texts[k])
    entry.figures, entry.texts = figures, texts
    entry.revision += 1
    entry.updated_by, entry.updated_at = actor, utcnow()
    audit.append(session, actor, "report.saved", year=year, revision=entry.revision, changed=changed)
    return entry


def _load_or_create(session: Session, year: int) -> AnnualReportEntry:
    """The year's row, locked; created empty first when there is none (an upsert: two first
    saves at once both find the one row)."""
    session.execute(dialect_insert(session)(AnnualReportEntry.__table__).values(
        year=year, figures=F.empty_figures(), texts={}, status="draft", revision=0, updated_by="",
        updated_at=utcnow()).on_conflict_do_nothing(index_elements=["year"]))
    entry = load(session, year, lock=True)
    assert entry is not None
    return entry


def docx_bytes(report: dict[str, Any]) -> bytes:
    """The report as a .docx; refused while its figures do not add up."""
    from service.annual_docx import build

    if report["problems_found"]:
        raise ReportUnbalanced(what="；".join(report["problems_found"]))
    buffer = io.BytesIO()
    build(report).save(buffer)
    return buffer.getvalue()


def stored_docx(storage: Storage, report: dict[str, Any]) -> bytes | None:
    """A final report's stored .docx (None for a draft)."""
    if report["status"] != "final" or not report.get("sha256"):
        return None
    with storage.open(report["sha256"]) as f:
        return f.read()


def finalize(session: Session, storage: Storage, year: int, actor: str, taxonomy: Taxonomy,
             organisation: str = "") -> AnnualReportEntry:
    """定稿: the report as it is now, stored (.docx and snapshot) and frozen; audited with the
    .docx's SHA-256. Refused while the figures do not add up, and for a final report."""
    entry = _load_or_create(session, year)
    if entry.status == "final":
        raise ReportFinal(year=year)
    report = compose(session, year, taxonomy, organisation)
    now = utcnow()
    report.update(status="final", finalized_by=actor, finalized_at=beijing(now).strftime("%Y-%m-%d %H:%M"))
    document = docx_bytes(report)
    kept = storage.put(io.BytesIO(document))
    snapshot = {k: v for k, v in report.items() if k not in _state(None)}
    entry.status, entry.finalized_by, entry.finalized_at = "final", actor, now
    entry.final_sha256, entry.final_snapshot = kept.sha256, snapshot
    audit.append(session, actor, "report.finalized", year=year, sha256=kept.sha256, revision=entry.revision)
    return entry


def reopen(session: Session, year: int, actor: str, reason: str) -> AnnualReportEntry:
    """A final report made a draft again (an admin's decision, with its reason); audited with the
    digest of the .docx that was final."""
    reason = (reason or "").strip()
    if not reason:
        raise ReopenReasonRequired()
    entry = load(session, year, lock=True)
    if entry is None or entry.status != "final":
        raise ReportNotFinal(year=year)
    audit.append(session, actor, "report.reopened", year=year, sha256=entry.final_sha256, reason=reason[:500])
    entry.status, entry.final_snapshot, entry.final_sha256 = "draft", None, None
    entry.finalized_by = entry.finalized_at = None
    entry.revision += 1
    entry.updated_by, entry.updated_at = actor, utcnow()
    return entry


def final_digests(session: Session) -> set[str]:
    """Every .docx a report was ever made final with, reopened ones included (kept as the record
    of what was filed; ``gongkai check`` counts them as owned, not as orphans)."""
    details = session.execute(select(AuditEntry.detail).where(AuditEntry.action == "report.finalized")).scalars()
    return {d["sha256"] for d in details if d and d.get("sha256")}
