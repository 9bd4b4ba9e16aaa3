"""OFD plugin: real files from ofdrw's test suite (tests/data/ofd, Apache-2.0) and hostile
packages built here."""
import time
from pathlib import Path

import pytest

from build_ofd import build_ofd, page_xml, text_object
from plugins.ofd import OfdParser, page_images
from service.analysis.cleaning import clean
from service.parsers import ParseContext, ParseError, ParseLimits
from service.parsing.sniff import sniff

OFD = Path(__file__).resolve().parents[1] / "data" / "ofd"
CTX = ParseContext(media_type="application/ofd")
ALL = sorted(p.name for p in OFD.glob("*.ofd"))


def parse(path: Path, context: ParseContext = CTX):
    return OfdParser().parse(path, context)


def body(name: str) -> str:
    return clean(parse(OFD / name)).body_text()


def codes(doc) -> set[str]:
    return {w.code for w in doc.warnings}


def test_all_47_files_are_here():
    assert len(ALL) == 47


@pytest.mark.parametrize("name, phrases", [
    ("converter-n.ofd", ["路卫发〔2011〕76号", "关于同意张阿三同志辞职的批复", "同意张阿三同志辞职。"]),
    ("converter-1.ofd", ["浙江增值税电子普通发票", "合计 ¥510.68 ¥15.32", "（小写）¥526.00"]),
    ("layout-fptpl.ofd", ["发票代码：050001700111", "价税合计（大写） 壹万零陆佰圆整 （小写）¥10600.00"]),
    ("converter-SignScaleError.ofd", ["招商银行股份有限公司杭州西溪小微企业专营支行"]),
    ("layout-keyword.ofd", ["鲁（2020）泰安市不动产证明第0014777号"]),
    ("converter-testPathClip.ofd", ["采矿许可证"]),
    ("converter-testImageOverridePage.ofd", ["临翔区棚户区改造安置房二期"]),
    ("reader-path_unstd.ofd", ["立案侦查"]),
    ("crypto-hello.ofd", ["中国一向是所谓“闭关主义”"]),
    ("converter-y.ofd", ["建设新时代海关数字档案室"]),  # text inside composite graphic units
    ("converter-z.ofd", ["11.4字型变换"]),
    ("sign-doc1File.ofd", ["一日不见兮，思之如狂。"]),
    ("sign-namespace_no_std.ofd", ["你好呀，OFD Reader&Writer！"]),  # year-less namespace
    ("reader-helloworld_with_pageblock.ofd", ["你好呀，OFD Reader&Writer！"]),
])
def test_text_bearing_files_give_their_text(name, phrases):
    text = body(name)
    for phrase in phrases:
        assert phrase in text


def test_gongwen_lines_in_reading_order_with_pages():
    doc = parse(OFD / "converter-n.ofd")
    texts = [p.text for p in doc.paragraphs]
    assert texts[:3] == ["测试符路桥区卫生局文件", "路卫发〔2011〕76号", "关于同意张阿三同志辞职的批复"]
    assert {p.page for p in doc.paragraphs} == {1, 2}
    assert doc.page_count == 2
    assert doc.properties["CreationDate"] == "2020-01-25" and doc.properties["custom:user.name"] == "vita"


def test_template_text_once_merged_into_its_page():
    text = body("layout-fptpl.ofd")  # labels in the template, values on the page
    assert text.count("发票代码") == 1
    assert "纳税人识别号：91500102563638729E" in text


def test_one_textcode_holding_several_lines_is_split():
    text = body("converter-1.ofd")  # the cipher block: one TextCode, four lines via DeltaX/DeltaY
    assert "密码区 0062477>548-1109>61*9-52160+" in text  # 密码区 is set vertically
    assert "纳税人识别号：91320115MA202UKD7X 2>+<79<931-426-8*+38+412394<" in text


