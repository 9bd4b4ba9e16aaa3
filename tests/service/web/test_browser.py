"""The pages in a real browser: Debian's Chromium driven by Playwright against a real
`gongkai serve` (web + a real worker, on the test Redis), from upload to the public catalogue.

Every request the browser makes is checked: anything for a host other than the app's own
is blocked and fails the test. Screenshots go to docs/screenshots/ (linked from the README).
"""
import os
import re
from pathlib import Path

import pytest

from build_docx import build_gongwen_docx
from build_pdf import build_pdf, build_scanned_pdf
from browser import CHROMIUM, HOSTILE, PASSWORD, ROOT, SHOTS, Guard, drop_file, log_in, make_docx, new_page

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI", "").lower() != "true",
                                reason="Chromium not installed (apt-get install chromium)")


def test_upload_review_publish_and_find_in_the_catalogue(server, browser, tmp_path):
    from playwright.sync_api import expect

    base = server["url"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    guard = Guard(base)
    word = make_docx(tmp_path / "秸秆综合利用通知.docx")
    pdf = build_pdf(tmp_path / "秸秆禁烧通知.pdf", [["县农业农村局关于做好秸秆禁烧工作的通知", "各乡镇人民政府：",
                                                   "秋收在即，现就做好秸秆禁烧和综合利用工作通知如下。",
                                                   "各乡镇要落实网格化巡查，严禁露天焚烧秸秆。"]])
    secret = build_gongwen_docx(tmp_path / "机密文件.docx")
    (tmp_path / "照片.gif").write_bytes(b"GIF89a" + b"0" * 64)

    # An uploader uploads a .docx and a .pdf (and a 密级 document); the worker processes them.
    clerk = new_page(browser, server, guard)
    log_in(clerk, base, "clerk")
    expect(clerk.locator("header.site")).to_contain_text("县农业农村局")
    expect(clerk.locator("header.site")).to_contain_text("经办人")
    clerk.goto(f"{base}/upload")
    clerk.set_input_files("#picker", [str(word), str(pdf), str(secret), str(tmp_path / "照片.gif")])
    statuses = clerk.locator("#uploads .upload-status")
    expect(statuses.nth(3)).to_contain_text("不支持的文件类型")  # refused before upload
    for i in range(3):
        expect(statuses.nth(i)).to_contain_text("待审核", timeout=120_000)
    drop_file(clerk, "#dropzone", "报表.xls")  # dragged in: refused in the browser, never sent
    expect(statuses.nth(4)).to_contain_text("不支持的文件类型")
    clerk.set_input_files("#picker", str(HOSTILE / "pdf_renamed.docx"))  # the server says why, in plain words
    expect(statuses.nth(5)).to_contain_text("处理失败：", timeout=120_000)
    expect(statuses.nth(5)).to_contain_text("PDF")
    clerk.set_input_files("#picker", files=[{"name": "空白.txt", "mimeType": "text/plain", "buffer": b""}])
    expect(clerk.locator("#uploads tr", has_text="空白.txt")).to_contain_text("0 字节")   # not "1 KB"
    expect(statuses.nth(6)).to_contain_text("空", timeout=60_000)
    clerk.screenshot(path=str(SHOTS / "upload.png"), full_page=True)
    clerk.goto(f"{base}/submissions")
    expect(clerk.locator("table.list tbody tr")).to_have_count(4)
    clerk.select_option("select[name=status]", "failed")
    expect(clerk.locator("table.list tbody tr")).to_have_count(1)
    expect(clerk.locator("table.list tbody")).to_contain_text("处理失败")
    clerk.select_option("select[name=status]", "pending_review")
    expect(clerk.locator("table.list tbody tr")).to_have_count(3)
    ids = {}
    for link in clerk.locator("table.list tbody tr td:first-child a").all():
        text, href = link.inner_text(), link.get_attribute("href")
        key = "secret" if "信息公开" in text else "pdf" if "禁烧" in text else "word"
        ids[key] = int(href.rsplit("/", 1)[1])
    assert set(ids) == {"word", "pdf", "secret"}, ids

    # Another department's uploader cannot open the document by URL.
    other = new_page(browser, server, guard)
    log_in(other, base, "other")
    response = other.goto(f"{base}/documents/{ids['word']}")
    assert response.status == 404
    expect(other.locator("main")).to_contain_text("页面不存在")
    assert other.goto(f"{base}/review/{ids['word']}").status == 403
    assert other.goto(f"{base}/api/v1/documents/{ids['word']}/original").status == 404

    # A reviewer: the queue puts the 密级 document first; confirm one with the keyboard, correct the other.
    rev = new_page(browser, server, guard)
    log_in(rev, base, "checker")
    rev.goto(f"{base}/review")
    rows = rev.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)
    assert rows.first.get_attribute("data-id") == str(ids["secret"])
    expect(rows.first).to_contain_text("密级")
    rev.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    order = [r.get_attribute("data-id") for r in rows.all()]

    rev.goto(f"{base}/review/{ids['secret']}")
    rev.keyboard.press("j")  # J: the next item in the queue's order
    rev.wait_for_url(re.compile(rf"/review/{order[1]}$"))
    rev.keyboard.press("k")
    rev.wait_for_url(re.compile(rf"/review/{ids['secret']}$"))

    rev.goto(f"{base}/review/{ids['word']}")
    expect(rev.locator("#text")).to_contain_text("秸秆综合利用")
    first = rev.locator("#choices .choice").first.get_attribute("data-category")
    rev.screenshot(path=str(SHOTS / "review.png"), full_page=True)
    rev.keyboard.press("1")
    rev.keyboard.press("Enter")                      # confirmed, and the next in the queue opens
    expect(rev).not_to_have_url(re.compile(rf"/review/{ids['word']}$"))

    rev.goto(f"{base}/review/{ids['pdf']}")
    expect(rev.locator("iframe")).to_have_count(1)  # the PDF itself beside the extracted text
    second = rev.locator("#choices .choice").nth(1).get_attribute("data-category")
    rev.keyboard.press("2")
    rev.keyboard.press("Enter")
    expect(rev).not_to_have_url(re.compile(rf"/review/{ids['pdf']}$"))

    # 初审 done, 签发 waits for someone else: the reviewer's own 签发 button is disabled, and the
    # signer (孙局长) finds both under 待签发 and publishes them. Neither has findings and every page
    # was read by the machine, so the 保密审查 is recorded by 发布 itself: one click. (Personal
    # information or a scanned page needs a reviewer's recorded review and another person to
    # publish: the scan test below.) 签发 is double-clicked: the page sends one request.
    rev.goto(f"{base}/review/{ids['word']}")
    expect(rev.locator("#stage")).to_contain_text("此件由您初审，须由他人签发")
    expect(rev.locator("#publish")).to_be_disabled()
    lead = new_page(browser, server, guard)
    log_in(lead, base, "lead")
    lead.goto(f"{base}/review?status=approved")
    expect(lead.locator("#waits-for")).to_contain_text("待签发")
    expect(lead.locator("[data-testid=approved-by]").first).to_contain_text("初审：checker")
    lead.screenshot(path=str(SHOTS / "queue-stages.png"), full_page=True)
    publish_posts: list[str] = []
    lead.on("request",
            lambda r: publish_posts.append(r.url) if r.method == "POST" and r.url.endswith("/publish") else None)
    for key in ("word", "pdf"):
        lead.goto(f"{base}/review/{ids[key]}" + ("?status=approved" if key == "pdf" else ""))
        expect(lead.locator("#confirm")).to_have_count(0)                # a signer does not do the 初审
        expect(lead.locator("#secrecy-status")).to_contain_text("发布时将自动记录保密审查")
        if key == "word":
            lead.dblclick("#publish")
        else:
            expect(lead.locator("[data-testid=position]")).to_have_text("第 1 / 1 件")   # the other is published
            lead.keyboard.press("p")                                       # P: publish, from the keyboard
        expect(lead.locator("#status")).to_have_text("已发布")
    assert publish_posts == [f"{base}/api/v1/documents/{ids[k]}/publish" for k in ("word", "pdf")]
    rev.goto(f"{base}/documents/{ids['word']}")
    expect(rev.locator("ol.history")).to_contain_text("保密审查")
    expect(rev.locator("ol.history .secrecy-entry")).to_contain_text("审查通过（自动记录）")

    # The 密级 document cannot be published: the refusal is shown with its reason.
    rev.goto(f"{base}/review/{ids['secret']}")
    expect(rev.locator("main")).to_contain_text("依法不得公开发布")
    rev.keyboard.press("1")
    rev.keyboard.press("Enter")
    expect(rev).not_to_have_url(re.compile(rf"/review/{ids['secret']}$"))
    lead.goto(f"{base}/review/{ids['secret']}")             # the signer's 签发 is refused, saying why
    lead.click("#publish")
    expect(lead.locator("#message")).to_contain_text("密级标志")
    expect(lead.locator("#status")).to_have_text("已审核")

    # The public catalogue lists both with index numbers; a Chinese word from the body finds them.
    public = new_page(browser, server, guard)
    public.goto(f"{base}/catalogue")
    rows = public.locator("table.catalogue tbody tr")
    expect(rows).to_have_count(2)
    for row in rows.all():
        assert re.search(r"113708280043326001/\d{4}-\d{5}", row.inner_text())   # the national form
    public.fill("input[name=q]", "秸秆")
    public.press("input[name=q]", "Enter")
    expect(public.locator(".summary")).to_contain_text("共 2 条")
    public.screenshot(path=str(SHOTS / "catalogue.png"), full_page=True)
    public.fill("input[name=q]", "人居环境")
    public.press("input[name=q]", "Enter")
    expect(public.locator(".summary")).to_contain_text("共 1 条")
    expect(public.locator("table.catalogue")).to_contain_text("秸秆综合利用")
    public.locator("table.catalogue tbody a").first.click()
    expect(public.locator(".doc-title")).to_be_visible()
    public.emulate_media(media="print")  # the print view leaves out the page furniture
    expect(public.locator("header.site")).to_be_hidden()
    expect(public.locator(".doc-text")).to_be_visible()
    public.emulate_media(media="screen")
    with public.expect_download() as download:
        public.click("text=下载原件")
    assert download.value.suggested_filename.endswith((".docx", ".pdf"))
    assert first and second

    # The year's statistics for the annual report count the two published documents.
    rev.click("header.site nav >> text=年度统计")
    expect(rev.locator("#report-summary")).to_contain_text("年共主动公开政府信息 2 条")
    expect(rev.locator("#report-departments tbody tr").first).to_contain_text("2")
    rev.screenshot(path=str(SHOTS / "report.png"), full_page=True)
    with rev.expect_download() as report_csv:
        rev.click("text=导出表格（CSV）")
    assert report_csv.value.suggested_filename.startswith("gongkai-report-")
    assert "合计" in Path(report_csv.value.path()).read_text(encoding="utf-8-sig")

    # A published document is withdrawn from its review page (撤回, with a reason); it offers no
    # confirm/reject any more, and the public catalogue no longer lists it.
    rev.goto(f"{base}/review/{ids['pdf']}")
    expect(rev.locator("#confirm")).to_have_count(0)
    expect(rev.locator("#reject")).to_have_count(0)
    rev.click("#withdraw")
    rev.fill("#withdraw-reason", "附件有误，更正后重新发布")
    rev.click("#withdraw-ok")
    expect(rev.locator("#status")).to_have_text("已撤回")
    expect(rev.locator("#publish")).to_have_text("重新发布")
    public.goto(f"{base}/catalogue")
    expect(public.locator("table.catalogue tbody tr")).to_have_count(1)

    # The admin sees how the model's suggestions fared on the three documents reviewed above.
    admin = new_page(browser, server, guard)
    log_in(admin, base, "boss")
    admin.goto(f"{base}/admin#in-use")
    version_row = admin.locator("#in-use-table tbody tr[data-version]")
    expect(version_row).to_have_count(1)
    expect(version_row.locator("td").nth(1)).to_have_text("3")
    assert version_row.get_attribute("data-version").startswith("county-default/")
    admin.screenshot(path=str(SHOTS / "admin.png"), full_page=True)
    # The new department's code is checked by the browser too: its pattern compiles under the
    # `v` flag Chromium applies to `pattern` (an unescaped "-" at a class's end does not).
    code = admin.locator("input[name=code]")
    code.fill("Bad Code")
    assert code.evaluate("el => el.validity.patternMismatch") is True
    code.fill("nyj-2_b")
    assert code.evaluate("el => el.validity.valid") is True
    code.fill("")

    # 李干事 forgot his password: the admin sets a temporary one, which he must replace with his
    # own at sign-in before anything else; then he is where he was going.
    row = admin.locator("tr[data-user=other]")
    row.locator("input[name=password]").fill("temp-pass-2026")
    row.locator("button", has_text="设置").click()
    expect(admin.locator("tr[data-user=other]")).to_contain_text("待改密码")
    other = new_page(browser, server, guard)
    other.goto(f"{base}/login?next=/submissions")
    other.fill("input[name=username]", "other")
    other.fill("input[name=password]", "temp-pass-2026")
    other.click("button[type=submit]")
    other.wait_for_url("**/account?next=/submissions")
    expect(other.locator("[data-testid=must-change]")).to_contain_text("临时密码")
    other.fill("input[name=current_password]", "temp-pass-2026")
    other.fill("input[name=new_password]", "li-own-2026")
    other.fill("input[name=repeat_password]", "li-own-2026")
    other.click("main form button[type=submit]")
    other.wait_for_url("**/submissions")
    expect(other.locator("h1")).to_have_text("我的提交")
    admin.reload()
    expect(admin.locator("tr[data-user=other]")).not_to_contain_text("待改密码")
    admin.click("[data-testid=who]")            # one's own account is a click on one's name
    expect(admin.locator("main h1")).to_have_text("我的账号")

    # 操作日志: what happened above, newest first; the review of the published document is there,
    # and the hash chain checks out.
    admin.click("header.site nav >> text=操作日志")
    admin.select_option("select[name=kind]", "review")
    admin.click("#audit-filters button[type=submit]")
    reviews = admin.locator("#audit-entries tbody tr[data-seq]")
    expect(reviews.first).to_be_visible()
    assert ({t.strip() for t in reviews.locator("td:nth-child(4)").all_inner_texts()}
            <= {"确认分类", "更正分类", "修改公文要素"})
    admin.click("#audit-verify")
    expect(admin.locator("#audit-verification")).to_contain_text("校验通过")
    admin.screenshot(path=str(SHOTS / "audit.png"), full_page=True)

    assert not guard.foreign, guard.foreign
    assert any(u.startswith(base + "/static/web/") for u in guard.seen)


