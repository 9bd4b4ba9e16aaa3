"""The public catalogue under load (issue #24): 16 connections on loopback against `gongkai web`,
today's code beside an earlier commit in one run.

    apt-get install wrk                                   # the load generator (bench only)
    .venv/bin/python bench/bench_load.py [--docs 50000] [--before e001e53]
    # writes bench/results/load.md

For each code (``--before REV`` from a git worktree first, then this checkout) and database
(SQLite, and PostgreSQL when reachable): ``--docs`` published documents are made as
``bench_catalogue.seed`` makes them (that code's own seed and search index), `gongkai web` of that
code is started on a free port (this code with ``--processes 2``, an earlier one as it ran: one
process), and ``wrk -t2 -c16`` asks for each page for ``SECONDS`` seconds after a warm-up. The
machine has 2 cores; wrk runs on them too.

- *one URL*: every request asks for the same page (a crawler, a link in the news);
- *spread*: each request a random one of many (pages 1–2,000; the 70 judged queries; 2,000
  documents), so nothing asked is likely to have been composed before.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_archive import drop_schemas, postgres_schema_url  # noqa: E402
from bench_ingest import REDIS_URL  # noqa: E402

SECONDS = 10
CONNECTIONS = 16
JUDGED = ROOT / "bench" / "data" / "search_judged.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(tree: Path, url: str, docs: int) -> None:
    """Migrate and seed with the code in ``tree`` (its own schema, seed and search index)."""
    code = (f"import sys; sys.path[:0] = [{str(tree)!r}, {str(tree / 'bench')!r}]\n"
            "from service.db import make_engine\nfrom service.migrate import upgrade\n"
            "from bench_catalogue import seed\n"
            f"engine = make_engine({url!r}); upgrade(engine); seed(engine, {docs}); engine.dispose()\n")
    subprocess.run([sys.executable, "-c", code], cwd=tree, check=True, env=_env(tree, url))


def _env(tree: Path, url: str, data_dir: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env.update(PYTHONPATH=str(tree), GONGKAI_DATABASE_URL=url, GONGKAI_REDIS_URL=REDIS_URL,
               GONGKAI_SECRET_KEY="bench-secret-key-" + "x" * 16, GONGKAI_DATA_DIR=data_dir or tempfile.mkdtemp())
    return env


def start_web(tree: Path, url: str, processes: int, log: Path) -> tuple[subprocess.Popen, str]:
    """`gongkai web` of the code in ``tree``; its output (waitress's queue warnings under load)
    goes to ``log``, never to a pipe nobody reads (a full pipe stops the server)."""
    port = free_port()
    args = [sys.executable, "-m", "service.cli", "web", "--port", str(port), "--threads", "8"]
    if processes > 1:
        args += ["--processes", str(processes)]
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=tree, env=_env(tree, url), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/catalogue", timeout=30) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(log.read_text(encoding="utf-8", errors="replace")[-2000:] or "gongkai web did not start")


def lua_for(paths: list[str], directory: Path) -> Path:
    script = directory / f"paths-{len(paths)}-{random.random():.6f}.lua"
    quoted = ",\n".join(json.dumps(p) for p in paths)
    script.write_text("local paths = {\n" + quoted + "\n}\nmath.randomseed(os.time())\n"
                      "request = function() return wrk.format(\"GET\", paths[math.random(#paths)]) end\n",
                      encoding="utf-8")
    return script


def wrk(base: str, path: str, script: Path | None) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "--timeout", "10s"]
    if script:
        args += ["-s", str(script)]
    subprocess.run(args[:4] + ["-d2s", base + path] + (["-s", str(script)] if script else []),
                   check=True, capture_output=True)   # warm-up
    out = subprocess.run(args + [base + path], check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"rps": rate, "p50": latency("50"), "p99": latency("99"),
            "errors": int(errors.group(1)) if errors else 0, "timeouts": int(timeouts.group(1)) if timeouts else 0}


def cases(docs: int, directory: Path) -> list[tuple[str, str, Path | None]]:
    queries = [json.loads(line)["query"] for line in JUDGED.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(7)
    pages = [f"/catalogue?page={rng.randint(1, 2000)}" for _ in range(2000)]
    searches = ["/catalogue?q=" + urllib.parse.quote(q) for q in queries + ["政务公开", "防汛", "汛"]]
    documents = [f"/catalogue/{rng.randint(docs // 2 + 1, docs)}" for _ in range(2000)]
    return [("catalogue list, one URL", "/catalogue", None),
            ("catalogue list, spread", "/catalogue", lua_for(pages, directory)),
            ("search, one URL (a word in every document)", "/catalogue?q=" + urllib.parse.quote("政务公开"), None),
            ("search, spread (73 queries)", "/", lua_for(searches, directory)),
            ("document page, spread", "/", lua_for(documents, directory))]


def run(tree: Path, label: str, processes: int, docs: int, directory: Path) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for db in ("sqlite", "postgresql"):
        url = f"sqlite:///{directory / (label + '.db')}" if db == "sqlite" else postgres_schema_url()
        if not url:
            continue
        prepare(tree, url, docs)
        proc, base = start_web(tree, url, processes, directory / f"{label}-{db}.log")
        try:
            for name, path, script in cases(docs, directory):
                results[f"{db}|{name}"] = wrk(base, path, script)
                print(label, db, name, results[f"{db}|{name}"], flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--before", help="a commit to load side by side (from a git worktree)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.md")
    args = parser.parse_args()
    columns: list[tuple[str, dict]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gongkai-load-") as tmp:
            directory = Path(tmp)
            if args.before:
                tree = directory / "before"
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
                               check=True, capture_output=True)
                try:
                    columns.append((f"{args.before} (1 process)", run(tree, "before", 1, args.docs, directory)))
                finally:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
            columns.append(("now (--processes 2)", run(ROOT, "now", 2, args.docs, directory)))
    finally:
        drop_schemas()
    write(args, columns)


def write(args, columns: list[tuple[str, dict]]) -> None:
    lines = ["## The catalogue under load (issue #24)", "",
             f"`.venv/bin/python bench/bench_load.py --docs {args.docs}"
             + (f" --before {args.before}" if args.before else "") + f"` — {time.strftime('%Y-%m-%d')}, "
             f"{platform.machine()}, 2 cores (wrk on them too). {args.docs:,} published documents; "
             f"`wrk -t2 -c{CONNECTIONS} -d{SECONDS}s` on loopback after a 2-second warm-up; requests per second, "
             "p50 / p99 latency in ms. *one URL*: every request the same page; *spread*: each a random one of "
             "many (pages 1–2,000, 73 searches, 2,000 documents).", "",
             "| database | page | " + " | ".join(name for name, _ in columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    keys = list(dict.fromkeys(k for _, found in columns for k in found))
    for key in keys:
        db, page = key.split("|", 1)
        cells = []
        for _, found in columns:
            r = found.get(key)
            cells.append("—" if r is None else f"{r['rps']:.0f} req/s, {r['p50']:.0f} / {r['p99']:.0f} ms"
                         + (f", {r['errors']} errors" if r["errors"] else "")
                         + (f", {r['timeouts']} timeouts" if r["timeouts"] else ""))
        lines.append(f"| {db} | {page} | " + " | ".join(cells) + " |")
    lines += ["", "Anonymous requests: this code keeps each public page it composed until the audit log changes "
              "(`service/web/caching.py`), so *one URL* and the 73 searches are composed once per process and then "
              "sent as kept; the 2,000 list pages and 2,000 documents mostly are composed. The earlier code composed "
              "every request.",
              "", "Targets (issue #24), 50,000 published, 16 connections: catalogue list and search ≥ 200 req/s "
              "with p99 ≤ 300 ms; document page ≥ 500 req/s."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