def test_annotations_attachments_custom_data_and_seals_are_hidden_text():
    hidden = parse(OFD / "converter-1.ofd").hidden
    kinds = {(h.kind, h.text) for h in hidden}
    assert ("attachment", "original_invoice.xml") in kinds
    assert parse(OFD / "converter-1.ofd").properties["custom:购买方纳税人识别号"] == "91320115MA202UKD7X"
    assert any(h.kind == "property" and "国家税务总局浙江省税务局" in h.text and h.where == "第 1 页签章"
               for h in hidden)
    seal = [h for h in parse(OFD / "converter-n.ofd").hidden if "签章" in h.where]
    assert "某某省人力资源和社会测试章" in seal[0].text
    watermark = [h for h in parse(OFD / "tool-hello_watermark.ofd").hidden if h.kind == "annotation"]
    assert "保密资料" in watermark[0].text and watermark[0].where.startswith("第 1 页水印")


def test_custom_tags_resolve_to_the_text_they_point_at():
    hidden = parse(OFD / "reader-path_unstd.ofd").hidden
    assert any(h.where == "自定义标引" for h in hidden)


def test_title_from_docinfo(tmp_path):
    doc = parse(build_ofd(tmp_path / "t.ofd", [text_object(3, 20, 20, "正文")], title="关于做好春耕工作的通知"))
    assert doc.title == "关于做好春耕工作的通知"
    assert doc.properties["Author"] == "县政府办公室"
    assert parse(OFD / "converter-z.ofd").title == "11.4 字型变换"


def test_without_docinfo_title_the_largest_lines_at_the_top_are_the_title():
    assert parse(OFD / "converter-1.ofd").title == "浙江增值税电子普通发票"
    assert parse(OFD / "converter-testPathClip.ofd").title == "采矿许可证"
    assert parse(OFD / "reader-helloworld.ofd").title is None  # one line, nothing stands out


def test_image_only_pages_are_read_by_ocr_and_their_images_are_given():
    parsed = parse(OFD / "converter-containsJPEG.ofd")   # two pages, each a photo of a film poster
    assert [(b.page, b.text) for b in parsed.blocks][:2] == [(1, "我和我的租国"), (1, "AY PEOPLE,MY COUNT")]
    ocr = next(w for w in parsed.warnings if w.code == "ocr_text")
    assert ocr.pages == (1, 2) and {line.page for line in parsed.ocr_lines} == {1, 2}
    assert all(0 <= line.box[0] < line.box[2] and line.box[1] < line.box[3] for line in parsed.ocr_lines)
    # the same few words on both photos are no document text (cleaning drops them as repeated
    # furniture): the pages still ask for a person
    assert codes(clean(parsed)) == {"ocr_text", "no_text_layer"}
    images = page_images(OFD / "converter-containsJPEG.ofd", [1, 2])
    assert [(n, t) for n, _, t in images] == [(1, "image/jpeg"), (2, "image/jpeg")]
    assert images[0][1].startswith(b"\xff\xd8\xff")
    assert page_images(OFD / "converter-containsJPEG.ofd", [2])[0][0] == 2
    assert page_images(OFD / "converter-n.ofd") == []  # pages with text have nothing to OCR