def test_a_scanned_secret_notice_needs_its_pages_read_and_another_person_to_publish(server, browser, tmp_path):
    """先审查、后公开: a notice marked 秘密★1年 scanned as images has no text for the 密级 scan. It is
    published only after a reviewer read both pages in the original and cleared its 保密审查 —
    and by someone else (审查与发布分人)."""
    from playwright.sync_api import expect

    base = server["url"]
    guard = Guard(base)
    scan = build_scanned_pdf(tmp_path / "秘密通知扫描件.pdf", 2)
    clerk = new_page(browser, server, guard)
    log_in(clerk, base, "clerk")
    clerk.goto(f"{base}/upload")
    clerk.set_input_files("#picker", str(scan))
    expect(clerk.locator("#uploads .upload-status").first).to_contain_text("待审核", timeout=120_000)
    clerk.goto(f"{base}/submissions")
    doc_id = int(clerk.locator("table.list tbody tr td:first-child a").first.get_attribute("href").rsplit("/", 1)[1])

    rev = new_page(browser, server, guard)
    log_in(rev, base, "checker")
    rev.goto(f"{base}/review/{doc_id}")
    expect(rev.locator("#warnings")).to_contain_text("没有可提取的文字")
    section = rev.locator("#secrecy-review")
    expect(section).to_contain_text("已逐页阅读原件第 1 页")
    expect(section).to_contain_text("已逐页阅读原件第 2 页")
    expect(section).to_contain_text("审查与发布分人")
    rev.keyboard.press("1")
    rev.keyboard.press("Enter")
    expect(rev).not_to_have_url(re.compile(rf"/review/{doc_id}$"))    # on to the next (here: the queue)
    rev.goto(f"{base}/review/{doc_id}")
    expect(rev.locator("#status")).to_have_text("已审核")
    lead = new_page(browser, server, guard)                 # the signer: no review yet, refused, saying which pages
    log_in(lead, base, "lead")
    lead.goto(f"{base}/review/{doc_id}")
    lead.click("#publish")
    expect(lead.locator("#message")).to_contain_text("第 1、2 页无法识别文字")
    expect(lead.locator("#status")).to_have_text("已审核")
    rev.check("#read-pages input[value='1']")
    rev.click("#secrecy-clear")                             # page 2 not ticked: the page says so, sends nothing
    expect(rev.locator("#message")).to_contain_text("勾选全部页面")
    rev.check("#read-pages input[value='2']")
    rev.fill("#secrecy-note", "原件第 1 页标有“秘密★1年”，经核实已于 2026 年 3 月解密")
    rev.click("#secrecy-clear")
    expect(rev.locator("#secrecy-status")).to_contain_text("审查通过")
    expect(rev.locator("#secrecy-status")).to_contain_text("已逐页阅读原件第 1、2 页")
    expect(rev.locator("#publish")).to_be_disabled()        # who approved and cleared it does not publish it

    lead.goto(f"{base}/review/{doc_id}")
    lead.click("#publish")
    expect(lead.locator("#status")).to_have_text("已发布")
    lead.goto(f"{base}/documents/{doc_id}")
    history = lead.locator("ol.history")
    expect(history.locator(".secrecy-entry")).to_contain_text("已逐页阅读原件第 1、2 页")
    expect(history).to_contain_text("经核实已于 2026 年 3 月解密")
    assert not guard.foreign, guard.foreign


