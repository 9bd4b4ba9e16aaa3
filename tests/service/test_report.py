"""service/report.py and `gongkai report`: the annual report's statistics, counted from the data."""
import csv
import io
import json
from datetime import UTC, datetime

import pytest

from service import taxonomy as T
from service.cli import main
from service.db import Department, Document, transaction
from service.localtime import CHINA_TIME
from service.report import annual_report, as_rows, summary_sentence, years_with_data
from service.review import publish



def add_documents(sessions) -> None:
    with transaction(sessions) as s:
        zfb, mzj = Department(code="zfb", name="县政府办"), Department(code="mzj", name="县民政局")
        s.add_all([zfb, mzj])
        s.flush()
        rows = [  # department, status, category, suggested, published_at (UTC), created_at (UTC)
            (zfb, "published", "工作动态", "工作动态", datetime(2025, 3, 10, 2, 0, tzinfo=UTC),
             datetime(2025, 3, 9, tzinfo=UTC)),
            (zfb, "published", "工作动态", "其他", datetime(2025, 3, 20, 2, 0, tzinfo=UTC),
             datetime(2025, 3, 19, tzinfo=UTC)),
            # 1 January 2025, 01:00 Beijing time: counts for 2025, in January
            (mzj, "published", "政策法规及规范性文件", "规划计划", datetime(2024, 12, 31, 17, 0, tzinfo=UTC),
             datetime(2024, 12, 30, tzinfo=UTC)),
            (mzj, "withdrawn", "办事指南", "办事指南", datetime(2025, 6, 1, tzinfo=UTC),
             datetime(2025, 5, 30, tzinfo=UTC)),
            (mzj, "published", "旧分类", None, datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 6, 30, tzinfo=UTC)),
            # 1 January 2026, 00:30 Beijing time: not 2025
            (zfb, "published", "规划计划", "规划计划", datetime(2025, 12, 31, 16, 30, tzinfo=UTC),
             datetime(2025, 12, 1, tzinfo=UTC)),
            (zfb, "approved", "工作动态", "工作动态", None, datetime(2025, 8, 1, tzinfo=UTC)),      # not published
            (zfb, "failed", None, None, None, datetime(2025, 9, 1, tzinfo=UTC)),
        ]
        for i, (dept, status, category, suggested, published_at, created_at) in enumerate(rows):
            s.add(Document(department_id=dept.id, filename=f"{i}.pdf", sha256=f"{i:064x}", size=1, status=status,
                           category=category, suggested_category=suggested, published_at=published_at,
                           created_at=created_at))


