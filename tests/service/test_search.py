"""service/search.py: what people type finds what the public text holds — substrings, single
characters, numbers and 文号 — title hits first; and a common word matching 90,000 documents."""
import datetime

import pytest
from sqlalchemy import text

from service import search
from service.db import Department, Document, transaction
from service.search_grams import grams, marked, snippet

MATCHES = 90_000


def add_published(engine, count: int, department_id: int) -> None:
    """``count`` published documents titled 关于政务公开工作的通知, indexed as that title and a body
    of it (every tenth also 防汛), made by the database itself: rows as the catalogue reads them,
    without a file behind them."""
    sqlite = engine.dialect.name == "sqlite"
    numbers = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
               if sqlite else "")
    source = "FROM n" if sqlite else "FROM generate_series(1, :count) AS n(i)"
    sha = "printf('%064d', i)" if sqlite else "lpad(i::text, 64, '0')"
    when = ("datetime('2025-01-01', '+' || (i % 360) || ' days')" if sqlite
            else "timestamptz '2025-01-01 00:00+00' + (i % 360) * interval '1 day'")
    with engine.begin() as conn:
        conn.execute(text(
            f"{numbers}INSERT INTO documents (department_id, uploaded_by, filename, sha256, size, status, "
            "status_changed_at, attempts, needs_attention, secrecy_blocked, disclosure, created_at, title, category, "
            f"published_at) SELECT :dept, 'bulk', 'n' || i || '.pdf', {sha}, 1, 'published', {when}, 0, "
            f"{'0' if sqlite else 'false'}, {'0' if sqlite else 'false'}, 'active', {when}, "
            f"'关于政务公开工作的通知' || i, '工作动态', {when} {source}"), {"count": count, "dept": department_id})
        plain = search.index_row("关于政务公开工作的通知", "各单位：做好政务公开工作。", None, sqlite)
        flood = search.index_row("关于政务公开工作的通知", "各单位：做好政务公开工作和防汛工作。", None, sqlite)
        columns = list(plain)
        key = "rowid" if sqlite else "document_id"
        values = ", ".join(f"CASE WHEN id % 10 = 0 THEN :f_{c} ELSE :p_{c} END" if sqlite or c == "flat" else
                           f"CAST(CASE WHEN id % 10 = 0 THEN :f_{c} ELSE :p_{c} END AS tsvector)" for c in columns)
        conn.execute(text(f"INSERT INTO document_search ({key}, {', '.join(columns)}) SELECT id, {values} "
                          "FROM documents"), {**{f"p_{c}": plain[c] for c in columns},
                                              **{f"f_{c}": flood[c] for c in columns}})


