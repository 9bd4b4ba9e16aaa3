"""The web pages through Flask's test client, as every role, on SQLite and PostgreSQL."""
import csv
import datetime
import io
import re

import pytest
from documents import add_doc
from web_client import PASSWORD, csrf_of, log_in
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from service.web import create_app
from service import localtime, review, search
from service.db import Department, Document, User, transaction
from testenv import unique_queue_name



@pytest.fixture
def world(app):
    sessions = app.extensions["gongkai"].sessions
    with transaction(sessions) as s:
        a, b = Department(code="a", name="甲乡人民政府"), Department(code="b", name="县民政局")
        s.add_all([a, b])
        s.flush()
        for name, role, dept in (("up_a", "uploader", a), ("up_b", "uploader", b), ("rev", "reviewer", None),
                                 ("adm", "admin", None)):
            s.add(User(username=name, display_name=f"{name}同志", role=role, department_id=dept.id if dept else None,
                       password_hash=generate_password_hash(PASSWORD)))
        docs = {
            "a_pending": add_doc(s, a, "pending_review", 1, suggested_category="工作动态", confidence=0.97),
            "a_secret": add_doc(s, a, "pending_review", 2, suggested_category="工作动态", confidence=0.99,
                                secrecy_blocked=True, text="机密★1年 关于某事项的通知",
                                findings=[{"kind": "secrecy", "value": "机密★1年", "blocking": True,
                                           "location": "版头"}]),
            "a_pii": add_doc(s, a, "pending_review", 3, suggested_category="工作动态", confidence=0.95,
                             text="联系电话 13812345678",
                             findings=[{"kind": "mobile", "value": "13812345678", "masked": "138****5678",
                                        "blocking": False, "location": "正文"}]),
            "b_low": add_doc(s, b, "pending_review", 4, suggested_category="人事任免", confidence=0.4,
                             needs_attention=True),
            "b_approved": add_doc(s, b, "approved", 5, category="工作动态"),
        }
    return {"docs": docs, "sessions": sessions}


def test_login_shows_who_department_and_role(app, world):
    client = log_in(app, "up_a")
    html = client.get("/upload").get_data(as_text=True)
    assert "up_a同志" in html and "甲乡人民政府" in html and "经办人" in html
    assert 'name="csrf-token"' in html
    html = log_in(app, "rev").get("/review").get_data(as_text=True)
    assert "审核人" in html and "全县（不限部门）" in html


def test_wrong_password_and_missing_csrf_are_refused(app, world):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    bad = client.post("/login", data={"username": "up_a", "password": "x", "csrf_token": token})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    no_csrf = client.post("/login", data={"username": "up_a", "password": PASSWORD})
    assert no_csrf.status_code == 403 and "<html" in no_csrf.get_data(as_text=True)
    logged = log_in(app, "up_a")
    assert logged.post("/logout").status_code == 403  # no token
    assert logged.post("/logout", data={"csrf_token": csrf_of(logged)}).status_code == 302


def test_pages_check_access_on_the_server(app, world):
    docs = world["docs"]
    public = app.test_client()
    assert public.get("/upload").status_code == 302  # to the login page
    assert public.get("/review").headers["Location"].startswith("/login")
    up_a, up_b, rev = log_in(app, "up_a"), log_in(app, "up_b"), log_in(app, "rev")
    refused = up_a.get("/review")
    assert refused.status_code == 403 and "无权访问" in refused.get_data(as_text=True)
    assert rev.get("/upload").status_code == 403
    assert up_a.get(f"/documents/{docs['a_pending']}").status_code == 200
    other = up_b.get(f"/documents/{docs['a_pending']}")
    assert other.status_code == 404 and "页面不存在" in other.get_data(as_text=True)
    assert up_b.get(f"/documents/{docs['a_pending']}/original/view").status_code == 404
    assert up_a.get(f"/review/{docs['a_pending']}").status_code == 403


def test_unknown_pages_are_html_and_unknown_api_paths_json(app, world):
    client = app.test_client()
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def is_error_page(response, status: int) -> bool:
    html = response.get_data(as_text=True)
    return response.status_code == status and response.mimetype == "text/html" and "<!doctype html>" in html.lower() \
        and "Traceback" not in html and "服务器内部错误" not in html


def test_ids_and_numbers_out_of_range_get_the_error_page_never_a_server_error(app, world):
    public, up_a, adm = app.test_client(), log_in(app, "up_a"), log_in(app, "adm")
    for big in ("99999999999", "99999999999999999999", "2147483648"):
        assert is_error_page(public.get(f"/catalogue/{big}"), 404)
        assert is_error_page(public.get(f"/catalogue/{big}/download"), 404)
        assert is_error_page(up_a.get(f"/documents/{big}"), 404)
        assert is_error_page(up_a.get(f"/documents/{big}/original/view"), 404)
        assert is_error_page(adm.get(f"/review/{big}"), 404)
        assert is_error_page(adm.get(f"/admin/batches/{big}"), 404)
    for query in ("page=1e30", "page=99999999999999999999", "page=0", "year=1e30", "year=99999999999", "year=0"):
        response = public.get(f"/catalogue?{query}")
        assert is_error_page(response, 422) and "请求有误" in response.get_data(as_text=True), query
    assert is_error_page(up_a.get("/submissions?page=99999999999999999999"), 422)
    assert is_error_page(adm.get("/admin/audit.csv?document=99999999999"), 422)
    assert "文件编号超出范围" in adm.get("/admin/audit?document=99999999999").get_data(as_text=True)
    assert adm.get("/admin/audit?since=0001-01-01&until=9999-12-31").status_code == 200
    assert public.get("/catalogue?q=%00").status_code == 422


