"""The public catalogue, search, report and review queue at a city's size, side by side with an
earlier commit in one run (issue #24).

    .venv/bin/python bench/bench_catalogue.py [--docs 100000] [--before e001e53]
    # writes bench/results/catalogue.md

For each database (SQLite, and PostgreSQL when reachable) ``--docs`` published documents of one
year are made by the database itself, each the size a real one has where it matters for a scan
of the table — a 3,000-character text and a token list stored before ``published_at`` and
``category`` — and indexed for search as this code indexes them; 2,000 documents wait in the
review queue. Then each page is requested through the Flask test client (best of three after a
warm-up). ``--before REV``: the same benchmark of the code at ``REV`` (its own seed and index, from
a git worktree) runs first, in the same process tree, so both columns share one machine state.
"""
from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_archive import each_database  # noqa: E402
from bench_classifier import best_of  # noqa: E402
from bench_ingest import REDIS_URL  # noqa: E402

YEAR = 2025
QUEUED = 2_000
PAGES = [("/catalogue (page 1)", "/catalogue"), ("/catalogue (last page)", None),
         ("/catalogue?q= (a word in every document)", "/catalogue?q=政务公开"),
         ("/catalogue?q= (a word in a tenth)", "/catalogue?q=防汛"),
         ("/catalogue?q= (a single character in a tenth)", "/catalogue?q=汛"),
         ("/catalogue?q= (a 文号 in one document in 1,000)", "/catalogue?q=县教发〔2025〕8号"),
         ("/catalogue?q=&category= (a word, one category)", "/catalogue?q=政务公开&category=工作动态"),
         ("/catalogue?category=&year=", f"/catalogue?category=工作动态&year={YEAR}"),
         ("/report?year= (signed in)", f"/report?year={YEAR}"),
         ("/review (2,000 waiting)", "/review")]
BODY = ("各乡镇人民政府，县直各单位：为深入贯彻落实《中华人民共和国政府信息公开条例》，进一步做好政务公开工作，"
        "现就有关事项通知如下。一、提高思想认识。二、明确工作责任。三、加强监督检查。") * 30


def seed(engine, n: int) -> None:
    from sqlalchemy import text

    from service import search

    sqlite = engine.dialect.name == "sqlite"
    numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) " if sqlite else ""
    source = "FROM n" if sqlite else "FROM generate_series(1, :count) AS n(i)"
    tokens = ("'{\"body\": [\"' || replace(hex(zeroblob(600)), '00', '政务\",\"') || '\"]}'" if sqlite
              else "('{\"body\": [\"' || repeat('政务\",\"', 600) || '\"]}')::json")
    sha = "printf('%064d', i)" if sqlite else "lpad(i::text, 64, '0')"
    when = ("datetime('2025-01-01', '+' || (i * 360 / :count) || ' days', '+' || (i % 1440) || ' minutes')"
            if sqlite else "timestamptz '2025-01-01 00:00+00' + (i * 360 / :count) * interval '1 day' "
                           "+ (i % 1440) * interval '1 minute'")
    no = "0" if sqlite else "false"
    flood = BODY.replace("三、加强监督检查", "三、做好防汛工作", 1)
    numbered = "县教发〔2025〕8号\n" + BODY
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (code, name, created_at) VALUES ('zfb', '县政府办', "
                          + ("datetime('now'))" if sqlite else "now())")))
        body = "CASE WHEN i % 1000 = 7 THEN :numbered WHEN i % 10 = 0 THEN :flood ELSE :plain END"
        conn.execute(text(
            f"{numbers}INSERT INTO documents (department_id, uploaded_by, filename, sha256, size, status, "
            "status_changed_at, attempts, needs_attention, secrecy_blocked, disclosure, created_at, title, text, "
            f"tokens, category, published_at) SELECT 1, 'bench', 'n' || i || '.pdf', {sha}, 1, "
            f"CASE WHEN i <= {QUEUED} THEN 'pending_review' ELSE 'published' END, {when}, "
            f"0, {no}, {no}, 'active', {when}, '关于做好政务公开工作的通知' || i, {body}, {tokens}, "
            "CASE WHEN i % 9 = 0 THEN '工作动态' WHEN i % 9 = 1 THEN '政策法规及规范性文件' ELSE '其他' END, "
            f"CASE WHEN i <= {QUEUED} THEN NULL ELSE {when} END {source}"),
            {"count": n + QUEUED, "numbered": numbered, "flood": flood, "plain": BODY})
        rows = {kind: search.index_row("关于做好政务公开工作的通知", body, None, sqlite)
                for kind, body in (("numbered", numbered), ("flood", flood), ("plain", BODY))}
        columns = list(rows["plain"])
        pick = "CASE WHEN id % 1000 = 7 THEN :numbered_{c} WHEN id % 10 = 0 THEN :flood_{c} ELSE :plain_{c} END"
        values = ", ".join(pick.format(c=c) if sqlite or c == "flat" else f"CAST({pick.format(c=c)} AS tsvector)"
                           for c in columns)
        key = "rowid" if sqlite else "document_id"
        conn.execute(text(f"INSERT INTO document_search ({key}, {', '.join(columns)}) SELECT id, {values} "
                          "FROM documents WHERE status = 'published'"),
                     {f"{kind}_{c}": row[c] for kind, row in rows.items() for c in columns})
        conn.execute(text("ANALYZE"))


