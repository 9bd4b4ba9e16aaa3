"""Build known-content Chinese PDFs for tests and benchmarks (reportlab, built-in CID font).

STSong-Light is one of the Adobe CJK fonts every PDF reader must know, so the files need
no font on the machine that builds them, and their text layer maps back to Unicode.
"""
from __future__ import annotations

from pathlib import Path
from collections.abc import Iterable, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
SEED_WATERMARK = ("县民政资讯工作年报 WORD 版 【本文为 word 版,下载后可修改、打印,"
                  "如对您有所帮助,请购买,谢谢。 】 第 {n} 页")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def wrap(text: str, width: int) -> list[str]:
    """Split text into lines of at most ``width`` characters (CJK: one character, one cell)."""
    return [text[i: i + width] for i in range(0, len(text), width)] or [""]


def build_pdf(path: Path, pages: Sequence[Iterable[str]], *, header: str | None = None,
              footer: str | None = "— {n} —", watermark: str | None = None,
              title: str | None = None, font_size: float = 14, invariant: bool = True) -> Path:
    """One page per item of ``pages`` (each an iterable of lines).

    ``header``/``footer``/``watermark`` are drawn on every page with ``{n}`` replaced by the
    page number: the header at the top, the footer at the bottom, the watermark diagonally
    across the middle.
    """
    font = _font()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=int(invariant))
    if title:
        c.setTitle(title)
    width, height = A4
    for n, lines in enumerate(pages, start=1):
        if header:
            c.setFont(font, 9)
            for k, line in enumerate(wrap(header.format(n=n), 52)):
                c.drawString(56, height - 40 - k * 12, line)
        c.setFont(font, font_size)
        y = height - 90
        lines = list(lines)
        if height - 90 - (len(lines) - 1) * font_size * 1.75 < 60:
            raise ValueError("too many lines for one page: they would run into the footer")
        for line in lines:
            c.drawString(72, y, line)
            y -= font_size * 1.75
        if footer:
            c.setFont(font, 10)
            c.drawCentredString(width / 2, 36, footer.format(n=n))
        if watermark:
            c.saveState()
            c.setFont(font, 28)
            c.setFillGray(0.85)
            c.translate(width / 2, height / 2)
            c.rotate(35)
            c.drawCentredString(0, 0, watermark.format(n=n))
            c.restoreState()
        c.showPage()
    c.save()
    return path


def paginate(paragraphs: Iterable[str], chars_per_line: int = 30, lines_per_page: int = 26) -> list[list[str]]:
    """Lay paragraphs out as lines (first line indented by two full-width spaces) and pages."""
    lines: list[str] = []
    for para in paragraphs:
        lines.extend(wrap("\u3000\u3000" + para.strip(), chars_per_line))
    return [lines[i: i + lines_per_page] for i in range(0, len(lines), lines_per_page)] or [[]]


def build_seed_report_pdf(path: Path, seed_text: str) -> Path:
    """The county annual report as a PDF with the seed's running header on every page.

    The seed text is a flattened Word file: its own copies of the running header are taken
    out first, then the header is drawn on each page the way the original document had it.
    """
    import re

    body = re.sub(r"县民政资讯工作年报 WORD 版 【本文为 word 版,下载后可修改、打印,"
                  r"如对您有所帮助,请购买,谢谢。 】 第 \d+ 页", " ", seed_text)
    paragraphs = [p for p in re.split(r"\s(?=[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）"
                                      r"|\([一二三四五六七八九十]+\))", body) if p.strip()]
    return build_pdf(path, paginate(paragraphs, chars_per_line=32, lines_per_page=26), header=SEED_WATERMARK,
                     footer="第 {n} 页", title="县民政资讯工作年报")


def build_scanned_pdf(path: Path, pages: int, *, text_pages: dict[int, Iterable[str]] | None = None) -> Path:
    """A "scanned" PDF: every page an image only (no text layer), like a notice scanned from
    paper — a 密级 mark on it is pixels no text scan can find. ``text_pages`` (page number →
    lines) get a text layer instead, for a partly scanned file."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    text_pages = text_pages or {}
    font = _font()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    width, height = A4
    for n in range(1, pages + 1):
        if n in text_pages:
            c.setFont(font, 14)
            y = height - 90
            for line in text_pages[n]:
                c.drawString(72, y, line)
                y -= 24
        else:
            scan = Image.new("L", (420, 594), 250)
            draw = ImageDraw.Draw(scan)
            draw.rectangle((300, 20, 400, 50), outline=0, width=3)    # where a 密级 box sits on a 公文
            for k in range(12):                                      # "lines of text", as a scan shows them
                draw.rectangle((40, 90 + k * 36, 380 - (k % 3) * 40, 100 + k * 36), fill=60)
            c.drawImage(ImageReader(scan), 0, 0, width=width, height=height)
        c.showPage()
    c.save()
    return path