def test_a_department_token_cannot_open_the_account_page(app, world):
    from service.api_tokens import new_api_token, token_digest
    from service.db import ApiToken

    token = new_api_token()
    with transaction(world["sessions"]) as s:
        s.add(ApiToken(department_id=1, token_sha256=token_digest(token), label="OA"))
    response = app.test_client().get("/account", headers={"Authorization": f"Bearer {token}"})
    assert is_error_page(response, 403) and "接口令牌不能打开" in response.get_data(as_text=True)


def test_queue_puts_secrecy_then_pii_then_low_confidence_first(app, world):
    docs = world["docs"]
    html = log_in(app, "rev").get("/review").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]
    assert order == [docs["a_secret"], docs["a_pii"], docs["b_low"], docs["a_pending"]]
    assert 'class="bar"' in html
    # only the confident item without findings may be confirmed in a batch
    assert re.findall(r'class="pick" value="(\d+)"', html) == [str(docs["a_pending"])]
    only_b = log_in(app, "rev").get("/review?department=b").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'<tr data-id="(\d+)"', only_b)] == [docs["b_low"]]


def test_a_pre_selected_suggestion_below_the_batch_confidence_is_not_flagged_but_confirmed_alone(app, world):
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        # a rule-confirmed suggestion: pre-selected by the model at 63 %
        ruled = add_doc(s, a, "pending_review", 71, suggested_category="规划计划", confidence=0.63,
                        needs_attention=False)
    html = log_in(app, "rev").get("/review?department=a").get_data(as_text=True)
    row = re.search(rf'<tr data-id="{ruled}">(.*?)</tr>', html, re.S).group(1)
    assert "需关注" not in row and "规划计划" in row
    assert str(ruled) not in re.findall(r'class="pick" value="(\d+)"', html)   # confirmed one by one
    assert "把握 ≥ 90%" in html


def test_the_queue_names_the_suggested_category_beside_its_confidence_and_none_when_abstained(app, world):
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        abstained = add_doc(s, a, "pending_review", 72, suggested_category=None, confidence=0.7,
                            needs_attention=True, candidates=[{"category": "政策法规及规范性文件", "probability": 0.7}])
    html = log_in(app, "rev").get("/review?department=a").get_data(as_text=True)
    def cell(doc_id: int) -> str:
        return re.search(rf'<tr data-id="{doc_id}">.*?data-testid="suggestion">(.*?)</td>', html, re.S).group(1)

    assert "工作动态 · 把握 97%" in cell(world["docs"]["a_pending"])
    empty = cell(abstained)
    assert "未给出建议" in empty and "把握" not in empty and "class=\"bar\"" not in empty and "%" not in empty


def test_pages_name_the_person_who_uploaded_not_the_username(app, world):
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        by_person = add_doc(s, a, "pending_review", 91, uploaded_by="up_a")
        by_token = add_doc(s, a, "pending_review", 92, uploaded_by="token:a:协同办公")
    rev = log_in(app, "rev")
    assert " · up_a同志 · " in rev.get(f"/review/{by_person}").get_data(as_text=True)
    assert " · 系统接口（协同办公） · " in rev.get(f"/review/{by_token}").get_data(as_text=True)
    listed = log_in(app, "up_a").get("/submissions").get_data(as_text=True)
    assert "<td>up_a同志</td>" in listed and "<td>系统接口（协同办公）</td>" in listed and "<td>up_a</td>" not in listed


def test_every_category_keeps_its_key_whatever_the_model_ranked(app, world):
    from service import taxonomy as T

    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        ranked = [{"category": "应急预案", "probability": 0.8}, {"category": "工作动态", "probability": 0.15}]
        first = add_doc(s, a, "pending_review", 81, suggested_category="应急预案", confidence=0.8, candidates=ranked)
        second = add_doc(s, a, "pending_review", 82, suggested_category="工作动态", confidence=0.9,
                         candidates=list(reversed(ranked)))
        blank = add_doc(s, a, "pending_review", 83, suggested_category=None, confidence=0.67, needs_attention=True,
                        candidates=[{"category": "政策法规及规范性文件", "probability": 0.67}],
                        explanation={"abstained": {"message": "文字太少，模型不作判断"}, "terms": [], "rules": []})
    rev = log_in(app, "rev")
    names = T.load().names
    for doc_id, suggested in ((first, "应急预案"), (second, "工作动态")):
        html = rev.get(f"/review/{doc_id}").get_data(as_text=True)
        assert re.findall(r'class="choice[^"]*" data-category="([^"]+)"', html) == names
        keys = re.findall(r'data-category="([^"]+)">\s*<kbd>(\d)</kbd>', html)
        assert keys == [(n, str(i)) for i, n in enumerate(names[:9], start=1)]
        assert re.search(rf'data-category="{suggested}">.*?data-testid="suggested"', html, re.S)
    html = rev.get(f"/review/{blank}").get_data(as_text=True)
    choices = html[html.index('id="choices"'):html.index("</ol>", html.index('id="choices"'))]
    assert "文字太少，模型不作判断" in html and "%" not in choices and 'data-testid="suggested"' not in choices


