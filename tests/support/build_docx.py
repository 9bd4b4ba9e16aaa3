"""Build .docx files with known content for the Word plugin's tests and benchmarks.

python-docx writes the ordinary parts; what it lacks (tracked changes, text boxes, fields,
footnotes, red rules) is added as raw WordprocessingML. Output is deterministic: fixed
core-property dates and zip timestamps, no randomness.
"""
from __future__ import annotations

import datetime as dt
import struct
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.shared import Pt, RGBColor

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (
    f'xmlns:w="{W_NS}" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
)
FIXED_TIME = dt.datetime(2023, 12, 5, 9, 0, 0, tzinfo=dt.UTC)

GONGWEN_DEFAULTS: dict[str, object] = {
    "secret": "机密★1年",
    "urgency": "特急",
    "header_line": "XX县人民政府文件",
    "doc_number": "X政发〔2023〕12号",
    "signer": "张三",
    # One title, typed as two centred lines the way a wrapped 公文 title looks.
    "title_lines": ("XX县人民政府关于印发《XX县政府信息公开", "工作管理办法》的通知"),
    "recipients": "各乡镇人民政府，县政府各部门：",
    "body": (
        "　　现将《XX县政府信息公开工作管理办法》印发给你们，请结合实际，认真贯彻执行。",
        "　　各单位要高度重视政府信息公开工作，明确分管领导和工作人员，"
        "建立健全信息发布协调机制，确保公开内容准确、及时、规范。",
        "　　各单位应于每年1月31日前向县政府办公室报送上一年度政府信息公开工作年度报告。",
    ),
    "attachments": ("XX县政府信息公开工作管理办法", "XX县政府信息公开申请表"),
    "signature": "XX县人民政府",
    "date": "2023年12月5日",
    "note": "（此件公开发布）",
    "cc": "抄送：县委办公室，县人大常委会办公室。",
    "printer": "XX县人民政府办公室",
    "print_date": "2023年12月6日印发",
    "page_header": "XX县人民政府",
    "id_number": "11010519491231002X",
    "phone": "13812345678",
    "reviser": "王五",
    "comment_author": "李四",
    "comment_text": "请核对身份证号",
    "textbox_text": "内部审核意见：同意印发，注意隐去个人信息",
    "hidden_text": "（内部备注：经办人住址为XX县XX路1号）",
    "footnote_text": "本办法自2024年1月1日起施行。",
    "alt_text": "县政府办公楼照片",
    "table": (
        ("序号", "责任单位", "公开事项"),
        ("1", "县政府办公室", "政策文件、政府公报"),
        ("2", "县财政局", "财政预决算、“三公”经费"),
        ("3", "县自然资源局", "征地信息"),
    ),
    "core_title": "Microsoft Word - 关于印发政府信息公开工作管理办法的通知.doc",
    "core_author": "王五",
    "core_last_modified_by": "赵六",
}


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _deterministic_zip(path: Path) -> None:
    """Rewrite the archive with fixed timestamps so the same input gives the same bytes."""
    with zipfile.ZipFile(path) as src:
        parts = [(info.filename, src.read(info)) for info in src.infolist()]
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    path.write_bytes(buffer.getvalue())


def _set_core(document, *, title: str, author: str, last_modified_by: str) -> None:
    core = document.core_properties
    core.title = title
    core.author = author
    core.last_modified_by = last_modified_by
    core.subject = "政府信息公开"
    core.keywords = "信息公开;管理办法"
    core.comments = "县政府常务会议审议通过"
    core.category = "规范性文件"
    core.created = FIXED_TIME
    core.modified = FIXED_TIME
    core.revision = 3


def _paragraph(document, text: str = "", *, center: bool = False, size: float | None = None,
               bold: bool = False, color: RGBColor | None = None):
    paragraph = document.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if text:
        run = paragraph.add_run(text)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color
    return paragraph


def _append_xml(paragraph, xml: str) -> None:
    paragraph._p.append(parse_xml(xml))


