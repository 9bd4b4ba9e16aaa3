"""有效性 of 规范性文件 and other rules: 现行有效, 已修改, 已废止 or 已失效, with the dates and the
document that changed it.

A reviewer sets it (``set_validity``) before or after publication — a rule is repealed years
after it was published — and every change is audited. The catalogue shows it and filters by
it; the annual report counts the 现行有效 ones. ``propose`` reads what a rule says of itself
("自2024年1月1日起施行，有效期5年" / "有效期至2028年12月31日") so the reviewer has the dates to
confirm; a rule whose 有效期 has passed is shown as due for 已失效.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.analysis.normalize import analysis_form
from service.db import Document, utcnow
from service.errors import GongkaiError

STATUSES = {"effective": "现行有效", "amended": "已修改", "repealed": "已废止", "expired": "已失效"}
#: Statuses that end a rule's force on a date (``ends_on``) and may name what changed it.
ENDING = ("amended", "repealed", "expired")

_DATE = r"(?P<{0}y>(?:19|20)\d\d)\s*年\s*(?P<{0}m>\d{{1,2}})\s*月\s*(?P<{0}d>\d{{1,2}})\s*日"
_FROM = re.compile(r"自\s*" + _DATE.format("f") + r"\s*起\s*(?:施行|实施|执行|生效)")
_YEARS = re.compile(r"有效期\s*(?:为|是)?\s*(?P<n>\d{1,2}|[一二三四五六七八九十])\s*年")
_UNTIL = re.compile(r"有效期\s*(?:至|到|截至)\s*" + _DATE.format("u"))
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


class ValidityInvalid(GongkaiError):
    code = "validity_invalid"
    http_status = 422
    message_zh = "有效性有误：{what}"
    message_en = "Invalid validity: {what}"


def _date(m: re.Match, p: str) -> dt.date | None:
    try:
        return dt.date(int(m[p + "y"]), int(m[p + "m"]), int(m[p + "d"]))
    except ValueError:
        return None


def _years_later(day: dt.date, years: int) -> dt.date:
    """The last day of ``years`` years from ``day`` (five years from 1 January 2024: 31 December 2028)."""
    try:
        return day.replace(year=day.year + years) - dt.timedelta(days=1)
    except ValueError:   # 29 February
        return day.replace(year=day.year + years, day=28)


def propose(text: str | None) -> dict[str, str]:
    """The dates a rule states: ``effective_from`` (自…起施行) and ``expires_on`` (有效期…年 / 有效期至…)."""
    found: dict[str, str] = {}
    body = analysis_form(text or "")
    start = next((d for m in _FROM.finditer(body) if (d := _date(m, "f"))), None)
    if start:
        found["effective_from"] = start.isoformat()
    if (m := _UNTIL.search(body)) and (until := _date(m, "u")):
        found["expires_on"] = until.isoformat()
    elif start and (m := _YEARS.search(body)):
        n = int(m["n"]) if m["n"].isdigit() else _CN[m["n"]]
        found["expires_on"] = _years_later(start, n).isoformat()
    return found


def _day(value: Any, label: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError as exc:
        raise ValidityInvalid(str(value), what=f"{label}须为日期（如 2026-01-01）") from exc


def set_validity(session: Session, doc: Document, actor: str, status: str | None, *, effective_from: Any = None,
                 expires_on: Any = None, ends_on: Any = None, changed_by: str | None = None,
                 note: str = "") -> bool:
    """Set (``status`` None: clear) the 有效性 of ``doc`` (read with its row locked); audited.
    ``changed_by``: the 索引号 or 文号 of the document that amended or repealed it."""
    if doc.status not in ("pending_review", "approved", "published", "withdrawn"):
        raise ValidityInvalid(doc.status, what="只能为待审核、已审核或已发布的文件设置")
    if status is None or status == "":
        value = None
    elif status not in STATUSES:
        raise ValidityInvalid(status, what=f"状态须为{'、'.join(STATUSES.values())}之一")
    else:
        source = (changed_by or "").strip()[:100] if status in ("amended", "repealed") else ""
        value = {"status": status, "effective_from": _day(effective_from, "施行日期"),
                 "expires_on": _day(expires_on, "有效期截止日期"),
                 "ends_on": _day(ends_on, "废止、修改或失效日期") if status in ENDING else None,
                 "changed_by": source or None}
        if status in ENDING and not value["ends_on"]:
            raise ValidityInvalid(status, what=f"「{STATUSES[status]}」须填写日期")
    if value == _comparable(doc.validity):
        return False
    audit.append(session, actor, "review.validity", document_id=doc.id, before=_comparable(doc.validity), after=value,
                 note=note.strip()[:500] or None)
    doc.validity = {**value, "by": actor, "at": utcnow().isoformat()} if value else None
    doc.validity_status = value["status"] if value else None
    return True


def _comparable(stored: dict | None) -> dict | None:
    return {k: v for k, v in stored.items() if k not in ("by", "at")} if stored else None


def describe(session: Session | None, stored: dict | None, today: dt.date) -> dict | None:
    """The 有效性 as pages show it: its name, dates, a link to the document that changed it
    (a published document with that 索引号), and whether its 有效期 has run out."""
    if not stored:
        return None
    shown = {**_comparable(stored), "name": STATUSES.get(stored.get("status"), stored.get("status"))}
    expires = stored.get("expires_on")
    shown["lapsed"] = bool(stored.get("status") == "effective" and expires and expires < today.isoformat())
    changed = stored.get("changed_by")
    if changed and session is not None:
        shown["changed_by_id"] = session.execute(select(Document.id).where(
            Document.index_number == changed, Document.status == "published")).scalar_one_or_none()
    return shown
