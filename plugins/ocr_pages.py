"""Scanned pages to text: OCR page images within one file's budget.

A ``PageReader`` is given each page that needs OCR (a PDF page without a usable text
layer, a page of an image file) as a function that produces the page image, so a page
past the budget is never rendered or decoded. It returns the page's lines as
``Paragraph`` blocks (the same blocks extracted text gives, so cleaning, 公文 fields,
classification, search and the privacy scan read them), keeps each line with its box and
confidence as ``OcrLine`` and says what happened in warnings:

- ``ocr_text``: which pages were read by OCR, and the mean confidence;
- ``ocr_incomplete``: pages left unread because the file's OCR budget
  (``ParseLimits.max_ocr_pages``, ``ParseLimits.ocr_cpu_seconds``) was spent.

A page where OCR recognised nothing, or only with a mean confidence below
``MIN_CONFIDENCE``, gives no blocks: it stays a page without text (``no_text_layer`` /
``partial_text_layer`` from the cleaning step).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from plugins import ocr
from service.parsers import OcrLine, Paragraph, ParseLimits, ParseWarning, warning

#: Below this mean line confidence a page's OCR text is not trusted (it is noise, a photo, a drawing).
MIN_CONFIDENCE = 0.6

PageImage = Callable[[], tuple[np.ndarray, float]]  # → (grey image, page units per pixel)


def page_list(pages: list[int]) -> str:
    shown = "、".join(str(n) for n in pages[:20])
    return shown + ("…" if len(pages) > 20 else "")


class PageReader:
    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.lines: list[OcrLine] = []
        self.read_pages: list[int] = []
        self.unread_pages: list[int] = []
        self._attempted = 0
        self._cpu = 0.0

    def _budget_left(self) -> bool:
        return self._attempted < self.limits.max_ocr_pages and self._cpu < self.limits.ocr_cpu_seconds

    def read(self, page: int, image: PageImage) -> list[Paragraph]:
        """The page's text lines as paragraphs, or [] (unreadable, or past the budget)."""
        if not self._budget_left():
            self.unread_pages.append(page)
            return []
        self._attempted += 1
        started = time.process_time()
        try:
            pixels, scale = image()
            found = ocr.recognise(pixels, scale)
        finally:
            self._cpu += time.process_time() - started
        if not found or sum(line.confidence for line in found) / len(found) < MIN_CONFIDENCE:
            return []
        self.lines.extend(OcrLine(page=page, text=line.text, box=line.box, confidence=round(line.confidence, 4))
                          for line in found)
        self.read_pages.append(page)
        return [Paragraph(text=line.text, page=page) for line in found]

    def warnings(self) -> list[ParseWarning]:
        found: list[ParseWarning] = []
        if self.lines:
            mean = sum(line.confidence for line in self.lines) / len(self.lines)
            found.append(warning("ocr_text", pages=self.read_pages, page_list=page_list(self.read_pages),
                                 confidence=f"{mean * 100:.0f}"))
        if self.unread_pages:
            found.append(warning("ocr_incomplete", pages=self.unread_pages, page_list=page_list(self.unread_pages)))
        return found