def test_the_year_is_counted_by_category_department_and_month_in_beijing_time(sessions):
    add_documents(sessions)
    taxonomy = T.load()
    with transaction(sessions, readonly=True) as s:
        report = annual_report(s, 2025, taxonomy)
        next_year = annual_report(s, 2026, taxonomy)
        assert years_with_data(s) == [2026, 2025]
    assert report.categories == [*taxonomy.names, "旧分类"]       # an old category is listed, not dropped
    assert report.published == {"工作动态": 2, "政策法规及规范性文件": 1, "办事指南": 1, "旧分类": 1}
    assert report.withdrawn == {"办事指南": 1} and report.total == 5
    assert report.months == [1, 0, 2, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    assert [(d["name"], d["total"], d["counts"]) for d in report.departments] == [
        ("县民政局", 3, {"政策法规及规范性文件": 1, "办事指南": 1, "旧分类": 1}),
        ("县政府办", 2, {"工作动态": 2})]
    assert report.suggestion == {"with_suggestion": 4, "kept": 2}
    assert report.intake == {"published": 4, "withdrawn": 1, "approved": 1, "failed": 1}
    assert summary_sentence(report) == ("2025年共主动公开政府信息 5 条，其中工作动态 2 条、政策法规及规范性文件 1 条、"
                                        "办事指南 1 条、旧分类 1 条。已公开信息中有 1 条此后撤回。")
    rows = as_rows(report)
    assert rows[0] == ["部门", *taxonomy.names, "旧分类", "合计"]
    assert rows[-2] == ["合计", 2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5]
    assert rows[-1][0] == "其中已撤回" and rows[-1][-1] == 1
    assert next_year.published == {"规划计划": 1} and next_year.months[0] == 1
    with transaction(sessions, readonly=True) as s:
        assert annual_report(s, 2023, taxonomy).total == 0
        assert summary_sentence(annual_report(s, 2023, taxonomy)) == "2023年未主动公开政府信息。"


def test_publishing_counts_in_this_beijing_year_and_its_index_number_says_that_year(sessions):
    with transaction(sessions) as s:
        dept = Department(code="zfb", name="县政府办")
        s.add(dept)
        s.flush()
        doc = Document(department_id=dept.id, filename="通知.pdf", sha256="a" * 64, size=1, status="approved",
                       category="应急预案")
        s.add(doc)
        s.flush()
        publish(s, doc, actor="审核员")
        number = doc.index_number
    year = datetime.now(CHINA_TIME).year
    assert number == f"zfb-{year}-00001"
    with transaction(sessions, readonly=True) as s:
        assert annual_report(s, year, T.load()).published == {"应急预案": 1}


def test_report_command_prints_json_csv_and_a_table(db_url, tmp_path, monkeypatch, capsys, sessions):
    add_documents(sessions)
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGKAI_DATA_DIR", str(tmp_path / "data"))
    assert main(["report", "--year", "2025", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 5 and data["withdrawn_total"] == 1
    assert {"category": "工作动态", "published": 2, "withdrawn": 0} in data["categories"]
    assert data["summary"].startswith("2025年共主动公开政府信息 5 条")

    assert main(["report", "--year", "2025", "--csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\ufeff")                                   # Excel opens UTF-8 with a BOM
    table = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert table[0][0] == "部门" and table[-2][0] == "合计" and table[-2][-1] == "5"

    with pytest.raises(SystemExit) as refused:              # argparse: usage and the reason, exit 2
        main(["report", "--year", "99999"])
    assert refused.value.code == 2 and "年份应在 1900–9998 之间" in capsys.readouterr().err

    assert main(["report", "--year", "2025"]) == 0
    text = capsys.readouterr().out
    assert "其中工作动态 2 条" in text and "审核时保留模型预选的类别：2 / 4（50%）" in text


def test_publications_past_twenty_working_days_are_counted(sessions):
    """成文日期 Tuesday 10 February 2026: the 20th working day after it is 16 March (春节 off, the
    调休 Saturdays 14 and 28 February on). Published 16 March (Beijing) is on time, 17 March late."""
    with transaction(sessions) as s:
        dept = Department(code="zfb", name="县政府办")
        s.add(dept)
        s.flush()
        for i, (signed, published) in enumerate([
                ("2026-02-10", datetime(2026, 3, 16, 15, 0, tzinfo=UTC)),     # 23:00 Beijing, 16 March
                ("2026-02-10", datetime(2026, 3, 16, 16, 30, tzinfo=UTC)),    # 00:30 Beijing, 17 March
                ("2026年2月10日", datetime(2026, 3, 20, 2, 0, tzinfo=UTC)),    # as a reviewer typed it
                (None, datetime(2026, 3, 20, 2, 0, tzinfo=UTC))]):
            s.add(Document(department_id=dept.id, filename=f"{i}.pdf", sha256=f"{i:064x}", size=1, status="published",
                           category="工作动态", published_at=published, created_at=published,
                           gongwen={"date": {"value": signed}} if signed else {}))
    with transaction(sessions, readonly=True) as s:
        report = annual_report(s, 2026, T.load())
    assert report.timeliness == {"on_time": 1, "late": 2, "no_date": 1}
    assert report.to_dict()["timeliness"] == report.timeliness


def test_a_report_is_counted_once_and_again_when_a_change_is_recorded(sessions):
    from sqlalchemy import event

    with transaction(sessions) as s:
        dept = Department(code="zfb", name="县政府办")
        s.add(dept)
        s.flush()
        docs = [Document(department_id=dept.id, filename=f"{n}.pdf", sha256=str(n) * 64, size=1, status="approved",
                         category="应急预案") for n in (1, 2)]
        s.add_all(docs)
        s.flush()
        publish(s, docs[0], actor="审核员")
    year = datetime.now(CHINA_TIME).year
    statements = []
    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with transaction(sessions, readonly=True) as s:
        first = annual_report(s, year, T.load())
        counted = len(statements)
        second = annual_report(s, year, T.load())
    assert first.published == second.published == {"应急预案": 1}
    assert len(statements) - counted == 1 and "audit_head" in statements[-1]   # kept: only the head is read
    second.published["应急预案"] = 99                        # each caller has its own copy
    with transaction(sessions) as s:
        publish(s, s.get(Document, docs[1].id), actor="审核员")   # recorded: counted again
    with transaction(sessions, readonly=True) as s:
        assert annual_report(s, year, T.load()).published == {"应急预案": 2}
