"""Which PDF pages are scans, and their images for OCR.

A page needs OCR when its text layer is not usable: no text at all, garbled text ((cid:N)
placeholders, private-use or replacement characters), or an image covering most of the
page with hardly any text over it (a scan with a printed page number or stamp text). A
scanned page that already carries an OCR text layer (an image *and* its text) is read
as text: its layer is what the scanner's software recognised, usually at full resolution.
"""
from __future__ import annotations

import re

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from plugins.ocr import render_scale

#: An image covering this share of the page makes it a scanned page ...
SCAN_COVERAGE = 0.8
#: ... unless this many characters of text are on it.
SCAN_MAX_TEXT = 50
#: Garbled: more than this share of the visible characters are placeholders or unreadable.
GARBLED_SHARE = 0.1

_CID = re.compile(r"\(cid:\d+\)")
_UNREADABLE = re.compile("[\ue000-\uf8ff\ufffd]")


def _garbled(visible: str) -> bool:
    cids = len(_CID.findall(visible))
    rest = _CID.sub("", visible)
    bad = cids + len(_UNREADABLE.findall(rest))
    return bad / max(1, cids + len(rest)) > GARBLED_SHARE


def _image_covers(page: pdfium.PdfPage) -> bool:
    width, height = page.get_size()
    area = max(1.0, width * height)
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        covered = max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0))
        if covered >= SCAN_COVERAGE * area:
            return True
    return False


def needs_ocr(page: pdfium.PdfPage, text: str) -> bool:
    visible = "".join(text.split())
    if not visible or _garbled(visible):
        return True
    return len(visible) < SCAN_MAX_TEXT and _image_covers(page)


def page_image(page: pdfium.PdfPage) -> tuple[np.ndarray, float]:
    """The page rendered in grey as an A4 page at the OCR dpi, and points per pixel."""
    scale = render_scale(*page.get_size())
    bitmap = page.render(scale=scale, grayscale=True)
    pixels = bitmap.to_numpy()
    if pixels.ndim == 3:
        pixels = pixels[:, :, 0]
    return np.ascontiguousarray(pixels), 1 / scale
