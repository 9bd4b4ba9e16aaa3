"""Assemble BENCHMARKS.md from the sections the benchmarks wrote to bench/results/*.md.

    .venv/bin/python bench/assemble.py
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = """# Benchmarks

Measured on the project's development machine (2 cores, 24 GiB). Each section names the
command that reproduces it; `python bench/assemble.py` rebuilds this file from
`bench/results/*.md`. Targets live here, never in timed unit tests.

"""


def main() -> None:
    sections = [p.read_text(encoding="utf-8").strip() for p in sorted((ROOT / "bench" / "results").glob("*.md"))]
    (ROOT / "BENCHMARKS.md").write_text(HEADER + "\n\n".join(sections) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
