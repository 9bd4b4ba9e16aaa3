"""service/annual_report.py and annual_docx.py: a year's report in the 2021 format, composed from the
documents and the entered figures, generated as .docx, made final and frozen — on both databases."""
import io
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from service import annual_format as F
from service import annual_report as A
from service import taxonomy as T
from service.cli import main
from service.db import AuditEntry, Department, Document, transaction
from service.storage import LocalStorage

YEAR = 2025
ORG = "蒙阴县人民政府"


def add_year(sessions) -> None:
    """2025 in a county: 6 published documents in three categories and two departments, two of them
    规范性文件; an older rule repealed in 2025, another expired in 2024; a rule published in 2026."""
    with transaction(sessions) as s:
        zfb, mzj = Department(code="zfb", name="县政府办"), Department(code="mzj", name="县民政局")
        s.add_all([zfb, mzj])
        s.flush()
        rows = [  # department, category, published (UTC), validity
            (zfb, "工作动态", datetime(2025, 1, 5, 2, tzinfo=UTC), None),
            (zfb, "工作动态", datetime(2025, 3, 8, 2, tzinfo=UTC), None),
            (mzj, "工作动态", datetime(2025, 3, 9, 2, tzinfo=UTC), None),
            (mzj, "政策法规及规范性文件", datetime(2025, 6, 1, 2, tzinfo=UTC),
             {"status": "effective", "effective_from": "2025-07-01", "expires_on": "2030-06-30"}),
            (zfb, "政策法规及规范性文件", datetime(2025, 9, 1, 2, tzinfo=UTC), None),
            (mzj, "办事指南", datetime(2025, 12, 2, 2, tzinfo=UTC), None),
            (zfb, "政策法规及规范性文件", datetime(2022, 4, 1, 2, tzinfo=UTC),      # repealed in 2025
             {"status": "repealed", "ends_on": "2025-10-01", "changed_by": "蒙政发〔2025〕3号"}),
            (zfb, "政策法规及规范性文件", datetime(2021, 4, 1, 2, tzinfo=UTC),      # 有效期 ran out in 2024
             {"status": "effective", "expires_on": "2024-03-31"}),
            (zfb, "政策法规及规范性文件", datetime(2023, 4, 1, 2, tzinfo=UTC), None),   # in force, from before
            (zfb, "政策法规及规范性文件", datetime(2026, 2, 1, 2, tzinfo=UTC), None),   # next year's
        ]
        for i, (dept, category, published, validity) in enumerate(rows):
            s.add(Document(department_id=dept.id, filename=f"{i}.pdf", sha256=f"{i:064x}", size=1, status="published",
                           category=category, published_at=published, created_at=published, title=f"文件{i}",
                           validity=validity, validity_status=validity and validity["status"]))


def entered() -> dict:
    """The year's form as a clerk fills it: balanced, every table with something in it."""
    form = F.form_fields(F.empty_figures())
    form.update({"rules.issued": "0", "licensing": "132", "penalty": "17", "coercion": "2", "fees": "3.25",
                 "processing_fees": "0",
                 "app.new.natural": "6", "app.new.commercial": "2", "app.new.legal_service": "1",
                 "app.carried_in.natural": "1",
                 "app.open.natural": "3", "app.partial.natural": "1", "app.withheld_third_party.commercial": "1",
                 "app.unavailable_not_held.natural": "1", "app.unprocessed_repeat.commercial": "1",
                 "app.other_other.legal_service": "1", "app.carried_out.natural": "2",
                 "appeal.reconsideration.upheld": "1", "appeal.litigation_direct.pending": "1"})
    return form


def compose(sessions, year: int = YEAR) -> dict:
    with transaction(sessions, readonly=True) as s:
        return A.compose(s, year, T.load(), ORG)


def save(sessions, form: dict, texts: dict | None = None, revision: int = 0, year: int = YEAR):
    with transaction(sessions) as s:
        return A.save(s, year, "clerk", F.parse_figures(form), texts or {}, revision).revision


def cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def test_the_docx_holds_every_figure_of_the_year_in_the_2021_tables(sessions):
    add_year(sessions)
    save(sessions, entered(), {"problems": "一是公开内容不够丰富。\n二是解读回应不及时。", "other": "无其他事项。"})
    report = compose(sessions)
    assert report["normative"] == {"issued": 2, "repealed": 1, "effective": 3}
    assert report["problems_found"] == []
    doc = docx.Document(io.BytesIO(A.docx_bytes(report)))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == "蒙阴县人民政府2025年政府信息公开工作年度报告"
    for title in F.SECTION_TITLES:
        assert title in paragraphs
    assert any("共主动公开政府信息 6 条，其中工作动态 3 条、政策法规及规范性文件 2 条、办事指南 1 条" in p
               for p in paragraphs)
    assert any("按发布部门：县政府办 3 条、县民政局 3 条" in p or "按发布部门：县民政局 3 条、县政府办 3 条" in p
               for p in paragraphs)
    assert "一是公开内容不够丰富。" in paragraphs and "二是解读回应不及时。" in paragraphs
    assert "本年度未收取信息处理费。" in paragraphs and "无其他事项。" in paragraphs
    assert "统计期限自2025年1月1日起至2025年12月31日止" in paragraphs[1]

    active, applications, appeals = doc.tables
    assert cells(active) == [
        ["第二十条第（一）项"] * 4,
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "2", "1", "3"],
        ["第二十条第（五）项"] * 4,
        ["信息内容", *["本年处理决定数量"] * 3],
        ["行政许可", *["132"] * 3],
        ["第二十条第（六）项"] * 4,
        ["信息内容", *["本年处理决定数量"] * 3],
        ["行政处罚", *["17"] * 3],
        ["行政强制", *["2"] * 3],
        ["第二十条第（八）项"] * 4,
        ["信息内容", *["本年收费金额（单位：万元）"] * 3],
        ["行政事业性收费", *["3.25"] * 3]]

    table = cells(applications)
    assert table[0][3:] == ["申请人情况"] * 7 and table[0][0] == F.BALANCE_NOTE
    assert table[1][3:] == ["自然人", *["法人或其他组织"] * 5, "总计"]
    assert table[2][3:] == ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    body = table[3:]
    expected = F.application_rows(report["figures"])
    assert len(body) == len(expected) == 25
    form = entered()
    for row, want in zip(body, expected, strict=True):
        numbers = [int(v) for v in row[3:]]
        assert numbers == want["values"], want["label"]
        assert row[2] == want["label"]                          # the label, whatever it spans
        if want["key"] in {r.key for r in F.APPLICATION_ROWS}:
            entered_cells = [int(form[f"app.{want['key']}.{c}"]) for c, _ in F.APPLICANTS]
            assert numbers == [*entered_cells, sum(entered_cells)], want["label"]
        if want["group"]:
            assert row[0] == "三、本年度办理结果" and row[1] == want["group"]
        elif want["result"]:
            assert row[0] == "三、本年度办理结果" and row[1] == want["label"]
        else:
            assert row[0] == row[1] == want["label"]
    assert body[0][3:] == ["6", "2", "0", "0", "1", "0", "9"]          # 一、本年新收
    assert body[-2][2] == "（七）总计" and body[-2][3:] == ["5", "2", "0", "0", "1", "0", "8"]
    assert body[-1][2] == "四、结转下年度继续办理" and body[-1][3:] == ["2", "0", "0", "0", "0", "0", "2"]

    rows = cells(appeals)
    assert rows[0] == [*["行政复议"] * 5, *["行政诉讼"] * 10]
    assert rows[1][5:] == [*["未经复议直接起诉"] * 5, *["复议后起诉"] * 5]
    assert rows[2] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3
    assert rows[3] == ["1", "0", "0", "0", "1", "0", "0", "0", "1", "1", "0", "0", "0", "0", "0"]


def test_figures_that_do_not_add_up_refuse_the_docx_naming_the_column(sessions):
    form = entered()
    form["app.open.natural"] = "4"                  # one 自然人 application too many handled
    save(sessions, form)
    report = compose(sessions)
    assert report["problems_found"] == [
        "三、收到和处理政府信息公开申请情况「自然人」列：一、本年新收政府信息公开申请数量（6）加二、上年结转政府信息公开"
        "申请数量（1）为 7，不等于三、本年度办理结果（七）总计（6）加四、结转下年度继续办理（2）为 8"]
    with pytest.raises(A.ReportUnbalanced) as refused:
        A.docx_bytes(report)
    assert "「自然人」列" in refused.value.message and refused.value.http_status == 409


