"""The annual report (``service.annual_report.compose``) as a Word document in the 2021 format.

Laid out as county offices file it: A4 with GB/T 9704's margins, the title in 小标宋 二号,
headings in 黑体 三号, body in 仿宋_GB2312 三号 with a two-character indent, and the three
tables as real Word tables with the format's merged headings (小五, so 四's fifteen columns fit
the page). Fonts are named, not embedded: Word and WPS on a county PC have them; LibreOffice
substitutes what fontconfig offers.
"""
from __future__ import annotations

from typing import Any

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from service import annual_format as F

TITLE_FONT, HEADING_FONT, BODY_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312"
BODY_PT, TABLE_PT = 16, 9


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(doc, text: str, font: str = BODY_FONT, size: float = BODY_PT, *, indent: bool = True,
               align=None, bold: bool = False) -> None:
    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = Pt(28)
    _font(p.add_run(text), font, size, bold)


def _cell(cell, text: Any, bold: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    cell.text = ""
    p = cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    _font(p.add_run(str(text)), BODY_FONT, TABLE_PT, bold)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _table(doc, rows: int, cols: int, widths: list[float]):
    table = doc.add_table(rows=rows, cols=cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)      # the grid: LibreOffice and WPS lay out by it
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    return table


def _merge(table, r0: int, c0: int, r1: int, c1: int, text: Any, bold: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER):
    cell = table.cell(r0, c0).merge(table.cell(r1, c1)) if (r0, c0) != (r1, c1) else table.cell(r0, c0)
    _cell(cell, text, bold, align)
    return cell


def _active_table(doc, report: dict[str, Any]) -> None:
    """二: 第二十条第（一）（五）（六）（八）项."""
    figures, normative = report["figures"], report["normative"]
    table = _table(doc, 14, 4, [4.6, 3.6, 3.6, 3.6])
    _merge(table, 0, 0, 0, 3, "第二十条第（一）项", bold=True)
    _cell(table.cell(1, 0), "信息内容", bold=True)
    for i, (_, name) in enumerate(F.RULE_COLUMNS, start=1):
        _cell(table.cell(1, i), name, bold=True)
    _cell(table.cell(2, 0), "规章")
    _cell(table.cell(3, 0), "行政规范性文件")
    for i, (key, _) in enumerate(F.RULE_COLUMNS, start=1):
        _cell(table.cell(2, i), figures["rules"][key])
        _cell(table.cell(3, i), normative[key])
    row = 4
    for item, keys in (("（五）", ["licensing"]), ("（六）", ["penalty", "coercion"])):
        _merge(table, row, 0, row, 3, f"第二十条第{item}项", bold=True)
        _cell(table.cell(row + 1, 0), "信息内容", bold=True)
        _merge(table, row + 1, 1, row + 1, 3, "本年处理决定数量", bold=True)
        for offset, key in enumerate(keys, start=2):
            _cell(table.cell(row + offset, 0), F.DECISION_NAMES[key])
            _merge(table, row + offset, 1, row + offset, 3, figures[key])
        row += 2 + len(keys)
    _merge(table, row, 0, row, 3, "第二十条第（八）项", bold=True)
    _cell(table.cell(row + 1, 0), "信息内容", bold=True)
    _merge(table, row + 1, 1, row + 1, 3, "本年收费金额（单位：万元）", bold=True)
    _cell(table.cell(row + 2, 0), "行政事业性收费")
    _merge(table, row + 2, 1, row + 2, 3, figures["fees"])


def _applications_table(doc, report: dict[str, Any]) -> None:
    """三: 3 label columns, then 自然人, the five 法人或其他组织 columns and 总计."""
    rows = F.application_rows(report["figures"])
    table = _table(doc, 3 + len(rows), 10, [1.3, 1.6, 5.3, *([1.05] * 7)])
    _merge(table, 0, 0, 2, 2, F.BALANCE_NOTE)
    _merge(table, 0, 3, 0, 9, "申请人情况", bold=True)
    _merge(table, 1, 3, 2, 3, "自然人", bold=True)
    _merge(table, 1, 4, 1, 8, "法人或其他组织", bold=True)
    _merge(table, 1, 9, 2, 9, "总计", bold=True)
    for i, name in enumerate(F.APPLICANT_NAMES[k] for k in F.ORGANISATIONS):
        _cell(table.cell(2, 4 + i), name, bold=True)
    first = 3
    left = WD_ALIGN_PARAGRAPH.LEFT
    for i, row in enumerate(rows):
        r = first + i
        if not row["result"]:
            _merge(table, r, 0, r, 2, row["label"], align=left)
        elif not row["group"]:
            _merge(table, r, 1, r, 2, row["label"], align=left)
        else:
            _cell(table.cell(r, 2), row["label"], align=left)
        for j, value in enumerate(row["values"]):
            _cell(table.cell(r, 3 + j), value)
    results = [first + i for i, row in enumerate(rows) if row["result"]]
    _merge(table, results[0], 0, results[-1], 0, F.RESULTS_LABEL)
    for group in dict.fromkeys(row["group"] for row in rows if row["group"]):
        span = [first + i for i, row in enumerate(rows) if row["group"] == group]
        _merge(table, span[0], 1, span[-1], 1, group)


def _appeals_table(doc, report: dict[str, Any]) -> None:
    """四: 行政复议 and 行政诉讼 (未经复议直接起诉 / 复议后起诉), each by outcome with 总计."""
    table = _table(doc, 4, 15, [1.04] * 15)
    outcomes = [name for _, name in F.OUTCOMES] + ["总计"]
    _merge(table, 0, 0, 1, 4, "行政复议", bold=True)
    _merge(table, 0, 5, 0, 14, "行政诉讼", bold=True)
    _merge(table, 1, 5, 1, 9, F.APPEAL_GROUPS[1][1], bold=True)
    _merge(table, 1, 10, 1, 14, F.APPEAL_GROUPS[2][1], bold=True)
    for i in range(15):
        _cell(table.cell(2, i), outcomes[i % 5], bold=True)
    for i, value in enumerate(F.appeal_values(report["figures"])):
        _cell(table.cell(3, i), value)


def _section_text(doc, text: str) -> None:
    for line in text.split("\n"):
        if line.strip():
            _paragraph(doc, line.strip())


def build(report: dict[str, Any]):
    """A ``docx.Document`` of the report (``service.annual_report.compose``)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = BODY_FONT, Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    doc.core_properties.title = report["title"]
    doc.core_properties.author = report["organisation"] or "gongkai"

    _paragraph(doc, report["title"], TITLE_FONT, 22, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, "本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府信息公开"
                    "工作年度报告格式》（国办公开办函〔2021〕30号）要求编制。" + report["period"])
    titles = F.SECTION_TITLES
    _paragraph(doc, titles[0], HEADING_FONT)
    _section_text(doc, report["texts"]["overview"])
    _paragraph(doc, titles[1], HEADING_FONT)
    _active_table(doc, report)
    _paragraph(doc, titles[2], HEADING_FONT)
    _applications_table(doc, report)
    _paragraph(doc, titles[3], HEADING_FONT)
    _appeals_table(doc, report)
    _paragraph(doc, titles[4], HEADING_FONT)
    _section_text(doc, report["texts"]["problems"] or "（无）")
    _paragraph(doc, titles[5], HEADING_FONT)
    _paragraph(doc, report["other_sentence"])
    _section_text(doc, report["texts"]["other"])
    return doc