def test_confident_items_are_confirmed_together_and_an_uploader_is_refused_the_queue(server, browser, tmp_path):
    """Three confident suggestions without findings and one uncertain: only the three can be batch-confirmed."""
    from playwright.sync_api import expect
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from service.db import Department, Document

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'gongkai.db'}")
    with Session(engine) as s, s.begin():
        dept = s.execute(select(Department).where(Department.code == "mzj")).scalar_one()
        for n, (confidence, attention) in enumerate([(0.97, False), (0.95, False), (0.93, False), (0.41, True)]):
            s.add(Document(department_id=dept.id, filename=f"{n}.txt", sha256=f"{n:02d}".ljust(64, "0"), size=1,
                           status="pending_review", title=f"县民政局工作动态第{n}期", text="本期工作动态。",
                           suggested_category="工作动态" if not attention else None, confidence=confidence,
                           needs_attention=attention, candidates=[{"category": "工作动态", "probability": confidence}]))
    guard = Guard(server["url"])
    rev = new_page(browser, server, guard)
    log_in(rev, server["url"], "checker")
    rev.goto(f"{server['url']}/review")
    expect(rev.locator("input.pick")).to_have_count(3)
    rev.check("#select-all")
    expect(rev.locator("#batch-count")).to_have_text("3")
    rev.click("#batch-confirm")
    expect(rev.locator("table.queue tbody tr")).to_have_count(1)
    expect(rev.locator("#batch-message")).to_have_text("已批量确认 3 件。")        # it says what it did
    rev.goto(f"{server['url']}/review?status=approved")                           # the 已审核 view: no batch
    expect(rev.locator("#batch-confirm")).to_have_count(0)                        # confirming, categories shown
    expect(rev.locator("[data-testid=category]")).to_have_count(3)
    expect(rev.locator("[data-testid=suggestion]")).to_have_count(0)
    with Session(engine) as s:
        assert sorted(s.execute(select(Document.status)).scalars()) == ["approved"] * 3 + ["pending_review"]
    engine.dispose()

    # An uploader asking for the queue gets a clean 403 page, not a JSON error.
    clerk = new_page(browser, server, guard)
    log_in(clerk, server["url"], "clerk")
    assert clerk.goto(f"{server['url']}/review").status == 403
    expect(clerk.locator("main")).to_contain_text("无权访问")

    # Away from the desk past the idle limit: the next upload leads to the login page, which
    # says why, and back to the upload page after signing in. (The server's record of the
    # session — found by the id in the cookie, read with the server's own key from its data
    # directory — is given a last activity an hour ago.)
    clerk.goto(f"{server['url']}/upload")
    age_session(clerk, tmp_path / "data", seconds=3600)
    drop_file(clerk, "#dropzone", "会议纪要.txt")
    clerk.wait_for_url("**/login?expired=1&next=%2Fupload")
    expect(clerk.locator("[data-testid=session-expired]")).to_have_text("长时间未操作，已自动退出，请重新登录。")
    clerk.fill("input[name=username]", "clerk")
    clerk.fill("input[name=password]", PASSWORD)
    clerk.click("button[type=submit]")
    clerk.wait_for_url("**/upload")
    assert not guard.foreign, guard.foreign


