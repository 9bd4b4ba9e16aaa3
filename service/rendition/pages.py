"""A file's pages as images, each with its characters and their boxes in the image's pixels.

- PDF pages are rendered by PDFium at ``DPI`` (a huge page no larger than an A4 page at that
  dpi, as for OCR). A page that was read by OCR when the document was parsed gets its
  characters from those OCR lines (their boxes are in page points from the top-left); any
  other page from PDFium's text layer (loose character boxes, mapped to the bitmap by PDFium).
- Image files (.png/.jpg/.tif) are shown upright and scaled to the same size; their OCR line
  boxes are in the original picture's pixels.
"""
from __future__ import annotations

import ctypes
import warnings as py_warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from plugins.image import UPRIGHT
from service.parsers import CorruptFile, ResourceLimit
from service.rendition.covers import Box, PageChars, line_boxes

#: The public PDF's resolution: legible print, ~250 KB a page.
DPI = 150
#: An A4 page's longer side in points.
A4_LONG_SIDE_PT = 842
LONG_SIDE_PX = round(A4_LONG_SIDE_PT * DPI / 72)


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    image: Image.Image  # RGB
    chars: PageChars
    #: Boxes estimated from OCR lines are less exact than a text layer's.
    from_ocr: bool


def ocr_by_page(ocr_lines: Sequence[dict] | None) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for line in ocr_lines or ():
        out.setdefault(int(line["page"]), []).append(line)
    return out


def _ocr_chars(lines: Sequence[dict], scale: float) -> PageChars:
    """The characters of a page's OCR lines (one line break between lines), boxes × ``scale``."""
    text: list[str] = []
    boxes: list[Box | None] = []
    for line in lines:
        x0, y0, x1, y1 = (v * scale for v in line["box"])
        text.append(line["text"])
        boxes.extend(line_boxes(line["text"], (x0, y0, x1, y1)))
        text.append("\n")
        boxes.append(None)
    return PageChars("".join(text), boxes)


def _scale(width_pt: float, height_pt: float) -> float:
    return min(DPI / 72, LONG_SIDE_PX / max(width_pt, height_pt, 1.0))


def _to_device(page: pdfium.PdfPage, size: tuple[int, int], x: float, y: float) -> tuple[int, int]:
    dx, dy = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
    return dx.value, dy.value


def _text_layer_chars(page: pdfium.PdfPage, size: tuple[int, int]) -> PageChars:
    """PDFium's characters of the page and their loose boxes in bitmap pixels."""
    textpage = page.get_textpage()
    try:
        text: list[str] = []
        boxes: list[Box | None] = []
        rect = pdfium_c.FS_RECTF()
        for i in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage, i)
            ch = chr(code) if 0 < code < 0x110000 else "\ufffd"
            text.append(ch)
            if pdfium_c.FPDFText_IsGenerated(textpage, i) == 1 or not pdfium_c.FPDFText_GetLooseCharBox(
                    textpage, i, ctypes.byref(rect)):
                boxes.append(None)
                continue
            ax, ay = _to_device(page, size, rect.left, rect.top)
            bx, by = _to_device(page, size, rect.right, rect.bottom)
            boxes.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        return PageChars("".join(text), boxes)
    finally:
        textpage.close()


def pdf_pages(path: Path, ocr_lines: Sequence[dict] | None, max_pages: int) -> Iterator[Page]:
    ocr = ocr_by_page(ocr_lines)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise CorruptFile(str(exc)) from exc
    try:
        if len(pdf) > max_pages:
            raise ResourceLimit(f"{len(pdf)} pages", what=f"页数超过 {max_pages} 页")
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                width, height = page.get_size()
                scale = _scale(width, height)
                # Annotations are not drawn: their text is not in the page's text layer, so
                # nothing on them could be found and covered.
                image = page.render(scale=scale, draw_annots=False).to_pil().convert("RGB")
                number = index + 1
                # OCR boxes are in points of the page as rendered for OCR: points × this scale.
                chars = _ocr_chars(ocr[number], scale) if number in ocr else _text_layer_chars(page, image.size)
                yield Page(number, image, chars, from_ocr=number in ocr)
            finally:
                page.close()
    finally:
        pdf.close()


def image_pages(path: Path, ocr_lines: Sequence[dict] | None, max_pages: int, max_pixels: int) -> Iterator[Page]:
    """The frames of an image file, upright, no longer than ``LONG_SIDE_PX``."""
    ocr = ocr_by_page(ocr_lines)
    with py_warnings.catch_warnings():
        py_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as picture:
                frames = getattr(picture, "n_frames", 1)
                if frames > max_pages:
                    raise ResourceLimit(f"{frames} pages", what=f"页数超过 {max_pages} 页")
                for index in range(frames):
                    picture.seek(index)
                    if picture.width * picture.height > max_pixels:
                        raise ResourceLimit(f"{picture.width}x{picture.height}", what="图片像素过多")
                    upright = UPRIGHT.get(picture.getexif().get(0x0112, 1)) \
                        if picture.format in ("JPEG", "TIFF") else None
                    frame = picture.convert("RGB")
                    if upright is not None:
                        frame = frame.transpose(upright)
                    factor = min(1.0, LONG_SIDE_PX / max(frame.size))
                    if factor < 1.0:
                        frame = frame.resize((max(1, round(frame.width * factor)),
                                              max(1, round(frame.height * factor))), Image.Resampling.LANCZOS)
                    chars = _ocr_chars(ocr.get(index + 1, []), factor)
                    yield Page(index + 1, frame, chars, from_ocr=True)
        except Image.DecompressionBombError as exc:
            raise ResourceLimit(str(exc), what="图片像素过多") from exc
        except (OSError, ValueError, EOFError, SyntaxError) as exc:
            raise CorruptFile(f"{type(exc).__name__}: {exc}") from exc
