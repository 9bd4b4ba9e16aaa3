"""The renderer run in the parse sandbox: a document's file → its public PDF (``Rendition``).

Run like a parser (``service.parsing.parse_server.render_isolated``), in a child with the same
limits, so a hostile file cannot take the caller down. PDFs, scans and images show their own
pages; Word files (.docx, .doc/.wps, .rtf) are exported to PDF by LibreOffice first. On each
page the characters the public copy masks are painted over in the pixels (``covers``). If a
masked value cannot be placed — a covered character without a box, a number still legible
after covering, a value of the document's text found on no page — the pages are not used and
the public text is typeset instead (``typeset``), with the reason; so it is when LibreOffice
or PDFium cannot draw the pages.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from PIL import ImageDraw

from plugins.converter import converter, work_dir
from service.parsers import EmptyFile, ParseContext, ParseError, Rendition, RenditionContext
from service.rendition.covers import Value, covered, leaks, present, rectangles, unplaced
from service.rendition.pages import DPI, Page, image_pages, pdf_pages
from service.rendition.pdf_writer import image_pdf
from service.rendition.typeset import typeset

PDF = "application/pdf"
IMAGES = frozenset({"image/png", "image/jpeg", "image/tiff"})
#: Exported to PDF by LibreOffice (the name LibreOffice's type detection sees).
WORD = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "application/rtf": ".rtf",
}
PDF_EXPORT = "writer_pdf_Export"
#: Paint the covers a little larger than the boxes: text-layer boxes are exact, OCR ones estimated.
PAD_TEXT, PAD_OCR = 1.0, 3.0


class NotPlaced(Exception):
    """A masked value could not be placed on a page: the pages must not be used."""


class PublicPdfRenderer:
    name = "public_pdf"
    version = "1"
    #: Not a parser of any type (it is not registered; the sandbox runs it by name).
    media_types: frozenset[str] = frozenset()
    priority = 0

    def prepare(self) -> None:
        """In the parse server: the warm LibreOffice that exports Word files (see ``plugins.converter``)."""
        converter().start()

    def parse(self, path: Path, context: ParseContext) -> Rendition:
        if not isinstance(context, RenditionContext):
            raise TypeError("a renderer needs a RenditionContext")
        if Path(path).stat().st_size == 0:
            raise EmptyFile()
        media = context.media_type
        reason = "此格式无法按原版式生成公开版"
        if media == PDF or media in IMAGES or media in WORD:
            try:
                return self._redacted(Path(path), context)
            except NotPlaced as exc:
                reason = str(exc)
            except ParseError as exc:   # LibreOffice missing or failing, a page PDFium cannot draw
                reason = f"原件版式无法生成：{exc.message}"
        pages = typeset(context.title, context.public_text, Path(context.font_path) if context.font_path else None,
                        DPI, context.limits.max_pages)
        pdf, count = image_pdf(pages, DPI)
        return Rendition(pdf=pdf, pages=count, covered=0, method="text", reason=reason)

    def _redacted(self, path: Path, context: RenditionContext) -> Rendition:
        media = context.media_type
        if media in WORD:
            out_dir = Path(tempfile.mkdtemp(prefix="public-", dir=work_dir()))
            try:
                source = out_dir / f"input{WORD[media]}"
                source.symlink_to(path.resolve())
                exported = out_dir / "exported.pdf"
                converter().convert(source, exported, PDF_EXPORT)
                return self._paint(pdf_pages(exported, (), context.limits.max_pages), context)
            finally:
                shutil.rmtree(out_dir, ignore_errors=True)
        if media in IMAGES:
            pages = image_pages(path, context.ocr_lines, context.limits.max_pages, context.limits.max_image_pixels)
        else:
            pages = pdf_pages(path, context.ocr_lines, context.limits.max_pages)
        return self._paint(pages, context)

    def _paint(self, pages: Iterator[Page], context: RenditionContext) -> Rendition:
        values = [Value(kind, text) for kind, text in context.values]
        required = {Value(kind, text) for kind, text in context.required}
        placed: set[Value] = set()
        counts = {"covered": 0}

        def painted() -> Iterator:
            for page in pages:
                cover = covered(page.chars.text, context.masks, values)
                if unplaced(cover, page.chars):
                    raise NotPlaced(f"第 {page.number} 页有需遮盖的文字无法定位")
                if leaks(page.chars.text, cover, context.masks, values):
                    raise NotPlaced(f"第 {page.number} 页遮盖后仍可辨认个人信息")
                placed.update(present(list(required), page.chars.text))
                draw = ImageDraw.Draw(page.image)
                boxes = rectangles(cover, page.chars, PAD_OCR if page.from_ocr else PAD_TEXT)
                for box in boxes:
                    draw.rectangle(box, fill="black")
                counts["covered"] += len(boxes)
                yield page.image

        pdf, count = image_pdf(painted(), DPI)
        missing = required - placed
        if missing:
            raise NotPlaced(f"有 {len(missing)} 处需遮盖的内容未能在页面上定位")
        return Rendition(pdf=pdf, pages=count, covered=counts["covered"], method="redacted")