def test_scanned_page_among_text_pages_is_partial(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    res = ('<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="http://www.ofdspec.org/2016" BaseLoc="Res">'
           '<ofd:MultiMedias><ofd:MultiMedia ID="7" Type="Image"><ofd:MediaFile>scan.png</ofd:MediaFile>'
           '</ofd:MultiMedia></ofd:MultiMedias></ofd:Res>')
    path = build_ofd(tmp_path / "mixed.ofd", [
        text_object(3, 20, 20, "第一页正文，关于做好春耕工作的通知。"),
        '<ofd:ImageObject ID="8" Boundary="0 0 210 297" CTM="210 0 0 297 0 0" ResourceID="7"/>',
    ], extra={"Doc_0/DocumentRes.xml": res, "Doc_0/Res/scan.png": png},
        common="<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>")
    doc = clean(parse(path))
    assert codes(doc) == {"partial_text_layer"}
    assert "第 2 页" in next(w.message for w in doc.warnings)
    assert page_images(path) == [(2, png, "image/png")]


@pytest.mark.parametrize("name", ["converter-ano.ofd", "layout-ano.ofd"])
def test_private_use_glyph_codes_of_embedded_fonts_are_garbled(name):
    assert "garbled_text_layer" in codes(clean(parse(OFD / name)))


def test_clean_files_are_not_garbled():
    for name in ("converter-n.ofd", "converter-y.ofd", "sign-doc1File.ofd", "converter-1.ofd"):
        assert "garbled_text_layer" not in codes(clean(parse(OFD / name))), name


@pytest.mark.parametrize("name", ALL)
def test_every_file_ends_parsed_or_coded(name):
    path = OFD / name
    try:
        sniffed = sniff(path)
        assert sniffed.media_type == "application/ofd"
        doc = clean(parse(path))
    except ParseError as exc:
        assert exc.code in {"empty_file", "corrupt_file"}, exc
        assert name == "layout-helloworld.ofd"  # the one 0-byte file of the set
        return
    assert doc.page_count >= 1
    assert doc.body_text().strip() or codes(doc) & {"no_text_layer"} or doc.hidden


# --- hostile packages --------------------------------------------------------------------

def test_zip_bomb_is_resource_limit(tmp_path):
    path = build_ofd(tmp_path / "bomb.ofd", [text_object(3, 20, 20, "正文")],
                     extra={"Doc_0/Res/zeros.bin": b"\0" * (50 * 1024 * 1024)})
    with pytest.raises(ParseError) as exc:
        parse(path)
    assert exc.value.code == "resource_limit"


def test_too_many_entries_is_resource_limit(tmp_path):
    path = build_ofd(tmp_path / "many.ofd", [text_object(3, 20, 20, "正文")],
                     extra={f"Doc_0/Res/{i}.txt": b"" for i in range(50)})
    with pytest.raises(ParseError) as exc:
        parse(path, ParseContext(media_type="application/ofd", limits=ParseLimits(max_zip_entries=20)))
    assert exc.value.code == "resource_limit"


def test_dtd_and_entities_are_unsafe(tmp_path):
    prologue = '<!DOCTYPE ofd:Page [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    path = build_ofd(tmp_path / "xxe.ofd", ["x"], extra={
        "Doc_0/Pages/Page_0/Content.xml": page_xml(text_object(3, 20, 20, "&xxe;"), prologue)})
    with pytest.raises(ParseError) as exc:
        parse(path)
    assert exc.value.code == "unsafe_content"
    entry = build_ofd(tmp_path / "ofdxml.ofd", [text_object(3, 20, 20, "正文")], extra={
        "OFD.xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'})
    with pytest.raises(ParseError) as exc:
        parse(entry)
    assert exc.value.code == "unsafe_content"


def test_truncated_file_is_corrupt(tmp_path):
    data = (OFD / "converter-n.ofd").read_bytes()
    path = tmp_path / "cut.ofd"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError) as exc:
        parse(path)
    assert exc.value.code == "corrupt_file"


def test_missing_document_entry_file_or_page_is_corrupt(tmp_path):
    for path in (build_ofd(tmp_path / "nodoc.ofd", ["x"], skip=("Doc_0/Document.xml",)),
                 build_ofd(tmp_path / "elsewhere.ofd", ["x"], doc_root="Doc_9/Document.xml"),
                 build_ofd(tmp_path / "noentry.ofd", ["x"], skip=("OFD.xml",)),
                 build_ofd(tmp_path / "nopage.ofd", ["x", "y"], skip=("Doc_0/Pages/Page_1/Content.xml",)),
                 build_ofd(tmp_path / "nopages.ofd", [])):
        with pytest.raises(ParseError) as exc:
            parse(path)
        assert exc.value.code == "corrupt_file", path.name


def test_zip_level_encryption_is_encrypted(tmp_path):
    path = build_ofd(tmp_path / "enc.ofd", [text_object(3, 20, 20, "正文")])
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag bit on every local and central header.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset] |= 0x01
            start += 4
    path.write_bytes(bytes(data))
    with pytest.raises(ParseError) as exc:
        parse(path)
    assert exc.value.code == "encrypted"


