"""Values people type, read within what the database and Python's dates can hold.

Used by the web's request reading (``service.web.inputs``, which turns a ValueError into a 4xx)
and by the core where a filter arrives as text (``service.audit_query``). An id above a signed
32-bit integer names no row; a day before 1900 or after 9998 has a Beijing midnight outside
Python's dates, so it is read as the nearest day in range (which selects the same documents);
NUL and half of a UTF-16 surrogate pair are text no column can store.
"""
from __future__ import annotations

from datetime import date

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def parse_int(raw: str, minimum: int = 1, maximum: int = INT32_MAX) -> int:
    """``raw`` as a whole number in [minimum, maximum]; ValueError otherwise."""
    value = int(raw.strip())
    if not minimum <= value <= maximum:
        raise ValueError(f"{value} not in [{minimum}, {maximum}]")
    return value


def parse_day(raw: str) -> date:
    """``raw`` (YYYY-MM-DD) as a day, moved into [1900-01-01, 9998-12-31]; ValueError if it is no day."""
    return min(max(date.fromisoformat(raw.strip()), FIRST_DAY), LAST_DAY)


def unstorable(text: str) -> bool:
    """Whether ``text`` holds what no database column can store: NUL, or an unpaired surrogate."""
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)
