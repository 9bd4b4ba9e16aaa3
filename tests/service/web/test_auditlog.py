"""操作日志: the audit log page, its CSV export, the chain check and /api/v1/audit — admins only."""
import csv
import io
import re

import pytest
from web_client import PASSWORD, attempt_login, csrf_of, log_in
from sqlalchemy import update
from werkzeug.security import generate_password_hash

from service.db import AuditEntry, Department, User, transaction



@pytest.fixture
def app(make_app):
    app = make_app()
    with transaction(app.extensions["gongkai"].sessions) as s:
        s.add(Department(code="a", name="甲乡人民政府"))
        s.flush()
        for name, role in (("adm", "admin"), ("rev", "reviewer"), ("up", "uploader")):
            s.add(User(username=name, role=role, department_id=1 if role == "uploader" else None,
                       password_hash=generate_password_hash(PASSWORD)))
    return app


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-seq="(\d+)">', html)


def test_only_admins_read_the_log(app):
    assert app.test_client().get("/admin/audit").headers["Location"].startswith("/login")
    for who in ("rev", "up"):
        client = log_in(app, who)
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit.csv").status_code == 403
        assert client.get("/api/v1/audit").status_code == 403
    assert app.test_client().get("/api/v1/audit").status_code == 401


def test_admin_filters_pages_and_sees_who_did_what(app):
    attempt_login(app, "rev", "wrong password")
    attempt_login(app, "=HYPERLINK(\"http://evil\",\"点我\")", "x")      # a name typed at the login form
    adm = log_in(app, "adm")
    html = adm.get("/admin/audit").get_data(as_text=True)
    assert "操作日志" in html and 'href="/admin/audit"' in html          # the header leads here
    assert "登录失败" in html and "登录</td>" in html and "ip=127.0.0.1" in html
    assert rows_of(html) == ["3", "2", "1"]        # adm logged in, the typed name failed, rev failed: newest first
    failed = adm.get("/admin/audit?kind=login.failed").get_data(as_text=True)
    assert rows_of(failed) == ["2", "1"] and "=HYPERLINK" in failed
    assert rows_of(adm.get("/admin/audit?actor=rev").get_data(as_text=True)) == ["1"]
    first = adm.get("/admin/audit?limit=2").get_data(as_text=True)
    assert rows_of(first) == ["3", "2"]
    older = re.search(r'href="([^"]+)" id="audit-older"', first).group(1).replace("&amp;", "&")
    assert rows_of(adm.get(older).get_data(as_text=True)) == ["1"]
    bad = adm.get("/admin/audit?since=2026-02-30").get_data(as_text=True)
    assert "查询条件有误：起始日期应为 YYYY-MM-DD" in bad and rows_of(bad) == []


def test_export_is_every_filtered_entry_as_safe_csv(app):
    attempt_login(app, "=HYPERLINK(\"http://evil\",\"点我\")", "x")
    for _ in range(3):
        log_in(app, "adm")
    adm = log_in(app, "adm")
    export = adm.get("/admin/audit.csv?kind=login")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert re.match(r"attachment; filename=gongkai-audit-\d{8}-\d{6}\.csv", export.headers["Content-Disposition"])
    body = export.get_data(as_text=True)
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert table[0][:4] == ["序号", "时间（北京时间）", "操作人", "操作"]
    assert [row[0] for row in table[1:]] == ["5", "4", "3", "2", "1"]
    assert table[-1][2] == "'=HYPERLINK(\"http://evil\",\"点我\")" and table[-1][3] == "登录失败"
    assert [row[0] for row in list(csv.reader(io.StringIO(
        adm.get("/admin/audit.csv?actor=nobody").get_data(as_text=True).lstrip("\ufeff"))))] == ["序号"]


def test_the_chain_check_says_intact_or_where_it_breaks(app):
    adm = log_in(app, "adm")
    log_in(app, "rev")
    token = csrf_of(adm)
    assert adm.post("/admin/audit/verify").status_code == 403            # a form without the CSRF token
    response = adm.post("/admin/audit/verify", data={"csrf_token": token, "kind": "login", "before": "9"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/audit?kind=login"
    page = adm.get("/admin/audit").get_data(as_text=True)
    assert "校验通过：共 2 条记录，哈希链完整。" in page
    assert "校验通过" not in adm.get("/admin/audit").get_data(as_text=True)   # shown once
    with transaction(app.extensions["gongkai"].sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(actor="someone-else"))
    adm.post("/admin/audit/verify", data={"csrf_token": token})
    assert ("校验失败：第 1 条，记录内容与其哈希不符（被改动过）；此前 0 条完好。"
            in adm.get("/admin/audit").get_data(as_text=True))


def test_api_pages_the_log_as_json(app):
    attempt_login(app, "rev", "wrong password")
    adm = log_in(app, "adm")
    body = adm.get("/api/v1/audit?limit=1").get_json()
    assert [e["action"] for e in body["entries"]] == ["login"] and body["next_before"] == 2
    rest = adm.get(f"/api/v1/audit?before={body['next_before']}").get_json()
    assert [(e["seq"], e["actor"], e["action_zh"]) for e in rest["entries"]] == [(1, "rev", "登录失败")]
    assert rest["next_before"] is None and rest["entries"][0]["at"].endswith("+08:00")
    error = adm.get("/api/v1/audit?until=tomorrow")
    assert error.status_code == 422 and error.get_json()["error"]["code"] == "bad_request"
