"""The public PDF of real files: their own pages with the personal numbers painted over, or the
public text typeset when the pages cannot be used. Read back as the public would: text extraction
and OCR of the page images."""
from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from public_pdf import read_back

from plugins.converter import converter
from service.analysis.masking import public_form
from service.analysis.privacy import scan_document, scan_text
from service.parsers import ParseContext, RenditionContext
from service.parsing.registry import default_registry
from service.parsing.sandbox import parse_in_process
from service.rendition.covers import document_values
from service.rendition.renderer import PublicPdfRenderer
from testenv import DATA

SCAN_030 = DATA / "shared" / "scans" / "scan" / "030.pdf"
DOCX_030 = DATA / "shared" / "scans" / "docx" / "030.docx"
TRUTH = next(json.loads(line) for line in (SCAN_030.parent.parent / "truth.jsonl").read_text(encoding="utf-8")
             .splitlines() if json.loads(line)["file"] == "030")
#: The 公示's three 身份证 and three mobile numbers, as the scanner reads its true text.
NUMBERS = [value for kind, value, _s, _e in scan_text(TRUTH["text"]) if kind in ("resident_id", "mobile")]
MASKS = {"added": [{"text": "赵德明"}]}


def context_for(path: Path, media_type: str, font: Path | None, masks: dict | None = MASKS, **changes):
    """What ``service.public_copy`` gives the renderer, from the file really parsed."""
    doc = parse_in_process(default_registry().select(media_type).target, path, ParseContext(media_type=media_type))
    findings = [{"kind": f.kind, "value": f.value, "source": f.source} for f in scan_document(doc)]
    values = document_values(findings, masks)
    fields = {"media_type": media_type, "title": "城关镇人民政府关于2025年12月临时救助对象的公示",
              "public_text": public_form(doc.body_text(), masks)[0], "masks": masks,
              "values": tuple((v.kind, v.text) for v in values), "required": tuple((v.kind, v.text) for v in values),
              "ocr_lines": tuple({"page": ln.page, "text": ln.text, "box": list(ln.box)} for ln in doc.ocr_lines),
              "font_path": str(font) if font else None}
    return RenditionContext(**{**fields, **changes})


def assert_masked(pdf: bytes) -> str:
    layer, seen = read_back(pdf)
    assert layer.strip() == ""
    assert len(NUMBERS) == 6 and [n for n in NUMBERS if n in seen] == []
    assert "赵德明" not in seen
    return seen


@pytest.fixture(scope="module")
def born_digital(tmp_path_factory, libreoffice):
    """The 公示 as a born-digital PDF with a text layer (LibreOffice's export of its .docx)."""
    out = tmp_path_factory.mktemp("pdf") / "030.pdf"
    converter().convert(DOCX_030, out, "writer_pdf_Export")
    return out


def test_a_born_digital_pdf_keeps_its_pages_with_the_numbers_covered_by_their_text_positions(born_digital, cjk_font):
    made = PublicPdfRenderer().parse(born_digital, context_for(born_digital, "application/pdf", cjk_font))
    assert (made.method, made.pages, made.covered) == ("redacted", 1, 7)
    seen = assert_masked(made.pdf)
    assert "410522" in seen and "0036" in seen and "临时救助" in seen   # only what the public copy masks is covered


def test_an_image_file_is_covered_by_its_ocr_boxes(tmp_path, cjk_font):
    page = pdfium.PdfDocument(str(SCAN_030))[0]
    picture = tmp_path / "030.png"
    page.render(scale=200 / 72).to_pil().save(picture)
    made = PublicPdfRenderer().parse(picture, context_for(picture, "image/png", cjk_font))
    assert made.method == "redacted" and made.covered == 7
    assert "临时救助" in assert_masked(made.pdf)


def test_text_that_cannot_be_placed_on_a_page_gets_the_public_text_typeset(born_digital, cjk_font):
    elsewhere = context_for(born_digital, "application/pdf", cjk_font, required=(("mobile", "13912345678"),))
    made = PublicPdfRenderer().parse(born_digital, elsewhere)
    assert made.method == "text" and "未能在页面上定位" in made.reason
    seen = assert_masked(made.pdf)
    assert "410522" in seen and "159****" in seen and "临时救助" in seen   # the masked text, set in type
    assert "去标识化公开版" in seen


def test_a_file_whose_pages_cannot_be_drawn_gets_the_public_text_typeset(tmp_path, born_digital, cjk_font):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(born_digital.read_bytes()[:400])
    made = PublicPdfRenderer().parse(broken, context_for(born_digital, "application/pdf", cjk_font))
    assert made.method == "text" and made.reason.startswith("原件版式无法生成")
    assert_masked(made.pdf)


def test_plain_text_and_ofd_are_typeset(tmp_path, cjk_font):
    text = tmp_path / "030.txt"
    text.write_text(TRUTH["text"], encoding="utf-8")
    made = PublicPdfRenderer().parse(text, context_for(text, "text/plain", cjk_font))
    assert made.method == "text" and made.pages == 1
    assert_masked(made.pdf)
