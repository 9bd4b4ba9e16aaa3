"""公开属性: a document that says （此件不予公开） starts so and never reaches the catalogue; 依申请公开
and 不予公开 need a reason of the 条例 that fits; changes are audited; the report counts them."""
from __future__ import annotations

import datetime as dt

import docx
import pytest
from sqlalchemy import select
from web_client import PASSWORD, api_as, log_in
from werkzeug.security import generate_password_hash

from service import disclosure
from service.analysis.gongwen import extract_gongwen
from service.db import AuditEntry, Department, Document, User, transaction
from service.processing import ingest
from service.receiving import receive
from service.report import annual_report
from service.taxonomy import load

CORRECT = {"action": "correct", "category": "其他"}


def notice(path, note: str | None):
    d = docx.Document()
    for line in ("县民政局关于2026年社会救助资金使用情况的报告", "县人民政府：",
                 "现将我局2026年社会救助资金使用情况报告如下。全年共发放城乡低保资金和临时救助资金，"
                 "资金使用规范，未发现违规问题。", "县民政局", "2026年11月20日", *([note] if note else [])):
        d.add_paragraph(line)
    d.save(path)
    return path


@pytest.mark.parametrize(("note", "attribute"), [
    ("（此件不予公开）", "not_disclosed"), ("(此件依申请公开)", "on_request"), ("（此件公开发布）", "active"),
    ("(此件公開發布)", "active"), (None, "active")])
def test_the_documents_own_note_sets_where_it_starts(note, attribute):
    lines = ["县民政局关于做好临时救助工作的通知", "各乡镇人民政府：", "正文。", "县民政局", "2025年12月28日"]
    fields = extract_gongwen(lines + ([note] if note else []))
    assert disclosure.from_gongwen({k: v.to_dict() for k, v in fields.items()}) == attribute


def test_a_note_inside_a_sentence_is_not_the_documents_attribute():
    fields = extract_gongwen(["县民政局关于做好临时救助工作的通知", "文件末尾应注明（此件不予公开）等公开属性。",
                              "县民政局", "2025年12月28日"])
    assert "disclosure" not in fields


@pytest.fixture
def world(make_app, tmp_path):
    app = make_app()
    rt = app.extensions["gongkai"]
    with transaction(rt.sessions) as s:
        dept = Department(code="mzj", name="县民政局")
        s.add(dept)
        s.add_all([User(username=n, role="reviewer", password_hash=generate_password_hash(PASSWORD))
                   for n in ("rev1", "rev2")])
        s.flush()
        dept_id = dept.id
    ids = {}
    for key, note in (("withheld", "（此件不予公开）"), ("plain", None)):
        path = notice(tmp_path / f"{key}.docx", note)
        with open(path, "rb") as fh:
            ids[key] = receive(rt.sessions, rt.storage, department_id=dept_id, filename=path.name, stream=fh,
                               uploaded_by="经办人").document_id
        assert ingest(rt, ids[key]) == "pending_review"
    return app, ids


def test_a_withheld_document_is_preset_needs_a_fitting_reason_and_is_never_published(world):
    app, ids = world
    rev1, rev2 = api_as(app, "rev1"), api_as(app, "rev2")
    doc = ids["withheld"]
    view = rev1.get(f"/api/v1/documents/{doc}").get_json()
    assert view["disclosure"] == {"attribute": "not_disclosed", "name": "不予公开", "reason": None, "reason_name": None}
    assert view["metadata"]["disclosure"]["value"] == "此件不予公开"
    # a reason must be given, and fit the attribute (第二十七条 is for 依申请公开 only)
    for body in ({"attribute": "not_disclosed"}, {"attribute": "not_disclosed", "reason": "art27_not_active_scope"},
                 {"attribute": "secret"}):
        refused = rev1.post(f"/api/v1/documents/{doc}/disclosure", json=body)
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "disclosure_invalid", body
    chosen = rev1.post(f"/api/v1/documents/{doc}/disclosure",
                       json={"attribute": "not_disclosed", "reason": "art16_process", "note": "请示报告"})
    assert chosen.get_json()["disclosure"]["reason_name"].startswith("第十六条 过程性信息（讨论记录、过程稿")
    assert rev1.post(f"/api/v1/documents/{doc}/review", json=CORRECT).status_code == 200
    assert rev1.post(f"/api/v1/documents/{doc}/secrecy-review", json={"result": "cleared"}).status_code == 200
    for who in (rev1, rev2):
        refused = who.post(f"/api/v1/documents/{doc}/publish")
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_active_disclosure"
        assert "不予公开" in refused.get_json()["error"]["message"]
    public = app.test_client()
    assert public.get(f"/catalogue/{doc}").status_code == 404
    assert "社会救助资金" not in public.get("/catalogue").get_data(as_text=True)
    # the 已审核 view lists it for reviewers, with its reason
    listed = log_in(app, "rev1").get("/review?status=approved").get_data(as_text=True)
    assert 'data-testid="disclosure"' in listed and "第十六条 过程性信息" in listed
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.document_id == doc,
                                                     AuditEntry.action == "review.disclosure")).scalars().all()
        assert [(e.actor, e.detail["from"], e.detail["to"], e.detail["reason"]) for e in entries] == [
            ("rev1", "not_disclosed", "not_disclosed", "art16_process")]
        assert s.get(Document, doc).status == "approved"
        report = annual_report(s, dt.date.today().year, load())
    assert report.disclosure["not_disclosed"] == 1


def test_a_document_made_active_again_is_published(world):
    app, ids = world
    rev1, rev2 = api_as(app, "rev1"), api_as(app, "rev2")
    doc = ids["withheld"]
    assert rev1.post(f"/api/v1/documents/{doc}/disclosure", json={"attribute": "active", "reason": "art16_process",
                                                                  "note": "经核实可以公开"}).status_code == 200
    assert rev1.get(f"/api/v1/documents/{doc}").get_json()["disclosure"]["reason"] is None   # active needs none
    assert rev1.post(f"/api/v1/documents/{doc}/review", json=CORRECT).status_code == 200
    assert rev2.post(f"/api/v1/documents/{doc}/publish").status_code == 200
    published = rev2.post(f"/api/v1/documents/{doc}/disclosure", json={"attribute": "on_request",
                                                                       "reason": "art15_privacy"})
    assert published.status_code == 409                                  # decided before publishing, not after
    assert app.test_client().get(f"/catalogue/{doc}").status_code == 200
