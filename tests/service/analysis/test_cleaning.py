import pytest

from service.analysis.cleaning import (
    clean,
    find_running_lines,
    inline_running_pattern,
    is_page_number,
    line_key,
    reflow,
    text_quality_warnings,
)
from service.parsers import HiddenText, Paragraph, ParsedDocument, Table


def paged(pages: list[list[str]]) -> ParsedDocument:
    blocks = tuple(Paragraph(text=line, page=n) for n, lines in enumerate(pages, start=1) for line in lines)
    return ParsedDocument(blocks=blocks, page_count=len(pages))


@pytest.mark.parametrize("a,b", [("第 1 页", "第 12 页"), ("— 3 —", "— 4 —"), ("- 9 -", "-10-"),
                                 ("ＸＸ县人民政府", "XX县人民政府")])
def test_line_key_normalizes_digits_width_and_rules(a, b):
    assert line_key(a) == line_key(b)


@pytest.mark.parametrize("text", ["第 1 页", "— 3 —", "- 12 -", "3 / 10", "Page 2 of 9", "共 5 页 第 2 页", "７"])
def test_page_numbers(text):
    assert is_page_number(text)


@pytest.mark.parametrize("text", ["第一条 为了规范", "2023年12月5日", "一、概述"])
def test_not_page_numbers(text):
    assert not is_page_number(text)


def test_running_header_footer_and_watermark_removed_and_kept_as_hidden():
    pages = []
    for n in range(1, 5):
        pages.append(["XX县人民政府办公室文件", *[f"正文{k}的内容各页不同：事项{n * 7 + k * 3}" for k in range(5)],
                      "内部资料 注意保存", *[f"后续段落 {n}{k}" for k in range(3)], f"— {n} —"])
    doc = clean(paged(pages))
    texts = [b.text for b in doc.blocks]
    assert "XX县人民政府办公室文件" not in texts
    assert not any(t.startswith("—") for t in texts)
    assert "内部资料 注意保存" not in texts  # mid-page, on every page: a watermark
    assert "正文2的内容各页不同：事项27" in texts
    kinds = {h.kind: h.text for h in doc.hidden}
    assert kinds["header"] == "XX县人民政府办公室文件"
    assert kinds["watermark"] == "内部资料 注意保存"
    assert len([h for h in doc.hidden if h.kind == "header"]) == 1  # one record, not one per page


def test_lines_repeated_on_few_pages_are_kept():
    pages = [[f"独有内容{n}"] * 1 + ["各乡镇人民政府："] + [f"其他{n}{k}" for k in range(8)] for n in range(1, 7)]
    pages[0].insert(4, "特别说明")
    pages[1].insert(4, "特别说明")
    removed = find_running_lines(paged(pages).blocks)
    kept = [b.text for i, b in enumerate(paged(pages).blocks) if i not in removed]
    assert kept.count("特别说明") == 2


def test_single_page_keeps_its_content_but_drops_the_page_number():
    doc = clean(paged([["关于做好防汛工作的通知", "各乡镇：", "现将有关事项通知如下。", "- 1 -"]]))
    assert [b.text for b in doc.blocks] == ["关于做好防汛工作的通知", "各乡镇：", "现将有关事项通知如下。"]


def test_seed_running_header_flattened_into_text_is_removed(seed_text):
    doc = ParsedDocument(blocks=tuple(Paragraph(line) for line in seed_text.splitlines() if line.strip()), page_count=1)
    cleaned = clean(doc)
    body = cleaned.body_text()
    assert "WORD 版" not in body and "请购买" not in body
    assert "第 3 页" not in body
    squeezed = "".join(body.split())
    for figure in ["工作动态652条", "政策法规及规范性文件类信息29条", "机构职能类信息59条", "人事任免信息类7条",
                   "办事指南信息48条", "应急预案类信息36条", "政府工作报告3条", "其他信息557条"]:
        assert figure in squeezed
    assert any(h.kind == "header" and "WORD 版" in h.text for h in cleaned.hidden)


def test_inline_pattern_needs_three_repeats():
    assert inline_running_pattern("甲乙丙丁戊己庚辛壬癸 第 1 页 正文 甲乙丙丁戊己庚辛壬癸 第 2 页") is None


def test_clean_chinese_text_has_no_quality_warning():
    assert text_quality_warnings("关于印发《XX县政府信息公开工作管理办法》的通知\n各乡镇人民政府：") == []


@pytest.mark.parametrize("text", [
    "(cid:12)(cid:55)(cid:78)(cid:90) (cid:3)(cid:4)",
    "\ue001\ue002\ue003关于\ue004\ue005\ue006\ue007",
    "\ufffd\ufffd\ufffd\ufffd 政府 \ufffd\ufffd",
    "ZOq5 2016) 306 20I5 ( [20I6]0512 ) Z0l5 4 6 2016-lo-28 20I5 Z015 2016-lo-28 20I5",
])
def test_garbled_text_layer_detected(text):
    assert [w.code for w in text_quality_warnings(text)] == ["garbled_text_layer"]


def test_no_text_at_all_is_flagged_as_scanned():
    doc = clean(ParsedDocument(blocks=(), page_count=3))
    assert [w.code for w in doc.warnings] == ["no_text_layer"]
    assert "扫描" in doc.warnings[0].message


def test_pages_without_text_are_named():
    doc = clean(paged([["第一页有文字，内容足够长。"], [], ["第三页也有文字。"]]))
    warning = [w for w in doc.warnings if w.code == "partial_text_layer"]
    assert warning and "2" in warning[0].message


def test_reflow_joins_wrapped_cjk_lines_and_keeps_numbers_whole():
    lines = [Paragraph("　一、概述", page=1),
             Paragraph("我县政务服务中心共受理的行政审批事项达16", page=1),
             Paragraph("12 件，办结 1598 件。", page=1),
             Paragraph("（二）下一段", page=1)]
    lines[0] = Paragraph("一、概述", page=1)
    assert reflow(lines) == ["一、概述", "我县政务服务中心共受理的行政审批事项达1612 件，办结 1598 件。",
                             "（二）下一段"]


def test_reflow_never_joins_word_paragraphs():
    paras = [Paragraph("没有句号结尾的段落也是独立段落"), Paragraph("第二段")]
    assert reflow(paras) == ["没有句号结尾的段落也是独立段落", "第二段"]


def test_tables_survive_cleaning_with_tidy_cells():
    doc = clean(ParsedDocument(blocks=(Table(rows=(("序号", " 姓名\u3000"), ("1", "张三"))),), page_count=1))
    assert doc.tables[0].rows == (("序号", "姓名"), ("1", "张三"))


def test_existing_hidden_text_is_kept():
    doc = ParsedDocument(blocks=(Paragraph("正文内容"),), page_count=1, hidden=(HiddenText("comment", "批注"),))
    assert clean(doc).hidden[0].text == "批注"


def test_a_parsers_garbled_warning_stands_unless_nothing_is_left():
    # The OFD plugin knows from the file's structure (private-use glyph codes of an embedded
    # font) what the character rule misses when most of a garbled page is dot leaders.
    from service.parsers import warning

    lines = tuple(Paragraph(f"1.{i} \ue0ba\ue03e {'.' * 80} {i}", page=1) for i in range(20))
    doc = ParsedDocument(blocks=lines, page_count=1, warnings=(warning("garbled_text_layer"),))
    assert [w.code for w in clean(doc).warnings] == ["garbled_text_layer"]
    empty = ParsedDocument(blocks=(), page_count=1, warnings=(warning("garbled_text_layer"),))
    assert [w.code for w in clean(empty).warnings] == ["no_text_layer"]