def test_review_page_highlights_findings_and_lists_choices(app, world):
    docs = world["docs"]
    rev = log_in(app, "rev")
    html = rev.get(f"/review/{docs['a_secret']}").get_data(as_text=True)
    assert '<mark class="secret">机密★1年</mark>' in html and "依法不得公开发布" in html
    html = rev.get(f"/review/{docs['a_pii']}").get_data(as_text=True)
    assert '<mark class="pii">13812345678</mark>' in html and 'data-category="工作动态"' in html
    # the reviewer sees the public copy the catalogue will show, before confirming the masks
    public = html[html.index('id="public-text"'):]
    assert "联系电话 138****5678" in public[:200] and "13812345678" not in public[:200]
    assert '<button type="button" id="ack-pii">确认遮盖</button>' in html


def test_review_page_says_why_the_model_could_not_judge_a_document(app, world):
    reason = {"code": "mostly_not_chinese",
              "message": "文档以外文为主（汉字 0 个，外文字母 812 个），模型只学习过中文公文，请人工选择"}
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        foreign = add_doc(s, a, "pending_review", 72, confidence=0.77, needs_attention=True,
                          explanation={"rules": [], "abstained": reason})
    html = log_in(app, "rev").get(f"/review/{foreign}").get_data(as_text=True)
    assert f'<p class="tag low" id="abstained">{reason["message"]}</p>' in html
    assert "系统把握不足" not in html
    html = log_in(app, "rev").get(f"/review/{world['docs']['b_low']}").get_data(as_text=True)
    assert "系统把握不足，请人工选择" in html and 'id="abstained"' not in html


def test_review_page_shows_the_words_behind_a_suggestion(app, world):
    terms = [{"term": "应急预案", "field": "title", "weight": 1.4},
             {"term": "体裁题:应急预案", "field": "metadata", "weight": 0.4},
             {"term": "急预", "field": "body_head_chars", "weight": 0.2}]   # the last as stored before words
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        doc_id = add_doc(s, a, "pending_review", 73, confidence=0.99, explanation={"rules": [], "terms": terms})
    html = log_in(app, "rev").get(f"/review/{doc_id}").get_data(as_text=True)
    assert "<li><b>应急预案</b> <small>标题</small></li>" in html
    assert "<li><b>标题自称“应急预案”</b> <small>公文要素</small></li>" in html
    assert "<li><b>急预</b> <small>正文开头</small></li>" in html


def publish(app, world, key):
    with transaction(world["sessions"]) as s:
        doc = s.get(Document, world["docs"][key])
        review.publish(s, doc, "rev")


def test_catalogue_lists_published_with_index_numbers_and_searches_chinese(app, world):
    with transaction(world["sessions"]) as s:
        doc = s.get(Document, world["docs"]["b_approved"])
        doc.title, doc.text = ("县民政局关于开展社会救助政策宣传月活动的通知",
                               "各乡镇：为做好困难群众基本生活保障工作，现开展宣传。")
        doc.tokens = None  # tokenized at indexing time
    publish(app, world, "b_approved")
    public = app.test_client()
    html = public.get("/catalogue").get_data(as_text=True)
    assert "社会救助政策宣传月" in html and re.search(r"b-\d{4}-00001", html)
    cells = re.findall(r"<td>(.*?)</td>", html.split("<tbody>")[1].split("</tr>")[0], re.S)
    assert cells[2:4] == ['<span class="muted" title="文件未标注成文日期">—</span>',    # no 成文日期: not the
                          localtime.now().strftime("%Y-%m-%d")]                          # publication day in its place
    assert "共 1 条" in public.get("/catalogue?q=困难群众").get_data(as_text=True)
    assert "共 1 条" in public.get("/catalogue?q=社会救助").get_data(as_text=True)
    assert "共 0 条" in public.get("/catalogue?q=防汛抗旱").get_data(as_text=True)
    assert "共 1 条" in public.get("/catalogue?category=工作动态").get_data(as_text=True)
    assert "共 0 条" in public.get("/catalogue?category=人事任免").get_data(as_text=True)
    item = public.get(f"/catalogue/{world['docs']['b_approved']}")
    assert item.status_code == 200 and "@media print" not in item.get_data(as_text=True)
    assert public.get(f"/catalogue/{world['docs']['a_pending']}").status_code == 404
    with transaction(world["sessions"]) as s:
        review.withdraw(s, s.get(Document, world["docs"]["b_approved"]), "rev", "内容有误")
    assert "共 0 条" in public.get("/catalogue?q=困难群众").get_data(as_text=True)
    assert "共 0 条" in public.get("/catalogue").get_data(as_text=True)


