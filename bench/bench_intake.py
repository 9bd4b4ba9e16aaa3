"""Intake benchmark: gongkai's parsers side by side with the bare library calls, one run.

    .venv/bin/python bench/bench_intake.py            # writes bench/results/intake.md

PDF: a 50-page Chinese document (corpus text laid out with reportlab's STSong-Light,
a running header and page numbers), measured as
  - bare pypdfium2 text extraction (the fast path gongkai uses),
  - bare pdfplumber ``extract_text`` (the card's library, for comparison),
  - gongkai's PdfParser in-process (text + table probing + annotations),
  - gongkai's full ``extract`` (sniff + sandboxed child + cleaning + 公文 fields).
DOCX: a 20-page Chinese document, bare python-docx vs WordParser vs ``extract``.
Single process, so figures are per core. Each figure is the best of several repeats.
"""
from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from build_pdf import build_pdf, paginate  # noqa: E402


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def corpus_paragraphs(n_chars: int) -> list[str]:
    paragraphs: list[str] = []
    total = 0
    with open(ROOT / "tests" / "data" / "gongwen_corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            for para in json.loads(line)["text"].splitlines():
                if len(para.strip()) > 10:
                    paragraphs.append(para.strip())
                    total += len(para)
                    if total >= n_chars:
                        return paragraphs
    while total < n_chars:  # repeat if the table is short
        paragraphs.extend(paragraphs[:50])
        total += sum(len(p) for p in paragraphs[:50])
    return paragraphs


def chinese_pdf(path: Path, pages: int = 50) -> Path:
    laid_out = paginate(corpus_paragraphs(pages * 26 * 30), chars_per_line=30, lines_per_page=26)[:pages]
    return build_pdf(path, laid_out, header="XX县人民政府办公室　政府信息公开专栏", footer="— {n} —")


def bench_pdf(tmp: Path) -> list[tuple[str, float, str]]:
    import pdfplumber
    import pypdfium2 as pdfium

    from plugins.pdf import PdfParser
    from service.parsers import ParseContext
    from service.pipeline import extract

    path = chinese_pdf(tmp / "chinese-50.pdf")
    n = 50

    def bare_pdfium():
        pdf = pdfium.PdfDocument(str(path))
        for page in pdf:
            tp = page.get_textpage()
            tp.get_text_range()
            tp.close()
            page.close()
        pdf.close()

    plumber_pages = 10

    def bare_plumber():
        with pdfplumber.open(str(path)) as pdf:
            for page in pdf.pages[:plumber_pages]:
                page.extract_text()
                page.close()

    ctx = ParseContext(media_type="application/pdf")
    parser = PdfParser()
    extract(path)  # warm up the registry and imports
    rows = []
    t = best_of(bare_pdfium, 5)
    rows.append(("PDF 50 pages, bare pypdfium2 text", n / t, "pages/s"))
    t = best_of(bare_plumber, 2)
    rows.append((f"PDF {plumber_pages} pages, bare pdfplumber extract_text", plumber_pages / t, "pages/s"))
    t = best_of(lambda: parser.parse(path, ctx), 5)
    rows.append(("PDF 50 pages, gongkai PdfParser (in-process)", n / t, "pages/s"))
    t = best_of(lambda: extract(path), 5)
    rows.append(("PDF 50 pages, gongkai extract (sandboxed + cleaning + 公文)", n / t, "pages/s"))
    return rows


def bench_docx(tmp: Path) -> list[tuple[str, float, str]]:
    import docx

    from build_docx import build_long_docx
    from plugins.word import WordParser
    from service.parsers import ParseContext
    from service.pipeline import extract
    from service.parsing.sniff import DOCX

    path = build_long_docx(tmp / "long-20.docx", pages=20)
    real = ROOT / "tests" / "data" / "docx" / "libreoffice_conversion.docx"

    def bare(p):
        d = docx.Document(str(p))
        for para in d.paragraphs:
            _ = para.text
        for table in d.tables:
            for row in table.rows:
                for cell in row.cells:
                    _ = cell.text

    ctx = ParseContext(media_type=DOCX)
    parser = WordParser()
    extract(path)
    rows = []
    for label, p in (("DOCX 20 pages (generated)", path), ("DOCX real town procurement file", real)):
        if not p.exists():
            continue
        rows.append((f"{label}, bare python-docx paragraphs+tables", best_of(lambda p=p: bare(p), 10) * 1000, "ms"))
        rows.append((f"{label}, gongkai WordParser incl. hidden-text scan",
                     best_of(lambda p=p: parser.parse(p, ctx), 10) * 1000, "ms"))
        rows.append((f"{label}, gongkai extract (sandboxed + cleaning + 公文)",
                     best_of(lambda p=p: extract(p), 10) * 1000, "ms"))
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_pdf(Path(tmp)) + bench_docx(Path(tmp))
    lines = ["## Intake (parsing)", "",
             f"`.venv/bin/python bench/bench_intake.py` — {time.strftime('%Y-%m-%d')}, "
             f"{platform.processor() or platform.machine()}, "
             "one process (figures are per core), best of several repeats.", "",
             "| case | result | unit |", "|---|---:|---|"]
    lines += [f"| {label} | {value:,.1f} | {unit} |" for label, value, unit in rows]
    lines += ["", "Targets: PDF text ≥ 500 pages/s per core on the Chinese 50-page case; "
              "DOCX ≤ 20 ms for a 20-page document including the hidden-text scan.", ""]
    text = "\n".join(lines)
    out = ROOT / "bench" / "results" / "intake.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
