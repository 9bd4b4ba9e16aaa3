"""OFD (GB/T 33190, 版式文档): text per page in reading order, properties, hidden text.

The package is checked like a .docx before any part is parsed (``plugins.ofd_package``);
``plugins.ofd_document`` finds the pages, templates and resources; ``plugins.ofd_pages``
reads a page's objects (its templates first, each once, and composite units) and
``plugins.ofd_text`` turns their text into lines; ``plugins.ofd_hidden`` collects
annotations, attachments, custom tags and signatures.

A page without text whose content is an image (a scanned original kept as OFD) is read by
OCR (``plugins.ocr_pages``, the same reader and budget as scanned PDF pages: ``ocr_text``,
``ocr_incomplete``, the lines' boxes in millimetres of the page); a page OCR cannot read
comes out empty and the cleaning step says ``no_text_layer`` / ``partial_text_layer`` as
for PDFs. :func:`page_images` gives such pages' images to other callers.
Text the cleaning step's character rule would pass but the file's structure shows to be
glyph codes (private-use code points of embedded fonts, kept as found) gets
``garbled_text_layer`` here; the cleaning step keeps a parser's garbled warning.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import warnings as py_warnings
from pathlib import Path

from plugins import ofd_hidden
from plugins.ofd_document import OfdDocument, open_document
from plugins.ofd_package import OfdPackage
from plugins.ofd_pages import PageReader
from plugins.ofd_text import Line, lines
from service.parsers import (
    CorruptFile,
    HiddenText,
    Paragraph,
    ParseContext,
    ParsedDocument,
    ParseLimits,
    ResourceLimit,
    warning,
)

MEDIA_TYPE = "application/ofd"
_IMAGE_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"),
                (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"), (b"BM", "image/bmp"),
                (b"\x97JB2", "image/x-jbig2"))


def _media_type(data: bytes) -> str:
    for magic, media_type in _IMAGE_MAGIC:
        if data.startswith(magic):
            return media_type
    return "application/octet-stream"


def page_images(path: Path | str, page_numbers: list[int] | None = None,
                limits: ParseLimits = ParseLimits()) -> list[tuple[int, bytes, str]]:
    """The largest image of each listed page (all pages if None) that has no text: for OCR.

    Returns (1-based page number, image bytes, media type sniffed from the bytes:
    image/jpeg, image/png, image/tiff, image/bmp, image/gif, image/x-jbig2 or
    application/octet-stream). Pages with text or without an image are left out. Raises
    the same coded errors as parsing (corrupt_file, resource_limit, unsafe_content …).
    """
    wanted = None if page_numbers is None else set(page_numbers)
    found: list[tuple[int, bytes, str]] = []
    with OfdPackage(path, limits) as pkg:
        doc = open_document(pkg, limits.max_pages)
        reader = PageReader(pkg, doc)
        for ref in doc.pages:
            if wanted is not None and ref.number not in wanted:
                continue
            page = reader.read(ref)
            if any(r.text.strip() for r in page.runs):
                continue
            for resource, _share in sorted(page.images, key=lambda item: -item[1]):
                entry = doc.media.get(resource)
                data = pkg.read(entry) if entry else None
                if data:
                    found.append((ref.number, data, _media_type(data)))
                    break
    return found


class OfdParser:
    name = "ofd"
    version = "1"
    media_types = frozenset({MEDIA_TYPE})
    priority = 0

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument:
        from plugins.ocr_pages import PageReader as OcrReader

        ocr = OcrReader(context.limits)
        with OfdPackage(path, context.limits) as pkg:
            doc = open_document(pkg, context.limits.max_pages)
            reader = PageReader(pkg, doc)
            blocks, objects, first_lines = _read_pages(reader, context.limits, ocr)
            hidden = (ofd_hidden.annotations(pkg, doc) + ofd_hidden.attachments(pkg, doc)
                      + ofd_hidden.custom_tags(pkg, doc, objects) + ofd_hidden.signatures(pkg, doc))
        document = _document(doc, blocks, hidden, garbled=reader.garbled(),
                             title=_title(doc.info) or title_from_lines(first_lines))
        if not ocr.read_pages and not ocr.unread_pages:
            return document
        return dataclasses.replace(document, warnings=document.warnings + tuple(ocr.warnings()),
                                   ocr_lines=tuple(ocr.lines))


def _scanned_page(reader: PageReader, ref, page, ocr, limits: ParseLimits) -> list[Paragraph]:
    """A page without text: OCR of its largest image (the scan), or nothing."""
    for resource, _share in sorted(page.images, key=lambda item: -item[1]):
        entry = reader.doc.media.get(resource)
        data = reader.pkg.read(entry) if entry else None
        if data:
            width_mm = (reader.doc.page_box[2] if len(reader.doc.page_box) > 2 else 210.0) or 210.0
            try:
                return ocr.read(ref.number, functools.partial(_page_pixels, data, limits, width_mm))
            except CorruptFile:
                return []   # an image nothing can decode: the page stays unread (no_text_layer)
    return []


def _page_pixels(data: bytes, limits: ParseLimits, width_mm: float):
    """The image decoded for OCR (grey, at most an A4 page at the OCR resolution) and the
    page's millimetres per pixel (the scan is taken to fill the page's width)."""
    from PIL import Image, UnidentifiedImageError

    from plugins.image import _page_image

    with py_warnings.catch_warnings():
        py_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > limits.max_image_pixels:
                    raise ResourceLimit(f"{image.width}x{image.height} px",
                                        what=f"图片像素过多（{image.width}×{image.height}）")
                pixels, original_per_pixel = _page_image(image)
                return pixels, width_mm / image.width * original_per_pixel
        except Image.DecompressionBombError as exc:
            raise ResourceLimit(str(exc), what="图片像素过多") from exc
        except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError) as exc:
            raise CorruptFile(f"page image: {type(exc).__name__}: {exc}") from exc


def _read_pages(reader: PageReader, limits: ParseLimits,
                ocr=None) -> tuple[list[Paragraph], dict[str, str], list[Line]]:
    """The lines of every page as paragraphs (OCR's for scanned pages, when ``ocr`` is given),
    the text of each TextObject by ID, and the first page's lines (with their font sizes, for
    the title)."""
    first_page: list[Line] | None = None
    blocks: list[Paragraph] = []
    objects: dict[str, str] = {}
    text_bytes = 0
    for ref in reader.doc.pages:
        page = reader.read(ref)
        objects.update(page.objects)
        page_lines = lines(page.runs)
        if ocr is not None and page.images and not any(line.text.strip() for line in page_lines):
            blocks.extend(_scanned_page(reader, ref, page, ocr, limits))
            continue
        if first_page is None and page_lines:
            first_page = page_lines
        for line in page_lines:
            blocks.append(Paragraph(text=line.text, page=ref.number))
            text_bytes += len(line.text.encode("utf-8"))
        if text_bytes > limits.max_text_bytes:
            raise ResourceLimit(f"{text_bytes} bytes", what="文字量超过上限")
    return blocks, objects, first_page or []


def _title(info: dict[str, str]) -> str | None:
    title = (info.get("Title") or "").strip()
    lowered = title.lower()
    if (not title or lowered.startswith(("untitled", "microsoft word"))
            or lowered.endswith((".doc", ".docx", ".wps", ".ofd", ".pdf"))):
        return None
    return title


#: Lines of the first page searched for a title, and how much larger than the page's usual
#: font its font must be.
TITLE_LINES = 12
TITLE_SCALE = 1.2


def title_from_lines(first_page: list[Line]) -> str | None:
    """The first run of lines set in the largest font near the top of the first page (a
    title may wrap), if that font is clearly larger than the page's usual one."""
    if len(first_page) < 2:
        return None
    usual = sorted(line.size for line in first_page)[len(first_page) // 2]
    top = first_page[:TITLE_LINES]
    biggest = max(line.size for line in top)
    if biggest < TITLE_SCALE * usual:
        return None
    picked: list[str] = []
    for line in top:
        if line.size >= 0.95 * biggest:
            picked.append(line.text)
        elif picked:
            break
    title = "".join(picked[:3]).strip()
    return title if 2 <= len(title) <= 80 else None


def _document(doc: OfdDocument, blocks: list[Paragraph], hidden: list[HiddenText], *, garbled: bool,
              title: str | None) -> ParsedDocument:
    properties = dict(doc.info)
    properties.update({f"custom:{k}": v for k, v in doc.custom.items()})
    properties["pages"] = str(len(doc.pages))
    hidden = [HiddenText("property", v, k) for k, v in doc.info.items()
              if k in ("Title", "Author", "Subject", "Keywords", "Abstract")] + hidden
    warnings = [warning("hidden_text_present")] if any(h.kind == "annotation" for h in hidden) else []
    if garbled:
        warnings.append(warning("garbled_text_layer"))
    return ParsedDocument(blocks=tuple(blocks), page_count=len(doc.pages), title=title,
                          properties=properties, hidden=tuple(hidden), warnings=tuple(warnings))