def test_search_finds_what_the_public_text_holds_and_reads_no_query_syntax(app, world):
    with transaction(world["sessions"]) as s:
        doc = s.get(Document, world["docs"]["b_approved"])
        doc.title, doc.text = "关于印发政务公开工作要点的通知", "各乡镇：现将《政务公开工作要点》印发给你们。"
        assert search.matching_ids(s, "政务公开") == []   # not published: not indexed
        review.publish(s, doc, "rev")
        assert search.matching_ids(s, "政务公开 要点") == [doc.id]
        # query syntax is never interpreted: "OR" is a word that must occur, * and quotes are dropped
        assert search.matching_ids(s, '"政务公开" OR *') == []
        assert search.matching_ids(s, "'政务公开' &") == [doc.id]
        assert search.matching_ids(s, "NEAR(政务 公开)") == []
        assert search.matching_ids(s, "！？") is None


def test_catalogue_paginates(app, world):
    with transaction(world["sessions"]) as s:
        dept = s.get(Department, 1)
        for n in range(25):
            doc = Document(department_id=dept.id, filename=f"p{n}.pdf", sha256=f"p{n:03d}".ljust(64, "0"), size=1,
                           status="approved", category="工作动态", title=f"第{n}号公告")
            s.add(doc)
            s.flush()
            review.publish(s, doc, "rev")
    public = app.test_client()
    first = public.get("/catalogue").get_data(as_text=True)
    assert "第 1 / 2 页" in first and first.count('class="mono"') == 20
    second = public.get("/catalogue?page=2").get_data(as_text=True)
    assert second.count('class="mono"') == 5


def test_submissions_and_history(app, world):
    docs = world["docs"]
    up_a = log_in(app, "up_a")
    html = up_a.get("/submissions").get_data(as_text=True)
    assert "甲乡人民政府文件1" in html and "县民政局" not in html.split("<main>")[1]
    assert "甲乡人民政府文件1" not in up_a.get("/submissions?status=failed").get_data(as_text=True)
    with transaction(world["sessions"]) as s:
        review.reject(s, s.get(Document, docs["a_pending"]), "rev", "附件缺失")
    history = up_a.get(f"/documents/{docs['a_pending']}").get_data(as_text=True)
    assert "待审核 → 已退回" in history and "附件缺失" in history


def test_static_assets_are_served_by_the_app(app, world):
    client = app.test_client()
    html = client.get("/catalogue").get_data(as_text=True)
    for ref in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert not re.match(r"^(https?:)?//", ref), ref
    assert client.get("/static/web/app.css").status_code == 200


