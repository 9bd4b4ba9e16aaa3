"""The public PDF (公开版, service/rendition) of real files: seconds and size per page.

    .venv/bin/python bench/bench_public_pdf.py     # writes bench/results/public_pdf.md

Each file is parsed once (not timed) to get what ``service.public_copy`` gives the renderer
(OCR lines of scanned pages, the personal numbers found, the public text); then the renderer
runs in this process (best of 3: wall and CPU seconds, LibreOffice's export of a Word file
included — its CPU is in the warm soffice, so only wall counts there) and once through the
parse sandbox (``render_isolated``, as the web server calls it: a warm parse server). Files:
the 临时救助 公示 of ../shared/scans (030: a scan, a .doc, a .docx) and the three longest PDFs
(born-digital) and scans of tests/data/shared.
"""
from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

import pypdfium2 as pdfium  # noqa: E402

from plugins.converter import font_dir  # noqa: E402
from service.analysis.masking import public_form  # noqa: E402
from service.analysis.privacy import scan_document  # noqa: E402
from service.parsers import ParseContext, RenditionContext  # noqa: E402
from service.parsing.parse_server import render_isolated  # noqa: E402
from service.parsing.registry import default_registry  # noqa: E402
from service.parsing.sandbox import parse_in_process  # noqa: E402
from service.parsing.sniff import sniff  # noqa: E402
from service.rendition.covers import document_values  # noqa: E402
from service.rendition.renderer import PublicPdfRenderer  # noqa: E402
from service.rendition.typeset import find_font  # noqa: E402

DATA = ROOT / "tests" / "data" / "shared"
RENDERER = "service.rendition.renderer:PublicPdfRenderer"


def pages_of(path: Path) -> int:
    try:
        return len(pdfium.PdfDocument(str(path)))
    except pdfium.PdfiumError:
        return 0


def files() -> list[Path]:
    scans = DATA / "scans"
    chosen = [scans / "scan" / "030.pdf", scans / "doc" / "030.doc", scans / "docx" / "030.docx"]
    born = sorted((p for p in (DATA / "files").rglob("*.pdf")), key=pages_of, reverse=True)[:3]
    scanned = sorted((scans / "scan").glob("*.pdf"), key=pages_of, reverse=True)[:3]
    return chosen + born + scanned


def context_for(path: Path) -> RenditionContext:
    media = sniff(path).media_type
    doc = parse_in_process(default_registry().select(media).target, path, ParseContext(media_type=media))
    findings = [{"kind": f.kind, "value": f.value, "source": f.source} for f in scan_document(doc)]
    masks = {"added": [{"text": "赵德明"}]} if path.stem == "030" else None
    values = document_values(findings, masks)
    on_page = document_values([f for f in findings if f["source"] in ("body", "table")], masks)
    font = find_font(font_dir())
    return RenditionContext(
        media_type=media, filename=path.name, title=doc.title or path.stem,
        public_text=public_form(doc.body_text(), masks)[0], masks=masks,
        values=tuple((v.kind, v.text) for v in values), required=tuple((v.kind, v.text) for v in on_page),
        ocr_lines=tuple({"page": ln.page, "text": ln.text, "box": list(ln.box)} for ln in doc.ocr_lines),
        font_path=str(font) if font else None)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    rows = []
    for path in files():
        context = context_for(path)
        best_wall, best_cpu, made = float("inf"), float("inf"), None
        for _ in range(3):
            wall0, cpu0 = time.perf_counter(), cpu()
            made = PublicPdfRenderer().parse(path, context)
            best_wall, best_cpu = min(best_wall, time.perf_counter() - wall0), min(best_cpu, cpu() - cpu0)
        assert made is not None
        render_isolated(RENDERER, path, context)   # the parse server warm
        wall0 = time.perf_counter()
        isolated = render_isolated(RENDERER, path, context)
        sandbox = time.perf_counter() - wall0
        assert isolated.pdf == made.pdf
        pages = max(1, made.pages)
        rows.append(f"| {path.relative_to(DATA)} | {context.media_type.split('/')[-1][:20]} | {made.pages} | "
                    f"{made.method} | {made.covered} | {best_wall / pages:.3f} | {best_cpu / pages:.3f} | "
                    f"{sandbox / pages:.3f} | {len(made.pdf) / pages / 1024:.0f} |")
        print(rows[-1], flush=True)
    out = ROOT / "bench" / "results" / "public_pdf.md"
    out.write_text(
        "## Public PDF (公开版) of documents with personal data (issue #21 item 3)\n\n"
        f"`.venv/bin/python bench/bench_public_pdf.py` — {dt.date.today()}, one process on the shared 2-core "
        "machine; best of 3 in process, then once through the warm parse sandbox. Pages rendered at 150 dpi, "
        "written as JPEG (quality 75). `covered`: rectangles painted; `text`: the public text typeset.\n\n"
        "| file | type | pages | method | covered | s/page | CPU s/page | sandbox s/page | KB/page |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
