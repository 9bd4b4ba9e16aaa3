"""Pages that count the whole database: the annual statistics and the admin page's model figures.

    .venv/bin/python bench/bench_pages.py [--docs 20000]     # writes bench/results/pages.md

Both are computed per request from the documents, not from a cache: ``/report`` counts the
year's published documents (``service.report.annual_report``), ``/admin`` scores every
reviewed document's suggestion per model version with bootstrap intervals
(``service.quality.quality_by_version``). For each database (SQLite, and PostgreSQL when
reachable) ``--docs`` documents are inserted in bulk as one year's reviewed and published
documents of 12 departments (two model versions, suggestions with top-3 candidates and
an explanation the size a real one has), then, side by side in one run:

1. ``annual_report`` for the year, and the whole ``/report`` request (Flask test client);
2. ``quality_by_version``, and the whole ``/admin`` request.

Each figure is the best of three, after one warm-up request.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_archive import each_database  # noqa: E402
from bench_classifier import best_of  # noqa: E402
from bench_ingest import REDIS_URL  # noqa: E402

PASSWORD = "bench-password-1"
YEAR = 2026


def seed(rt, n: int, names: list[str]) -> None:
    from sqlalchemy import insert
    from werkzeug.security import generate_password_hash

    from service.db import Department, Document, User, transaction

    with transaction(rt.sessions) as s:
        departments = [Department(code=f"d{i:02d}", name=f"基准部门{i}") for i in range(12)]
        s.add_all(departments)
        s.add(User(username="boss", role="admin", password_hash=generate_password_hash(PASSWORD)))
        s.flush()
        department_ids = [d.id for d in departments]
    rng = random.Random(0)
    start = datetime(YEAR, 1, 1, 2, tzinfo=UTC)
    terms = [{"term": "工作", "field": "body", "weight": 0.05}] * 8
    for first in range(0, n, 5000):
        rows = []
        for i in range(first, min(n, first + 5000)):
            category = rng.choice(names)
            top = category if rng.random() < 0.9 else rng.choice(names)
            preselected = rng.random() < 0.8
            at = start + timedelta(minutes=int(i * 500_000 / n))   # within the Beijing-time year
            rows.append({"department_id": department_ids[i % 12], "uploaded_by": "bench", "filename": f"{i}.pdf",
                         "sha256": f"{i:064x}", "size": 150_000, "status": "published", "category": category,
                         "reviewed_by": "审核员", "reviewed_at": at, "published_at": at, "created_at": at,
                         "model_version": "county-default/v1" if i < n * 3 // 4 else "county-default/v2",
                         "suggested_category": top if preselected else None, "needs_attention": not preselected,
                         "confidence": 0.93 if preselected else 0.6,
                         "candidates": [{"category": top, "probability": 0.93},
                                        {"category": "其他", "probability": 0.04},
                                        {"category": "工作动态", "probability": 0.02}],
                         "explanation": {"rules": [], "terms": terms}, "index_number": f"d-{YEAR}-{i:05d}"})
        with transaction(rt.sessions) as s:
            s.execute(insert(Document), rows)


def warm_best_of(fn) -> float:
    fn()   # warm-up: first queries, template compilation
    return best_of(fn)


def run_case(db_url: str, data_dir: Path, n: int) -> list[tuple[str, float]]:
    import re

    from service.web import create_app
    from service import quality
    from service import report as R
    from service.db import transaction
    from service.migrate import upgrade
    from service.runtime import Runtime
    from service import config
    from service import taxonomy as T

    settings = config.load({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir)})
    rt = Runtime.from_settings(settings)
    upgrade(rt.engine)
    names = T.load().names
    seed(rt, n, list(names))
    app = create_app({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir),
                      "secret_key": "bench"})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})

    def report() -> None:
        with transaction(rt.sessions, readonly=True) as s:
            assert R.annual_report(s, YEAR, T.load()).total == n

    def figures() -> None:
        with transaction(rt.sessions, readonly=True) as s:
            assert sum(v["report"]["n"] for v in quality.quality_by_version(s, names)) == n

    def page(url: str):
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
        return get

    try:
        return [("annual_report (the year's counts)", warm_best_of(report)),
                (f"GET /report?year={YEAR} (whole request)", warm_best_of(page(f"/report?year={YEAR}"))),
                ("quality_by_version (two versions, 2,000 resamples each)", warm_best_of(figures)),
                ("GET /admin (whole request)", warm_best_of(page("/admin")))]
    finally:
        app.extensions["gongkai"].close()
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    args = parser.parse_args()
    results = each_database("bench-pages-", lambda url, data_dir: run_case(url, data_dir, args.docs))
    machine = f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.machine()}"
    size = f" --docs {args.docs}" if args.docs != 20_000 else ""
    lines = ["## Pages that count the whole database", "",
             f"`.venv/bin/python bench/bench_pages.py{size}` — {machine}. {args.docs:,} reviewed and published "
             "documents of one year, 12 departments, two model versions. Best of three after a warm-up; the "
             "page rows are whole requests through the Flask test client (login session, template).", "",
             "| database | what | seconds |", "|---|---|---:|"]
    for db, rows in results:
        if rows is None:
            lines.append(f"| {db} | — | not reachable |")
            continue
        lines += [f"| {db} | {label} | {seconds:.3f} |" for label, seconds in rows]
    lines += ["", "Both are computed per request. The seed county published about 1,400 documents in a "
              "year, so this is some fourteen years of it in one year's report."]
    (ROOT / "bench" / "results" / "pages.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
