"""有效性: a rule is marked 现行有效 with the dates it states, later 已废止 by another document; the
catalogue shows it, links the repealing document and filters by it; the report counts them."""
from __future__ import annotations

import datetime as dt

import pytest
from documents import add_doc
from sqlalchemy import select
from web_client import PASSWORD, api_as, log_in
from werkzeug.security import generate_password_hash

from service.db import AuditEntry, Department, Document, User, transaction
from service.report import annual_report
from service.taxonomy import load
from service.validity import propose

RULE = ("为规范县级行政规范性文件管理，制定本办法。……本办法自2024年1月1日起施行，有效期5年。")


@pytest.mark.parametrize(("text", "proposed"), [
    (RULE, {"effective_from": "2024-01-01", "expires_on": "2028-12-31"}),
    ("本规定自２０２３年３月１日起实施，有效期至2028年2月29日。",
     {"effective_from": "2023-03-01", "expires_on": "2028-02-29"}),
    ("本办法自2020年2月29日起施行，有效期为二年。", {"effective_from": "2020-02-29", "expires_on": "2022-02-28"}),
    ("本通知自印发之日起施行。", {}),
    ("有效期5年。", {}),                           # a period without a start date proposes nothing
])
def test_a_rule_proposes_the_dates_it_states(text, proposed):
    assert propose(text) == proposed


@pytest.fixture
def world(app):
    with transaction(app.extensions["gongkai"].sessions) as s:
        dept = Department(code="sfj", name="县司法局")
        s.add(dept)
        s.add(User(username="rev", role="reviewer", password_hash=generate_password_hash(PASSWORD)))
        s.flush()
        old = add_doc(s, dept, "published", 1, title="县行政规范性文件管理办法", category="政策法规及规范性文件",
                      text=RULE, index_number="sfj-2024-00001",
                      published_at=dt.datetime(2024, 1, 2, 2, tzinfo=dt.UTC))
        new = add_doc(s, dept, "published", 2, title="县行政规范性文件管理办法（2026年修订）",
                      category="政策法规及规范性文件", index_number="sfj-2026-00007",
                      published_at=dt.datetime(2026, 6, 1, 2, tzinfo=dt.UTC))
    return {"old": old, "new": new}


def test_a_rule_is_effective_then_repealed_and_the_catalogue_shows_and_filters_it(app, world):
    rev, public = api_as(app, "rev"), app.test_client()
    old, new = world["old"], world["new"]
    set_ = rev.post(f"/api/v1/documents/{old}/validity", json={
        "status": "effective", "effective_from": "2024-01-01", "expires_on": "2028-12-31"})
    assert set_.status_code == 200 and set_.get_json()["validity"]["name"] == "现行有效"
    assert rev.post(f"/api/v1/documents/{new}/validity", json={"status": "effective"}).status_code == 200
    effective = public.get("/catalogue", query_string={"validity": "effective"}).get_data(as_text=True)
    assert "共 2 条" in effective and effective.count('data-testid="validity"') == 2
    # repealed by the revision: an end date is required, and the catalogue links the revision
    no_date = rev.post(f"/api/v1/documents/{old}/validity", json={"status": "repealed"})
    assert no_date.status_code == 422 and no_date.get_json()["error"]["code"] == "validity_invalid"
    bad_day = rev.post(f"/api/v1/documents/{old}/validity", json={"status": "repealed", "ends_on": "2026-13-01"})
    assert bad_day.status_code == 422 and "须为日期" in bad_day.get_json()["error"]["message"]
    assert rev.post(f"/api/v1/documents/{old}/validity", json={
        "status": "repealed", "effective_from": "2024-01-01", "ends_on": "2026-06-01",
        "changed_by": "sfj-2026-00007", "note": "新办法施行"}).status_code == 200
    page = public.get(f"/catalogue/{old}").get_data(as_text=True)
    assert "已废止" in page and "2026-06-01" in page and f'href="/catalogue/{new}">sfj-2026-00007</a>' in page
    repealed = public.get("/catalogue", query_string={"validity": "repealed"}).get_data(as_text=True)
    assert "共 1 条" in repealed and "县行政规范性文件管理办法" in repealed
    assert "共 1 条" in public.get("/catalogue", query_string={"validity": "effective"}).get_data(as_text=True)
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        changes = [(e.detail["before"] or {}).get("status") for e in s.execute(select(AuditEntry).where(
            AuditEntry.document_id == old, AuditEntry.action == "review.validity")).scalars()]
        assert changes == [None, "effective"]
        assert s.get(Document, old).validity_status == "repealed"
        assert annual_report(s, 2026, load()).validity == {"effective": 1, "repealed": 1}


def test_the_review_page_proposes_the_stated_dates(app, world):
    html = log_in(app, "rev").get(f"/review/{world['old']}").get_data(as_text=True)
    assert 'id="validity-proposal"' in html and "2024-01-01 起施行，有效期至 2028-12-31" in html
    assert 'name="expires_on" value="2028-12-31"' in html