#: The keyboard journey's documents: (category the reviewer means, the model's suggestion or None).
#: Fourteen suggestions are right, four wrong, two abstained: as a county's week might go.
KEYBOARD_PLAN = ([("工作动态", "工作动态")] * 8 + [("应急预案", "应急预案")] * 3 + [("人事任免", "人事任免")] * 3
                 + [("规划计划", "工作动态"), ("办事指南", "其他"), ("工作动态", "应急预案"), ("机构职能", "工作动态")]
                 + [("政策法规及规范性文件", None), ("其他", None)])


def test_twenty_documents_are_reviewed_with_the_keyboard_alone(server, browser, tmp_path):
    """doccano's pace: a fixed key per category, Enter confirms and opens the next document. The
    keystrokes are counted: one Enter per document, one digit more where the suggestion is wrong
    or missing. (Before: the page stayed on the confirmed document and J moved on — one more key
    each, and the digits followed each document's own ranking.)"""
    from playwright.sync_api import expect
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from service.db import Department, Document

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'gongkai.db'}")
    meant = {}
    with Session(engine) as s, s.begin():
        dept = s.execute(select(Department).where(Department.code == "mzj")).scalar_one()
        for n, (category, suggested) in enumerate(KEYBOARD_PLAN):
            doc = Document(department_id=dept.id, filename=f"k{n}.txt", sha256=f"k{n:02d}".ljust(64, "0"), size=1,
                           status="pending_review", title=f"县民政局文件第{n}号", text=f"第{n}号文件正文。",
                           suggested_category=suggested, confidence=0.9 if suggested else 0.3,
                           needs_attention=suggested is None,
                           candidates=[{"category": suggested or "其他", "probability": 0.9 if suggested else 0.3}])
            s.add(doc)
            s.flush()
            meant[doc.id] = category
    guard = Guard(server["url"])
    rev = new_page(browser, server, guard)
    log_in(rev, server["url"], "checker")
    rev.goto(f"{server['url']}/review")
    rev.goto(server["url"] + rev.locator("table.queue tbody tr a").first.get_attribute("href"))   # open the first
    keys = {"digits": 0, "enter": 0}
    for _ in KEYBOARD_PLAN:
        expect(rev.locator("#review")).to_be_visible()
        doc_id = int(rev.locator("#review").get_attribute("data-id"))
        keyed = [c.get_attribute("data-category") for c in rev.locator("#choices .choice").all()]
        if rev.locator("#review").get_attribute("data-suggested") != meant[doc_id]:
            rev.keyboard.press(str(keyed.index(meant[doc_id]) + 1))   # the category's own key, the same on every page
            keys["digits"] += 1
        rev.keyboard.press("Enter")
        keys["enter"] += 1
        expect(rev).not_to_have_url(re.compile(rf"/review/{doc_id}(\?.*)?$"))
    expect(rev.locator("table.queue tbody")).to_contain_text("队列已清空")       # after the last: the queue
    with Session(engine) as s:
        done = dict(s.execute(select(Document.id, Document.category).where(Document.id.in_(meant))).all())
        assert done == meant
        assert set(s.execute(select(Document.status).where(Document.id.in_(meant))).scalars()) == {"approved"}
    engine.dispose()
    wrong = sum(1 for category, suggested in KEYBOARD_PLAN if category != suggested)
    assert keys == {"digits": wrong, "enter": 20}          # 26 keys for 20 documents (before: 46)
    assert not guard.foreign, guard.foreign


