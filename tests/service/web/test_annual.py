"""service/web/annual.py: the annual report's page, its yearly form, 定稿, 重新打开 and the .docx."""
import io
import re
from datetime import UTC, datetime

import docx
import pytest
from web_client import PASSWORD, log_in
from werkzeug.security import generate_password_hash

from service import annual_format as F
from service.db import Department, Document, User, transaction

YEAR = 2025


@pytest.fixture
def county(make_app):
    app = make_app(site_name="蒙阴县人民政府")
    with transaction(app.extensions["gongkai"].sessions) as s:
        zfb, mzj = Department(code="zfb", name="县政府办"), Department(code="mzj", name="县民政局")
        s.add_all([zfb, mzj])
        s.flush()
        for name, role, dept in (("up", "uploader", zfb), ("rev", "reviewer", None), ("sig", "signer", None),
                                 ("adm", "admin", None)):
            s.add(User(username=name, display_name=f"{name}同志", role=role, department_id=dept.id if dept else None,
                       password_hash=generate_password_hash(PASSWORD)))
        for i, (dept, category, month) in enumerate([(zfb, "工作动态", 1), (zfb, "工作动态", 3), (mzj, "办事指南", 3),
                                                      (mzj, "政策法规及规范性文件", 6)]):
            published = datetime(YEAR, month, 10, 2, tzinfo=UTC)
            s.add(Document(department_id=dept.id, filename=f"{i}.pdf", sha256=f"{i:064x}", size=1, status="published",
                           category=category, published_at=published, created_at=published, title=f"文件{i}"))
    return app


def form_of(page: str) -> dict[str, str]:
    """The form's fields as the page filled them (inputs and textareas)."""
    fields = dict(re.findall(r'<input name="([^"]+)" value="([^"]*)"', page))
    fields.update(re.findall(r'name="(csrf_token|revision)" value="([^"]*)"', page))
    for name, text in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = text.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    return fields


def test_who_may_see_edit_finalize_and_reopen(county):
    assert county.test_client().get(f"/report/annual?year={YEAR}").headers["Location"].startswith("/login")
    assert log_in(county, "up").get(f"/report/annual?year={YEAR}").status_code == 403
    signer = log_in(county, "sig")
    page = signer.get(f"/report/annual?year={YEAR}").get_data(as_text=True)
    assert "蒙阴县人民政府2025年政府信息公开工作年度报告" in page and 'data-testid="annual-edit"' not in page
    assert signer.get(f"/report/annual/form?year={YEAR}").status_code == 403
    reviewer_page = log_in(county, "rev").get(f"/report/annual?year={YEAR}").get_data(as_text=True)
    assert 'data-testid="annual-edit"' in reviewer_page and 'data-testid="annual-finalize"' in reviewer_page
    assert 'data-testid="annual-reopen"' not in reviewer_page


def test_the_page_shows_the_year_the_tables_and_the_charts(county):
    page = log_in(county, "rev").get(f"/report/annual?year={YEAR}").get_data(as_text=True)
    assert "（一）主动公开。2025年，蒙阴县人民政府共主动公开政府信息 4 条" in page
    assert page.count("<svg") == 3 and "主动公开政府信息按类别" in page and "12月" in page
    assert "县政府办 2 条（50%）" in page                  # the department share's legend
    assert 'data-testid="normative-issued">1<' in page
    for title in F.SECTION_TITLES:
        assert title in page
    article = page.split('<article class="annual-report"')[1].split("</article>")[0]
    assert "<script" not in article                        # the charts are drawn on the server
    assert "cdn" not in page.lower()


def test_a_wrong_figure_is_shown_on_the_form_with_every_input_kept(county):
    client = log_in(county, "rev")
    fields = form_of(client.get(f"/report/annual/form?year={YEAR}").get_data(as_text=True))
    assert fields["revision"] == "0" and fields["app.new.natural"] == "0"
    assert fields["text.overview"].startswith("（一）主动公开。2025年")
    fields.update({"app.new.natural": "3", "app.open.natural": "两", "licensing": "12",
                   "text.problems": "一是公开内容不够丰富。"})
    answer = client.post(f"/report/annual/form?year={YEAR}", data=fields)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "有填写错误的数据" in page
    assert "（一）予以公开「自然人」须为 0 至 10,000,000 的整数" in page
    kept = form_of(page)
    assert kept["app.open.natural"] == "两" and kept["app.new.natural"] == "3" and kept["licensing"] == "12"
    assert kept["text.problems"] == "一是公开内容不够丰富。"
    assert 'class="invalid" aria-invalid="true" aria-describedby="err-app-open-natural"' in page

    fields["app.open.natural"] = "3"
    answer = client.post(f"/report/annual/form?year={YEAR}", data=fields)
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已保存。" in page and "rev同志 于" in page and "第 1 次" in page
    assert "一是公开内容不够丰富。" in page
    assert "以上为按本年数据自动生成的框架" in page        # the skeleton untouched keeps following the data