def test_reviewer_corrects_gongwen_fields_with_audit(app, world):
    from service.analysis.tokenizer import tokenize_document

    doc_id = world["docs"]["a_pending"]
    stored = tokenize_document("甲乡人民政府关于张三同志任职的通知", "经研究决定：任命张三为甲乡党政办主任。").to_dict()
    with transaction(world["sessions"]) as s:
        s.get(Document, doc_id).tokens = stored
    rev = log_in(app, "rev")
    html = rev.get(f"/review/{doc_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert rev.post(f"/review/{doc_id}/fields", data={"issuer": "甲乡人民政府"}).status_code == 403  # no CSRF
    done = rev.post(f"/review/{doc_id}/fields", data={"csrf_token": token, "issuer": "甲乡人民政府",
                                                      "doc_number": "甲政发〔2026〕3号", "date": ""})
    assert done.status_code == 302
    with transaction(world["sessions"], readonly=True) as s:
        doc = s.get(Document, doc_id)
        assert doc.gongwen["issuer"]["value"] == "甲乡人民政府" and doc.gongwen["issuer"]["edited_by"] == "rev"
        assert doc.gongwen["doc_number"]["value"] == "甲政发〔2026〕3号" and "date" not in doc.gongwen
        # what the classifier reads for retraining and reclassification follows the correction
        assert doc.tokens == {**stored, "doc_number": "甲政发〔2026〕3号"}
    assert "修改公文要素" in rev.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert log_in(app, "up_a").post(f"/review/{doc_id}/fields", data={"csrf_token": token}).status_code == 403


def test_migration_indexes_documents_published_before_it(db_url):
    from sqlalchemy import MetaData, text

    from service.db import make_engine, session_factory
    from service.migrate import upgrade

    from alembic import command

    from service.migrate import alembic_config

    engine = make_engine(db_url)  # at head: step down to 0001, publish, and back up
    command.downgrade(alembic_config(engine), "0001")
    old = MetaData()
    old.reflect(engine, only=["departments", "documents"])   # the tables as 0001 made them, not as the models are
    now = datetime.datetime.now(datetime.UTC)
    with engine.begin() as conn:
        dept_id = conn.execute(old.tables["departments"].insert().values(code="x", name="某局", created_at=now)
                               ).inserted_primary_key[0]
        conn.execute(old.tables["documents"].insert().values(
            department_id=dept_id, uploaded_by="", filename="a.pdf", sha256="a" * 64, size=1, status="published",
            status_changed_at=now, attempts=0, needs_attention=False, secrecy_blocked=False, created_at=now,
            title="旧文件", text="做好防汛抗旱工作", tokens={"title": ["旧", "文件"], "body": ["防汛", "抗旱"]}))
    upgrade(engine)
    with transaction(session_factory(engine), readonly=True) as s:
        assert len(search.matching_ids(s, "防汛")) == 1
        assert s.execute(text("SELECT count(*) FROM document_search")).scalar_one() == 1
    engine.dispose()


def test_every_response_forbids_other_hosts(app):
    response = app.test_client().get("/catalogue")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "http" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert app.test_client().get("/api/v1/openapi.json").headers["X-Frame-Options"] == "SAMEORIGIN"


def test_every_inline_handler_in_the_templates_is_allowed_by_the_policy():
    import base64
    import hashlib
    import re
    from pathlib import Path

    from service.web.app import CONTENT_SECURITY_POLICY

    templates = Path(__file__).resolve().parents[3] / "service" / "web" / "templates"
    handlers = {m for t in templates.glob("*.html")
                for m in re.findall(r' on[a-z]+="([^"]*)"', t.read_text(encoding="utf-8"))}
    assert handlers
    for handler in handlers:
        digest = base64.b64encode(hashlib.sha256(handler.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY, handler


def test_annual_statistics_page_counts_what_was_published_and_exports_csv(app, world):
    from datetime import datetime

    from service.localtime import CHINA_TIME
    from service.review import publish, withdraw

    sessions = world["sessions"]
    with transaction(sessions) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        ids = [add_doc(s, a, "approved", 61 + i, category=c, suggested_category=c)
               for i, c in enumerate(["工作动态", "工作动态", "应急预案"])]
        for doc_id in ids + [world["docs"]["b_approved"]]:
            publish(s, s.get(Document, doc_id), actor="rev")
        withdraw(s, s.get(Document, ids[2]), actor="rev", reason="内容已过时")
    year = datetime.now(CHINA_TIME).year

    assert app.test_client().get("/report").headers["Location"].startswith("/login")
    assert log_in(app, "up_a").get("/report").status_code == 403
    assert log_in(app, "up_a").get("/report.csv").status_code == 403
    rev = log_in(app, "rev")
    html = rev.get("/report").get_data(as_text=True)
    assert f"{year}年共主动公开政府信息 4 条，其中工作动态 3 条、应急预案 1 条。已公开信息中有 1 条此后撤回。" in html
    assert "年度统计" in html and "甲乡人民政府" in html and "县民政局" in html
    assert "发布的 4 件中，模型预选了类别的 3 件，审核时保留预选 3 件（100%）" in html
    assert "2020年未主动公开政府信息。" in rev.get("/report?year=2020").get_data(as_text=True)
    for beyond in ("99999", "0", "x"):          # not a year a report covers: this year's, not an error
        page = rev.get(f"/report?year={beyond}")
        assert page.status_code == 200 and f"{year}年共主动公开政府信息 4 条" in page.get_data(as_text=True)

    export = rev.get(f"/report.csv?year={year}")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert f"gongkai-report-{year}.csv" in export.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][0] == "部门" and table[0][-1] == "合计"
    assert [row[0] for row in table[1:]] == ["甲乡人民政府", "县民政局", "合计", "其中已撤回"]
    assert table[1][-1] == "3" and table[-2][-1] == "4" and table[-1][-1] == "1"


def test_times_days_and_years_are_beijing_time_everywhere(app, world):
    """Stored in UTC, seen in Beijing time: a document received and published at 00:30 on
    1 January Beijing time (16:30 UTC on 31 December) is a 1 January document of the new year
    in the lists, the history, the catalogue, the annual report and the API's day filters."""
    from datetime import UTC, datetime

    from service.db import AuditEntry

    new_year_utc = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)
    doc_id = world["docs"]["b_approved"]
    publish(app, world, "b_approved")
    with transaction(world["sessions"]) as s:
        doc = s.get(Document, doc_id)
        doc.created_at = doc.published_at = new_year_utc
        doc.title = "县民政局2026年元旦值班安排"
        entry = s.execute(select(AuditEntry).where(AuditEntry.document_id == doc_id)).scalars().first()
        entry_at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)

    public = app.test_client()
    listing = public.get("/catalogue").get_data(as_text=True)
    assert re.search(r'year=2026[^>]*>2026 年</a> <small>1</small>', listing) and "2025 年" not in listing
    assert "共 1 条" in public.get("/catalogue?year=2026").get_data(as_text=True)
    assert "共 0 条" in public.get("/catalogue?year=2025").get_data(as_text=True)
    assert "<td>2026-01-01</td>" in public.get(f"/catalogue/{doc_id}").get_data(as_text=True)

    rev = log_in(app, "rev")
    assert "2026年共主动公开政府信息 1 条" in rev.get("/report?year=2026").get_data(as_text=True)
    assert "2025年未主动公开政府信息。" in rev.get("/report?year=2025").get_data(as_text=True)
    submissions = log_in(app, "up_b").get("/submissions").get_data(as_text=True)
    row = re.search(r"县民政局2026年元旦值班安排.*?</tr>", submissions, re.S)
    assert row and "2026-01-01 00:30" in row.group(0) and "2025-12-31" not in row.group(0)
    history = rev.get(f"/documents/{doc_id}").get_data(as_text=True)
    beijing_entry = entry_at.timestamp() + 8 * 3600
    assert datetime.fromtimestamp(beijing_entry, UTC).strftime("%Y-%m-%d %H:%M:%S") in history

    def listed(query: str) -> list[int]:
        return [d["id"] for d in rev.get(f"/api/v1/documents?{query}").get_json()["items"]]
    assert doc_id in listed("since=2026-01-01") and doc_id not in listed("until=2025-12-31")
    assert doc_id in listed("until=2026-01-01") and doc_id not in listed("since=2026-01-02")