def age_session(page, data_dir: Path, seconds: int) -> None:
    """Move the browser session's last activity ``seconds`` into the past (on the server)."""
    import hashlib
    from datetime import UTC, datetime, timedelta

    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface
    from sqlalchemy import create_engine, update

    from service.db import BrowserSession

    signer = Flask("age_session")
    signer.secret_key = (data_dir / "secret_key").read_text().strip()
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    digest = hashlib.sha256(serializer.loads(cookie["value"])["sid"].encode("utf-8")).hexdigest()
    engine = create_engine(f"sqlite:///{data_dir / 'gongkai.db'}")
    with engine.begin() as conn:
        conn.execute(update(BrowserSession).where(BrowserSession.sid_sha256 == digest)
                     .values(last_seen_at=datetime.now(UTC) - timedelta(seconds=seconds)))
    engine.dispose()


def test_a_scanned_gongwen_is_read_by_ocr_reviewed_published_and_found(server, browser):
    """A stamped original kept only as a scan (image-only PDF, no text layer): uploaded through
    the page, read by OCR in the worker, reviewed with its 公文 fields, published and found."""
    from playwright.sync_api import expect

    base, guard = server["url"], Guard(server["url"])
    scan = ROOT / "tests" / "data" / "scans" / "028.pdf"

    clerk = new_page(browser, server, guard)
    log_in(clerk, base, "clerk")
    clerk.goto(f"{base}/upload")
    clerk.set_input_files("#picker", str(scan))
    expect(clerk.locator("#uploads .upload-status").first).to_contain_text("待审核", timeout=180_000)

    rev = new_page(browser, server, guard)
    log_in(rev, base, "checker")
    rev.goto(f"{base}/review")
    rows = rev.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    doc_id = rows.first.get_attribute("data-id")
    rev.goto(f"{base}/review/{doc_id}")
    expect(rev.locator("h1")).to_have_text("晋城市人民政府办公室关于印发晋城市地质灾害应急预案的通知")
    expect(rev.locator("#warnings [data-code=ocr_text]")).to_contain_text("文字由 OCR 识别")
    expect(rev.locator("#text")).to_contain_text("现印发给你们")
    expect(rev.locator("#f-doc_number")).to_have_value("晋市政办〔2023〕33号")
    expect(rev.locator("#f-issuer")).to_have_value("晋城市人民政府办公室")
    rev.locator("#choices .choice[data-category=应急预案]").click()
    rev.click("#confirm")
    expect(rev.locator("#status")).to_have_text("已审核")
    boss = new_page(browser, server, guard)                 # 签发 by someone other than the 初审
    log_in(boss, base, "boss")
    boss.goto(f"{base}/review/{doc_id}")
    boss.click("#publish")
    expect(boss.locator("#status")).to_have_text("已发布")

    public = new_page(browser, server, guard)
    public.goto(f"{base}/catalogue")
    public.fill("input[name=q]", "地质灾害")
    public.press("input[name=q]", "Enter")
    expect(public.locator(".summary")).to_contain_text("共 1 条")
    expect(public.locator("table.catalogue")).to_contain_text("晋城市地质灾害应急预案")
    assert not guard.foreign, guard.foreign