def test_page_with_100000_text_objects_is_time_bounded(tmp_path):
    objects = "".join(text_object(i, 10 + (i % 10) * 18, 10 + (i // 10) % 250, "字") for i in range(100_000))
    path = build_ofd(tmp_path / "dense.ofd", [objects])
    started = time.perf_counter()
    doc = parse(path)
    assert time.perf_counter() - started < 20
    assert doc.page_count == 1 and doc.paragraphs


def test_odd_numbers_and_self_drawing_composites_stay_bounded(tmp_path):
    odd = ('<ofd:TextObject ID="3" Boundary="nan inf 1e999 5" CTM="1 0 0 1 0 0" Font="1" Size="-inf">'
           '<ofd:TextCode X="inf" Y="nan" DeltaX="g 1e400 2 g 99999999999 3 nan">全角文字</ofd:TextCode>'
           '</ofd:TextObject>')
    assert "全角文字" in parse(build_ofd(tmp_path / "odd.ofd", [odd])).body_text()
    # A composite unit that draws itself 50 times per level.
    unit = "".join(f'<ofd:CompositeObject ID="{i}" Boundary="0 0 10 10" ResourceID="9"/>' for i in range(50))
    res = ('<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="http://www.ofdspec.org/2016">'
           f'<ofd:CompositeGraphicUnits><ofd:CompositeGraphicUnit ID="9" Width="10" Height="10"><ofd:Content>'
           f'{text_object(1, 0, 0, "字")}{unit}</ofd:Content></ofd:CompositeGraphicUnit>'
           '</ofd:CompositeGraphicUnits></ofd:Res>')
    path = build_ofd(tmp_path / "composite.ofd", [unit], extra={"Doc_0/PublicRes.xml": res},
                     common="<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>")
    started = time.perf_counter()
    with pytest.raises(ParseError) as exc:
        parse(path)
    assert exc.value.code == "resource_limit" and time.perf_counter() - started < 20


def test_privacy_scan_reads_annotations_and_attachment_names(tmp_path):
    from service.analysis.privacy import scan_document

    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    annots = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Annotations {ns}><ofd:Page PageID="100">'
              '<ofd:FileLoc>Page_0.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>')
    page_annot = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:PageAnnot {ns}>'
                  '<ofd:Annot Type="Highlight" Creator="王科员">'
                  '<ofd:Remark>联系人手机 13912345678</ofd:Remark></ofd:Annot></ofd:PageAnnot>')
    attachments = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Attachments {ns}>'
                   '<ofd:Attachment ID="5" Name="张三身份证110101199003074514" Format="jpg">'
                   '<ofd:FileLoc>a.jpg</ofd:FileLoc></ofd:Attachment></ofd:Attachments>')
    path = build_ofd(tmp_path / "private.ofd", [text_object(3, 20, 20, "关于公开招聘工作人员的公告")], extra={
        "Doc_0/Annots/Annotations.xml": annots, "Doc_0/Annots/Page_0.xml": page_annot,
        "Doc_0/Attachs/Attachments.xml": attachments},
        after_pages="<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
                    "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>")
    doc = clean(parse(path))
    found = {(f.source, f.kind) for f in scan_document(doc)}
    assert ("annotation", "mobile") in found and ("attachment", "resident_id") in found
    annotation = next(h for h in doc.hidden if h.kind == "annotation")
    assert annotation.where == "第 1 页高亮批注，王科员"
    assert "hidden_text_present" in codes(doc)


def test_the_ofd_modules_import_only_the_contract_from_the_service():
    import ast

    for module in (OFD.parents[2] / "plugins").glob("ofd*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert {m for m in imported if m and m.startswith("service")} <= {"service.parsers"}, module.name


def test_vertical_text_stays_one_run_and_lines_keep_their_order(tmp_path):
    vertical = ('<ofd:TextObject ID="3" Boundary="180 20 10 100" Font="1" Size="5">'
                '<ofd:TextCode X="0" Y="5" DeltaY="g 3 5">县人民政府</ofd:TextCode></ofd:TextObject>')
    rows = [text_object(4, 60, 40, "第二行右"), text_object(5, 20, 40.5, "第二行左"), text_object(6, 20, 30, "第一行")]
    doc = parse(build_ofd(tmp_path / "v.ofd", [vertical + "".join(rows)]))
    texts = [p.text for p in doc.paragraphs]
    assert "县人民政府" in texts
    assert texts.index("第一行") < texts.index("第二行左 第二行右")
