"""主动公开时限: 《政府信息公开条例》第二十六条 — information to be disclosed on the government's
initiative is published within 20 working days of its being formed (形成或者变更之日).

A document is formed on its 成文日期 (the 公文 field ``date``, as read or as a reviewer
corrected it). Working days follow China's calendar: weekends and statutory holidays are
off, and the weekends worked in their place (调休) are working days — the ``chinese-calendar``
package knows them for the years the State Council has announced (2004–2026 in the version
shipped). A day past its data counts Monday to Friday and the result says it is an estimate.
Day one is the first working day after the 成文日期; the deadline is the 20th.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import chinese_calendar

LIMIT_WORKING_DAYS = 20
#: Working days left at which the review queue starts to flag a document.
DUE_SOON_WORKING_DAYS = 5
#: Documents whose 成文日期 lies further back are not counted by the day (an archive import of
#: old files): they are simply past the limit.
MAX_SPAN_DAYS = 3 * 366

_DATE = re.compile(r"(?P<y>(?:19|20)\d\d)\s*(?:年|-|/|\.)\s*(?P<m>\d{1,2})\s*(?:月|-|/|\.)\s*(?P<d>\d{1,2})")

#: What a state means to a reviewer.
STATE_NAMES_ZH = {"on_time": "按时公开", "late": "超过时限公开", "due_soon": "临近公开时限", "overdue": "已超公开时限",
                  "open": "在公开时限内"}


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """Whether ``day`` is a working day, and whether the calendar knows (False: Monday–Friday assumed)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def formed_on(gongwen: dict[str, Any] | None) -> dt.date | None:
    """The 成文日期 of a document from its 公文 fields (ISO as read, or 2025年12月28日 as typed)."""
    hit = (gongwen or {}).get("date") or {}
    value = hit.get("value") if isinstance(hit, dict) else None
    m = _DATE.search(value) if isinstance(value, str) else None
    if not m:
        return None
    try:
        return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None


def _days_after(start: dt.date) -> Iterator[tuple[dt.date, int, bool]]:
    """The days after ``start``, each with the working days up to it and whether the calendar knew them all."""
    count, known, day = 0, True, start
    while True:
        day += dt.timedelta(days=1)
        workday, sure = is_workday(day)
        count += workday
        known = known and sure
        yield day, count, known


def working_days_after(start: dt.date, end: dt.date) -> tuple[int, bool]:
    """Working days in (``start``, ``end``], and whether every one was known to the calendar."""
    if end <= start:
        return 0, True
    return next((count, known) for day, count, known in _days_after(start) if day >= end)


def deadline(start: dt.date) -> tuple[dt.date, bool]:
    """The 20th working day after ``start``, and whether the calendar knew every day up to it."""
    return next((day, known) for day, count, known in _days_after(start) if count >= LIMIT_WORKING_DAYS)


@dataclass(frozen=True)
class Timeliness:
    formed: dt.date
    deadline: dt.date
    #: Working days from the 成文日期 to publication (or, unpublished, to today).
    used: int
    state: str  # on_time / late (published); open / due_soon / overdue (not yet)
    estimated: bool

    @property
    def left(self) -> int:
        return LIMIT_WORKING_DAYS - self.used

    @property
    def state_zh(self) -> str:
        return STATE_NAMES_ZH[self.state]

    def to_dict(self) -> dict[str, Any]:
        return {"formed": self.formed.isoformat(), "deadline": self.deadline.isoformat(), "working_days": self.used,
                "limit": LIMIT_WORKING_DAYS, "state": self.state, "estimated": self.estimated}


def assess(gongwen: dict[str, Any] | None, published: dt.date | None, today: dt.date) -> Timeliness | None:
    """The timeliness of a document formed on its 成文日期, published on ``published`` (a Beijing day)
    or not yet (counted to ``today``); None without a 成文日期, or with one after the end day."""
    formed = formed_on(gongwen)
    end = published or today
    if formed is None or formed > end:
        return None
    if (end - formed).days > MAX_SPAN_DAYS:
        last, known = deadline(formed)
        return Timeliness(formed, last, LIMIT_WORKING_DAYS + 1, "late" if published else "overdue", not known)
    used, known = working_days_after(formed, end)
    last, known_last = deadline(formed)
    if published is not None:
        state = "on_time" if used <= LIMIT_WORKING_DAYS else "late"
    elif used > LIMIT_WORKING_DAYS:
        state = "overdue"
    else:
        state = "due_soon" if LIMIT_WORKING_DAYS - used <= DUE_SOON_WORKING_DAYS else "open"
    return Timeliness(formed, last, used, state, not (known and known_last))
