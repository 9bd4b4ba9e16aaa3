"""审核 and 签发 are different people: 初审 by one reviewer, 签发 by a signer or another reviewer
(``GONGKAI_REVIEW_STAGES``, default 2); a deployment may choose one stage."""
from __future__ import annotations

import pytest
from documents import add_doc
from sqlalchemy import select
from web_client import PASSWORD, api_as, log_in
from werkzeug.security import generate_password_hash

from service import config
from service.db import AuditEntry, Department, User, transaction
from service.errors import ConfigError


def world(app) -> int:
    with transaction(app.extensions["gongkai"].sessions) as s:
        dept = Department(code="nyj", name="县农业农村局")
        s.add(dept)
        s.add_all([User(username=name, role=role, password_hash=generate_password_hash(PASSWORD))
                   for name, role in (("rev1", "reviewer"), ("rev2", "reviewer"), ("lead", "signer"))])
        s.flush()
        return add_doc(s, dept, "pending_review", 1, suggested_category="工作动态", confidence=0.95,
                       text="县农业农村局召开秋粮收购工作会议。")


def test_the_approver_cannot_sign_a_signer_or_another_reviewer_can(app):
    doc = world(app)
    rev1, lead = api_as(app, "rev1"), api_as(app, "lead")
    assert lead.post(f"/api/v1/documents/{doc}/review", json={"action": "confirm"}).status_code == 403   # no 初审
    assert rev1.post(f"/api/v1/documents/{doc}/review", json={"action": "confirm"}).status_code == 200
    own = rev1.post(f"/api/v1/documents/{doc}/publish")
    assert own.status_code == 409 and own.get_json()["error"]["code"] == "sign_off_required"
    assert "rev1" in own.get_json()["error"]["message"]
    signed = lead.post(f"/api/v1/documents/{doc}/publish")
    assert signed.status_code == 200 and signed.get_json()["status"] == "published"
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.document_id == doc)).scalars().all()
    approved = next(e for e in entries if e.action == "status" and e.detail["to"] == "approved")
    published = next(e for e in entries if e.action == "publish")
    assert (approved.actor, approved.detail["stage"]) == ("rev1", "初审")
    assert (published.actor, published.detail["stage"], published.detail["approved_by"]) == ("lead", "签发", "rev1")


def test_another_reviewer_signs_and_a_signer_sees_the_queue_but_not_the_first_stage(app):
    doc = world(app)
    assert api_as(app, "rev1").post(f"/api/v1/documents/{doc}/review", json={"action": "confirm"}).status_code == 200
    lead = log_in(app, "lead")
    waiting = lead.get("/review?status=approved").get_data(as_text=True)
    assert "已初审 · 待签发" in waiting and "初审：rev1" in waiting
    page = lead.get(f"/review/{doc}").get_data(as_text=True)
    assert 'id="confirm"' not in page and 'id="add-mask"' not in page and ">签发</button>" in page
    own = log_in(app, "rev1").get(f"/review/{doc}").get_data(as_text=True)
    assert "此件由您初审，须由他人签发" in own and 'id="publish" disabled' in own
    assert api_as(app, "rev2").post(f"/api/v1/documents/{doc}/publish").status_code == 200


def test_one_stage_lets_the_approver_publish(make_app):
    app = make_app(review_stages=1)
    doc = world(app)
    rev1 = api_as(app, "rev1")
    assert rev1.post(f"/api/v1/documents/{doc}/review", json={"action": "confirm"}).status_code == 200
    assert rev1.post(f"/api/v1/documents/{doc}/publish").status_code == 200
    assert 'id="stage"' not in log_in(app, "rev1").get(f"/review/{doc}").get_data(as_text=True)


@pytest.mark.parametrize("stages", ["0", "3"])
def test_only_one_or_two_stages(stages):
    with pytest.raises(ConfigError):
        config.load(environ={"GONGKAI_REVIEW_STAGES": stages})
