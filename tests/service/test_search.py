"""service/search.py at the size of a city's catalogue: a common word matching 90,000 documents."""
from sqlalchemy import text

from service import search
from service.db import Department, transaction

MATCHES = 90_000


def add_published(engine, count: int, department_id: int) -> None:
    """``count`` published documents titled 关于政务公开工作的通知, indexed by the tokenizer's words of
    that title (every tenth also 防汛), made by the database itself: rows as the catalogue reads
    them, without a file behind them."""
    words = " ".join(search.query_tokens("关于政务公开工作的通知"))
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
        content = f"CASE WHEN id % 10 = 0 THEN '{words} 防汛' ELSE '{words}' END"
        conn.execute(text("INSERT INTO document_search (document_id, content) SELECT id, "
                          + (content if sqlite else f"to_tsvector('simple', {content})") + " FROM documents"))


def test_a_word_in_90000_documents_is_searched_inside_the_database(app):
    runtime = app.extensions["gongkai"]
    with transaction(runtime.sessions) as s:
        dept = Department(code="zfb", name="县政府办")
        s.add(dept)
        s.flush()
        dept_id = dept.id
    add_published(runtime.engine, MATCHES, dept_id)
    client = app.test_client()
    for query, found in (("政务公开", MATCHES), ("防汛", MATCHES // 10), ("没有的词", 0)):
        page = client.get("/catalogue", query_string={"q": query, "page": 2})
        assert page.status_code == 200, query
        html = page.get_data(as_text=True)
        assert f"共 {found} 条" in html, (query, html[html.find("共 "):][:80])
    last = client.get("/catalogue", query_string={"q": "政务公开", "page": MATCHES // 20})
    assert last.status_code == 200 and "关于政务公开工作的通知" in last.get_data(as_text=True)
    numbers = client.get("/catalogue", query_string={"q": "110101199003077777"})   # numbers find no one
    assert numbers.status_code == 200 and "共 0 条" in numbers.get_data(as_text=True)