def test_this_years_carried_in_is_checked_against_last_years_report(sessions):
    last = F.form_fields(F.empty_figures())
    last.update({"app.new.natural": "3", "app.open.natural": "2", "app.carried_out.natural": "1"})
    save(sessions, last, year=YEAR - 1)
    assert compose(sessions)["problems_found"] == [          # 2025 not filled in yet: 0 carried in
        "二、上年结转政府信息公开申请数量「自然人」列为 0，与 2024 年度报告的四、结转下年度继续办理（1）不一致"]
    save(sessions, entered())                                  # carries in 1 自然人, as 2024 carried out
    assert compose(sessions)["problems_found"] == []
    with transaction(sessions) as s:
        A.save(s, YEAR - 1, "clerk", F.parse_figures({**last, "app.new.natural": "4", "app.carried_out.natural": "2"}),
               {}, 1)
    assert compose(sessions)["problems_found"] == [
        "二、上年结转政府信息公开申请数量「自然人」列为 1，与 2024 年度报告的四、结转下年度继续办理（2）不一致"]


def test_a_save_on_an_old_revision_is_refused_not_merged(sessions):
    assert save(sessions, entered()) == 1
    with pytest.raises(A.ReportChanged) as refused:           # a second clerk's form was read at revision 0
        save(sessions, F.form_fields(F.empty_figures()))
    assert "已被 clerk 修改" in refused.value.message
    assert compose(sessions)["figures"]["licensing"] == 132
    assert save(sessions, {**entered(), "licensing": "140"}, revision=1) == 2
    with transaction(sessions, readonly=True) as s:
        saved = s.execute(select(AuditEntry.detail).where(AuditEntry.action == "report.saved")
                          .order_by(AuditEntry.seq)).scalars().all()
    assert saved[-1]["changed"] == ["licensing"] and saved[-1]["revision"] == 2 and saved[0]["year"] == YEAR


def test_the_overview_follows_the_data_until_the_clerk_writes_it(sessions):
    add_year(sessions)
    report = compose(sessions)
    assert not report["overview_written"] and report["texts"]["overview"] == report["overview_skeleton"]
    assert "（一）主动公开。2025年，蒙阴县人民政府共主动公开政府信息 6 条" in report["texts"]["overview"]
    assert "（四）平台建设。" in report["texts"]["overview"] and "（五）监督保障。" in report["texts"]["overview"]
    save(sessions, entered(), {"overview": "我县政府信息公开工作全面推进。"})
    report = compose(sessions)
    assert report["overview_written"] and report["texts"]["overview"] == "我县政府信息公开工作全面推进。"
    with pytest.raises(A.ReportTextTooLong):
        save(sessions, entered(), {"other": "长" * (A.MAX_TEXT + 1)}, revision=1)


def test_a_final_report_is_frozen_stored_and_audited_and_only_an_admin_reopens_it(sessions, tmp_path):
    add_year(sessions)
    storage = LocalStorage(tmp_path / "originals")
    save(sessions, entered())
    with transaction(sessions) as s:
        entry = A.finalize(s, storage, YEAR, "boss", T.load(), ORG)
        digest = entry.final_sha256
    final = compose(sessions)
    assert final["status"] == "final" and final["finalized_by"] == "boss" and final["sha256"] == digest
    stored = A.stored_docx(storage, final)
    assert stored and __import__("hashlib").sha256(stored).hexdigest() == digest
    with transaction(sessions, readonly=True) as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "report.finalized")).scalar_one()
        assert entry.detail["sha256"] == digest and entry.detail["year"] == YEAR and entry.actor == "boss"

    with transaction(sessions) as s:                        # the catalogue changes after the report is final
        dept = s.execute(select(Department).where(Department.code == "zfb")).scalar_one()
        s.add(Document(department_id=dept.id, filename="late.pdf", sha256="f" * 64, size=1, status="published",
                       category="工作动态", published_at=datetime(2025, 5, 5, tzinfo=UTC), title="补录"))
    assert compose(sessions)["statistics"]["total"] == 6     # the final report still says what it said
    with transaction(sessions, readonly=True) as s:
        assert A.compose(s, YEAR, T.load(), "别的名字")["title"] == final["title"]
    with pytest.raises(A.ReportFinal):
        save(sessions, entered(), revision=1)
    with pytest.raises(A.ReportFinal), transaction(sessions) as s:
        A.finalize(s, storage, YEAR, "boss", T.load(), ORG)

    with pytest.raises(A.ReopenReasonRequired), transaction(sessions) as s:
        A.reopen(s, YEAR, "admin", "  ")
    with transaction(sessions) as s:
        A.reopen(s, YEAR, "admin", "依申请数据有误，需更正")
    report = compose(sessions)
    assert report["status"] == "draft" and report["statistics"]["total"] == 7 and report["sha256"] is None
    with transaction(sessions, readonly=True) as s:
        reopened = s.execute(select(AuditEntry).where(AuditEntry.action == "report.reopened")).scalar_one()
        assert reopened.detail == {"year": YEAR, "sha256": digest, "reason": "依申请数据有误，需更正"}
        assert A.final_digests(s) == {digest}          # the file that was final stays owned, not an orphan
    with pytest.raises(A.ReportNotFinal), transaction(sessions) as s:
        A.reopen(s, YEAR, "admin", "再次")
    assert save(sessions, {**entered(), "licensing": "133"}, revision=report["revision"]) == report["revision"] + 1


