"""Images (.png, .jpg/.jpeg, .tif/.tiff): every page read by OCR.

A multi-page TIFF gives one page per frame. The pixel count of each page is checked from
its header before anything is decoded (``ParseLimits.max_image_pixels``): a decompression
bomb ends as ``resource_limit`` without allocating its bitmap. A page is decoded in grey
and scaled down to an A4 page at the OCR dpi (JPEG decodes at the reduced size directly);
a photo is turned upright by its EXIF orientation; the boxes of its lines are in pixels of
the original image as a viewer shows it (upright).
"""
from __future__ import annotations

import warnings as py_warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from plugins.ocr import A4_LONG_SIDE_PT, RENDER_DPI
from plugins.ocr_pages import PageReader
from service.parsers import CorruptFile, ParseContext, ParsedDocument, ResourceLimit

#: The longer side of a page image given to OCR, in pixels (an A4 page at RENDER_DPI).
OCR_LONG_SIDE = round(A4_LONG_SIDE_PT * RENDER_DPI / 72)


#: EXIF orientation → the transpose that shows the picture upright (a phone photo of a page).
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def _page_image(image: Image.Image) -> tuple[np.ndarray, float]:
    """The current frame upright and in grey, no longer than OCR_LONG_SIDE; original pixels per pixel."""
    width, height = image.size
    upright = UPRIGHT.get(image.getexif().get(0x0112, 1)) if image.format in ("JPEG", "TIFF") else None
    if image.format == "JPEG":
        image.draft("L", (width * OCR_LONG_SIDE // max(width, height), height * OCR_LONG_SIDE // max(width, height)))
    grey = image.convert("L")
    factor = min(1.0, OCR_LONG_SIDE / max(grey.size))
    if factor < 1.0:
        grey = grey.resize((max(1, round(grey.width * factor)), max(1, round(grey.height * factor))), Image.BILINEAR)
    if upright is not None:
        grey = grey.transpose(upright)
    return np.asarray(grey), max(width, height) / max(grey.size)


class ImageParser:
    name = "image"
    version = "1"
    media_types = frozenset({"image/png", "image/jpeg", "image/tiff"})
    priority = 0

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument:
        limits = context.limits
        with py_warnings.catch_warnings():
            py_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                with Image.open(path) as image:
                    return self._parse(image, limits)
            except Image.DecompressionBombError as exc:
                raise ResourceLimit(str(exc), what="图片像素过多") from exc
            except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError) as exc:
                raise CorruptFile(f"{type(exc).__name__}: {exc}") from exc

    def _parse(self, image: Image.Image, limits) -> ParsedDocument:
        page_count = getattr(image, "n_frames", 1)
        if page_count > limits.max_pages:
            raise ResourceLimit(f"{page_count} pages", what=f"页数超过 {limits.max_pages} 页")
        reader = PageReader(limits)
        blocks = []
        for index in range(page_count):
            image.seek(index)
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise ResourceLimit(f"{width}x{height} px", what=f"图片像素过多（{width}×{height}）")
            blocks.extend(reader.read(index + 1, lambda: _page_image(image)))
        return ParsedDocument(blocks=tuple(blocks), page_count=page_count, warnings=tuple(reader.warnings()),
                              ocr_lines=tuple(reader.lines), properties={"pages": str(page_count)})