OFF_SITE = ("/%09/evil.example/", "/%5C%5Cevil.example", "/%5Cevil.example", "//evil", "/%09/evil", "/%0A/evil",
            "https://evil", "https:evil", "%2F%2Fevil", "/%E2%80%AE/evil", "javascript:alert(1)", "/ /evil")


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_to_another_site(app, world, target):
    client = app.test_client()
    page = client.get(f"/login?next={target}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert "evil" not in page.get_data(as_text=True)      # not carried into the form either
    response = client.post(f"/login?next={target}", data={"username": "rev", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/review", response.headers["Location"]


def test_same_site_paths_are_kept_and_the_rest_refused(app):
    from service.web.pages import same_site_path
    from service.web.batches import _back, _next_or

    for kept in ("/review", "/review?status=approved&department=a", "/admin/batches/3/group?old=-&new=%E5%B7%A5"):
        assert same_site_path(kept) == kept
    for refused in ("/\t/evil.example/", "/\\evil.example", "/\\\\evil.example", "//evil", "/\t/evil", "/\n/evil",
                    "https://evil", "http:/evil", "evil", "", None, "/\u202e/evil", "/\x00/evil", " /evil"):
        assert same_site_path(refused) == "", repr(refused)
    with app.test_request_context("/admin/batches/3/cancel", method="POST", data={"next": "/admin/batches\t/x"}):
        assert _next_or("/admin/batches") == "/admin/batches"
    with app.test_request_context("/admin/batches/3/decide", method="POST", data={"next": "/admin/batches/3\\\\evil"}):
        assert _back(3) == "/admin/batches/3"
    with app.test_request_context("/admin/batches/3/decide", method="POST", data={"next": "/admin/batches/3?x=1#g"}):
        assert _back(3) == "/admin/batches/3?x=1#g"


def test_secure_cookies_mark_the_cookie_and_send_hsts_everywhere(app, world, db_url, redis_url, tmp_path):
    plain = log_in(app, "rev")
    assert "Strict-Transport-Security" not in plain.get("/review").headers
    assert "Secure" not in app.test_client().post("/api/v1/login", json={"username": "rev", "password": PASSWORD}) \
        .headers["Set-Cookie"]
    secure = create_app({"database_url": db_url, "redis_url": redis_url, "data_dir": str(tmp_path / "data"),
                         "secret_key": "test-secret", "queue_name": unique_queue_name(), "secure_cookies": "1"})
    try:
        client = secure.test_client()
        signed_in = client.post("/api/v1/login", json={"username": "rev", "password": PASSWORD})
        assert "; Secure" in signed_in.headers["Set-Cookie"] and "HttpOnly" in signed_in.headers["Set-Cookie"]
        for path in ("/catalogue", "/api/v1/openapi.json", "/static/web/app.css", "/no-such-page", "/login"):
            response = secure.test_client().get(path)
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path
    finally:
        secure.extensions["gongkai"].close()


def test_what_a_signed_in_person_sees_is_never_cached_and_the_public_catalogue_is(app, world):
    from service.api_tokens import new_api_token, token_digest
    from service.db import ApiToken

    with transaction(world["sessions"]) as s:
        review.publish(s, s.get(Document, world["docs"]["b_approved"]), "rev")
    public = app.test_client()
    for path in ("/catalogue", f"/catalogue/{world['docs']['b_approved']}", "/static/web/app.css",
                 "/api/v1/documents", "/api/v1/openapi.json"):
        assert "no-store" not in public.get(path).headers.get("Cache-Control", ""), path
    rev, up_a = log_in(app, "rev"), log_in(app, "up_a")
    for client, path in ((rev, "/review"), (rev, f"/review/{world['docs']['a_pii']}"), (rev, "/catalogue"),
                         (rev, "/api/v1/documents"), (rev, "/api/v1/me"),
                         (rev, f"/api/v1/documents/{world['docs']['a_pii']}"),
                         (up_a, "/submissions"), (up_a, "/account"), (rev, "/no-such-page"), (rev, "/report.csv")):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    signed_in = app.test_client().post("/api/v1/login", json={"username": "rev", "password": PASSWORD})
    assert signed_in.headers["Cache-Control"] == "no-store"     # its body holds the session's CSRF token
    token = new_api_token()
    with transaction(world["sessions"]) as s:
        s.add(ApiToken(department_id=1, token_sha256=token_digest(token), label="OA"))
    system = app.test_client().get("/api/v1/documents", headers={"Authorization": f"Bearer {token}"})
    assert system.status_code == 200 and system.headers["Cache-Control"] == "no-store"


def test_unsupported_methods_answer_405_with_allow_on_every_route(app, world):
    """TRACE and the other methods a route does not take: 405 with Allow (RFC 9110), as a page or as JSON."""
    client = log_in(app, "adm")
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<id:\w+>", "1", rule.rule)
        path = re.sub(r"<(?:path:)?\w+>", "a", path)
        paths.setdefault(path, set()).update(rule.methods)
    assert len(paths) > 40
    for path, methods in paths.items():
        for method in sorted({"TRACE", "PUT", "DELETE", "PATCH"} - methods):
            response = client.open(path, method=method)
            assert response.status_code == 405, (method, path, response.status_code)
            assert set(response.headers["Allow"].split(", ")) == methods, (method, path)
            if path.startswith("/api/"):
                assert response.get_json()["error"]["code"] == "method_not_allowed"
            else:
                assert "不支持的请求" in response.get_data(as_text=True)



def test_pages_show_stored_file_names_without_bidi_characters(app, world):
    with transaction(world["sessions"]) as s:
        doc = s.get(Document, world["docs"]["b_approved"])
        doc.filename, doc.title = "年报\u202efdp.exe", None
        review.publish(s, doc, "rev")
    app.extensions["gongkai"].storage.local_path(doc.sha256).parent.mkdir(parents=True, exist_ok=True)
    app.extensions["gongkai"].storage.local_path(doc.sha256).write_bytes(b"x")
    public, adm = app.test_client(), log_in(app, "adm")
    for client, path in ((public, "/catalogue"), (public, f"/catalogue/{doc.id}"), (adm, f"/documents/{doc.id}"),
                         (adm, "/submissions")):
        html = client.get(path).get_data(as_text=True)
        assert "年报fdp.exe" in html and "\u202e" not in html, path
    download = public.get(f"/catalogue/{doc.id}/download")
    assert download.status_code == 200 and "%E2%80%AE" not in download.headers["Content-Disposition"].upper()


def test_review_page_says_what_the_parser_warned_about_and_offers_only_what_the_state_allows(app, world):
    warned = [{"code": "partial_text_layer", "message": "部分页面没有可提取的文字（可能是扫描页）：第 2 页。"}]
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        scanned = add_doc(s, a, "pending_review", 73, warnings=warned, pages=3)
        published = add_doc(s, a, "published", 74, category="工作动态", index_number="a-2026-00007")
        plain = add_doc(s, a, "approved", 75, category="工作动态", pages=2)
    rev = log_in(app, "rev")
    html = rev.get(f"/review/{scanned}").get_data(as_text=True)
    assert '<li data-code="partial_text_layer">部分页面没有可提取的文字（可能是扫描页）：第 2 页。</li>' in html
    # 保密审查: a warning stored before warnings named their pages counts every page, conservatively.
    assert 'id="secrecy-review"' in html and "尚未进行保密审查" in html
    assert [n for n in (1, 2, 3) if f"已逐页阅读原件第 {n} 页" in html] == [1, 2, 3]
    assert "该页没有可提取的文字（扫描页）" in html and "审查与发布分人" in html
    assert 'id="confirm"' in html and 'id="reject"' in html and 'id="withdraw"' not in html
    html = rev.get(f"/review/{plain}").get_data(as_text=True)
    assert "发布时将自动记录保密审查" in html and "已逐页阅读原件" not in html and "审查与发布分人" not in html
    html = rev.get(f"/review/{published}").get_data(as_text=True)
    assert 'id="withdraw"' in html and 'id="withdraw-dialog"' in html
    assert 'id="confirm"' not in html and 'id="reject"' not in html and 'id="publish"' not in html
    assert 'id="secrecy-clear"' not in html            # a published document is not reviewed again until withdrawn


def test_the_queue_marks_documents_with_pages_a_person_must_read(app, world):
    warned = [{"code": "partial_text_layer", "message": "部分页面没有可提取的文字（可能是扫描页）：第 2、3 页。",
               "pages": [2, 3]}]
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        scanned = add_doc(s, a, "pending_review", 75, warnings=warned, pages=3)
    html = log_in(app, "rev").get("/review").get_data(as_text=True)
    row = re.search(rf'<tr data-id="{scanned}">(.*?)</tr>', html, re.S).group(1)
    assert '<span class="tag unread" title="第 2、3 页无法识别文字，须逐页阅读原件">需逐页阅读</span>' in row
    other = re.search(rf'<tr data-id="{world["docs"]["a_pending"]}">(.*?)</tr>', html, re.S).group(1)
    assert "需逐页阅读" not in other


def test_a_reviewer_adds_and_removes_a_mask_of_the_public_copy_on_the_review_page(app, world):
    doc, rev = world["docs"]["a_pii"], log_in(app, "rev")
    token = csrf_of(rev)
    added = rev.post(f"/review/{doc}/masks", data={"add": "联系电话", "csrf_token": token})
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/review/{doc}#public-text")
    html = rev.get(f"/review/{doc}").get_data(as_text=True)
    assert "已遮盖「联系电话」（rev）" in html and "联*** 138****5678" in html
    refused = rev.post(f"/review/{doc}/masks", data={"add": "不在正文里", "csrf_token": token})
    assert refused.status_code == 422 and "须为正文中出现的" in refused.get_data(as_text=True)
    assert rev.post(f"/review/{doc}/masks", data={"remove": "联系电话", "csrf_token": token}).status_code == 302
    html = rev.get(f"/review/{doc}").get_data(as_text=True)
    assert "已遮盖「联系电话」" not in html and "联系电话 138****5678" in html
    assert rev.post(f"/review/{doc}/masks", data={"add": "联系电话"}).status_code == 403     # no CSRF token


def test_the_queue_flags_documents_near_or_past_the_twenty_working_day_limit(app, world):
    """The counting itself is checked against hand-counted dates in tests/service/test_timeliness.py."""
    from service import localtime
    from service.timeliness import is_workday

    today, day, used = localtime.now().date(), localtime.now().date(), 0
    while used < 17:                                   # 17 working days ago: 3 left
        if is_workday(day)[0]:
            used += 1
        day -= datetime.timedelta(days=1)
    with transaction(world["sessions"]) as s:
        a = s.execute(select(Department).where(Department.code == "a")).scalar_one()
        soon = add_doc(s, a, "pending_review", 11, gongwen={"date": {"value": day.isoformat()}})
        long_ago = today - datetime.timedelta(days=90)
        late = add_doc(s, a, "pending_review", 12, gongwen={"date": {"value": long_ago.isoformat()}})
    reviewer = log_in(app, "rev")
    html = reviewer.get("/review").get_data(as_text=True)
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr data-id="(\d+)".*?</tr>', html, re.S)}
    assert "剩 3 个工作日" in rows[str(soon)] and 'class="tag late due_soon"' in rows[str(soon)]
    assert "已超时限" in rows[str(late)] and 'class="tag late overdue"' in rows[str(late)]
    assert "timeliness" not in rows[str(world["docs"]["a_pending"])]     # no 成文日期: no flag
    page = reviewer.get(f"/review/{soon}").get_data(as_text=True)
    assert f"成文日期 {day.isoformat()}" in page and "今天是第 17 个工作日" in page and "临近公开时限" in page


def test_staff_search_the_queue_and_their_submissions(app, world):
    with transaction(world["sessions"]) as s:
        s.get(Document, world["docs"]["a_pending"]).text = "县教发〔2025〕8号\n关于张建国同志职务任免的通知"
    reviewer = log_in(app, "rev")

    def queue_ids(query: str) -> list[int]:
        html = reviewer.get("/review", query_string={"q": query}).get_data(as_text=True)
        return sorted(int(i) for i in re.findall(r'<tr data-id="(\d+)"', html))
    assert queue_ids("任免") == [world["docs"]["a_pending"]]                 # part of a word
    assert queue_ids("县教发[2025]8号") == [world["docs"]["a_pending"]]      # a 文号, brackets as typed
    assert queue_ids("13812345678") == [world["docs"]["a_pii"]]             # staff find numbers as read
    assert queue_ids("机") == [world["docs"]["a_secret"]]                     # a single character
    assert queue_ids("没有的词") == [] and len(queue_ids("")) == 4
    assert 'value="任免"' in reviewer.get("/review?q=任免").get_data(as_text=True)   # the box keeps the query
    uploader = log_in(app, "up_a")
    mine = uploader.get("/submissions", query_string={"q": "任免"}).get_data(as_text=True)
    assert "共 1 件" in mine and 'value="任免"' in mine
    assert "共 0 件" in log_in(app, "up_b").get("/submissions", query_string={"q": "任免"}).get_data(as_text=True)


def test_the_review_queue_is_paged_most_urgent_first_across_pages(app, world):
    with transaction(world["sessions"]) as s:
        dept = s.get(Department, 1)
        extra = [add_doc(s, dept, "pending_review", 700 + n, suggested_category="工作动态", confidence=0.95)
                 for n in range(56)]
    reviewer = log_in(app, "rev")
    first = reviewer.get("/review").get_data(as_text=True)
    second = reviewer.get("/review?page=2").get_data(as_text=True)
    on_first = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', first)]
    on_second = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', second)]
    assert len(on_first) == 50 and len(on_second) == 10 and not set(on_first) & set(on_second)
    assert "共 60 件（第 1 / 2 页）" in first and "下一页" in first and "上一页" in second
    assert on_first[0] == world["docs"]["a_secret"] and on_first[1] == world["docs"]["a_pii"]   # 密级, then PII
    assert set(on_first + on_second) == set(extra) | {world["docs"][k] for k in ("a_pending", "a_secret", "a_pii",
                                                                                  "b_low")}
    # the review page counts its place in the whole queue, not in one page
    last = on_second[-1]
    assert "第 60 / 60 件" in reviewer.get(f"/review/{last}").get_data(as_text=True)


def test_uploaders_see_a_documents_warnings_and_are_told_of_rejections(app, world):
    with transaction(world["sessions"]) as s:
        review.reject(s, s.get(Document, world["docs"]["a_pending"]), "rev", "缺少附件，请补充后重新上传")
    uploader = log_in(app, "up_a")
    for page in ("/upload", "/submissions"):   # the notice, with the reason, wherever the uploader starts
        html = uploader.get(page).get_data(as_text=True)
        assert 'id="rejected-notice"' in html and "近 30 天有 1 件文件被退回" in html, page
        assert "缺少附件，请补充后重新上传" in html
    mine = uploader.get("/submissions").get_data(as_text=True)
    assert 'data-testid="note-secret"' in mine and "文件中有密级标志，不会公开" in mine
    assert 'data-testid="note-pii"' in mine and "公开版将遮盖" in mine
    other = log_in(app, "up_b").get("/upload").get_data(as_text=True)   # another department's rejection
    assert 'id="rejected-notice"' not in other
