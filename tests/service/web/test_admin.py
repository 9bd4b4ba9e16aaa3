"""Admin pages: departments, users, taxonomy, model versions, queue status — admins only."""
import re
from pathlib import Path

import pytest
from web_client import PASSWORD, log_in_with_token
from werkzeug.security import generate_password_hash

from service.db import AuditEntry, Department, User, transaction
from testenv import SHIPPED_MODEL

MODELS = Path(__file__).resolve().parents[3] / "models"


@pytest.fixture
def app(make_app):
    app = make_app(with_models=True)
    with transaction(app.extensions["gongkai"].sessions) as s:
        s.add(Department(code="a", name="甲乡人民政府"))
        s.flush()
        s.add(User(username="adm", role="admin", password_hash=generate_password_hash(PASSWORD)))
        s.add(User(username="rev", role="reviewer", password_hash=generate_password_hash(PASSWORD)))
    return app


def test_only_admins_see_the_admin_page(app):
    assert app.test_client().get("/admin").status_code == 302
    rev, _ = log_in_with_token(app, "rev")
    assert rev.get("/admin").status_code == 403
    adm, _ = log_in_with_token(app, "adm")
    html = adm.get("/admin").get_data(as_text=True)
    assert "甲乡人民政府" in html and "分类体系" in html and SHIPPED_MODEL in html and "使用中" in html
    assert "排队" in html and "处理进程" in html


def test_admin_adds_departments_and_users_with_csrf(app):
    adm, token = log_in_with_token(app, "adm")
    assert adm.post("/admin/departments", data={"code": "mzj", "name": "县民政局"}).status_code == 403
    added = adm.post("/admin/departments", data={"code": "mzj", "name": "县民政局", "csrf_token": token})
    assert added.status_code == 302
    dup = adm.post("/admin/departments", data={"code": "mzj", "name": "县民政局", "csrf_token": token})
    assert dup.status_code == 422 and "已存在" in dup.get_data(as_text=True)
    # its 统一社会信用代码, for the 索引号 (checked: GB 32100 check character)
    bad = adm.post("/admin/departments/mzj/credit-code",
                   data={"credit_code": "113708280043326002", "csrf_token": token})
    assert bad.status_code == 422 and "统一社会信用代码「113708280043326002」无效" in bad.get_data(as_text=True)
    assert adm.post("/admin/departments/mzj/credit-code",
                    data={"credit_code": "113708280043326001", "csrf_token": token}).status_code == 302
    assert 'value="113708280043326001"' in adm.get("/admin").get_data(as_text=True)
    no_dept = adm.post("/admin/users", data={"username": "clerk", "role": "uploader", "password": "pw-12345678",
                                             "csrf_token": token})
    assert no_dept.status_code == 422 and "经办人必须属于一个部门" in no_dept.get_data(as_text=True)
    ok = adm.post("/admin/users", data={"username": "clerk", "name": "王文书", "role": "uploader", "department": "mzj",
                                        "password": "pw-12345678", "csrf_token": token})
    assert ok.status_code == 302
    # the password the admin chose is temporary: the clerk chooses their own, then goes on
    clerk, clerk_token = log_in_with_token(app, "clerk", "pw-12345678")
    first = clerk.get("/upload")
    assert first.status_code == 302 and first.headers["Location"] == "/account?next=/upload"
    assert clerk.get("/submissions").headers["Location"] == "/account?next=/submissions"
    page = clerk.get("/account?next=/upload").get_data(as_text=True)
    assert "临时密码" in page and 'action="/account?next=/upload"' in page
    for refused in (clerk.get("/api/v1/documents"),
                    clerk.post("/api/v1/documents", headers={"X-CSRF-Token": clerk_token})):
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "password_change_required"
    assert clerk.get("/api/v1/me").get_json()["must_change_password"] is True
    changed = clerk.post("/account?next=/upload", data={"current_password": "pw-12345678", "csrf_token": clerk_token,
                                                       "new_password": "my-own-2026", "repeat_password": "my-own-2026"})
    assert changed.status_code == 302 and changed.headers["Location"] == "/upload"
    assert "县民政局" in clerk.get("/upload").get_data(as_text=True)
    assert "临时密码" not in clerk.get("/account").get_data(as_text=True)
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        actions = [e.action for e in s.query(AuditEntry).order_by(AuditEntry.seq)]
    assert "department.create" in actions and "user.create" in actions


