"""Tests for service.analysis.gongwen: 公文 metadata extraction (GB/T 9704-2012).

Part 1 builds 公文 of known content (every element, then variants). Part 2 is a table of real
documents from the shared corpus (copied, trimmed, to tests/data/gongwen_corpus.jsonl) with the
values a careful reader finds in each one; the extractor must get at least 95 % of the cells right.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from service.analysis.gongwen import FieldHit, extract_gongwen

# ---------------------------------------------------------------- part 1: known-content documents

FULL = [
    "000123",
    "机密★1年",
    "特急",
    "长沙县人民政府文件",
    "长政发〔2023〕12号　　　　　　签发人：张三",
    "长沙县人民政府关于印发《长沙县政府信息公开",
    "工作管理办法》的通知",
    "各乡镇人民政府，县政府各部门：",
    "　　根据《国务院关于进一步做好政务公开工作的通知》（国发〔2020〕5号）和2022年6月1日县政府"
    "第9次常务会议精神，现将《长沙县政府信息公开工作管理办法》印发给你们，请认真贯彻执行。",
    "　　涉及国家秘密、商业秘密和个人隐私的信息，依法不予公开。",
    "　　附件：1．长沙县政府信息公开工作管理办法",
    "　　　　　2．长沙县政府信息公开申请表",
    "长沙县人民政府",
    "二〇二三年十二月五日",
    "（此件公开发布）",
    "抄送：县委各部门，县人大常委会办公室，县政协办公室，县人民法院。",
    "长沙县人民政府办公室        2023年12月6日印发",
]


def values(hits: dict[str, FieldHit]) -> dict:
    return {name: hit.value for name, hit in hits.items()}


def with_line(lines: list[str], old: str, new: str) -> list[str]:
    return [new if line == old else line for line in lines]


def test_full_red_header_document_has_every_field_right():
    hits = extract_gongwen(FULL)
    assert values(hits) == {
        "secrecy": "机密",
        "secrecy_period": "1年",
        "urgency": "特急",
        "issuer": "长沙县人民政府",
        "doc_number": "长政发〔2023〕12号",
        "signer": "张三",
        "title": "长沙县人民政府关于印发《长沙县政府信息公开工作管理办法》的通知",
        "doc_type": "通知",
        "addressee": "各乡镇人民政府，县政府各部门",
        "date": "2023-12-05",
        "attachments": ["长沙县政府信息公开工作管理办法", "长沙县政府信息公开申请表"],
        "cc": ["县委各部门", "县人大常委会办公室", "县政协办公室", "县人民法院"],
        "printer": "长沙县人民政府办公室",
        "print_date": "2023-12-06",
        "disclosure": "此件公开发布",
    }
    where = {name: (hit.index, hit.source) for name, hit in hits.items()}
    assert where["disclosure"] == (14, "附注")
    assert where["secrecy"] == (1, "版头")
    assert where["urgency"] == (2, "版头")
    assert where["issuer"] == (3, "版头")
    assert where["doc_number"] == where["signer"] == (4, "版头")
    assert where["title"] == where["doc_type"] == (5, "主体")
    assert where["addressee"] == (7, "主体")
    assert where["attachments"] == (10, "主体")
    assert where["date"] == (13, "落款")
    assert where["cc"] == (15, "版记")
    assert where["printer"] == where["print_date"] == (16, "版记")


def test_field_hit_to_dict():
    hit = extract_gongwen(FULL)["attachments"]
    assert hit.to_dict() == {
        "value": ["长沙县政府信息公开工作管理办法", "长沙县政府信息公开申请表"],
        "index": 10,
        "source": "主体",
    }
    assert extract_gongwen(FULL)["date"].to_dict() == {"value": "2023-12-05", "index": 13, "source": "落款"}


def test_arabic_signature_date():
    lines = with_line(FULL, "二〇二三年十二月五日", "2023年12月5日")
    assert extract_gongwen(lines)["date"].value == "2023-12-05"


@pytest.mark.parametrize("written, iso", [
    ("二〇二三年十二月五日", "2023-12-05"),
    ("二○二三年十二月三十一日", "2023-12-31"),
    ("二零二三年一月二十日", "2023-01-20"),
    ("二〇二三年十月十日", "2023-10-10"),
    ("2023 年 1 月 9 日", "2023-01-09"),
])
def test_chinese_numeral_dates(written, iso):
    assert extract_gongwen(with_line(FULL, "二〇二三年十二月五日", written))["date"].value == iso


def test_impossible_date_is_not_a_date():
    lines = with_line(FULL, "二〇二三年十二月五日", "2023年13月45日")
    assert "date" not in extract_gongwen(lines)


@pytest.mark.parametrize("number", [
    "长政发[2023]12号", "长政发（2023）12号", "长政发(2023)12号", "长政发【2023】12号",
    "长政发〔２０２３〕１２号", "长政发［２０２３］１２号", "（长政发〔2023〕12号）", "长政发〔2023〕12号",
])
def test_doc_number_brackets_and_digits_normalise(number):
    hits = extract_gongwen(with_line(FULL, "长政发〔2023〕12号　　　　　　签发人：张三", number))
    assert hits["doc_number"].value == "长政发〔2023〕12号"
    assert "signer" not in hits


def test_full_width_digits_everywhere():
    lines = [line.replace("2023", "２０２３").replace("12月6日", "１２月６日") for line in FULL]
    lines = with_line(lines, "长政发〔２０２３〕12号　　　　　　签发人：张三", "长政发〔２０２３〕１２号　签发人：张三")
    hits = values(extract_gongwen(lines))
    assert hits["doc_number"] == "长政发〔2023〕12号"
    assert hits["print_date"] == "2023-12-06"
    assert hits["date"] == "2023-12-05"


def test_cited_number_in_body_is_not_the_doc_number():
    lines = [line for line in FULL if "签发人" not in line]
    hits = extract_gongwen(lines)
    assert "doc_number" not in hits          # only 国发〔2020〕5号, cited inside a sentence


def test_excerpt_without_header_gives_only_what_is_there():
    excerpt = [
        "二、工作要求",
        "（一）各单位要严格保守国家秘密，涉及商业秘密的内容不得公开。",
        "（二）村委会选举采用秘密投票方式，确保机密性和公正性。",
        "（三）请于2023年12月31日前将《实施方案》（长政办发〔2023〕8号）落实情况报县政府办公室。",
    ]
    assert extract_gongwen(excerpt) == {}


@pytest.mark.parametrize("phrase", ["商业秘密", "秘密投票", "机密性", "国家秘密"])
def test_false_friends_in_body_are_not_secrecy(phrase):
    lines = FULL[3:]                       # no 份号, 密级 or 紧急程度 lines
    lines = lines[:5] + [phrase, f"　　本条所称{phrase}，依照有关规定认定。"] + lines[5:]
    hits = extract_gongwen(lines)
    assert "secrecy" not in hits and "secrecy_period" not in hits and "urgency" not in hits
    assert hits["doc_number"].value == "长政发〔2023〕12号"


@pytest.mark.parametrize("marks, expected", [
    (["秘密"], {"secrecy": "秘密"}),
    (["绝密★长期", "加急"], {"secrecy": "绝密", "secrecy_period": "长期", "urgency": "加急"}),
    (["秘密 ★ 6个月"], {"secrecy": "秘密", "secrecy_period": "6个月"}),
    (["机密", "保密期限：10年"], {"secrecy": "机密", "secrecy_period": "10年"}),
    (["000001 秘密★1年 特急"], {"secrecy": "秘密", "secrecy_period": "1年", "urgency": "特急"}),
    (["特提"], {"urgency": "特提"}),
])
def test_secrecy_and_urgency_marks(marks, expected):
    hits = values(extract_gongwen(marks + FULL[3:]))
    assert {k: hits[k] for k in ("secrecy", "secrecy_period", "urgency") if k in hits} == expected


def test_party_committee_header_and_joint_header():
    hits = extract_gongwen(["中共长沙县委员会文件", "长发〔2023〕3号", "中共长沙县委员会关于加强基层治理的意见"])
    assert hits["issuer"].value == "中共长沙县委员会"
    assert hits["issuer"].source == "版头"
    assert hits["doc_type"].value == "意见"
    joint = ["济南市工业和信息化局", "济 南 市 公 安 局", "济工信装备字〔2022〕1号", "文件",
             "关于印发《济南市智能网联汽车道路测试与", "示范应用管理办法（试行）》的通知", "各相关单位："]
    hits = values(extract_gongwen(joint))
    assert hits["issuer"] == "济南市工业和信息化局、济南市公安局"
    assert hits["doc_number"] == "济工信装备字〔2022〕1号"
    assert hits["title"] == "关于印发《济南市智能网联汽车道路测试与示范应用管理办法（试行）》的通知"
    assert hits["addressee"] == "各相关单位"


def test_issuer_from_signature_then_title():
    body = FULL[5:]                         # no red header: the signature names the issuer
    hits = extract_gongwen(body)
    assert (hits["issuer"].value, hits["issuer"].source) == ("长沙县人民政府", "落款")
    no_signature = [line for line in body if line != "长沙县人民政府"]
    hits = extract_gongwen(no_signature)
    assert (hits["issuer"].value, hits["issuer"].source) == ("长沙县人民政府", "主体")
    spaced = with_line(body, "长沙县人民政府", "长 沙 县 人 民 政 府")
    assert extract_gongwen(spaced)["issuer"].value == "长沙县人民政府"


@pytest.mark.parametrize("title, kind", [
    ("长沙县人民政府关于加快发展现代农业的实施意见", "意见"),
    ("长沙县人民政府办公室关于做好春运工作的补充通知", "通知"),
    ("长沙县人民政府关于2023年度工作情况的报告", "报告"),
    ("长沙县人民政府关于印发《长沙县政府工作报告》的通知", "通知"),
    ("长沙县人民政府关于印发《长沙县促进就业办法》的通知", "通知"),
    ("长沙县人民政府关于同意设立星沙街道的批复", "批复"),
    ("长沙县交通运输局关于拨付道路维修资金的请示", "请示"),
    ("长沙县人民政府关于表彰2023年度先进单位的决定", "决定"),
    ("长沙县人民政府关于商请支持项目建设的函", "函"),
    ("长沙县人民政府关于禁止燃放烟花爆竹的通告", "通告"),
    ("长沙县人民政府关于征收土地的公告", "公告"),
    ("长沙县人民政府关于安全生产事故的通报", "通报"),
    ("长沙县人民政府第三次常务会议纪要", "纪要"),
    ("长沙县人民政府关于全县人口普查主要数据的公报", "公报"),
    ("长沙县第十八届人民代表大会第二次会议关于政府工作报告的决议", "决议"),
    ("长沙县人民政府关于提请审议《长沙县城市管理条例》的议案", "议案"),
    ("长沙县人民政府令（第3号）", "命令"),
    ("长沙县人民政府关于实施《长沙县城市管理办法》的命令", "命令"),
    ("长沙县城市总体规划（2021—2035年）", None),
])
def test_doc_type_from_title_ending(title, kind):
    hits = extract_gongwen([title, "各乡镇人民政府：", "　　现将有关事项通知如下。"])
    assert hits["title"].value == title
    assert (hits["doc_type"].value if "doc_type" in hits else None) == kind


def test_wrapped_plain_title_with_edition_note():
    hits = values(extract_gongwen(["石化行业智能制造标准体系", "建设指南", "（2022版）", "一、总体要求",
                                   "　　坚持需求牵引。"]))
    assert hits == {"title": "石化行业智能制造标准体系建设指南（2022版）"}


def test_linked_title_inside_a_sentence_is_not_the_title():
    speech = ["各位代表：", "　　去年，全国农民热烈欢迎《",
              "中共中央关于加快农业发展若干问题的决定", "》，农村呈现出欢欣鼓舞的景象。"]
    assert extract_gongwen(speech) == {}


def test_reply_without_title_gets_kind_from_its_formula():
    reply = ["上海市人民政府：", "　　你市来函收悉。经研究，现函复如下。", "　　一、支持试验区建设。",
             "　　专此函复。", "科 技 部", "2019年5月22日", "（此件主动公开）"]
    assert values(extract_gongwen(reply)) == {
        "doc_type": "函", "addressee": "上海市人民政府", "date": "2019-05-22", "issuer": "科技部",
        "disclosure": "此件主动公开"}


def test_single_attachment_and_imprint_without_cc():
    lines = FULL[5:10] + ["　　附件：长沙县政府信息公开申请表", "长沙县人民政府", "2023年12月5日",
                          "长沙县人民政府办公室 2023年12月6日印发"]
    hits = values(extract_gongwen(lines))
    assert hits["attachments"] == ["长沙县政府信息公开申请表"]
    assert "cc" not in hits
    assert (hits["printer"], hits["print_date"]) == ("长沙县人民政府办公室", "2023-12-06")
    assert hits["date"] == "2023-12-05"      # the 印发日期 is not the 成文日期


def test_cc_wrapping_onto_second_line():
    lines = FULL[:-2] + ["抄送：县委各部门，县人大常委会办公室，", "县政协办公室。", FULL[-1]]
    assert extract_gongwen(lines)["cc"].value == ["县委各部门", "县人大常委会办公室", "县政协办公室"]


def test_odd_input_never_raises():
    assert extract_gongwen([]) == {}
    assert extract_gongwen(["", "   ", "\u3000"]) == {}
    assert extract_gongwen([None, 3, b"x"]) == {}          # type: ignore[list-item]
    assert extract_gongwen(None) == {}                      # type: ignore[arg-type]
    assert (extract_gongwen("长政发〔2023〕12号\n长沙县人民政府关于加强管理的通知")["doc_number"].value
            == "长政发〔2023〕12号")


def test_long_and_pathological_paragraphs_are_fast():
    pathological = [
        "关于" * 200_000,
        "秘密★" * 100_000,
        "〔2023〕" * 50_000 + "号",
        "附件：" + "1." * 100_000,
        "抄送：" + "，" * 100_000,
        "二〇二三年" * 50_000 + "十二月五日",
        "长沙县人民政府" * 50_000 + "文件",
        "各单位" * 100_000 + "：",
    ] + ["　　一般段落，没有任何公文要素。"] * 20_000
    start = time.perf_counter()
    extract_gongwen(pathological)
    extract_gongwen(FULL + pathological)
    assert time.perf_counter() - start < 5


# ---------------------------------------------------------------- part 2: real documents

CORPUS = Path(__file__).resolve().parents[2] / "data" / "gongwen_corpus.jsonl"

FIELDS = ("title", "issuer", "doc_number", "date", "doc_type", "addressee", "signer", "secrecy",
          "secrecy_period", "urgency", "attachments", "cc", "printer", "print_date")

# What a careful reader finds in each document. Every row states title, issuer, doc_number, date,
# doc_type and addressee, None when the document has no such element; the rarer fields (signer,
# secrecy, secrecy_period, urgency, attachments, cc, printer, print_date) are None unless listed.
# Values in analysis form (half-width ASCII, simplified characters), as the extractor promises.
EXPECTED: dict[str, dict] = {
    # bu_spark_normative: pkulaw copies, title repeated, 文号 in brackets, addressee, 落款 date only
    "buspark-a7936703d7": dict(
        title="新余市人民政府办公室关于印发《新余市新余市绿色建筑管理办法》的通知",
        issuer="新余市人民政府办公室", doc_number="余府发〔2012〕3号", date="2012-01-09",
        doc_type="通知", addressee="各县（区）人民政府、管委会，市政府各部门，市直各单位"),
    "buspark-d0beedbad0": dict(
        title="新疆维吾尔自治区质监局关于进一步加强新闻宣传工作的通知",
        issuer="新疆维吾尔自治区质监局", doc_number="新质监办发〔2012〕24号", date=None,
        doc_type="通知", addressee="各地、州、市及米东新区质量技术监督局，区局机关各部、处、室、局，各直属单位",
        attachments=["自治区质监局各单位信息宣传联络员登记表", "自治区质监局各单位（部门）申请宣传申报单",
                     "自治区质监局协助宣传报道通知单"]),
    "buspark-cee8c07119": dict(
        title="海口市水务局关于2020年2月1日—2020年2月29日生产建设项目水土保持方案审批决定的公告",
        issuer="海口市水务局", doc_number=None, date=None, doc_type="公告", addressee=None),
    # policies_central_shandong: national ministries and Shandong, titles often missing
    "polxlsx-ae1f79bc99dc": dict(
        title="交通运输部科技司关于做好科技创新2030-“新一代人工智能”重大项目2021年度项目申报工作的通知",
        issuer="交通运输部科技司", doc_number="科技发展函〔2021〕182号", date=None, doc_type="通知",
        addressee="各有关单位"),
    "polxlsx-cfadfc995b2a": dict(
        title="教育部关于实施第二批人工智能助推教师队伍建设行动试点工作的通知",
        issuer="教育部", doc_number="教师函〔2021〕13号", date=None, doc_type="通知",
        addressee="各省、自治区、直辖市教育厅（教委），新疆生产建设兵团教育局"),
    "polxlsx-caeada4ea742": dict(  # 建议答复: "答复" is not one of the 15 kinds
        title="民政部对“关于应对老龄社会，深化运用人工智能技术强化老年人群体关爱的建议”的答复",
        issuer="民政部", doc_number="民函〔2021〕742号", date=None, doc_type=None,
        addressee="刘庆峰等15位代表"),
    "polxlsx-7167e117d756": dict(  # no title; "专此函复" makes it a 函; cited 沪府函/国发 numbers
        title=None, issuer="科技部", doc_number=None, date="2019-05-22", doc_type="函",
        addressee="上海市人民政府"),
    "polxlsx-867ee95ae165": dict(  # reply to a 函 without title or formula naming its kind
        title=None, issuer="交通运输部", doc_number=None, date="2022-09-20", doc_type=None,
        addressee="北京工业大学"),
    "polxlsx-a3b79b26e436": dict(  # 行动方案 body only, imprint kept
        title=None, issuer=None, doc_number=None, date=None, doc_type=None, addressee=None,
        cc=["省委各部门", "省人大常委会办公厅", "省政协办公厅", "省监委", "省法院", "省检察院",
            "各民主党派省委", "省工商联"],
        printer="山东省人民政府办公厅", print_date="2019-03-15"),
    "polxlsx-721ef31cfe6c": dict(  # 抄送 wraps onto a second line; full-width digits in 印发 line
        title=None, issuer=None, doc_number=None, date=None, doc_type=None, addressee=None,
        cc=["市委各部门", "市人大常委会办公厅", "市政协办公厅", "市监委", "济南警备区", "市法院",
            "市检察院", "各民主党派市委"],
        printer="济南市人民政府办公厅", print_date="2019-01-03"),
    "polxlsx-f2d391dd1846": dict(  # scraped: the title runs straight into the first sentence
        title="智能航运发展指导意见", issuer=None, doc_number=None, date=None, doc_type="意见",
        addressee=None, printer="交通运输部办公厅", print_date="2019-05-14"),
    "polxlsx-25e5fe472827": dict(  # addressee and first sentence share a line; "通知如下"
        title=None, issuer=None, doc_number=None, date=None, doc_type="通知",
        addressee="各省、自治区、直辖市及新疆生产建设兵团医疗保障局"),
    # county / city 规范性文件 and 应急预案 pages (pages_gov_sites, pages_thin)
    "thin-b996680c3052": dict(
        title="兴宁市人民政府关于印发兴宁市征收土地管理办法的通知", issuer="兴宁市人民政府",
        doc_number="兴市府〔2023〕57号", date="2023-12-29", doc_type="通知",
        addressee="各镇人民政府、街道办事处,市府直属和省、梅属驻兴各单位"),
    "thin-3df6cdc673ad": dict(  # title over three lines: issuer line, "关于…", "(…)》的通知"
        title="浦江县人民政府办公室关于印发《浦江县重污染天气应急预案(2024年修订)》的通知",
        issuer="浦江县人民政府办公室", doc_number="浦政办发〔2024〕26号", date="2024-05-24",
        doc_type="通知", addressee="各乡镇人民政府、街道办事处,县政府各部门"),
    "thin-6c3fa07c5c9e": dict(  # joint issuers in title and signature
        title="中共西盟佤族自治县委办公室 西盟佤族自治县人民政府办公室关于印发《西盟佤族自治县地震应急预案》的通知",
        issuer="中共西盟佤族自治县委办公室、西盟佤族自治县人民政府办公室", doc_number="西办发〔2020〕13号",
        date="2020-11-26", doc_type="通知",
        addressee="各乡(镇)党委、政府,县属各党(工)委(党组)、各部委办局,各人民团体,各企事业单位,"
                  "中央、省、市直属单位,驻西军(警)部队"),
    "pages-3e7d99dd5e33": dict(  # 发文字号 in a metadata row; the body cites 民政发〔2012〕118号
        title="民乐县人民政府关于印发民乐县突发公共事件总体应急预案的通知", issuer="民乐县人民政府",
        doc_number="民政发〔2020〕110号", date="2020-12-08", doc_type="通知",
        addressee="各镇人民政府,生态工业园区管委会,县政府各部门,县直及省市驻民各单位"),
    "pages-c4d1792b136f": dict(  # 发文日期 2020-05-07 in metadata, signed 2020-04-23
        title="蔚县人民政府办公室关于印发《蔚县突发公共卫生事件应急预案》的通知",
        issuer="蔚县人民政府办公室", doc_number="蔚政办字〔2020〕43号", date="2020-04-23",
        doc_type="通知", addressee="各乡(镇)人民政府,县直各部门"),
    "thin-8f4d321fdbea": dict(
        title="晋城市人民政府办公室关于印发晋城市地质灾害应急预案的通知", issuer="晋城市人民政府办公室",
        doc_number="晋市政办〔2023〕33号", date="2023-08-10", doc_type="通知",
        addressee="各县(市、区)人民政府、开发区管委会,市人民政府各委、办、局"),
    "pages-7d8d34e4a70f": dict(  # Chinese-numeral date, no name above it; single 附件
        title="淅川县人民政府办公室关于印发《淅川县森林火灾应急预案》的通知",
        issuer="淅川县人民政府办公室", doc_number="淅政办〔2009〕147号", date="2009-11-18",
        doc_type="通知", addressee="各乡镇人民政府(街道办事处),县直有关单位",
        attachments=["淅川县森林火灾应急预案"]),
    "thin-09d9e29800dc": dict(  # [2020] brackets
        title="宁明县人民政府办公室关于印发宁明县突发公共卫生事件应急预案的通知",
        issuer="宁明县人民政府办公室", doc_number="宁政办发〔2020〕47号", date="2020-10-27",
        doc_type="通知", addressee="各乡(镇)人民政府、各华侨农场、县直中区直驻县各有关单位"),
    "pages-27411a09d5b4": dict(  # traditional characters; the page lost its title line
        title=None, issuer="习水县人民政府办公室", doc_number=None, date="2009-03-20", doc_type=None,
        addressee="各乡镇(区)人民政府(管委会),县人民政府各工作部门,省市驻习机构及县属企事业单位"),
    "pages-cc708e8a6a06": dict(
        title="南靖县人民政府办公室关于印发南靖县处置重、特大森林火灾应急预案(修订)的通知",
        issuer="南靖县人民政府办公室", doc_number=None, date="2012-04-09", doc_type="通知",
        addressee="各镇(区)人民政府(管委会)、县直有关单位、各国有林场"),
    "pages-c22f3f746cb5": dict(  # body mentions 2017年6月23日; signature is a bare date
        title="遂川县人民政府办公室关于印发遂川县防汛抗旱应急预案的通知", issuer="遂川县人民政府办公室",
        doc_number=None, date="2020-03-17", doc_type="通知",
        addressee="各乡镇人民政府,县政府各部门,县直各单位"),
    "thin-7f57bc573169": dict(
        title="济宁市人民政府关于持续深化“市县同权”改革的实施意见", issuer="济宁市人民政府",
        doc_number="济政字〔2021〕30号", date=None, doc_type="意见",
        addressee="各县(市、区)人民政府,济宁高新区、太白湖新区、济宁经济技术开发区、曲阜文化建设示范区"
                  "管委会(推进办公室),市政府各部门,各大企业,各高等院校"),
    "thin-75a62ff6b95d": dict(  # number and title on one line after an empty metadata table
        title="共和县人民政府办公室关于全面实行行政许可事项清单管理的通知", issuer="共和县人民政府办公室",
        doc_number="共政办〔2022〕352号", date=None, doc_type="通知", addressee="各乡镇人民政府,县政府各部门"),
    "pages-2c80e8894630": dict(
        title="安化县政务公开政务服务领导小组办公室关于开展2024年“政务公开主题日”活动的通知",
        issuer="安化县政务公开政务服务领导小组办公室", doc_number="安政务办发〔2024〕1号", date=None,
        doc_type="通知", addressee="各乡镇人民政府,县直各单位"),
    "pages-8f724af782db": dict(  # "文号:" left empty in the metadata table
        title="太湖县人民政府关于印发《太湖县人民政府工作规则》的通知", issuer="太湖县人民政府",
        doc_number=None, date="2019-01-17", doc_type="通知",
        addressee="各乡、镇人民政府,县政府各部门、各直属机构"),
    # lawrefbook: a ministry notice without issuer in its title; cites an older date and number
    "lawref-f9873c567304": dict(
        title="关于职工全年月平均工作时间和工资折算问题的通知", issuer=None, doc_number="劳社部发〔2008〕3号",
        date=None, doc_type="通知", addressee="各省、自治区、直辖市劳动和社会保障厅（局）"),
    # 政府工作报告 and the NPC resolution on it: 题注 dates, salutation is not an addressee
    "gwr-national-005-res": dict(
        title="第十四届全国人民代表大会第一次会议关于政府工作报告的决议",
        issuer="第十四届全国人民代表大会第一次会议", doc_number=None, date="2023-03-13", doc_type="决议",
        addressee=None),
    "gwr-national-002-2024": dict(
        title="政府工作报告", issuer=None, doc_number=None, date="2024-03-05", doc_type="报告",
        addressee=None),
    "gwr-prov2026-991a496a": dict(
        title="2026年山东省政府工作报告", issuer=None, doc_number=None, date="2026-01-27",
        doc_type="报告", addressee=None),
    # Held out: the rows below were written from the documents before the extractor was run on
    # them, as a check that the rules above are not fitted to the first rows.
    "polxlsx-818f956f2e05": dict(  # addressee without colon; joint names run together; "2024年月日"
        title=None, issuer="工业和信息化部、市场监管总局", doc_number=None, date=None, doc_type="通知",
        addressee="各省、自治区、直辖市及新疆生产建设兵团工业和信息化主管部门，市场监管局(厅、委)，有关汽车企业和单位",
        attachments=["智能网联汽车准入、召回及软件在线升级管理与技术指南", "汽车产品技术参数参照表(新增)",
                     "产品安全事件事故报告主要内容"]),
    "polxlsx-265b9413d04e": dict(  # joint signature of two 办公厅, four attachments
        title=None, issuer="市场监管总局办公厅、工业和信息化部办公厅", doc_number=None, date="2022-04-13",
        doc_type="通知",
        addressee="各省、自治区、直辖市及计划单列市、新疆生产建设兵团市场监管局（厅、委）、工业和信息化主管部门",
        attachments=["智能制造标准应用试点实施方案", "智能制造标准应用试点项目申报书", "智能制造重点国家标准清单",
                     "项目推荐汇总表"]),
    "polxlsx-3a3f53e9dd9e": dict(
        title="商务部关于公布首批全国示范智慧商圈、全国示范智慧商店名单的通知", issuer="商务部",
        doc_number=None, date=None, doc_type="通知",
        addressee="各省、自治区、直辖市及计划单列市、新疆生产建设兵团商务主管部门",
        attachments=["首批全国示范智慧商圈、全国示范智慧商店名单"]),
    "pages-3da5fc6d6292": dict(  # traditional characters; 来源 in metadata is not the issuer
        title="关于印发绩溪县防汛抗旱应急预案的通知", issuer=None, doc_number=None, date="2020-06-17",
        doc_type="通知", addressee="各乡镇人民政府,县防指成员单位"),
    "gwr-national-009-res": dict(
        title="第十三届全国人民代表大会第四次会议关于政府工作报告的决议",
        issuer="第十三届全国人民代表大会第四次会议", doc_number=None, date="2021-03-11", doc_type="决议",
        addressee=None),
    "thin-54ad8050f38b": dict(  # a breadcrumb line and a "(2022)" variant of the title above it
        title="乐业县人民政府办公室关于印发乐业县突发地质灾害应急预案的通知", issuer="乐业县人民政府办公室",
        doc_number="乐政办发〔2022〕5号", date="2022-03-11", doc_type="通知",
        addressee="各乡(镇)人民政府,县直各有关单位"),
    "thin-e7cd2f279fbb": dict(  # addressee without colon; signature date garbled to "2024110"
        title="五大连池市人民政府办公室关于印发《五大连池市城市供热突发故障(事故)应急预案》的通知",
        issuer="五大连池市人民政府办公室", doc_number="五政办规〔2024〕1号", date=None, doc_type="通知",
        addressee="市直各部门、市域内农垦、森工、监狱所、龙镇镇政府、供热企业"),
    "thin-36ff8c3cf434": dict(  # whole notice flattened onto one line after the title
        title="关于印发微山县重污染天气应急预案的通知", issuer="微山县人民政府办公室",
        doc_number="微政办字〔2019〕24号", date="2019-09-22", doc_type="通知",
        addressee="各乡、镇人民政府,各街道办事处,微山经济开发区、微山岛旅游度假区、南阳古镇旅游管委会,县政府各部门,各企业"),
    "thin-e5e2da566765": dict(
        title="泾县人民政府关于分解落实政府工作报告目标任务的通知", issuer="泾县人民政府",
        doc_number="泾政〔2023〕1号", date=None, doc_type="通知",
        addressee="各乡镇人民政府,县政府各部门、各直属机构"),
    "pages-3ff6decb1b77": dict(  # 工作规则: no 关于, no kind; 发文日期 is the web posting time
        title="镇巴县人民政府工作规则", issuer=None, doc_number="镇政发〔2024〕7号", date=None,
        doc_type=None, addressee=None),
    "polxlsx-b5547bae2082": dict(
        title=None, issuer=None, doc_number=None, date=None, doc_type=None, addressee=None,
        printer="青岛市工业和信息化局办公室", print_date="2020-09-22"),
    "polxlsx-26d4c2111a7e": dict(
        title=None, issuer=None, doc_number=None, date=None, doc_type=None, addressee=None,
        cc=["省委各部门", "省人大常委会办公厅", "省政协办公厅", "省监委", "省法院", "省检察院",
            "各民主党派省委", "省工商联"],
        printer="山东省人民政府办公厅", print_date="2020-12-10"),
}


def load_corpus() -> dict[str, list[str]]:
    with CORPUS.open(encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    return {d["id"]: d["text"].split("\n") for d in docs}


def test_corpus_table_is_complete_and_diverse():
    docs = load_corpus()
    assert len(EXPECTED) >= 20
    assert set(EXPECTED) <= set(docs)
    assert {i.split("-")[0] for i in EXPECTED} >= {"buspark", "polxlsx", "thin", "pages", "gwr", "lawref"}


def test_corpus_accuracy():
    docs = load_corpus()
    right, total, misses = Counter(), Counter(), []
    for doc_id, expected in EXPECTED.items():
        hits = extract_gongwen(docs[doc_id])
        for field in FIELDS:
            want = expected.get(field)
            got = hits[field].value if field in hits else None
            total[field] += 1
            if got == want:
                right[field] += 1
            else:
                misses.append(f"{doc_id} {field}: expected {want!r}, got {got!r}")
    print(f"\n公文 fields on {len(EXPECTED)} corpus documents:")
    for field in FIELDS:
        print(f"  {field:15s} {right[field]:3d}/{total[field]:3d} = {right[field] / total[field]:.3f}")
    accuracy = sum(right.values()) / sum(total.values())
    print(f"  {'overall':15s} {sum(right.values()):3d}/{sum(total.values()):3d} = {accuracy:.3f}")
    print("\n".join(["misses:"] + misses) if misses else "misses: none")
    assert accuracy >= 0.95, "\n".join(misses)
