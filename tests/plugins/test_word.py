"""The Word plugin on built 公文, real .docx files and hostile archives (no mocks)."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from plugins import ooxml
from plugins.word import WordParser
from service.parsers import (
    CorruptFile, EmptyFile, Paragraph, ParseContext, ParseLimits, Parser, ResourceLimit, Table,
    UnsafeContent,
)

TESTS = Path(__file__).resolve().parents[1]
from build_docx import GONGWEN_DEFAULTS, build_gongwen_docx, build_long_docx  # noqa: E402

DOCX = TESTS / "data" / "docx"
HOSTILE = TESTS / "data" / "hostile"
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
GW_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PARSER = WordParser()


def parse(path: Path, limits: ParseLimits | None = None):
    context = ParseContext(media_type=MEDIA_TYPE, filename=Path(path).name,
                           limits=limits or ParseLimits())
    return PARSER.parse(Path(path), context)


def hidden_of(doc, kind: str) -> list:
    return [h for h in doc.hidden if h.kind == kind]


def hidden_text(doc) -> str:
    return "\n".join(h.text for h in doc.hidden)


@pytest.fixture(scope="module")
def gongwen_path(tmp_path_factory) -> Path:
    return build_gongwen_docx(tmp_path_factory.mktemp("gongwen") / "gongwen.docx")


@pytest.fixture(scope="module")
def gongwen(gongwen_path):
    return parse(gongwen_path)


# ---------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------


def test_plugin_satisfies_the_parser_protocol():
    assert isinstance(PARSER, Parser)
    assert PARSER.name == "word" and PARSER.version == "1" and PARSER.priority == 0
    assert MEDIA_TYPE in PARSER.media_types


def test_builder_is_deterministic(tmp_path):
    first = build_gongwen_docx(tmp_path / "a.docx").read_bytes()
    second = build_gongwen_docx(tmp_path / "b.docx").read_bytes()
    assert first == second


# ---------------------------------------------------------------------------
# The built 公文
# ---------------------------------------------------------------------------


def test_gongwen_body_is_in_document_order(gongwen):
    texts = [b.text if isinstance(b, Paragraph) else "<table>" for b in gongwen.blocks]
    expected = [
        "机密★1年", "特急", "XX县人民政府文件", "X政发〔2023〕12号    签发人：张三",
        "XX县人民政府关于印发《XX县政府信息公开", "工作管理办法》的通知",
        "各乡镇人民政府，县政府各部门：",
    ]
    assert texts[: len(expected)] == expected
    tail = ["<table>", "附件：1．XX县政府信息公开工作管理办法", "　　　2．XX县政府信息公开申请表",
            "XX县人民政府", "2023年12月5日", "（此件公开发布）", "抄送：县委办公室，县人大常委会办公室。",
            "XX县人民政府办公室    2023年12月6日印发"]
    assert texts[-len(tail):] == tail
    body = texts[len(expected): -len(tail)]
    assert body[0].startswith("　　现将《XX县政府信息公开工作管理办法》印发给你们")
    assert body[-1].startswith("　　各单位应于每年1月31日前")


def test_gongwen_table_rows(gongwen):
    assert len(gongwen.tables) == 1
    assert gongwen.tables[0].rows == GONGWEN_DEFAULTS["table"]


def test_gongwen_headers_and_footers_are_hidden_not_body(gongwen):
    body = gongwen.body_text()
    headers = hidden_of(gongwen, "header")
    assert [(h.text, h.where) for h in headers] == [("XX县人民政府", "页眉 第1节")]
    # The footer is nothing but "— PAGE —": skipped, and never in the body.
    assert hidden_of(gongwen, "footer") == []
    assert "—" not in body
    assert body.count("XX县人民政府\n") == 1  # the signature only, not the running header


def test_gongwen_tracked_insertion_is_in_body_and_hidden(gongwen):
    insertions = hidden_of(gongwen, "insertion")
    assert [i.text for i in insertions] == ["11010519491231002X"]
    assert insertions[0].where == "修订 by 王五 2023-12-04T09:00:00Z"
    assert "身份证号码：11010519491231002X" in gongwen.body_text()
    assert "11010519491231002X" in hidden_text(gongwen)  # a privacy scan of hidden text sees it


def test_gongwen_tracked_deletion_is_hidden_only(gongwen):
    deletions = hidden_of(gongwen, "deletion")
    assert [(d.text, d.where) for d in deletions if d.where.startswith("修订 by")] == [
        ("13812345678", "修订 by 王五 2023-12-04T09:05:00Z")]
    assert "13812345678" not in gongwen.body_text()
    assert "联系电话：0000-1234567。" in gongwen.body_text()
    # The paragraph as it read before the edit, for numbers only partly retyped.
    originals = [d.text for d in deletions if d.where == "修订前原文（正文）"]
    assert originals == ["　　联系电话：138123456780000-1234567。" + GONGWEN_DEFAULTS["hidden_text"]]


def test_partly_retyped_number_is_visible_in_the_original_text(tmp_path):
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    paragraph = document.add_paragraph("联系电话：1381234")
    paragraph._p.append(parse_xml(
        f'<w:del xmlns:w="{GW_NS}" w:id="1" w:author="甲"><w:r><w:delText>5678</w:delText></w:r></w:del>'))
    paragraph._p.append(parse_xml(
        f'<w:ins xmlns:w="{GW_NS}" w:id="2" w:author="甲"><w:r><w:t>0000</w:t></w:r></w:ins>'))
    path = tmp_path / "retyped.docx"
    document.save(path)
    doc = parse(path)
    assert doc.body_text() == "联系电话：13812340000"
    assert "13812345678" in hidden_text(doc)


def test_gongwen_comment_with_author(gongwen):
    comments = hidden_of(gongwen, "comment")
    assert len(comments) == 1
    assert comments[0].text == "请核对身份证号"
    assert "李四" in comments[0].where


def test_gongwen_text_box_is_hidden_once_and_not_in_body(gongwen):
    boxes = hidden_of(gongwen, "textbox")
    assert [b.text for b in boxes] == [GONGWEN_DEFAULTS["textbox_text"]]  # DrawingML + VML copy
    assert "内部审核意见" not in gongwen.body_text()


def test_gongwen_hidden_run(gongwen):
    runs = hidden_of(gongwen, "hidden_run")
    assert [r.text for r in runs] == [GONGWEN_DEFAULTS["hidden_text"]]
    assert "内部备注" not in gongwen.body_text()


def test_gongwen_footnote_and_alt_text(gongwen):
    assert [f.text.strip() for f in hidden_of(gongwen, "footnote")] == ["本办法自2024年1月1日起施行。"]
    assert [a.text for a in hidden_of(gongwen, "alt_text")] == ["县政府办公楼照片"]


def test_gongwen_core_properties(gongwen):
    props = gongwen.properties
    assert props["author"] == "王五"
    assert props["last_modified_by"] == "赵六"
    assert props["category"] == "规范性文件"
    assert props["created"] == "2023-12-05T09:00:00+00:00"
    found = {h.where: h.text for h in hidden_of(gongwen, "property")}
    assert found["author"] == "王五" and found["keywords"] == "信息公开;管理办法"
    assert found["comments"] == "县政府常务会议审议通过"


def test_gongwen_warning_and_title(gongwen):
    assert [w.code for w in gongwen.warnings] == ["hidden_text_present"]
    assert gongwen.title is None  # "Microsoft Word - …" is not a title; no heading either
    assert gongwen.page_count == 1


def test_real_core_title_is_used(tmp_path):
    title = "XX县人民政府关于印发《XX县政府信息公开工作管理办法》的通知"
    doc = parse(build_gongwen_docx(tmp_path / "t.docx", core_title=title, date="二〇二三年十二月五日"))
    assert doc.title == title
    assert "二〇二三年十二月五日" in [b.text for b in doc.paragraphs]


def test_long_document_headings_tables_pages(tmp_path):
    doc = parse(build_long_docx(tmp_path / "long.docx", pages=20))
    assert doc.page_count == 20  # explicit page breaks beat the template's stale <Pages>1
    assert len(doc.tables) == 5
    headings = [p for p in doc.paragraphs if p.level]
    assert len(headings) == 20
    assert headings[0].text == "一、第1部分工作情况" and headings[0].style == "Heading 1"
    assert {p.level for p in headings} == {1, 2}
    assert doc.warnings == ()


def test_heading_levels_from_chinese_style_names_and_outline_level(tmp_path):
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml

    document = docx.Document()
    document.core_properties.title = ""
    document.styles.add_style("标题 2", WD_STYLE_TYPE.PARAGRAPH)  # as WPS names headings
    document.add_paragraph("正文在前")
    document.add_paragraph("一、总体要求", style="标题 2")
    outlined = document.add_paragraph("（一）工作目标")
    outlined._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl xmlns:w="{GW_NS}" w:val="2"/>'))
    document.add_paragraph("XX县政务公开工作要点", style="Title")
    path = tmp_path / "headings.docx"
    document.save(path)
    doc = parse(path)
    assert [(p.text, p.level, p.style) for p in doc.paragraphs] == [
        ("正文在前", 0, "Normal"), ("一、总体要求", 2, "标题 2"), ("（一）工作目标", 3, "Normal"),
        ("XX县政务公开工作要点", 0, "Title")]
    assert doc.title == "一、总体要求"  # the first heading or Title paragraph


# ---------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------


def test_libreoffice_chinese_procurement_document():
    doc = parse(DOCX / "libreoffice_conversion.docx")
    body = doc.body_text()
    assert "东阳市歌山镇农贸市场经营管理权项目" in body
    assert "中华人民共和国政府采购法" in body
    assert len(doc.tables) == 12
    assert doc.tables[1].rows == (("序号", "项目名称", " 服务期限", "预算金额"),
                                  ("1", "歌山镇农贸市场经营管理权项目", "二年", "35万元/年"))
    assert doc.tables[2].rows[1] == ("1", "市场管理员", "2", "负责统筹协调好市场管理服务的主要工作")
    assert sum(len(p.text) for p in doc.paragraphs) > 15_000
    # Its footers are "- PAGE -" in a text box: no footer, no textbox for them.
    assert hidden_of(doc, "footer") == []
    boxes = hidden_of(doc, "textbox")
    assert [b.text for b in boxes] == ["粘\n贴\n处"]
    assert "粘\n贴\n处" not in body
    assert doc.properties["application"].startswith("LibreOffice")
    assert doc.properties["created"] == "2020-07-13T09:28:00+00:00"


def test_comments_file():
    doc = parse(DOCX / "comments.docx")
    comments = hidden_of(doc, "comment")
    assert len(comments) == 8
    assert {"Randy Bartels", "Shay Hill"} == {
        a for c in comments for a in ("Randy Bartels", "Shay Hill") if a in c.where}
    assert "Response from Shay Hill" in [c.text for c in comments]
    assert "hidden_text_present" in [w.code for w in doc.warnings]
    assert "COMMENT" not in doc.body_text()


def test_headers_with_first_page_variant():
    doc = parse(DOCX / "nested_paragraphs_in_header.docx")
    headers = {h.where: h.text for h in hidden_of(doc, "header")}
    assert headers["页眉 第1节"].strip() == "EHS Manual"
    assert headers["页眉 第1节 首页"] == "EHS Manual"
    assert "EHS Manual" not in doc.body_text()
    assert doc.title == "Employee Handbook"


def test_odd_and_even_headers():
    doc = parse(DOCX / "doc-odd-even-hdrs.docx")
    headers = {h.where: h.text for h in hidden_of(doc, "header")}
    assert headers == {"页眉 第1节 偶数页": "Even page header.", "页眉 第1节": "Odd page header."}


def test_paragraphs_and_tables_interleaved():
    doc = parse(DOCX / "paragraphs_and_tables.docx")
    kinds = ["T" if isinstance(b, Table) else "P" for b in doc.blocks]
    assert kinds == ["P", "T", "P", "P", "T"]
    assert doc.tables[0].rows == (("This", "Document"), ("Also", "Has"), ("Tables", ""))


def test_merged_cells_are_not_duplicated():
    doc = parse(DOCX / "tbl-cell-access.docx")
    # python-docx repeats a merged cell's text in every grid cell it covers ("4","4");
    # here the text appears once and the covered grid cells are empty.
    assert doc.tables[1].rows == (("1", "2", "3"), ("4", "", "6"), ("7", "8", "9"))
    assert doc.tables[3].rows == (("1", "2", "3"), ("4", "", "6"), ("", "", "9"))


def test_strict_ooxml_is_parsed():
    doc = parse(DOCX / "strict.docx")
    assert [p.text for p in doc.paragraphs] == ["Bullet1", "Bullet2", "Number1", "Number2"]
    assert doc.paragraphs[0].style == "List Paragraph"
    assert doc.tables[0].rows == (("Cellaa", "Cellab"), ("Cellba", "Cellbb"))
    assert doc.properties["ooxml_conformance"] == "strict"
    assert doc.properties["author"] == "Shay Hill"


def test_main_part_found_through_relationships():
    doc = parse(DOCX / "renamed_document_xml.docx")  # word/blah_blah.xml
    assert doc.body_text() == "This is a link to my website."  # hyperlink text included


def test_core_properties_file():
    doc = parse(DOCX / "doc-coreprops.docx")
    props = doc.properties
    assert (props["title"], props["subject"], props["keywords"]) == ("Title", "Subject", "key; word; keyword")
    assert (props["comments"], props["category"]) == ("Description", "Category")
    wheres = {h.where for h in hidden_of(doc, "property")}
    assert {"title", "subject", "author", "last_modified_by", "keywords", "comments", "category"} <= wheres


def test_alt_text_and_form_fields():
    alt = parse(DOCX / "pic_alt_text.docx")
    assert [h.text for h in hidden_of(alt, "alt_text")] == ["Alt description"]
    form = parse(DOCX / "unchecked_drop0.docx")
    assert [h.text for h in hidden_of(form, "form_field")] == ["Piihan B\nPIlihan A"]


# ---------------------------------------------------------------------------
# python-docx as the reader: what it would get wrong, handled
# ---------------------------------------------------------------------------


def test_linked_headers_come_once_and_own_ones_per_section(tmp_path):
    import docx
    from docx.enum.section import WD_SECTION

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "第一节页眉"
    document.add_paragraph("第一节正文")
    document.add_section(WD_SECTION.NEW_PAGE)  # its header is linked to the previous one
    document.add_paragraph("第二节正文")
    third = document.add_section(WD_SECTION.NEW_PAGE)
    third.header.is_linked_to_previous = False
    third.header.paragraphs[0].text = "第三节页眉"
    document.add_paragraph("第三节正文")
    path = tmp_path / "sections.docx"
    document.save(path)
    doc = parse(path)
    assert [(h.text, h.where) for h in hidden_of(doc, "header")] == [
        ("第一节页眉", "页眉 第1节"), ("第三节页眉", "页眉 第3节")]
    assert doc.body_text() == "第一节正文\n第二节正文\n第三节正文"
    assert doc.page_count == 3


def test_missing_core_properties_are_not_invented(tmp_path, gongwen_path):
    # python-docx makes up a core-properties part ("python-docx", now) when there is
    # none; the relationship left pointing at the dropped part must not break it either.
    path = _replace_part(gongwen_path, tmp_path / "nocore.docx", "docProps/core.xml", None)
    doc = parse(path)
    assert not {"author", "last_modified_by", "created", "revision", "title"} & set(doc.properties)
    assert hidden_of(doc, "property") == []
    assert doc.body_text() == parse(gongwen_path).body_text()


def test_relationship_to_a_missing_part_is_tolerated(tmp_path, gongwen_path):
    # Word add-ins leave Target="NULL", and OPC names ignore case; python-docx alone
    # refuses the whole file over either.
    with zipfile.ZipFile(gongwen_path) as archive:
        rels = archive.read("word/_rels/document.xml.rels").decode()
    assert 'Target="header1.xml"' in rels
    rels = rels.replace('Target="header1.xml"', 'Target="HEADER1.xml"')
    rels = rels.replace("</Relationships>", (
        '<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/image" Target="NULL"/>'
        '<Relationship Id="rId91" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/hyperlink" Target="#_top"/></Relationships>'))
    path = _replace_part(gongwen_path, tmp_path / "null.docx", "word/_rels/document.xml.rels",
                         rels.encode())
    doc = parse(path)
    original = parse(gongwen_path)
    assert doc.blocks == original.blocks and doc.hidden == original.hidden
    assert [h.text for h in hidden_of(doc, "header")] == ["XX县人民政府"]


def test_macro_enabled_main_part_is_read(tmp_path, gongwen_path):
    with zipfile.ZipFile(gongwen_path) as archive:
        types = archive.read("[Content_Types].xml").decode()
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    assert main in types
    path = _replace_part(gongwen_path, tmp_path / "macro.docx", "[Content_Types].xml",
                         types.replace(main, "application/vnd.ms-word.document.macroEnabled.main+xml").encode())
    assert parse(path).blocks == parse(gongwen_path).blocks


def test_python_docx_failure_is_a_coded_error(tmp_path, gongwen_path):
    # A referenced part with no content type: python-docx raises KeyError.
    with zipfile.ZipFile(gongwen_path) as archive:
        rels = archive.read("word/_rels/document.xml.rels").decode()
    rels = rels.replace("</Relationships>", (
        '<Relationship Id="rId90" Type="http://example.com/odd" Target="odd.bin"/></Relationships>'))
    path = _replace_part(gongwen_path, tmp_path / "odd.docx", "word/_rels/document.xml.rels",
                         rels.encode())
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("word/odd.bin", b"\x00\x01")
    with pytest.raises(CorruptFile) as caught:
        parse(path)
    assert "python-docx" in caught.value.detail and "content type" in caught.value.detail


# ---------------------------------------------------------------------------
# Hostile and broken files
# ---------------------------------------------------------------------------


def test_zip_bomb_is_refused_without_inflating_it():
    code = textwrap.dedent(f"""
        import resource
        from pathlib import Path
        from plugins.word import WordParser
        from service.parsers import ParseContext, ResourceLimit
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            WordParser().parse(Path({str(HOSTILE / 'zipbomb_300MB.docx')!r}), ParseContext(media_type="x"))
        except ResourceLimit as exc:
            outcome = exc.code
        else:
            outcome = "parsed"
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(outcome, (after - before) // 1024)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outcome, grown_mb = result.stdout.split()
    assert outcome == "resource_limit"
    assert int(grown_mb) < 100


def test_zip_bomb_ratio_check_alone(tmp_path):
    # With the size cap out of the way, the per-entry inflate ratio still stops it.
    limits = ParseLimits(max_zip_uncompressed=10**12)
    with pytest.raises(ResourceLimit) as caught:
        parse(HOSTILE / "zipbomb_300MB.docx", limits)
    assert "ratio" in caught.value.detail


@pytest.mark.parametrize("name", ["billion_laughs.docx", "xxe.docx"])
def test_dtd_is_refused(name):
    with pytest.raises(UnsafeContent) as caught:
        parse(HOSTILE / name)
    assert caught.value.params["what"] == "DTD/外部实体"
    assert "DTD" in caught.value.message


def test_xxe_target_never_appears():
    secret = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    with pytest.raises(UnsafeContent) as caught:
        parse(HOSTILE / "xxe.docx")
    error = caught.value
    for text in (error.message, error.message_en_text, str(error.detail)):
        assert "LEAK[" not in text
        assert not secret or secret not in text
    # Defence in depth: even past the DTD check, our lxml parser does not resolve entities.
    with zipfile.ZipFile(HOSTILE / "xxe.docx") as archive:
        raw = archive.read("word/document.xml")
    root = etree.fromstring(raw, ooxml._safe_parser())
    text = "".join(root.itertext())
    assert not secret or secret not in text


def test_utf16_dtd_is_refused(tmp_path, gongwen_path):
    xml = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE w:document [<!ENTITY a "b">]>'
           f'<w:document xmlns:w="{GW_NS}"><w:body/></w:document>')
    path = _replace_part(gongwen_path, tmp_path / "utf16.docx", "word/document.xml",
                         xml.encode("utf-16"))
    with pytest.raises(UnsafeContent):
        parse(path)


