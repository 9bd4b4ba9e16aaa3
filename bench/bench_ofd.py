"""OFD parsing speed over the 47 real OFD files of ofdrw's test suite (tests/data/ofd).

    .venv/bin/python bench/bench_ofd.py [--repeats 5]     # writes bench/results/ofd.md

Single process, so figures are per core. For each file, the best of ``--repeats`` runs of
  - gongkai's OfdParser in-process (zip checks, XML, layout, hidden text), and
  - the same followed by the cleaning step (what the warnings come from);
then pages/s over the whole set, ms per file (mean, median, max) and the outcome counts:
files giving text, without text (image-only or drawings), garbled, coded errors. Last, one
``gongkai parse --json`` process over all 47 (sniff + sandboxed child + cleaning + 公文).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from plugins.ofd import OfdParser, page_images  # noqa: E402
from service.analysis.cleaning import clean  # noqa: E402
from service.parsers import ParseContext, ParseError  # noqa: E402
from service.parsing.sniff import sniff  # noqa: E402
from bench_classifier import best_of  # noqa: E402

FILES = sorted((ROOT / "tests" / "data" / "ofd").glob("*.ofd"))
CTX = ParseContext(media_type="application/ofd")


def outcome(path: Path) -> tuple[str, int]:
    """What became of one file, judged as intake does (sniff first, then parse and clean)."""
    try:
        sniff(path)
        parsed = OfdParser().parse(path, CTX)
    except ParseError as exc:
        return f"coded: {exc.code}", 0
    codes = {w.code for w in clean(parsed).warnings}
    if "garbled_text_layer" in codes:
        return "garbled text", parsed.page_count
    if not parsed.paragraphs:
        images = page_images(path)
        return ("no text: image-only pages" if images else "no text: drawings only"), parsed.page_count
    if "no_text_layer" in codes:
        return "text, all of it page furniture (page numbers, repeated lines)", parsed.page_count
    return "text", parsed.page_count


def measure(repeats: int) -> dict:
    parse_s, clean_s, pages, outcomes = [], [], 0, {}
    for path in FILES:
        kind, count = outcome(path)
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if kind.startswith("coded"):
            continue
        pages += count
        parse_s.append(best_of(lambda path=path: OfdParser().parse(path, CTX), repeats))
        clean_s.append(best_of(lambda path=path: clean(OfdParser().parse(path, CTX)), repeats))
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "service.cli", "parse", "--json", "--no-progress", *map(str, FILES)],
                         capture_output=True, text=True, cwd=ROOT)
    cli_s = time.perf_counter() - started
    records = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    return {"pages": pages, "parse": parse_s, "clean": clean_s, "outcomes": outcomes,
            "cli_s": cli_s, "cli_files": len(records)}


def report(m: dict, repeats: int) -> str:
    def row(label: str, times: list[float]) -> str:
        ms = [t * 1000 for t in times]
        return (f"| {label} | {m['pages'] / sum(times):,.0f} | {statistics.mean(ms):.1f} | "
                f"{statistics.median(ms):.1f} | {max(ms):.1f} |")

    lines = [
        f"`.venv/bin/python bench/bench_ofd.py --repeats {repeats}` — {date.today()}, {platform.machine()}, "
        f"one process (figures per core), best of {repeats} per file. {len(FILES)} files, "
        f"{m['pages']} pages in the {len(m['parse'])} that open.",
        "",
        "| case | pages/s | ms/file mean | median | max |",
        "|---|---:|---:|---:|---:|",
        row("OfdParser (in-process)", m["parse"]),
        row("OfdParser + cleaning", m["clean"]),
        "",
        f"`gongkai parse --json` over all {len(FILES)} files in one process (start-up, sniff, sandboxed "
        f"child, cleaning, 公文 fields): {m['cli_s']:.2f} s for {m['cli_files']} records.",
        "",
        "| outcome | files |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in sorted(m["outcomes"].items())),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    text = report(measure(args.repeats), args.repeats)
    out = ROOT / "bench" / "results" / "ofd.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
