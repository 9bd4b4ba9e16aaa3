"""Beijing time for people, UTC in the database: conversions, and day bounds that hold on both databases."""
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from service import localtime
from service.db import Department, Document, transaction

NEW_YEAR_UTC = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)      # 2026-01-01 00:30 in Beijing


def test_display_reads_stored_values_and_iso_strings_as_beijing_time():
    naive_utc = NEW_YEAR_UTC.replace(tzinfo=None)                        # how SQLite hands a timestamp back
    for value in (NEW_YEAR_UTC, naive_utc, NEW_YEAR_UTC.isoformat(), "2026-01-01T00:30:00+08:00"):
        assert localtime.display(value) == "2026-01-01 00:30"
        assert localtime.display_date(value) == "2026-01-01"
    assert localtime.display(NEW_YEAR_UTC, seconds=True) == "2026-01-01 00:30:00"
    assert localtime.display(None) == localtime.display("") == localtime.display_date(None) == ""


def test_day_and_year_bounds_are_beijing_midnights_given_in_utc():
    assert localtime.day_start(date(2026, 1, 1)) == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert localtime.day_start(date(2026, 1, 1)).tzinfo == UTC
    assert localtime.day_end(date(2025, 12, 31)) == localtime.day_start(date(2026, 1, 1))
    assert localtime.year_bounds(2026) == (datetime(2025, 12, 31, 16, tzinfo=UTC),
                                           datetime(2026, 12, 31, 16, tzinfo=UTC))


def test_day_bounds_select_the_right_rows_on_sqlite_and_postgresql(sessions):
    """SQLite keeps a datetime's wall time and drops its offset: a bound in Beijing time would
    be compared as if it were UTC. The bounds are UTC, so both databases agree."""
    with transaction(sessions) as s:
        dept = Department(code="d", name="县财政局")
        s.add(dept)
        s.flush()
        for n, at in enumerate((NEW_YEAR_UTC, datetime(2025, 12, 31, 15, 59, tzinfo=UTC))):
            s.add(Document(department_id=dept.id, filename=f"{n}.pdf", sha256=str(n) * 64, size=1,
                           status="received", created_at=at))
    with transaction(sessions, readonly=True) as s:
        def count(*where) -> int:
            return s.execute(select(func.count()).select_from(Document).where(*where)).scalar_one()
        new_year = date(2026, 1, 1)
        assert count(Document.created_at >= localtime.day_start(new_year)) == 1
        assert count(Document.created_at < localtime.day_end(date(2025, 12, 31))) == 1
        start, end = localtime.year_bounds(2026)
        assert count(Document.created_at >= start, Document.created_at < end) == 1
