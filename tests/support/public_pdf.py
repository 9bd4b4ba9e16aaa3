"""Reading a public PDF back as the public would: its text layer, and OCR of its page images."""
from __future__ import annotations

import io

import pdfplumber
import pypdfium2 as pdfium

from plugins import ocr


def read_back(pdf: bytes) -> tuple[str, str]:
    """The PDF's text layer (pdfplumber), and what OCR reads in its pages, whitespace removed."""
    with pdfplumber.open(io.BytesIO(pdf)) as opened:
        layer = "".join(page.extract_text() or "" for page in opened.pages)
    seen = []
    for page in pdfium.PdfDocument(pdf):
        pixels = page.render(scale=ocr.render_scale(*page.get_size()), grayscale=True).to_numpy()
        seen += [line.text for line in ocr.recognise(pixels if pixels.ndim == 2 else pixels[:, :, 0])]
    return layer, "".join("".join(seen).split())
