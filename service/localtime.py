"""Beijing time: how people see and name moments; the database keeps UTC.

Timestamps are stored in UTC (``service.db.utcnow``). Whenever a person reads one, or names
a day or a year ("received since 2026-03-01", "the 2026 catalogue", "the annual report for
2026"), it is Beijing time: China has one time zone, and a document published at 07:00 on
1 January belongs to the new year for the clerk, the catalogue and the annual report alike.
This module is the one place that converts. The API keeps ISO 8601 with an explicit offset
(unambiguous for machines); its day filters mean Beijing days, like the pages.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")


def as_utc(moment: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands back the UTC wall time without a zone)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def beijing(moment: datetime) -> datetime:
    """A stored timestamp in Beijing time."""
    return as_utc(moment).astimezone(CHINA_TIME)


def now() -> datetime:
    return datetime.now(CHINA_TIME)


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` Beijing time (what "since YYYY-MM-DD" means), in UTC.

    Always compare stored timestamps with UTC values: SQLite stores a datetime's wall time
    and drops its offset, so a Beijing-time bound would be read as UTC, eight hours off."""
    return datetime.combine(day, time.min, CHINA_TIME).astimezone(UTC)


def day_end(day: date) -> datetime:
    """Midnight after ``day`` Beijing time, in UTC: "until YYYY-MM-DD" is everything before it."""
    return day_start(day + timedelta(days=1))


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January Y, 1 January Y+1) Beijing time, in UTC (how timestamps are stored)."""
    return (datetime(year, 1, 1, tzinfo=CHINA_TIME).astimezone(UTC),
            datetime(year + 1, 1, 1, tzinfo=CHINA_TIME).astimezone(UTC))


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return beijing(value)


def display(value: datetime | str | None, seconds: bool = False) -> str:
    """'2026-01-01 07:05' in Beijing time, from a stored datetime or an ISO string; '' for none."""
    moment = _moment(value)
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def display_date(value: datetime | str | None) -> str:
    """'2026-01-01': the Beijing calendar day of a stored datetime or an ISO string; '' for none."""
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d") if moment else ""