def run_case(db_url: str, data_dir: Path, n: int) -> dict[str, tuple[float, float]]:
    import re

    from werkzeug.security import generate_password_hash

    from service import config
    from service.db import User, transaction
    from service.migrate import upgrade
    from service.runtime import Runtime
    from service.web import create_app

    settings = config.load({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir)})
    rt = Runtime.from_settings(settings)
    upgrade(rt.engine)
    seed(rt.engine, n)
    with transaction(rt.sessions) as s:
        s.add(User(username="boss", role="admin", password_hash=generate_password_hash("bench-password-1")))
    app = create_app({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir),
                      "secret_key": "bench"})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "boss", "password": "bench-password-1", "csrf_token": token})
    last = f"/catalogue?page={-(-n // 20)}"

    from service import report as report_module
    from service.web import catalogue as catalogue_module

    def forget() -> None:
        """Drop what this process keeps (composed pages, counted figures): the page is composed."""
        app.extensions.get("gongkai.kept_pages", {}).clear()
        catalogue_module._sidebar._values.clear()
        report_module._kept._values.clear()

    def timed(composed: bool) -> list[float]:
        out = []
        for _, url in PAGES:
            def get(url: str = url or last) -> None:
                if composed:
                    forget()
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
            get()
            out.append(best_of(get))
        return out

    try:
        return {label: (composed, kept) for (label, _), composed, kept
                in zip(PAGES, timed(True), timed(False), strict=True)}
    finally:
        app.extensions["gongkai"].close()
        rt.close()


def before(rev: str, docs: int) -> dict[str, dict[str, float]]:
    """The same pages timed by this benchmark as it stood at ``rev``, run from a git worktree of it:
    ``{database: {page label: seconds}}`` (its ``after`` column: the code at ``rev``)."""
    with tempfile.TemporaryDirectory(prefix="gongkai-before-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev], check=True,
                       capture_output=True)
        try:
            out = Path(tmp) / "before.md"
            subprocess.run([sys.executable, str(tree / "bench" / "bench_catalogue.py"), "--docs", str(docs),
                            "--out", str(out)], check=True, cwd=tree)
            found: dict[str, dict[str, float]] = {}
            for line in out.read_text(encoding="utf-8").splitlines():
                cells = [c.strip() for c in line.strip("|").split("|")]
                if len(cells) == 4 and cells[0] in ("sqlite", "postgresql"):
                    found.setdefault(cells[0], {})[cells[1]] = float(cells[3])
            return found
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--before", help="a commit to time side by side (its own benchmark, from a worktree)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "catalogue.md")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d")
    earlier = before(args.before, args.docs) if args.before else {}
    results = each_database("gongkai-catalogue-", lambda url, data: run_case(url, data, args.docs))
    columns = ([f"{args.before}"] if args.before else []) + ["now, composed", "now, kept"]
    lines = ["## The catalogue at a city's size (issue #24)", "",
             f"`.venv/bin/python bench/bench_catalogue.py --docs {args.docs}"
             + (f" --before {args.before}" if args.before else "") + f"` — {started}, "
             f"{platform.machine()}, 2 cores shared with other work. {args.docs:,} published documents of one "
             "year, each with a 3,000-character text and a token list, indexed for search; 2,000 waiting for "
             "review. Whole requests through the Flask test client, best of three after a warm-up; seconds. "
             + (f"*{args.before}*: the same benchmark of that commit (its own search index), run first from a "
                "git worktree in the same run; " if args.before else "")
             + "Requests are made signed in (an admin), as staff see these pages: a signed-in page is never "
             "kept composed (the public's are, `service/web/caching.py`: see load.md). *now, composed*: this "
             "code with the figures a process keeps (`service/kept.py`: catalogue counts, annual statistics) "
             "dropped before every request — the first request after a change; *now, kept*: the same page "
             "asked again with nothing changed.", "",
             "| database | page | " + " | ".join(columns) + " |", "|---|---|" + "---:|" * len(columns)]
    for db, rows in results:
        if rows is None:
            lines.append(f"| {db} | not reachable |" + " |" * len(columns))
            continue
        for label, (composed, kept) in rows.items():
            old = earlier.get(db, {}).get(label)
            cells = ([f"{old:.3f}" if old is not None else "—"] if args.before else []) + [f"{composed:.3f}",
                                                                                          f"{kept:.3f}"]
            lines.append(f"| {db} | {label} | " + " | ".join(cells) + " |")
    lines += ["", "Target (issue #24): every page ≤ 100 ms at 100,000 published documents. — : the page did "
              "not exist then, or that commit's benchmark did not time it."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
