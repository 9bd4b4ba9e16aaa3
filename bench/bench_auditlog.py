"""The 操作日志 page on a long audit log: filters, deep pages, the CSV export and the chain check.

    .venv/bin/python bench/bench_auditlog.py [--entries 1000000]   # writes bench/results/auditlog.md

A county publishing ~1,400 documents a year writes ~7 audit entries per document (received,
three status changes, review, publish …) plus logins: ten years with an archive import and a
few reclassification batches is about a million entries. For each database (SQLite, and
PostgreSQL when reachable) ``--entries`` valid, hash-chained entries over five years are
bulk-inserted (documents' lives, logins, 30 failed logins of one rare name spread across the
years) and the statistics refreshed (ANALYZE), then, side by side in one run, first with the
schema as shipped and then with the filter indexes of migration 0006 (``INDEXES``) dropped:

- whole ``/admin/audit`` requests (Flask test client: session, query, template): the newest
  page, a page deep in the log, and each filter — a rare actor, a rare action, a common kind,
  one document, one day;
- the CSV export of one kind (whole streamed request, rows per second);
- ``audit.verify`` over the whole log (entries per second), once.

Each request figure is the best of three after a warm-up.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_archive import each_database  # noqa: E402
from bench_ingest import REDIS_URL  # noqa: E402
from bench_pages import warm_best_of  # noqa: E402

PASSWORD = "bench-password-1"
START = datetime(2022, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=5 * 365)
RARE_ACTOR = "mallory"
INDEXES = ("ix_audit_log_actor_seq", "ix_audit_log_kind_action_seq", "ix_audit_log_at")   # migration 0006


def entries(n: int) -> list[tuple[str, str, int | None, dict]]:
    """``n`` (actor, action, document_id, detail): documents' lives, logins and a rare name's failures."""
    rng = random.Random(0)
    out: list[tuple[str, str, int | None, dict]] = []
    rare_every = max(1, n // 30)
    doc = 0
    while len(out) < n:
        doc += 1
        clerk = f"clerk{doc % 40:02d}"
        life = [(clerk, "document.received", doc, {"filename": f"{doc}.docx", "size": 41259}),
                ("system:ingest", "status", doc, {"from": "received", "to": "processing"}),
                ("system:ingest", "status", doc, {"from": "processing", "to": "pending_review",
                                                  "category": "工作动态", "confidence": 0.93}),
                ("reviewer1", "review.confirm", doc, {"category": "工作动态", "confidence": 0.93}),
                ("reviewer1", "status", doc, {"from": "pending_review", "to": "approved"}),
                ("reviewer1", "publish", doc, {"index_number": f"d-2026-{doc:06d}", "category": "工作动态"}),
                ("reviewer1", "status", doc, {"from": "approved", "to": "published"})]
        if rng.random() < 0.3:
            life.insert(0, (clerk, "login", None, {"ip": "10.1.2.3"}))
        for entry in life:
            if len(out) % rare_every == rare_every - 1:
                out.append((RARE_ACTOR, "login.failed", None, {"ip": "10.9.9.9"}))
            out.append(entry)
    return out[:n]


def seed(rt, planned: list[tuple[str, str, int | None, dict]]) -> None:
    """The entries with a valid chain, inserted in bulk; the head moved to the last."""
    from sqlalchemy import insert, update

    from service import audit
    from service.audit import kind_of
    from service.db import AuditEntry, AuditHead, transaction

    step = SPAN / len(planned)
    prev = audit.GENESIS
    rows = []
    for seq, (actor, action, document_id, detail) in enumerate(planned, 1):
        at = START + step * seq
        entry_hash = audit.chain_hash(prev, audit.canonical(seq, at, actor, action, document_id, detail))
        rows.append({"seq": seq, "at": at, "actor": actor, "action": action, "kind": kind_of(action),
                     "document_id": document_id,
                     "detail": detail, "prev_hash": prev, "hash": entry_hash})
        prev = entry_hash
        if len(rows) == 20_000:
            with transaction(rt.sessions) as s:
                s.execute(insert(AuditEntry), rows)
            rows = []
    with transaction(rt.sessions) as s:
        if rows:
            s.execute(insert(AuditEntry), rows)
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(last_seq=len(planned), last_hash=prev))


def run_case(db_url: str, data_dir: Path, planned) -> dict:
    from sqlalchemy import text
    from werkzeug.security import generate_password_hash

    from service import audit, config
    from service.web import create_app
    from service.db import User, transaction
    from service.migrate import upgrade
    from service.runtime import Runtime

    settings = config.load({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir)})
    rt = Runtime.from_settings(settings)
    upgrade(rt.engine)
    started = time.perf_counter()
    seed(rt, planned)
    seeded = time.perf_counter() - started
    with rt.engine.begin() as conn:   # what autovacuum / a DBA's ANALYZE would have done by then
        conn.execute(text("ANALYZE"))
    with transaction(rt.sessions) as s:   # a user row only: logging in adds one entry, not part of the figures
        s.add(User(username="boss", role="admin", password_hash=generate_password_hash(PASSWORD)))
    app = create_app({"database_url": db_url, "redis_url": REDIS_URL, "data_dir": str(data_dir),
                      "secret_key": "bench"})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})
    n = len(planned)
    middle_day = (START + SPAN / 2 + timedelta(hours=8)).date().isoformat()
    document = planned[n // 2][2] or planned[n // 2 + 1][2]
    pages = [("newest page", "/admin/audit"),
             ("a page in the middle of the log (before=)", f"/admin/audit?before={n // 2}"),
             (f"rare actor ({RARE_ACTOR}, 30 entries)", f"/admin/audit?actor={RARE_ACTOR}"),
             ("rare action (login.failed)", "/admin/audit?kind=login.failed"),
             ("common kind (status, 3 in 7)", "/admin/audit?kind=status"),
             ("one document", f"/admin/audit?document={document}"),
             ("one day in the middle", f"/admin/audit?since={middle_day}&until={middle_day}")]

    def get(url: str):
        def fetch() -> None:
            response = client.get(url)
            assert response.status_code == 200 and 'data-seq="' in response.get_data(as_text=True), url
        return fetch

    def export_rate() -> tuple[int, float]:
        started = time.perf_counter()
        body = client.get("/admin/audit.csv?kind=publish").get_data()
        return body.count(b"\n") - 1, time.perf_counter() - started

    def measure() -> dict:
        figures = {label: warm_best_of(get(url)) for label, url in pages}
        rows, seconds = export_rate()
        figures["export"] = (rows, seconds)
        return figures

    try:
        shipped = measure()
        with transaction(rt.sessions, readonly=True) as s:
            started = time.perf_counter()
            result = audit.verify(s)
            verify_seconds = time.perf_counter() - started
        assert result.ok, result
        with rt.engine.begin() as conn:
            for name in INDEXES:
                conn.execute(text(f"DROP INDEX {name}"))
            conn.execute(text("ANALYZE"))
        without = measure()
        return {"seeded": seeded, "shipped": shipped, "without": without, "verify": (result.entries, verify_seconds)}
    finally:
        app.extensions["gongkai"].close()
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    planned = entries(args.entries)
    results = each_database("bench-auditlog-", lambda url, data_dir: run_case(url, data_dir, planned))
    machine = f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.machine()}"
    size = f" --entries {args.entries}" if args.entries != 1_000_000 else ""
    lines = ["## 操作日志 on a long audit log", "",
             f"`.venv/bin/python bench/bench_auditlog.py{size}` — {machine}. {args.entries:,} hash-chained entries "
             "over five years. Whole `/admin/audit` requests (Flask test client), best of three after a warm-up, "
             "first on the schema as shipped, then in the same run with migration 0006's indexes on (actor, seq), "
             "(kind, action, seq) and (at) dropped.", "",
             "| database | request | seconds, as shipped | seconds, without the 0006 indexes |", "|---|---|---:|---:|"]
    for db, result in results:
        if result is None:
            lines.append(f"| {db} | — | not reachable | |")
            continue
        for label, seconds in result["shipped"].items():
            if label == "export":
                continue
            lines.append(f"| {db} | {label} | {seconds:.3f} | {result['without'][label]:.3f} |")
        (rows, shipped_s), (_, without_s) = result["shipped"]["export"], result["without"]["export"]
        lines.append(f"| {db} | CSV export of one kind (publish, {rows:,} rows) | {shipped_s:.2f} "
                     f"({rows / shipped_s:,.0f} rows/s) | {without_s:.2f} ({rows / without_s:,.0f} rows/s) |")
    lines += ["", "| database | `audit.verify`, whole log | entries | seconds | entries/s | seeding (s) |",
              "|---|---|---:|---:|---:|---:|"]
    for db, result in results:
        if result is not None:
            entries_n, seconds = result["verify"]
            lines.append(f"| {db} | once | {entries_n:,} | {seconds:.1f} | {entries_n / seconds:,.0f} | "
                         f"{result['seeded']:.0f} |")
    (ROOT / "bench" / "results" / "auditlog.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