def test_a_notice_with_id_numbers_is_published_as_its_masked_public_pdf(server, browser):
    """去标识化: the real 临时救助 公示 (three 身份证, three mobiles) as an image-only scan and as a
    .doc. The reviewer sees the public copy and previews the public PDF, confirms the masks, clears
    the 保密审查; another reviewer publishes. The public page says the text is de-identified and
    offers the 公开版 PDF: page images with the numbers painted over, no text layer."""
    import io

    import pdfplumber
    import pypdfium2 as pdfium
    from playwright.sync_api import expect

    base, guard = server["url"], Guard(server["url"])
    scans = ROOT / "tests" / "data" / "shared" / "scans"
    clerk, rev, boss, public = (new_page(browser, server, guard) for _ in range(4))
    log_in(clerk, base, "clerk")
    log_in(rev, base, "checker")
    log_in(boss, base, "boss")
    for kind, path in (("scan", scans / "scan" / "030.pdf"), ("doc", scans / "doc" / "030.doc")):
        clerk.goto(f"{base}/upload")
        clerk.set_input_files("#picker", str(path))
        expect(clerk.locator("#uploads .upload-status").first).to_contain_text("待审核", timeout=180_000)
        clerk.goto(f"{base}/submissions")
        doc_id = int(clerk.locator("table.list tbody tr td:first-child a").first.get_attribute("href")
                     .rsplit("/", 1)[1])

        rev.goto(f"{base}/review/{doc_id}")
        expect(rev.locator("#public-text")).to_contain_text("410522********0036")
        rev.fill("#add-mask input[name=add]", "赵德明")         # a name in the 公示: the scanner finds numbers only
        rev.click("#add-mask button[type=submit]")
        expect(rev.locator("#public-text")).to_contain_text("赵**，公民身份号码410522********0036")
        preview = rev.request.get(f"{base}/api/v1/documents/{doc_id}/public-file?inline=1")
        assert preview.ok and preview.headers["content-type"] == "application/pdf"
        rev.click("#ack-pii")
        expect(rev.locator("#message")).to_contain_text("已确认")
        rev.goto(f"{base}/review/{doc_id}")
        rev.locator("#choices .choice").first.click()
        rev.click("#confirm")
        expect(rev.locator("#status")).to_have_text("已审核")
        for box in rev.locator("#read-pages input").all():
            box.check()
        rev.fill("#secrecy-note", "公示名单，身份证号码和手机号码已遮盖")
        rev.click("#secrecy-clear")
        expect(rev.locator("#secrecy-status")).to_contain_text("审查通过")
        if kind == "scan":
            rev.screenshot(path=str(SHOTS / "review-public-copy.png"), full_page=True)
        boss.goto(f"{base}/review/{doc_id}")
        boss.click("#publish")
        expect(boss.locator("#status")).to_have_text("已发布")

        public.goto(f"{base}/catalogue/{doc_id}")
        expect(public.locator("[data-testid=deidentified]")).to_be_visible()
        expect(public.locator(".doc-text")).to_contain_text("赵**，公民身份号码410522********0036")
        with public.expect_download() as download:
            public.click("[data-testid=public-pdf]")
        assert download.value.suggested_filename == "030（公开版）.pdf"
        pdf = Path(download.value.path()).read_bytes()
        assert pdf == preview.body()                       # what the reviewer previewed is what the public gets
        with pdfplumber.open(io.BytesIO(pdf)) as opened:
            assert len(opened.pages) == 1 and (opened.pages[0].extract_text() or "").strip() == ""
        original = public.request.get(f"{base}/api/v1/documents/{doc_id}/original")
        assert original.status == 403
        if kind == "scan":
            public.screenshot(path=str(SHOTS / "catalogue-public-copy.png"), full_page=True)
            pdfium.PdfDocument(pdf)[0].render(scale=1.2).to_pil().save(SHOTS / "public-pdf.png")
    assert not guard.foreign, guard.foreign


