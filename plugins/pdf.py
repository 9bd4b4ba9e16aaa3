"""PDF: pypdfium2 for text (fast), pdfplumber only on pages whose drawing suggests a table,
OCR (``plugins/ocr.py``) on pages without a usable text layer (``plugins/pdf_scan.py``).

Measured on this machine (DESIGN.md, bench/): pypdfium2 extracts a Chinese page in ~0.6 ms
where pdfplumber takes ~30 ms with identical text. So every page's text comes from PDFium;
pdfplumber's geometry is used only where it pays: a page with many ruling lines/rectangles
is handed to pdfplumber to find tables and the text around them. Running headers/footers
are removed later by the cleaning step, which compares lines across pages.
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from plugins.ocr_pages import PageReader
from plugins.pdf_scan import needs_ocr, page_image
from service.parsers import (
    CorruptFile,
    Encrypted,
    HiddenText,
    Paragraph,
    ParseContext,
    ParsedDocument,
    ResourceLimit,
    Table,
    warning,
)

#: A page with at least this many path objects (lines, rectangles) is checked for tables.
TABLE_PATH_THRESHOLD = 12
_PROPERTY_KEYS = ("Title", "Author", "Subject", "Keywords", "Creator", "Producer", "CreationDate", "ModDate")


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise Encrypted(str(exc)) from exc
        raise CorruptFile(str(exc)) from exc


def _count_paths(page: pdfium.PdfPage, stop_at: int) -> int:
    count = 0
    raw = page.raw
    for i in range(pdfium_c.FPDFPage_CountObjects(raw)):
        if pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(raw, i)) == pdfium_c.FPDF_PAGEOBJ_PATH:
            count += 1
            if count >= stop_at:
                break
    return count


def _annot_string(annot, key: str) -> str:
    key_b = key.encode("ascii")
    size = pdfium_c.FPDFAnnot_GetStringValue(annot, key_b, None, 0)
    if size <= 2 or size > 1_000_000:
        return ""
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFAnnot_GetStringValue(annot, key_b, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)), size)
    return buffer.raw[: size - 2].decode("utf-16-le", errors="replace").strip()


def _annotations(page: pdfium.PdfPage, number: int) -> list[HiddenText]:
    found: list[HiddenText] = []
    raw = page.raw
    for i in range(min(pdfium_c.FPDFPage_GetAnnotCount(raw), 500)):
        annot = pdfium_c.FPDFPage_GetAnnot(raw, i)
        if not annot:
            continue
        try:
            author = _annot_string(annot, "T")
            for key, kind in (("Contents", "annotation"), ("V", "form_field")):
                text = _annot_string(annot, key)
                if text:
                    where = f"第 {number} 页批注" + (f"（{author}）" if author and kind == "annotation" else "")
                    if kind == "form_field":
                        where = f"第 {number} 页表单域" + (f"「{author}」" if author else "")
                    found.append(HiddenText(kind=kind, text=text, where=where))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return found


def _lines(text: str, page: int) -> list[Paragraph]:
    return [Paragraph(text=line.strip(), page=page) for line in text.splitlines() if line.strip()]


def _table_page(plumber_pdf, index: int) -> list[Paragraph | Table] | None:
    """Tables and the text around them in reading order, or None if pdfplumber finds no table."""
    page = plumber_pdf.pages[index]
    try:
        found = page.find_tables()
        if not found:
            return None
        bboxes = [t.bbox for t in found]

        def outside(obj) -> bool:
            if obj.get("object_type") != "char":
                return True
            x, top = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
            return not any(b[0] <= x <= b[2] and b[1] <= top <= b[3] for b in bboxes)

        items: list[tuple[float, Paragraph | Table]] = []
        for line in page.filter(outside).extract_text_lines():
            if line["text"].strip():
                items.append((line["top"], Paragraph(text=line["text"].strip(), page=index + 1)))
        for table in found:
            rows = tuple(tuple((cell or "").strip() for cell in row) for row in table.extract())
            rows = tuple(r for r in rows if any(r))
            if rows:
                items.append((table.bbox[1], Table(rows=rows, page=index + 1)))
        items.sort(key=lambda item: item[0])
        return [block for _, block in items]
    finally:
        page.close()


class PdfParser:
    name = "pdf"
    version = "1"
    media_types = frozenset({"application/pdf"})
    priority = 0

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument:
        pdf = _open(path)
        try:
            return self._parse(pdf, path, context)
        except pdfium.PdfiumError as exc:
            raise CorruptFile(str(exc)) from exc
        finally:
            pdf.close()

    def _parse(self, pdf: pdfium.PdfDocument, path: Path, context: ParseContext) -> ParsedDocument:
        limits = context.limits
        page_count = len(pdf)
        if page_count > limits.max_pages:
            raise ResourceLimit(f"{page_count} pages", what=f"页数超过 {limits.max_pages} 页")
        if page_count == 0:
            raise CorruptFile("no pages")
        blocks: list[Paragraph | Table] = []
        hidden: list[HiddenText] = []
        text_bytes = 0
        plumber_pdf = None
        reader = PageReader(limits)
        try:
            for index in range(page_count):
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    text = textpage.get_text_range()
                    textpage.close()
                    page_blocks = None
                    if needs_ocr(page, text):
                        page_blocks = reader.read(index + 1, lambda page=page: page_image(page)) or None
                        if page_blocks:
                            text = "\n".join(b.text for b in page_blocks)
                    if (page_blocks is None and _count_paths(page, TABLE_PATH_THRESHOLD) >= TABLE_PATH_THRESHOLD
                            and text.strip()):
                        if plumber_pdf is None:
                            import pdfplumber

                            plumber_pdf = pdfplumber.open(str(path))
                        page_blocks = _table_page(plumber_pdf, index)
                    blocks.extend(page_blocks if page_blocks is not None else _lines(text, index + 1))
                    hidden.extend(_annotations(page, index + 1))
                finally:
                    page.close()
                text_bytes += len(text.encode("utf-8"))
                if text_bytes > limits.max_text_bytes:
                    raise ResourceLimit(f"{text_bytes} bytes", what="文字量超过上限")
        finally:
            if plumber_pdf is not None:
                plumber_pdf.close()

        meta = pdf.get_metadata_dict(skip_empty=True)
        properties = {k: str(v) for k, v in meta.items() if k in _PROPERTY_KEYS}
        properties["pages"] = str(page_count)
        hidden.extend(HiddenText(kind="property", text=str(v), where=k)
                      for k, v in meta.items() if k in ("Title", "Author", "Subject", "Keywords"))
        title = (meta.get("Title") or "").strip() or None
        if title and (title.lower().startswith(("microsoft word", "untitled"))
                      or title.lower().endswith((".doc", ".docx", ".pdf"))):
            title = None
        warnings = reader.warnings()
        if any(h.kind == "annotation" for h in hidden):
            warnings.append(warning("hidden_text_present"))
        return ParsedDocument(blocks=tuple(blocks), page_count=page_count, title=title,
                              properties=properties, hidden=tuple(hidden), warnings=tuple(warnings),
                              ocr_lines=tuple(reader.lines))