def _utf7_dtd_settings() -> bytes:
    """settings.xml in UTF-7, its DTD spelled so no "<!DOCTYPE" byte string appears."""
    xml = (f'<!DOCTYPE w:settings [<!ENTITY a "b">]><w:settings xmlns:w="{GW_NS}"/>')
    body = xml.replace("<!", "+ADwAIQ-")
    data = b'<?xml version="1.0" encoding="UTF-7"?>\n' + body.encode("ascii")
    assert b"<!DOCTYPE" not in data and b"<!ENTITY" not in data
    assert etree.fromstring(data, ooxml._safe_parser()).getroottree().docinfo.internalDTD is not None
    return data


@pytest.mark.parametrize("name, data", [
    # Parsed by python-docx when it opens the file, never by the walker.
    ("word/settings.xml", f'<!DOCTYPE w:settings [<!ENTITY a "b">]><w:settings xmlns:w="{GW_NS}"/>'.encode()),
    ("word/settings.xml", None),  # UTF-7: the byte scan cannot see it, the parse does
    ("customXml/item1.xml", b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'),
])
def test_dtd_in_any_xml_part_is_refused_before_python_docx(tmp_path, gongwen_path, name, data):
    path = _replace_part(gongwen_path, tmp_path / "dtd.docx", name, data or _utf7_dtd_settings())
    with pytest.raises(UnsafeContent) as caught:
        parse(path)
    assert name in caught.value.detail


def test_xml_parts_together_are_capped(monkeypatch, gongwen_path):
    # python-docx keeps every parsed part alive at once: the sum is capped, not only each.
    monkeypatch.setattr(ooxml, "MAX_XML_TOTAL", 200_000)
    with pytest.raises(ResourceLimit) as caught:
        parse(gongwen_path)
    assert "XML parts total" in caught.value.detail


def _replace_part(source: Path, target: Path, name: str, data: bytes | None) -> Path:
    """Copy a .docx replacing (or, with None, dropping) one part."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == name:
                if data is not None:
                    dst.writestr(name, data)
            else:
                dst.writestr(info, src.read(info))
    return target


def test_truncated_docx_is_corrupt(tmp_path):
    data = (DOCX / "libreoffice_conversion.docx").read_bytes()
    path = tmp_path / "truncated.docx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFile):
        parse(path)


def test_missing_document_part_is_corrupt(tmp_path, gongwen_path):
    path = _replace_part(gongwen_path, tmp_path / "nodoc.docx", "word/document.xml", None)
    with pytest.raises(CorruptFile) as caught:
        parse(path)
    assert "document.xml" in caught.value.detail


def test_zip_without_any_word_part_is_corrupt(tmp_path):
    path = tmp_path / "plain.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "你好")
    with pytest.raises(CorruptFile):
        parse(path)


def test_spreadsheet_renamed_is_corrupt(tmp_path):
    path = tmp_path / "book.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(CorruptFile) as caught:
        parse(path)
    assert "spreadsheetml" in caught.value.detail


@pytest.mark.parametrize("name", ["ole2_header.docx", "pdf_renamed.docx"])
def test_not_a_zip_is_corrupt(name):
    with pytest.raises(CorruptFile):
        parse(HOSTILE / name)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.docx"
    path.write_bytes(b"")
    with pytest.raises(EmptyFile):
        parse(path)


def test_malformed_xml_is_corrupt(tmp_path, gongwen_path):
    path = _replace_part(gongwen_path, tmp_path / "bad.docx", "word/document.xml", b"<w:document><w:body>")
    with pytest.raises(CorruptFile):
        parse(path)


def test_lying_declared_size_is_caught(tmp_path, gongwen_path):
    """Declared sizes are patched to claim 1 KB for a part that inflates to ~5 MB."""
    big = (f'<w:document xmlns:w="{GW_NS}"><w:body><w:p><w:r><w:t>'
           + "政" * 1_700_000 + "</w:t></w:r></w:p></w:body></w:document>").encode()
    path = _replace_part(gongwen_path, tmp_path / "liar.docx", "word/document.xml", big)
    _patch_declared_size(path, "word/document.xml", 1024)
    with pytest.raises(CorruptFile):  # zipfile stops at the declared size; the CRC then fails
        parse(path)


def test_part_larger_than_the_xml_cap_is_refused(tmp_path, gongwen_path):
    path = _replace_part(gongwen_path, tmp_path / "huge.docx", "word/document.xml",
                         f'<w:document xmlns:w="{GW_NS}"><w:body/></w:document>'.encode())
    _patch_declared_size(path, "word/document.xml", ooxml.MAX_XML_PART + 1)
    with pytest.raises(ResourceLimit) as caught:  # before a single byte is inflated
        parse(path, ParseLimits(max_zip_ratio=10**9))
    assert caught.value.params["what"] == "单个部件大小"


def _patch_declared_size(path: Path, name: str, size: int) -> None:
    """Overwrite the uncompressed size of ``name`` in its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        local = archive.getinfo(name).header_offset
    data[local + 22: local + 26] = size.to_bytes(4, "little")
    end = data.rindex(b"PK\x05\x06")
    entry = int.from_bytes(data[end + 16: end + 20], "little")  # central directory start
    while data[entry: entry + 4] == b"PK\x01\x02":
        name_len, extra, comment = (int.from_bytes(data[entry + o: entry + o + 2], "little")
                                    for o in (28, 30, 32))
        if data[entry + 46: entry + 46 + name_len] == name.encode():
            data[entry + 24: entry + 28] = size.to_bytes(4, "little")
        entry += 46 + name_len + extra + comment
    path.write_bytes(bytes(data))


def test_duplicate_part_names_are_unsafe(tmp_path, gongwen_path):
    path = tmp_path / "dup.docx"
    shutil.copy(gongwen_path, path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("Word/Document.xml", "<x/>")  # OPC part names ignore case
    with pytest.raises(UnsafeContent):
        parse(path)


def test_entry_count_and_size_limits(gongwen_path):
    with pytest.raises(ResourceLimit):
        parse(gongwen_path, ParseLimits(max_zip_entries=5))
    with pytest.raises(ResourceLimit):
        parse(gongwen_path, ParseLimits(max_zip_uncompressed=10_000))
    with pytest.raises(ResourceLimit):
        parse(gongwen_path, ParseLimits(max_text_bytes=100))


def test_page_limit(tmp_path):
    with pytest.raises(ResourceLimit) as caught:
        parse(build_long_docx(tmp_path / "long.docx", pages=8), ParseLimits(max_pages=5))
    assert "页数" in caught.value.params["what"]


def test_all_reference_docx_files_parse_or_fail_cleanly():
    """Every .docx here ends parsed or with a coded error — never a raw exception."""
    for path in sorted(DOCX.glob("*.docx")) + sorted(HOSTILE.glob("*.docx")):
        try:
            doc = parse(path)
        except (CorruptFile, UnsafeContent, ResourceLimit):
            assert path.parent == HOSTILE, path
        else:
            assert doc.page_count >= 1, path
