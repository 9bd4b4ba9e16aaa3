"""主动公开时限 (《条例》第二十六条): 20 working days from the 成文日期, on China's calendar.

The dates below were counted by hand from the State Council's 2026 holiday notice
(国办发明电〔2025〕7号: 春节 2月15日至23日放假，共9天；2月14日（星期六）、2月28日（星期六）上班).
"""
from __future__ import annotations

import datetime as dt

import pytest

from service.timeliness import assess, deadline, formed_on, working_days_after

D = dt.date
#: Signed Tuesday 10 February 2026. Working days after it: 11, 12, 13, 14 (Saturday, 调休), then the
#: holiday 15–23, then 24, 25, 26, 27, 28 (Saturday, 调休) — 9 —, 2, 3, 4, 5, 6 March (14),
#: 9, 10, 11, 12, 13 (19), 16 March (20). Counting Monday to Friday only would end on 10 March.
SIGNED = D(2026, 2, 10)


def formed(day: dt.date | str) -> dict:
    return {"date": {"value": day if isinstance(day, str) else day.isoformat()}}


def test_the_twentieth_working_day_across_the_spring_festival_and_two_makeup_saturdays():
    assert deadline(SIGNED) == (D(2026, 3, 16), True)
    assert working_days_after(SIGNED, D(2026, 2, 14)) == (4, True)       # the 调休 Saturday counts
    assert working_days_after(SIGNED, D(2026, 2, 23)) == (4, True)       # the festival does not
    assert working_days_after(SIGNED, D(2026, 2, 28)) == (9, True)
    assert working_days_after(SIGNED, D(2026, 3, 16)) == (20, True)


@pytest.mark.parametrize(("published", "state", "used"), [
    (D(2026, 3, 16), "on_time", 20), (D(2026, 3, 17), "late", 21), (D(2026, 2, 11), "on_time", 1)])
def test_a_published_document_is_on_time_or_late(published, state, used):
    found = assess(formed(SIGNED), published, today=D(2026, 12, 7))
    assert (found.state, found.used, found.deadline, found.estimated) == (state, used, D(2026, 3, 16), False)


@pytest.mark.parametrize(("today", "state", "left"), [
    (D(2026, 2, 28), "open", 11), (D(2026, 3, 9), "due_soon", 5), (D(2026, 3, 16), "due_soon", 0),
    (D(2026, 3, 18), "overdue", -2)])
def test_a_document_under_review_is_open_due_soon_or_overdue(today, state, left):
    found = assess(formed(SIGNED), None, today=today)
    assert (found.state, found.left) == (state, left)


def test_the_date_as_read_or_as_a_reviewer_typed_it():
    assert formed_on(formed("2026-02-10")) == SIGNED
    assert formed_on(formed("2026年2月10日")) == SIGNED
    assert formed_on(formed("二〇二六年二月十日")) is None        # read into ISO by the 公文 parser, never typed so
    assert formed_on(formed("2026年2月30日")) is None
    assert formed_on(None) is None and assess(None, None, D(2026, 3, 1)) is None


def test_a_year_the_calendar_does_not_know_is_counted_monday_to_friday_and_says_so():
    found = assess(formed(D(2030, 1, 7)), None, today=D(2030, 1, 14))   # Monday → the Monday after
    assert (found.used, found.estimated) == (5, True)


def test_an_old_archive_document_is_simply_past_the_limit():
    found = assess(formed(D(2015, 6, 1)), D(2026, 3, 1), today=D(2026, 12, 7))
    assert found.state == "late"