def test_model_activate_and_refused_rollback(app, tmp_path):
    adm, token = log_in_with_token(app, "adm")
    history_file = tmp_path / "models" / "county-default" / "history.jsonl"
    before = history_file.read_text(encoding="utf-8").count('"activate"')
    done = adm.post("/admin/models", data={"action": "activate", "version": SHIPPED_MODEL, "csrf_token": token})
    assert done.status_code == 302
    assert history_file.read_text(encoding="utf-8").count('"activate"') == before + 1
    back = adm.post("/admin/models", data={"action": "rollback", "csrf_token": token})
    assert back.status_code == 302  # back to the same version: the stack had two entries


def test_retrain_button_queues_a_background_job(app):
    adm, token = log_in_with_token(app, "adm")
    assert adm.post("/admin/models", data={"action": "retrain", "csrf_token": token}).status_code == 302
    queue = app.extensions["gongkai"].queue
    (job,) = queue.get_jobs()
    assert job.func_name == "service.jobs.retrain_job" and job.args == ["adm"]
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        assert s.query(AuditEntry).filter(AuditEntry.action == "model.retrain").count() == 1


def test_admin_page_shows_how_each_version_fared_on_reviewed_documents(app):
    from service.db import Document

    adm, _ = log_in_with_token(app, "adm")
    assert "还没有经审核确认、带模型建议的文件" in adm.get("/admin").get_data(as_text=True)
    with transaction(app.extensions["gongkai"].sessions) as s:
        for i, (confirmed, top, preselected) in enumerate([("工作动态", "工作动态", True),
                                                           ("工作动态", "工作动态", True),
                                                           ("政策法规及规范性文件", "规划计划", True),
                                                           ("应急预案", "应急预案", False)]):
            s.add(Document(department_id=1, filename=f"{i}.pdf", sha256=f"{i:064x}", size=1, status="approved",
                           category=confirmed, reviewed_by="rev", model_version=SHIPPED_MODEL,
                           suggested_category=top if preselected else None, needs_attention=not preselected,
                           confidence=0.9, candidates=[{"category": top, "probability": 0.9}]))
    html = adm.get("/admin").get_data(as_text=True)
    row = re.search(rf'<tr data-version="{re.escape(SHIPPED_MODEL)}">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).split("[")[0].strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[1:6] == ["4", "75.0%", "66.7%", "75.0%", "0.667"]   # F1 1, 0, 1 over the confirmed categories
    assert "规划计划 → 政策法规及规范性文件" in cells[6] and "1 篇" in cells[6]
    assert row.count('class="below-goal"') == 3                  # every goal missed on these four


def signed_in(client) -> bool:
    return client.get("/review").status_code == 200


def test_a_user_changes_their_password_and_their_other_sessions_end(app):
    here, token = log_in_with_token(app, "rev")
    elsewhere, _ = log_in_with_token(app, "rev")
    api = app.test_client()
    assert api.post("/api/v1/login", json={"username": "rev", "password": PASSWORD}).status_code == 200
    page = here.get("/account").get_data(as_text=True)
    assert "我的账号" in page and "审核人" in page and 'href="/account"' in page  # the header's name leads here
    form = {"current_password": PASSWORD, "new_password": "a-new-secret-9", "repeat_password": "a-new-secret-9",
            "csrf_token": token}
    assert here.post("/account", data={**form, "csrf_token": ""}).status_code == 403
    for wrong, message in (({"current_password": "not-it"}, "当前密码不正确"),
                           ({"repeat_password": "a-new-secret-0"}, "两次输入的新密码不一致"),
                           ({"new_password": "short", "repeat_password": "short"}, "新密码至少 8 位")):
        refused = here.post("/account", data={**form, **wrong})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert signed_in(elsewhere)
    done = here.post("/account", data=form)
    assert done.status_code == 200 and 'data-testid="password-changed"' in done.get_data(as_text=True)
    assert signed_in(here)  # this browser stays signed in …
    assert not signed_in(elsewhere)  # … every other session, browser or API, is over
    assert api.get("/api/v1/me").get_json()["kind"] == "public"
    assert app.test_client().post("/api/v1/login", json={"username": "rev", "password": PASSWORD}).status_code == 401
    log_in_with_token(app, "rev", "a-new-secret-9")


def test_an_admin_resets_a_password_and_deactivates_an_account(app):
    adm, token = log_in_with_token(app, "adm")
    rev, _ = log_in_with_token(app, "rev")
    page = adm.get("/admin").get_data(as_text=True)
    assert 'action="/admin/users/rev"' in page and "停用" in page
    own_row = re.search(r'<tr data-user="adm">.*?</tr>', page, re.S).group(0)
    assert "deactivate" not in own_row  # no button to lock oneself out
    assert adm.post("/admin/users/rev", data={"action": "password", "password": "given-by-adm-1"}).status_code == 403
    assert adm.post("/admin/users/rev", data={"action": "password", "password": "given-by-adm-1",
                                              "csrf_token": token}).status_code == 302
    assert not signed_in(rev)
    rev, _ = log_in_with_token(app, "rev", "given-by-adm-1")
    assert adm.post("/admin/users/rev", data={"action": "deactivate", "csrf_token": token}).status_code == 302
    assert not signed_in(rev)
    assert app.test_client().post("/api/v1/login",
                                  json={"username": "rev", "password": "given-by-adm-1"}).status_code == 401
    assert "已停用" in adm.get("/admin").get_data(as_text=True)
    myself = adm.post("/admin/users/adm", data={"action": "deactivate", "csrf_token": token})
    assert myself.status_code == 422 and "不能停用自己的账号" in myself.get_data(as_text=True)
    assert adm.post("/admin/users/rev", data={"action": "activate", "csrf_token": token}).status_code == 302
    rev, rev_token = log_in_with_token(app, "rev", "given-by-adm-1")
    assert rev.post("/admin/users/adm", data={"action": "deactivate", "csrf_token": rev_token}).status_code == 403
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        actions = [e.action for e in s.query(AuditEntry).order_by(AuditEntry.seq)]
    assert {"user.password_reset", "user.deactivate", "user.activate"} <= set(actions)


def test_wrong_passwords_lock_an_account_for_the_login_page_and_the_api_until_an_admin_resets_it(app):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    for _ in range(app.extensions["gongkai"].settings.login_max_failures):
        wrong = client.post("/login", data={"username": "rev", "password": "guess", "csrf_token": token})
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    locked = client.post("/login", data={"username": "rev", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429 and "账号已锁定至" in locked.get_data(as_text=True)
    api = app.test_client().post("/api/v1/login", json={"username": "rev", "password": PASSWORD})
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "account_locked"
    adm, adm_token = log_in_with_token(app, "adm")
    row = re.search(r'<tr data-user="rev">.*?</tr>', adm.get("/admin").get_data(as_text=True), re.S).group(0)
    assert "已锁定至" in row
    assert adm.post("/admin/users/rev", data={"action": "password", "password": "unlocked-by-adm",
                                              "csrf_token": adm_token}).status_code == 302
    log_in_with_token(app, "rev", "unlocked-by-adm")


def test_an_admin_creates_a_department_token_sees_it_once_and_revokes_it(app):
    adm, token = log_in_with_token(app, "adm")
    assert "尚无接口令牌" in adm.get("/admin").get_data(as_text=True)
    assert adm.post("/admin/tokens", data={"department": "a", "label": "协同办公"}).status_code == 403
    created = adm.post("/admin/tokens", data={"department": "a", "label": "协同办公", "csrf_token": token})
    assert created.status_code == 302 and created.headers["Location"].endswith("#tokens")
    page = adm.get("/admin").get_data(as_text=True)
    secret = re.search(r'data-testid="new-token".*?<code class="mono">(gk_[^<]+)</code>', page, re.S).group(1)
    notice = re.search(r'data-testid="new-token">(.*?)<br>', page, re.S).group(1)
    assert notice.startswith("已为甲乡人民政府创建令牌「协同办公」")       # the department's name, not its code
    assert secret not in adm.get("/admin").get_data(as_text=True)  # shown once
    system = app.test_client()
    assert system.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()["kind"] == "token"
    token_id = re.search(r'<tr data-token="(\d+)">', page).group(1)
    assert adm.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code == 302
    assert "已吊销" in adm.get("/admin").get_data(as_text=True)
    assert system.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    missing = adm.post("/admin/tokens", data={"department": "nope", "csrf_token": token})
    assert missing.status_code == 404 and "没有部门 nope" in missing.get_data(as_text=True)


def test_model_figures_are_explained_in_words_on_the_admin_page(app):
    adm, _ = log_in_with_token(app, "adm")
    html = adm.get("/admin").get_data(as_text=True)
    assert "宏平均 F1：各类别识别准确程度的平均值" in html
    assert "预选覆盖率：模型有把握、预先选好类别的文件所占比例" in html
    assert 'title="模型有把握、预先选好类别的文件所占比例">自动建议覆盖率</th>' in html