def test_a_word_in_90000_documents_is_searched_inside_the_database(app):
    runtime = app.extensions["gongkai"]
    with transaction(runtime.sessions) as s:
        dept = Department(code="zfb", name="县政府办")
        s.add(dept)
        s.flush()
        dept_id = dept.id
    add_published(runtime.engine, MATCHES, dept_id)
    client = app.test_client()
    for query, found in (("政务公开", MATCHES), ("防汛", MATCHES // 10), ("汛", MATCHES // 10), ("没有的词", 0)):
        page = client.get("/catalogue", query_string={"q": query, "page": 2})
        assert page.status_code == 200, query
        html = page.get_data(as_text=True)
        assert f"共 {found} 条" in html, (query, html[html.find("共 "):][:80])
    last = client.get("/catalogue", query_string={"q": "政务公开", "page": MATCHES // 20})
    assert last.status_code == 200 and "<mark>政务公开</mark>工作的通知" in last.get_data(as_text=True)
    numbers = client.get("/catalogue", query_string={"q": "110101199003077777"})
    assert numbers.status_code == 200 and "共 0 条" in numbers.get_data(as_text=True)


# ---------------------------------------------------------------------------
# One test per kind of query, on real sentences
# ---------------------------------------------------------------------------

DOCUMENTS = {
    "appointment": ("县人民政府关于张建国等同志职务任免的通知",
                    "县政府各部门：经县人民政府研究决定，任命张建国同志为县教育局局长。"),
    "flood": ("关于做好2025年汛期安全工作的通知",
              "各乡镇人民政府：入汛以来，我县降雨偏多。统一社会信用代码11370828004332600X。"),
    "teachers": ("县教育局关于印发《教师培训管理办法》的通知",
                 "县教发〔2025〕8号\n各中小学：现将《教师培训管理办法》印发给你们，请认真贯彻执行。"),
    "teachers_next": ("县教育局关于开展教师节表彰工作的通知",
                      "县教发〔2025〕9号\n各中小学：为庆祝第41个教师节……"),
    "relief": ("2024年城乡低保资金发放情况公示",
               "享受城乡最低生活保障（低保）的家庭共计312户。联系电话13812345678，"
               "身份证号11010519491231002X。"),
    "older_title_hit": ("县防汛抗旱指挥部工作规则", "第一条 为做好防汛抗旱工作……"),
    "budget": ("县本级预算执行情况", "一般公共预算支出2400万元，收入4000万元，全省累计1000亿元。"),
}


@pytest.fixture
def indexed(engine):
    """The documents above, published a day apart (the first oldest) and indexed."""
    from service.db import session_factory
    sessions = session_factory(engine)
    start = datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)
    with transaction(sessions) as s:
        dept = Department(code="jyj", name="县教育局")
        s.add(dept)
        s.flush()
        ids = {}
        for n, (key, (title, body)) in enumerate(DOCUMENTS.items()):
            doc = Document(department_id=dept.id, filename=f"{key}.docx", sha256=f"{n:064d}", size=1,
                           status="published", title=title, text=body, category="工作动态",
                           published_at=start + datetime.timedelta(days=n))
            s.add(doc)
            s.flush()
            search.index_document(s, doc)
            ids[doc.id] = key
    return sessions, ids


def found(indexed, query: str) -> list[str]:
    sessions, ids = indexed
    with transaction(sessions, readonly=True) as s:
        return [ids[i] for i in search.matching_ids(s, query) or []]


def test_part_of_a_word_is_found(indexed):
    assert found(indexed, "任免") == ["appointment"]       # the tokenizer reads 职务任免 as one word
    assert found(indexed, "低保") == ["relief"]
    assert found(indexed, "师培") == ["teachers"]           # across two words
    assert found(indexed, "任免张建国") == []                # characters must stand together


def test_a_single_character_is_found(indexed):
    assert sorted(found(indexed, "汛")) == ["flood", "older_title_hit"]
    assert found(indexed, "聘") == []


def test_numbers_are_found_but_personal_numbers_are_not(indexed):
    assert found(indexed, "2025") == ["flood", "teachers_next", "teachers"]   # title hit first, then newest
    assert found(indexed, "312户") == ["relief"]
    assert found(indexed, "11370828004332600x") == ["flood"]   # an 18-character code, any case
    assert found(indexed, "13812345678") == []                # masked in the public text
    assert found(indexed, "11010519491231002X") == []
    assert found(indexed, "13812345678 低保") == []
    # every trigram of 24000亿元 stands in the budget, apart: no hit
    assert found(indexed, "24000亿元") == [] and found(indexed, "1000亿元") == ["budget"]


def test_a_document_number_is_found_however_its_brackets_are_typed(indexed):
    for typed in ("县教发〔2025〕8号", "县教发[2025]8号", "县教发（2025）8号", "县教发 2025 8号", "教发〔2025〕8"):
        assert found(indexed, typed) == ["teachers"], typed
    assert found(indexed, "县教发〔2025〕9号") == ["teachers_next"]
    assert found(indexed, "县教发〔2025〕10号") == []


def test_title_hits_come_first_then_lead_hits_then_newest(indexed):
    assert found(indexed, "防汛") == ["older_title_hit"]
    assert found(indexed, "教师") == ["teachers_next", "teachers"]
    assert found(indexed, "人民政府") == ["appointment", "flood"]   # title hit, then a lead hit


def test_snippets_and_titles_mark_what_was_found():
    body = "各乡镇人民政府：入汛以来，我县降雨偏多。" * 3
    parts = snippet(body, "入汛", width=20)
    assert parts == [("…", False), ("人民政府：", False), ("入汛", True), ("以来，我县降雨偏多。各乡镇", False),
                     ("…", False)]
    assert snippet("短文", "入汛") == [("短文", False)]   # not found: the start of the text
    assert marked("县教发〔2025〕8号", "县教发[2025]8号") == [
        ("县教发", True), ("〔", False), ("2025", True), ("〕", False), ("8号", True)]
    assert grams("县教发〔2025〕8号") == ["02", "025", "20", "202", "25", "5", "8号", "县教", "县教发", "发", "号",
                                       "教发"]