def test_disclosure_attributes_stages_index_numbers_and_validity_as_a_county_runs_them(server, browser, tmp_path):
    """Issue #22 in one journey: a notice marked （此件不予公开） arrives pre-set, gets its 条例 reason and
    never reaches the catalogue; a rule is approved (初审) by one reviewer, signed (签发) by the
    signer and published with a 索引号 in the national form; later it is repealed, and the catalogue
    shows 已废止 with its dates and filters by it. The site says whose it is."""
    import docx
    from playwright.sync_api import expect

    base, guard = server["url"], Guard(server["url"])

    def notice(path, lines):
        d = docx.Document()
        for line in lines:
            d.add_paragraph(line)
        d.save(path)
        return str(path)

    withheld = notice(tmp_path / "资金使用情况报告.docx", [
        "县农业农村局关于2026年农机购置补贴资金使用情况的报告", "县人民政府：",
        "现将我局2026年农机购置补贴资金使用情况报告如下。全年资金使用规范，未发现违规问题。",
        "县农业农村局", "2026年11月20日", "（此件不予公开）"])
    rule = notice(tmp_path / "农机作业补助办法.docx", [
        "县农业农村局关于印发《县农机深松作业补助管理办法》的通知", "各乡镇人民政府：",
        "现将《县农机深松作业补助管理办法》印发给你们，请认真遵照执行。",
        "本办法自2026年1月1日起施行，有效期5年。", "县农业农村局", "2025年12月10日", "（此件公开发布）"])
    clerk = new_page(browser, server, guard)
    log_in(clerk, base, "clerk")
    ids = {}
    for key, path in (("withheld", withheld), ("rule", rule)):
        clerk.goto(f"{base}/upload")
        clerk.set_input_files("#picker", path)
        expect(clerk.locator("#uploads .upload-status").first).to_contain_text("待审核", timeout=120_000)
        clerk.goto(f"{base}/submissions")
        ids[key] = int(clerk.locator("table.list tbody tr td:first-child a").first.get_attribute("href")
                       .rsplit("/", 1)[1])

    rev = new_page(browser, server, guard)
    log_in(rev, base, "checker")
    expect(rev.locator("[data-testid=site-name]")).to_have_text("蒙阴县人民政府 政府信息公开")
    rev.goto(f"{base}/review/{ids['withheld']}")
    expect(rev.locator("#disclosure-status")).to_contain_text("不予公开")
    expect(rev.locator("#disclosure-status")).to_contain_text("文件自身标注：（此件不予公开）")
    rev.select_option("#disclosure-reason", "art16_process")
    rev.click("#disclosure-save")
    expect(rev.locator("#disclosure-status")).to_contain_text("第十六条 过程性信息")
    rev.locator("#choices .choice").first.click()
    rev.click("#confirm")
    expect(rev.locator("#status")).to_have_text("已审核")

    rev.goto(f"{base}/review/{ids['rule']}")
    expect(rev.locator("#validity-proposal")).to_contain_text("2026-01-01 起施行，有效期至 2030-12-31")
    rev.locator("#choices .choice[data-category=政策法规及规范性文件]").click()
    rev.click("#confirm")
    expect(rev.locator("#status")).to_have_text("已审核")
    expect(rev.locator("#publish")).to_be_disabled()               # 初审 by checker: 签发 by someone else

    lead = new_page(browser, server, guard)
    log_in(lead, base, "lead")
    lead.goto(f"{base}/review?status=approved")
    expect(lead.locator(f"tr[data-id='{ids['withheld']}'] [data-testid=disclosure]")).to_have_text("不予公开")
    lead.goto(f"{base}/review/{ids['withheld']}")
    lead.click("#publish")
    expect(lead.locator("#message")).to_contain_text("不进入公开目录")
    lead.goto(f"{base}/review/{ids['rule']}")
    lead.click("#publish")
    expect(lead.locator("#status")).to_have_text("已发布")

    # published in the national form; later repealed by a reviewer, and the catalogue says so
    rev.goto(f"{base}/review/{ids['rule']}")
    rev.select_option("#validity-select", "repealed")
    rev.fill("input[name=ends_on]", "2026-11-30")
    rev.fill("input[name=changed_by]", "蒙农发〔2026〕21号")
    rev.click("#validity-save")
    expect(rev.locator("#validity-status")).to_contain_text("已废止")

    public = new_page(browser, server, guard)
    public.goto(f"{base}/catalogue")
    rows = public.locator("table.catalogue tbody tr")
    expect(rows).to_have_count(1)                                   # the 不予公开 report is not there
    expect(rows.first).to_contain_text("县农机深松作业补助管理办法")
    assert re.search(r"113708280043326001/\d{4}-00001", rows.first.inner_text())
    expect(rows.first.locator("[data-testid=validity]")).to_have_text("已废止")
    public.click("#validity-filter >> text=已废止")
    expect(public.locator(".summary")).to_contain_text("共 1 条")
    public.screenshot(path=str(SHOTS / "catalogue-validity.png"), full_page=True)
    public.goto(f"{base}/catalogue/{ids['rule']}")
    expect(public.locator("#validity")).to_contain_text(
        "2026-01-01 起施行，有效期至 2030-12-31；2026-11-30 已废止（蒙农发〔2026〕21号）")
    assert public.goto(f"{base}/catalogue/{ids['withheld']}").status == 404
    assert not guard.foreign, guard.foreign