def test_two_finalizations_at_once_make_one_final_report(sessions, tmp_path):
    storage = LocalStorage(tmp_path / "originals")
    save(sessions, entered())
    barrier, outcomes = threading.Barrier(2), []

    def finalize(who: str) -> None:
        barrier.wait()
        try:
            with transaction(sessions) as s:
                A.finalize(s, storage, YEAR, who, T.load(), ORG)
            outcomes.append("final")
        except A.ReportFinal:
            outcomes.append("refused")

    threads = [threading.Thread(target=finalize, args=(who,)) for who in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["final", "refused"]
    with transaction(sessions, readonly=True) as s:
        assert len(s.execute(select(AuditEntry).where(AuditEntry.action == "report.finalized")).all()) == 1


def test_gongkai_report_docx_writes_the_word_file_or_says_why_not(sessions, db_url, tmp_path, monkeypatch, capsys):
    add_year(sessions)
    save(sessions, entered())
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGKAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GONGKAI_SITE_NAME", ORG)
    out = tmp_path / "report.docx"
    assert main(["report", "--year", str(YEAR), "--docx", str(out)]) == 0
    assert "已写出 蒙阴县人民政府2025年政府信息公开工作年度报告（草稿）" in capsys.readouterr().out
    assert docx.Document(str(out)).tables[0].rows[3].cells[1].text == "2"
    with transaction(sessions) as s:
        A.save(s, YEAR, "clerk", F.parse_figures({**entered(), "app.carried_out.natural": "0"}), {}, 1)
    assert main(["report", "--year", str(YEAR), "--docx", str(tmp_path / "no.docx")]) == 1
    assert "「自然人」列" in capsys.readouterr().err and not (tmp_path / "no.docx").exists()


@pytest.mark.usefixtures("libreoffice", "cjk_font")
def test_libreoffice_opens_the_docx_and_lays_out_its_tables(tmp_path):
    """The .docx as a county's office suite reads it: LibreOffice converts it to PDF (pages rendered
    to docs/screenshots/annual-report-docx-N.png), and the PDF holds the tables' words and figures."""
    import pdfplumber
    import pypdfium2 as pdfium

    from plugins.converter import office_env

    report = {
        "year": YEAR, "organisation": ORG, "title": f"{ORG}{YEAR}年政府信息公开工作年度报告",
        "statistics": {}, "normative": {"issued": 2, "repealed": 1, "effective": 3},
        "figures": F.parse_figures(entered()), "problems_found": [],
        "texts": {"overview": "（一）主动公开。2025年共主动公开政府信息 6 条。", "problems": "一是公开内容不够丰富。",
                  "other": ""},
        "other_sentence": "本年度未收取信息处理费。",
        "period": "本报告中所列数据的统计期限自2025年1月1日起至2025年12月31日止。"}
    source = tmp_path / "annual.docx"
    source.write_bytes(A.docx_bytes(report))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(source)], env=office_env(), check=True,
                   capture_output=True, timeout=240)
    pdf = tmp_path / "annual.pdf"
    with pdfplumber.open(pdf) as opened:
        text = "".join((p.extract_text() or "") for p in opened.pages).replace(" ", "").replace("\n", "")
    for words in ("蒙阴县人民政府2025年政府信息公开工作年度报告", "第二十条第（一）项", "行政规范性文件",
                  "本年新收政府信息公开申请数量", "属于国家秘密", "结转下年度继续办理", "未经复议直接起诉",
                  "复议后起诉", "一是公开内容不够丰富。", "行政事业性收费"):
        assert words in text, words
    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    document = pdfium.PdfDocument(str(pdf))
    try:
        for i in range(len(document)):
            document[i].render(scale=1.2).to_pil().save(shots / f"annual-report-docx-{i + 1}.png")
    finally:
        document.close()
