"""Search quality on the judged query set (issue #24): today's n-gram search against the word
search it replaced, side by side in one run.

    .venv/bin/python bench/bench_search.py      # writes bench/results/search.md

The 777 shared corpus documents are published into a migrated database (SQLite, and PostgreSQL
when reachable) and indexed by ``service.search``; every query of ``bench/data/search_judged.jsonl``
(written by hand: ``bench/data/judge_search.py`` says how) is asked for its first ten results, as
the catalogue shows them. The word search before it (commit e001e53: the tokenizer's words of the
title and body in FTS5, every word of the query required, newest first as the catalogue listed
them) is rebuilt here from the same documents, so both answer the same queries.

- recall@10: the relevant documents among the first ten, over the number relevant (at most 10);
- MRR@10: one over the rank of the first relevant document in the first ten (0 when none is).
"""
from __future__ import annotations

import datetime
import json
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_archive import each_database  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "documents.jsonl"
JUDGED = ROOT / "bench" / "data" / "search_judged.jsonl"
KINDS = {"word": "words", "part": "parts of words", "char": "single characters", "docno": "文号",
         "number": "numbers", "title": "titles"}
TOP = 10


def corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def published_at(doc: dict, n: int) -> datetime.datetime:
    """The document's own date where it has one (the catalogue lists newest first), else a day
    of 2020 by its place in the corpus."""
    try:
        day = datetime.date.fromisoformat((doc.get("date") or "")[:10])
    except ValueError:
        day = datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 365)
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


def judged() -> list[dict]:
    return [json.loads(line) for line in JUDGED.read_text(encoding="utf-8").splitlines()]


def scores(ranked: list[str], relevant: list[str]) -> tuple[float, float]:
    top = ranked[:TOP]
    recall = len(set(top) & set(relevant)) / min(len(relevant), TOP)
    first = next((i for i, d in enumerate(top, 1) if d in relevant), None)
    return recall, (1 / first if first else 0.0)


def word_search(docs: list[dict]):
    """The search before issue #24, rebuilt: an FTS5 table of the tokenizer's words, every query
    word required (numbers were never indexed), newest first."""
    from service.analysis.tokenizer import get_tokenizer

    tokenizer = get_tokenizer()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE s USING fts5(key UNINDEXED, day UNINDEXED, content, tokenize='unicode61')")
    for n, doc in enumerate(docs):
        words = tokenizer.tokens(doc["title"] or "") + tokenizer.tokens(doc["text"])
        db.execute("INSERT INTO s VALUES (?, ?, ?)", (doc["id"], published_at(doc, n).isoformat(),
                                                      " ".join(w for w in words if w.strip())))

    def ask(query: str) -> list[str]:
        seen = []
        for token in tokenizer.tokens(query):
            if token != "#" and token not in seen:
                seen.append(token)
        if not seen:
            return []   # the catalogue then listed everything (or nothing, for a number)
        match = " ".join('"' + t.replace('"', '""') + '"' for t in seen)
        rows = db.execute("SELECT key FROM s WHERE s MATCH ? ORDER BY day DESC, rowid DESC LIMIT ?", (match, TOP))
        return [r[0] for r in rows]
    return ask


def gram_search(url: str, docs: list[dict]):
    """Today's search: the corpus published into a migrated database and asked through
    ``service.search.page`` as the catalogue asks it."""
    from service import search
    from service.db import Department, Document, make_engine, session_factory, transaction
    from service.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    keys = {}
    with transaction(sessions) as s:
        dept = Department(code="bench", name="测试")
        s.add(dept)
        s.flush()
        for n, doc in enumerate(docs):
            row = Document(department_id=dept.id, filename=f"{doc['id']}.txt", sha256=f"{n:064d}", size=1,
                           status="published", title=doc["title"] or doc["text"].strip().split("\n")[0][:80],
                           text=doc["text"], category=doc["category"], published_at=published_at(doc, n))
            s.add(row)
            s.flush()
            search.index_document(s, row)
            keys[row.id] = doc["id"]

    def ask(query: str) -> list[str]:
        with transaction(sessions, readonly=True) as s:
            found = search.page(s, [], query, 0, TOP)
            return [keys[d.id] for d in found[1]] if found else []
    return ask, engine


def evaluate(ask, queries: list[dict]) -> dict:
    per_kind: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}
    times, misses = [], []
    for q in queries:
        start = time.perf_counter()
        ranked = ask(q["query"])
        times.append(time.perf_counter() - start)
        recall, rr = scores(ranked, q["relevant"])
        per_kind[q["kind"]].append((recall, rr))
        if rr < 1:
            misses.append(f"{q['query']} ({recall:.2f}/{rr:.2f})")
    every = [pair for pairs in per_kind.values() for pair in pairs]
    return {"kinds": {k: (statistics.mean(r for r, _ in v), statistics.mean(m for _, m in v), len(v))
                      for k, v in per_kind.items()},
            "recall": statistics.mean(r for r, _ in every), "mrr": statistics.mean(m for _, m in every),
            "ms": statistics.median(times) * 1000, "misses": misses}


def main() -> None:
    docs, queries = corpus(), judged()
    results = {"word search (before)": evaluate(word_search(docs), queries)}

    def run(url, _data_dir):
        ask, engine = gram_search(url, docs)
        try:
            return evaluate(ask, queries)
        finally:
            engine.dispose()
    for db, result in each_database("gongkai-search-", run):
        if result is not None:
            results[f"n-gram search, {'SQLite' if db == 'sqlite' else 'PostgreSQL'}"] = result
    write(results, queries)


def write(results: dict, queries: list[dict]) -> None:
    names = list(results)
    lines = ["## Search quality: the judged query set (issue #24)", "",
             f"`python bench/bench_search.py` — {len(queries)} queries written by hand over the 777 shared corpus "
             "documents (`bench/data/search_judged.jsonl`; how each was judged: `bench/data/judge_search.py`), "
             f"first {TOP} results as the catalogue lists them; "
             f"{platform.python_version()} on {platform.machine()}, one run.", "",
             "| queries | n | " + " | ".join(f"{n} recall@10 / MRR" for n in names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for kind, label in KINDS.items():
        n = results[names[0]]["kinds"][kind][2]
        cells = [f"{results[name]['kinds'][kind][0]:.3f} / {results[name]['kinds'][kind][1]:.3f}" for name in names]
        lines.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    lines.append(f"| **all** | {len(queries)} | "
                 + " | ".join(f"**{results[n]['recall']:.3f} / {results[n]['mrr']:.3f}**" for n in names) + " |")
    lines.append("| median time per query (ms) | | " + " | ".join(f"{results[n]['ms']:.1f}" for n in names) + " |")
    lines += ["", "Target: recall@10 ≥ 0.95 and MRR ≥ 0.8.", ""]
    for name in names:
        if results[name]["misses"]:
            lines.append(f"- {name}, queries without a relevant first result: " + ", ".join(results[name]["misses"]))
    (ROOT / "bench" / "results" / "search.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