def test_the_annual_report_is_filled_checked_made_final_and_reopened(server, browser, tmp_path):
    """A year of publications (written into the server's database as the catalogue would hold them),
    the 2021-format report filled in the browser: a wrong figure shown on the form with the input
    kept, figures that do not add up named and blocking, then the Word file, 定稿 and 重新打开."""
    from datetime import UTC, datetime

    import docx as python_docx
    from playwright.sync_api import expect
    from sqlalchemy import select

    from service.db import Department, Document, make_engine, session_factory, transaction

    base = server["url"]
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'gongkai.db'}")
    try:
        with transaction(session_factory(engine)) as s:
            departments = {d.code: d.id for d in s.execute(select(Department)).scalars()}
            plan = [("nyj", "工作动态", 9), ("nyj", "政策法规及规范性文件", 2), ("nyj", "办事指南", 4),
                    ("mzj", "工作动态", 6), ("mzj", "应急预案", 2), ("mzj", "机构职能", 1)]
            n = 0
            for code, category, count in plan:
                for _ in range(count):
                    n += 1
                    published = datetime(2025, 1 + n % 12, 3 + n % 20, 2, tzinfo=UTC)
                    s.add(Document(department_id=departments[code], filename=f"{n}.pdf", sha256=f"{n:064x}", size=1,
                                   status="published", category=category, published_at=published,
                                   created_at=published, title=f"文件{n}"))
    finally:
        engine.dispose()

    guard = Guard(base)
    page = new_page(browser, server, guard)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    log_in(page, base, "checker")
    page.click("text=年度报告")
    page.select_option("select[name=year]", "2025")
    page.click("form.filters button[type=submit]")
    report = page.locator("[data-testid=annual-report]")
    expect(report).to_contain_text("蒙阴县人民政府2025年政府信息公开工作年度报告")
    expect(report).to_contain_text("共主动公开政府信息 24 条")
    expect(page.locator("[data-testid=annual-state]")).to_contain_text("尚未填写本年度数据")

    page.click("[data-testid=annual-edit]")
    page.fill("input[name='app.new.natural']", "3")
    page.fill("input[name='app.open.natural']", "两")
    page.fill("input[name=licensing]", "132")
    page.fill("input[name=fees]", "3.25")
    page.fill("textarea[name='text.problems']", "一是公开内容不够丰富。\n二是政策解读形式单一。")
    page.click("[data-testid=annual-save]")
    expect(page.locator("[data-testid=annual-form-message]")).to_contain_text("有填写错误的数据")
    expect(page.locator("#err-app-open-natural")).to_contain_text("须为 0 至 10,000,000 的整数")
    expect(page.locator("input[name=licensing]")).to_have_value("132")          # nothing typed is lost
    expect(page.locator("textarea[name='text.problems']")).to_have_value("一是公开内容不够丰富。\n二是政策解读形式单一。")
    page.locator("#err-app-open-natural").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "annual-form-errors.png"))

    page.fill("input[name='app.open.natural']", "2")
    page.click("[data-testid=annual-save]")
    expect(page.locator("[data-testid=annual-done]")).to_contain_text("已保存")
    problems = page.locator("[data-testid=annual-problems]")
    expect(problems).to_contain_text("「自然人」列")
    expect(page.locator("[data-testid=annual-docx]")).to_have_count(0)
    expect(page.locator("[data-testid=annual-finalize]")).to_have_count(0)

    page.click("[data-testid=annual-edit]")
    page.fill("input[name='app.carried_out.natural']", "1")
    page.click("[data-testid=annual-save]")
    expect(page.locator("[data-testid=annual-problems]")).to_have_count(0)
    expect(page.locator("#annual-applications tr[data-row=carried_out]")).to_contain_text("1")
    expect(page.locator("#annual-active")).to_contain_text("132")
    expect(page.locator("#annual-overview")).to_contain_text("本年新收政府信息公开申请 3 件")   # the untouched skeleton
    page.screenshot(path=str(SHOTS / "annual-report.png"), full_page=True)
    page.emulate_media(media="print")
    expect(page.locator("[data-testid=annual-edit]")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "annual-report-print.png"), full_page=True)
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.click("[data-testid=annual-docx]")
    assert download.value.suggested_filename == "蒙阴县人民政府2025年政府信息公开工作年度报告（草稿）.docx"
    word = python_docx.Document(download.value.path())
    assert word.tables[0].rows[6].cells[1].text == "132" and word.tables[1].rows[3].cells[3].text == "3"

    page.click("[data-testid=annual-finalize]")
    expect(page.locator("[data-testid=annual-state]")).to_contain_text("已定稿")
    assert asked == ["定稿后数据和文字将不再变化，只有管理员说明理由后可重新打开。确定定稿？"]
    expect(page.locator("[data-testid=annual-edit]")).to_have_count(0)

    boss = new_page(browser, server, guard)
    log_in(boss, base, "boss")
    boss.goto(f"{base}/report/annual?year=2025")
    boss.fill("[data-testid=annual-reopen-reason]", "行政许可数量需按审批局口径更正")
    boss.click("[data-testid=annual-reopen]")
    expect(boss.locator("[data-testid=annual-done]")).to_contain_text("已重新打开")
    expect(boss.locator("[data-testid=annual-state]")).to_contain_text("草稿")
    assert guard.foreign == []
