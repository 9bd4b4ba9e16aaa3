"""A reviewer corrects a wrong title (the issuer line or a stray "上" became the title) and the
公文 fields, the 主送机关 under the name the parser gives it; every change is audited. The public
pages say whose site they are (``GONGKAI_SITE_NAME``)."""
from __future__ import annotations

from documents import add_doc
from sqlalchemy import select
from web_client import PASSWORD, api_as, csrf_of, log_in
from werkzeug.security import generate_password_hash

from service.db import AuditEntry, Department, Document, User, transaction


def world(app) -> int:
    with transaction(app.extensions["gongkai"].sessions) as s:
        dept = Department(code="mzj", name="县民政局")
        s.add(dept)
        s.add(User(username="rev", role="reviewer", password_hash=generate_password_hash(PASSWORD)))
        s.flush()
        return add_doc(s, dept, "pending_review", title="县民政局", gongwen={
            "addressee": {"value": "各乡镇人民政府", "line": 3}, "doc_number": {"value": "民发〔2025〕3号"}})


def test_the_title_and_the_addressee_are_corrected_through_the_api_and_audited(app):
    doc = world(app)
    rev = api_as(app, "rev")
    answer = rev.post(f"/api/v1/documents/{doc}/fields", json={
        "title": "  县民政局关于做好2026年 临时救助工作的通知 ", "addressee": "各乡镇人民政府，县直各部门"})
    assert answer.status_code == 200, answer.get_json()
    view = answer.get_json()
    assert view["title"] == "县民政局关于做好2026年 临时救助工作的通知"
    assert view["metadata"]["addressee"]["value"] == "各乡镇人民政府，县直各部门"
    assert view["metadata"]["doc_number"]["value"] == "民发〔2025〕3号"      # untouched
    empty = rev.post(f"/api/v1/documents/{doc}/fields", json={"title": "  "})
    assert empty.status_code == 422 and empty.get_json()["error"]["code"] == "title_required"
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        assert s.get(Document, doc).title == "县民政局关于做好2026年 临时救助工作的通知"
        changes = [e.detail["changes"] for e in s.execute(select(AuditEntry).where(
            AuditEntry.document_id == doc, AuditEntry.action == "review.fields")).scalars()]
    assert changes == [{"title": {"from": "县民政局", "to": "县民政局关于做好2026年 临时救助工作的通知"},
                        "addressee": {"from": "各乡镇人民政府", "to": "各乡镇人民政府，县直各部门"}}]


def test_the_review_page_shows_the_title_and_the_parsers_addressee_and_saves_them(app):
    doc = world(app)
    page = log_in(app, "rev")
    html = page.get(f"/review/{doc}").get_data(as_text=True)
    assert 'id="f-title" name="title" value="县民政局"' in html
    assert 'id="f-addressee" name="addressee" value="各乡镇人民政府"' in html
    saved = page.post(f"/review/{doc}/fields", data={"csrf_token": csrf_of(page),
                                                      "title": "县民政局关于做好临时救助工作的通知",
                                                      "addressee": "各乡镇人民政府"})
    assert saved.status_code in (302, 303)
    assert 'value="县民政局关于做好临时救助工作的通知"' in page.get(f"/review/{doc}").get_data(as_text=True)


def test_the_site_says_whose_it_is(make_app):
    named = make_app(site_name="蒙阴县人民政府").test_client().get("/catalogue").get_data(as_text=True)
    assert "<title>公开目录 · 蒙阴县人民政府 政府信息公开</title>" in named
    assert 'data-testid="site-name">蒙阴县人民政府 政府信息公开</a>' in named
    plain = make_app().test_client().get("/catalogue").get_data(as_text=True)
    assert 'data-testid="site-name">政府信息公开平台</a>' in plain
