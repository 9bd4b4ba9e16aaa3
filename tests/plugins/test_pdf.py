from pathlib import Path

import pytest

from build_pdf import build_pdf, build_seed_report_pdf, paginate
from plugins.pdf import PdfParser
from service.analysis.cleaning import clean
from service.parsers import CorruptFile, Encrypted, ParseContext, ParseLimits, ResourceLimit, Table

CTX = ParseContext(media_type="application/pdf")
PDF = Path(__file__).resolve().parents[1] / "data" / "pdf"


def parse(path: Path, context: ParseContext = CTX):
    return PdfParser().parse(path, context)


def test_chinese_pages_in_reading_order_with_page_numbers(tmp_path):
    path = build_pdf(tmp_path / "a.pdf", [["关于做好防汛工作的通知", "各乡镇人民政府："], ["现将有关事项通知如下。"]])
    doc = parse(path)
    assert doc.page_count == 2
    assert [(p.text, p.page) for p in doc.paragraphs if not p.text.startswith("—")] == [
        ("关于做好防汛工作的通知", 1), ("各乡镇人民政府：", 1), ("现将有关事项通知如下。", 2)]


def test_seed_watermark_removed_and_figures_survive(tmp_path, seed_text):
    doc = clean(parse(build_seed_report_pdf(tmp_path / "seed.pdf", seed_text)))
    body = doc.body_text()
    assert doc.page_count >= 3
    assert "WORD 版" not in body and "请购买" not in body and "第 2 页" not in body
    squeezed = "".join(body.split())
    for figure in ["工作动态652条", "政策法规及规范性文件类信息29条", "规划计划类信息9条", "机构职能类信息59条",
                   "人事任免信息类7条", "办事指南信息48条", "应急预案类信息36条", "政府工作报告3条", "其他信息557条"]:
        assert figure in squeezed.replace("\n", "")
    assert any("WORD 版" in h.text for h in doc.hidden if h.kind == "header")


def test_diagonal_watermark_on_every_page_is_removed(tmp_path):
    pages = paginate([f"第{k}段正文，内容各不相同，编号{k * 13}。" for k in range(60)], lines_per_page=20)
    doc = clean(parse(build_pdf(tmp_path / "w.pdf", pages, watermark="内部资料 注意保存")))
    assert "内部资料" not in doc.body_text()
    # Drawn last, it sits at the end of each page's text: removed as page furniture either way.
    assert any(h.kind in {"watermark", "footer"} and h.text == "内部资料 注意保存" for h in doc.hidden)
    assert "第33段正文，内容各不相同，编号429。" in doc.body_text()


def test_tables_found_on_a_real_chinese_government_standard():
    doc = parse(PDF / "tests__pdfs__issue-336-example.pdf")
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert tables
    cells = {c for t in tables for row in t.rows for c in row}
    assert any("公路" in c for c in cells)
    # Text outside the tables is still there, and table text is not duplicated into paragraphs.
    assert any("安徽省建设用地使用标准" in p.text for p in doc.paragraphs)
    assert not any(p.text == "高速公路" for p in doc.paragraphs)


@pytest.mark.parametrize("name", ["samples__encryption__rc4-40.pdf", "samples__encryption__aes-256.pdf",
                                  "tests__pdfs__password-example.pdf"])
def test_password_protected_pdfs_are_encrypted(name):
    with pytest.raises(Encrypted) as info:
        parse(PDF / name)
    assert info.value.code == "encrypted"


def test_encrypted_with_empty_user_password_opens():
    assert "Secret!" in parse(PDF / "samples__encryption__base.pdf").body_text()


def test_annotations_become_hidden_text():
    doc = parse(PDF / "samples__contrib__issue-1082-annotations.pdf")
    assert any(h.kind == "annotation" for h in doc.hidden)
    assert "hidden_text_present" in {w.code for w in doc.warnings}


def test_a_scanned_pdf_is_read_by_ocr():
    # A JBIG2 scan without a text layer (no_text_layer before OCR; a blank scan still says so: test_ocr.py).
    doc = clean(parse(PDF / "samples__contrib__pdf-with-jbig2.pdf"))
    assert [w.code for w in doc.warnings] == ["ocr_text"]
    assert "Work" in doc.body_text() and doc.ocr_lines


def test_garbled_cid_text_layer_is_flagged():
    assert "garbled_text_layer" in {
        w.code for w in clean(parse(PDF / "samples__contrib__issue_495_pdfobjref.pdf")).warnings}


def test_garbled_chinese_letter_is_flagged():
    assert "garbled_text_layer" in {w.code for w in clean(parse(PDF / "tests__pdfs__pr-136-example.pdf")).warnings}


def test_page_limit(tmp_path):
    path = build_pdf(tmp_path / "three.pdf", [["一"], ["二"], ["三"]])
    with pytest.raises(ResourceLimit):
        parse(path, ParseContext(media_type="application/pdf", limits=ParseLimits(max_pages=2)))


def test_garbage_is_corrupt(tmp_path):
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    with pytest.raises(CorruptFile):
        parse(path)


def test_metadata_becomes_properties_and_hidden_text(tmp_path):
    doc = parse(build_pdf(tmp_path / "t.pdf", [["正文"]], title="关于印发办法的通知"))
    assert doc.title == "关于印发办法的通知"
    assert doc.properties["pages"] == "1"
    assert any(h.kind == "property" and h.where == "Title" for h in doc.hidden)