def _red_rule(paragraph) -> None:
    """GB/T 9704's red separator line under the 版头: a red bottom border."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(
        f'<w:pBdr {NS}><w:bottom w:val="single" w:sz="12" w:space="1" w:color="FF0000"/></w:pBdr>'))


def _text_box(text: str) -> str:
    """A floating text box as Word writes it: DrawingML choice with a VML fallback."""
    content = f'<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>'
    return (
        f'<w:r {NS}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" '
        'relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0'
        '</wp:posOffset></wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0'
        '</wp:posOffset></wp:positionV><wp:extent cx="2540000" cy="508000"/>'
        '<wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapSquare wrapText="bothSides"/>'
        '<wp:docPr id="90" name="文本框 1"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f'<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr/><wps:txbx>{content}</wps:txbx>'
        '<wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><v:shape id="文本框1" type="#_x0000_t202" '
        f'style="width:200pt;height:40pt"><v:textbox>{content}</v:textbox></v:shape></w:pict>'
        '</mc:Fallback></mc:AlternateContent></w:r>'
    )


def _page_field_footer(section) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for xml in (
        '<w:r {ns}><w:t xml:space="preserve">— </w:t></w:r>',
        '<w:r {ns}><w:fldChar w:fldCharType="begin"/></w:r>',
        '<w:r {ns}><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>',
        '<w:r {ns}><w:fldChar w:fldCharType="separate"/></w:r>',
        '<w:r {ns}><w:t>1</w:t></w:r>',
        '<w:r {ns}><w:fldChar w:fldCharType="end"/></w:r>',
        '<w:r {ns}><w:t xml:space="preserve"> —</w:t></w:r>',
    ):
        _append_xml(paragraph, xml.format(ns=NS))


def _add_footnote(document, paragraph, text: str) -> None:
    """python-docx cannot write footnotes: add the part, its relationship and a reference."""
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes {NS}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
        '</w:r></w:p></w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> {text}'
        '</w:t></w:r></w:p></w:footnote></w:footnotes>'
    )
    part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, xml.encode("utf-8"),
                document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)
    _append_xml(paragraph, f'<w:r {NS}><w:footnoteReference w:id="1"/></w:r>')


def _add_table(document, rows) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value


def build_gongwen_docx(path: Path | str, **overrides: object) -> Path:
    """A red-header 公文 carrying every GB/T 9704 element plus hidden content.

    Body order: 密级, 紧急程度, 发文机关标志 (red), 发文字号 + 签发人, title (two lines),
    主送机关, body paragraphs (the second holds a tracked insertion with an ID number and
    a comment; the third a tracked deletion of a phone number, a hidden run and a text
    box), a table, 附件, 发文机关署名, 成文日期, 附注, 版记 (抄送, 印发机关和日期).
    Keys of ``GONGWEN_DEFAULTS`` can be overridden.
    """
    unknown = set(overrides) - set(GONGWEN_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown overrides: {sorted(unknown)}")
    v = {**GONGWEN_DEFAULTS, **overrides}
    path = Path(path)
    red = RGBColor(0xFF, 0x00, 0x00)
    document = docx.Document()
    _set_core(document, title=str(v["core_title"]), author=str(v["core_author"]),
              last_modified_by=str(v["core_last_modified_by"]))
    section = document.sections[0]
    section.header.paragraphs[0].text = str(v["page_header"])
    _page_field_footer(section)

    _paragraph(document, str(v["secret"]))
    _paragraph(document, str(v["urgency"]))
    _paragraph(document, str(v["header_line"]), center=True, size=36, bold=True, color=red)
    number = _paragraph(document, f'{v["doc_number"]}    签发人：{v["signer"]}', center=True)
    _red_rule(number)
    for line in v["title_lines"]:
        _paragraph(document, str(line), center=True, size=22)
    _paragraph(document, str(v["recipients"]))
    body = list(v["body"])
    _paragraph(document, body[0])
    second = _paragraph(document, body[1])
    id_para = _paragraph(document, "　　经办人身份证号码：")
    _append_xml(id_para, (
        f'<w:ins {NS} w:id="101" w:author="{v["reviser"]}" w:date="2023-12-04T09:00:00Z">'
        f'<w:r><w:t>{v["id_number"]}</w:t></w:r></w:ins>'))
    comment = document.add_comment(id_para.runs[0], text=str(v["comment_text"]),
                                   author=str(v["comment_author"]), initials="李")
    comment._comment_elm.date = FIXED_TIME  # python-docx stamps "now"
    _add_footnote(document, second, str(v["footnote_text"]))
    phone_para = _paragraph(document, "　　联系电话：")
    _append_xml(phone_para, (
        f'<w:del {NS} w:id="102" w:author="{v["reviser"]}" w:date="2023-12-04T09:05:00Z">'
        f'<w:r><w:delText>{v["phone"]}</w:delText></w:r></w:del>'))
    phone_para.add_run("0000-1234567。")
    hidden = phone_para.add_run(str(v["hidden_text"]))
    hidden.font.hidden = True
    _append_xml(phone_para, _text_box(str(v["textbox_text"])))
    for text in body[2:]:
        _paragraph(document, text)
    _add_table(document, v["table"])
    photo = document.add_paragraph().add_run()
    photo.add_picture(BytesIO(_png_1x1()))
    photo._r.xpath(".//wp:docPr")[0].set("descr", str(v["alt_text"]))
    attachments = list(v["attachments"])
    for number, name in enumerate(attachments, 1):
        prefix = "附件：" if number == 1 else "　　　"
        _paragraph(document, f"{prefix}{number}．{name}")
    _paragraph(document, str(v["signature"]))
    _paragraph(document, str(v["date"]))
    _paragraph(document, str(v["note"]))
    _paragraph(document, str(v["cc"]))
    _paragraph(document, f'{v["printer"]}    {v["print_date"]}')
    document.save(path)
    _deterministic_zip(path)
    return path


_PHRASES = (
    "坚持以人民为中心的发展思想", "全面推进政务公开标准化规范化", "依法依规做好政府信息公开工作",
    "进一步优化营商环境", "加强基层政务公开平台建设", "及时回应社会关切", "切实保障人民群众知情权",
    "强化政策解读和舆情回应", "推进决策、执行、管理、服务、结果公开", "严格落实保密审查制度",
    "做好财政预决算信息公开", "推动公共资源配置领域信息公开", "加快建设法治政府",
    "提升政府网站集约化水平", "完善依申请公开办理机制",
)


def _sentence(n: int) -> str:
    first = _PHRASES[n % len(_PHRASES)]
    second = _PHRASES[(n * 7 + 3) % len(_PHRASES)]
    return f"{first}，{second}。"


def build_long_docx(path: Path | str, pages: int = 20) -> Path:
    """A ~``pages``-page Chinese document for benchmarks: headings, body text, tables.

    Each page: a Heading 1 or 2, six paragraphs of ~130 characters, and every fourth
    page a 6×4 table; pages end with an explicit page break.
    """
    path = Path(path)
    document = docx.Document()
    _set_core(document, title="XX县2023年政府信息公开工作年度报告", author="王五",
              last_modified_by="赵六")
    document.sections[0].header.paragraphs[0].text = "XX县人民政府"
    _page_field_footer(document.sections[0])
    counter = 0
    for page in range(1, pages + 1):
        level = 1 if page % 3 == 1 else 2
        document.add_heading(f"{'一二三四五六七八九十'[(page - 1) % 10]}、第{page}部分工作情况", level)
        for _ in range(6):
            text = "　　" + "".join(_sentence(counter + i) for i in range(5))
            counter += 5
            document.add_paragraph(text)
        if page % 4 == 0:
            rows = [("项目", "数量", "同比", "备注")]
            rows += [(f"指标{page}-{i}", str(100 + i * page), f"{i * 3}%", _PHRASES[i]) for i in range(1, 6)]
            _add_table(document, rows)
        if page < pages:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.save(path)
    _deterministic_zip(path)
    return path