def test_a_second_clerks_stale_form_is_refused_with_the_input_kept(county):
    first, second = log_in(county, "rev"), log_in(county, "adm")
    stale = form_of(second.get(f"/report/annual/form?year={YEAR}").get_data(as_text=True))
    fields = form_of(first.get(f"/report/annual/form?year={YEAR}").get_data(as_text=True))
    assert first.post(f"/report/annual/form?year={YEAR}", data={**fields, "licensing": "5"}).status_code == 302
    answer = second.post(f"/report/annual/form?year={YEAR}", data={**stale, "penalty": "9"})
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "已被 rev 修改" in page and form_of(page)["penalty"] == "9"


def test_unbalanced_figures_block_the_docx_and_the_final_until_put_right(county):
    client = log_in(county, "rev")
    fields = form_of(client.get(f"/report/annual/form?year={YEAR}").get_data(as_text=True))
    fields.update({"app.new.natural": "3", "app.open.natural": "2"})
    assert client.post(f"/report/annual/form?year={YEAR}", data=fields).status_code == 302
    page = client.get(f"/report/annual?year={YEAR}").get_data(as_text=True)
    assert "数据对不上，暂不能生成 Word 版或定稿" in page and "「自然人」列" in page
    assert 'data-testid="annual-docx"' not in page and 'data-testid="annual-finalize"' not in page
    refused = client.get(f"/report/annual.docx?year={YEAR}")
    assert refused.status_code == 409 and "「自然人」列" in refused.get_data(as_text=True)
    token = form_of(page).get("csrf_token") or re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = client.post(f"/report/annual/finalize?year={YEAR}", data={"csrf_token": token})
    assert refused.status_code == 409 and "不能生成" in refused.get_data(as_text=True)


def test_finalize_download_and_reopen_through_the_pages(county):
    client = log_in(county, "rev")
    fields = form_of(client.get(f"/report/annual/form?year={YEAR}").get_data(as_text=True))
    fields.update({"app.new.natural": "2", "app.open.natural": "2", "fees": "1.5"})
    assert client.post(f"/report/annual/form?year={YEAR}", data=fields).status_code == 302
    draft = client.get(f"/report/annual.docx?year={YEAR}")
    assert draft.status_code == 200 and draft.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in draft.headers["Content-Disposition"] and "%E8%8D%89%E7%A8%BF" in \
        draft.headers["Content-Disposition"]                     # （草稿） in the file's name
    assert docx.Document(io.BytesIO(draft.data)).tables[0].rows[13].cells[1].text == "1.5"

    page = client.get(f"/report/annual?year={YEAR}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = client.post(f"/report/annual/finalize?year={YEAR}", data={"csrf_token": token})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已定稿：报告及其 Word 文件已存档" in page and "已定稿</span> rev同志 于" in page
    assert 'data-testid="annual-edit"' not in page
    final = client.get(f"/report/annual.docx?year={YEAR}")
    assert final.status_code == 200 and "%E8%8D%89%E7%A8%BF" not in final.headers["Content-Disposition"]
    assert client.get(f"/report/annual/form?year={YEAR}").status_code == 302       # a final report has no form
    refused = client.post(f"/report/annual/form?year={YEAR}", data={**fields, "csrf_token": token})
    assert refused.status_code == 409 and "已定稿" in refused.get_data(as_text=True)
    reopen = client.post(f"/report/annual/reopen?year={YEAR}", data={"csrf_token": token, "reason": "x"})
    assert reopen.status_code == 403

    admin = log_in(county, "adm")
    page = admin.get(f"/report/annual?year={YEAR}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'data-testid="annual-reopen"' in page
    refused = admin.post(f"/report/annual/reopen?year={YEAR}", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422 and "须填写理由" in refused.get_data(as_text=True)
    done = admin.post(f"/report/annual/reopen?year={YEAR}", data={"csrf_token": token, "reason": "收费金额有误"})
    assert done.status_code == 302
    assert "已重新打开，可以修改。" in admin.get(done.headers["Location"]).get_data(as_text=True)
    audit = admin.get("/admin/audit?kind=report").get_data(as_text=True)
    for words in ("保存年度报告数据", "年度报告定稿", "重新打开年度报告", "收费金额有误"):
        assert words in audit, words
