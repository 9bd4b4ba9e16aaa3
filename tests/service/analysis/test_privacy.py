"""Tests for service.analysis.privacy: the privacy and 密级 gate.

Part 1 is a fixture table: positives of every kind (which must all be found, with the exact
text and offsets: recall 100 %) and false friends (which must give no finding at all). ID
and card numbers are generated here with their own check digit / Luhn code, never taken
from real people. Part 2 scans whole documents: a built 公文 (.docx) with PII in tracked
changes, a comment, a header and the properties, plus hand-made ParsedDocuments for PDF
annotations, tables, watermarks and pre-change text.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from build_docx import build_gongwen_docx
from plugins.word import WordParser
from service.parsers import HiddenText, ParseContext, ParsedDocument, Paragraph, Table
from service.analysis.privacy import Finding, mask, scan_document, scan_text, summarize

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TODAY = dt.date.today()

# ---------------------------------------------------------------- generators (independent of the module)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def make_id(region: str = "110105", birth: str = "19800101", seq: str = "123") -> str:
    body = region + birth + seq
    return body + id_check(body)


def make_id_ending(check: str, region: str = "310104", birth: str = "19750615") -> str:
    """An ID with the given check character (found by trying sequence numbers)."""
    for n in range(1000):
        body = f"{region}{birth}{n:03d}"
        if id_check(body) == check:
            return body + check
    raise AssertionError(check)


def wrong_check(number: str) -> str:
    good = number[-1]
    return number[:-1] + ("1" if good != "1" else "2")


def luhn_digit(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        n = int(c) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def make_card(prefix: str, length: int) -> str:
    body = (prefix + "0123456789" * 2)[: length - 1]
    return body + luhn_digit(body)


def break_luhn(card: str) -> str:
    return card[:-1] + str((int(card[-1]) + 1) % 10)


def group4(number: str, sep: str = " ") -> str:
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


ID_A = make_id("110105", "19491231", "002")          # 11010519491231002X, the GB 11643 textbook example
ID_X = make_id_ending("X")
ID_0 = make_id_ending("0", region="440305", birth="20010228")
ID_HK = make_id("810000", "19900101", "456")         # Hong Kong residents' residence permit
ID_FOREIGN = make_id("911840", "19850505", "012")    # 2023 foreigners' permanent residence ID
ID_2000S = make_id("500101", "20080229", "321")       # a leap day
CARD16 = make_card("622202", 16)
CARD19 = make_card("621700", 19)
VISA16 = make_card("436742", 16)
MC16 = make_card("518710", 16)

assert ID_A == "11010519491231002X"

# ---------------------------------------------------------------- part 1: the fixture table

POSITIVES: list[tuple[str, str, str]] = [  # (kind, text, the value that must be found)
    # resident ID numbers
    ("resident_id", f"经办人身份证号码：{ID_A}。", ID_A),
    ("resident_id", ID_X, ID_X),
    ("resident_id", f"身份证{ID_X.lower()}", ID_X.lower()),
    ("resident_id", f"公民身份号码 {ID_0}", ID_0),
    ("resident_id", f"身份证号：{full_width(ID_A)}", full_width(ID_A)),
    ("resident_id", f"号码{full_width(ID_X)}（已核实）", full_width(ID_X)),
    ("resident_id", f"{ID_A[:6]} {ID_A[6:14]} {ID_A[14:]}", f"{ID_A[:6]} {ID_A[6:14]} {ID_A[14:]}"),
    ("resident_id", f"{ID_X[:6]}-{ID_X[6:14]}-{ID_X[14:]}", f"{ID_X[:6]}-{ID_X[6:14]}-{ID_X[14:]}"),
    ("resident_id", f"{ID_A[:6]}\u3000{ID_A[6:14]}\u3000{ID_A[14:]}", f"{ID_A[:6]}\u3000{ID_A[6:14]}\u3000{ID_A[14:]}"),
    ("resident_id", f"身份证号码：{ID_A[:10]}\n{ID_A[10:]}", f"{ID_A[:10]}\n{ID_A[10:]}"),
    ("resident_id", f"身份证：{ID_X[:3]}\u200b{ID_X[3:]}", f"{ID_X[:3]}\u200b{ID_X[3:]}"),
    ("resident_id", f"港澳居民居住证 {ID_HK}", ID_HK),
    ("resident_id", f"外国人永久居留身份证 {ID_FOREIGN}", ID_FOREIGN),
    ("resident_id", f"申请人{ID_2000S}、{ID_A}", ID_2000S),
    ("resident_id", f"申请人{ID_2000S}、{ID_A}", ID_A),
    ("resident_id", f"{ID_A} 13812345678", ID_A),
    ("resident_id", f"ID{ID_A}", ID_A),
    # mobile numbers
    ("mobile", "联系电话：13812345678。", "13812345678"),
    ("mobile", "+8613812345678", "+8613812345678"),
    ("mobile", "+86 138 1234 5678", "+86 138 1234 5678"),
    ("mobile", "0086-138-1234-5678", "0086-138-1234-5678"),
    ("mobile", "86 13912345678", "86 13912345678"),
    ("mobile", "138-1234-5678", "138-1234-5678"),
    ("mobile", "手机 138 1234 5678", "138 1234 5678"),
    ("mobile", "手机：１３８１２３４５６７８", "１３８１２３４５６７８"),
    ("mobile", "手机：＋８６　１３８　１２３４　５６７８", "＋８６　１３８　１２３４　５６７８"),
    ("mobile", "联系人张三（19912345678）", "19912345678"),
    ("mobile", "电话13812345678/13912345678", "13812345678"),
    ("mobile", "电话13812345678/13912345678", "13912345678"),
    ("mobile", "15012345678，16612345678", "16612345678"),
    ("mobile", "17712345678 2023年", "17712345678"),
    ("mobile", "138\n1234\n5678", "138\n1234\n5678"),
    ("mobile", "手机：1381234\n5678", "1381234\n5678"),
    ("mobile", f"{ID_A}、14712345678", "14712345678"),
    # bank card numbers
    ("bank_card", f"银行卡号：{CARD16}", CARD16),
    ("bank_card", f"卡号 {group4(CARD16)}。", group4(CARD16)),
    ("bank_card", f"卡号：{CARD19}", CARD19),
    ("bank_card", f"卡号：{group4(CARD19)}", group4(CARD19)),
    ("bank_card", f"账号 {group4(CARD19, '-')}", group4(CARD19, "-")),
    ("bank_card", f"账号 {CARD19[:6]} {CARD19[6:]}", f"{CARD19[:6]} {CARD19[6:]}"),
    ("bank_card", f"Visa {VISA16}", VISA16),
    ("bank_card", f"{group4(MC16)}", group4(MC16)),
    ("bank_card", f"卡号{full_width(CARD16)}", full_width(CARD16)),
    ("bank_card", f"开户行：XX银行，卡号：{group4(CARD16)}\n户名：张三", group4(CARD16)),
    # 密级 marks
    ("secrecy", "机密★1年", "机密★1年"),
    ("secrecy", "秘密", "秘密"),
    ("secrecy", "绝密★长期", "绝密★长期"),
    ("secrecy", "密级：机密", "密级：机密"),
    ("secrecy", "密级:秘密", "密级:秘密"),
    ("secrecy", "　　秘密★6个月", "秘密★6个月"),
    ("secrecy", "绝密", "绝密"),
    ("secrecy", "机密★", "机密★"),
    ("secrecy", "秘密★十年", "秘密★十年"),
    ("secrecy", "机密 ★ 1年", "机密 ★ 1年"),
    ("secrecy", "机密★１年", "机密★１年"),
    ("secrecy", "秘密＊2年", "秘密＊2年"),
    ("secrecy", "机 密★1年", "机 密★1年"),
    ("secrecy", "绝密★启用前", "绝密★启用前"),
    ("secrecy", "000123\n机密★1年\n特急", "机密★1年"),
    ("secrecy", "000123　秘密★1年　特急", "秘密★1年"),
    ("secrecy", "（机密）", "机密"),
    ("secrecy", "密级：机密★5年", "密级：机密★5年"),
    ("secrecy", "保密期限：10年", "保密期限：10年"),
    ("secrecy", "密级：机密　保密期限：10年", "密级：机密　保密期限：10年"),
    ("secrecy", "XX县人民政府文件 机密★1年", "机密★1年"),
    ("secrecy", "本件属机密★3年，不得公开。", "机密★3年"),
    ("secrecy", "呈报单位：XX局　密级：秘密　份数：3", "密级：秘密"),
    # 内部 marks (not 密级: reported as "internal", not blocking)
    ("internal", "内部资料 注意保存", "内部资料 注意保存"),
    ("internal", "内部资料，注意保存", "内部资料，注意保存"),
    ("internal", "（内部资料）", "内部资料"),
    ("internal", "内部文件", "内部文件"),
    ("internal", "内部", "内部"),
    ("internal", "工作秘密", "工作秘密"),
    ("internal", "XX工作简报（内部资料　注意保存）第3期", "内部资料　注意保存"),
]

FALSE_FRIENDS: list[str] = [
    # 密级 words in prose
    "商业秘密",
    "依法保护权利人的商业秘密。",
    "秘密投票",
    "选举采用无记名秘密投票的方式进行。",
    "机密性",
    "确保数据的机密性、完整性和可用性。",
    "个人隐私和国家秘密",
    "涉及个人隐私和国家秘密的信息不予公开。",
    "涉及国家秘密的，按照有关规定办理。",
    "保守秘密",
    "工作人员应当保守秘密。",
    "秘密地",
    "调查组秘密地开展了走访。",
    "工作秘密不得公开。",
    "不得泄露工作秘密。",
    "不得泄露秘密",
    "国家秘密",
    "秘密文件应当专人管理。",
    "机密文件的管理",
    "绝密资料不得复制",
    "保密期限届满的，自行解密。",
    "国家秘密的密级分为绝密、机密、秘密三级。",
    "密级：秘密、机密、绝密",
    "绝密\n机密\n秘密",
    "文件左上角标注“机密★1年”字样。",
    "商业秘密★",
    "定密责任人应当及时确定密级和保密期限。",
    "密级：无",
    "非密",
    "内部控制",
    "加强内部管理，完善内部审计工作。",
    # invalid resident ID numbers
    wrong_check(ID_A),
    wrong_check(ID_X),
    make_id("110105", "19990230", "123"),                                        # 30 February
    make_id("110105", "19991301", "123"),                                        # month 13
    make_id("110105", f"{TODAY.year + 1}0101", "123"),                           # born next year
    make_id("110105", "18991231", "123"),                                        # before 1900
    make_id("000000", "19800101", "123"),                                        # no such province
    make_id("990000", "19800101", "123"),
    make_id("201234", "19800101", "123"),
    "1" + make_id_ending("7"),                                                   # inside 19 digits
    make_id_ending("7") + "1",
    "12" + make_id_ending("3"),                                                  # inside 20 digits
    make_id_ending("7")[:17],                                                    # 17 digits
    # not mobile numbers
    "138123456789",
    "1381234567",
    "电话：010-12345678",
    "0571-88888888",
    "电话：021-6123 4567",
    "服务热线：400-123-4567",
    "12345678901",
    "013812345678",
    "订单号DD13812345678",
    "金额13812345678.50元",
    "编号 13812345678123",
    "10086",
    # not bank card numbers
    break_luhn(CARD16),
    break_luhn(CARD19),
    group4(break_luhn(CARD16)),
    make_card("622202", 20),                     # Luhn-valid but 20 digits
    make_card("3714", 15),                       # 15 digits (too short here)
    make_card("1234", 16),                       # no issuer starts with 1
    make_card("2023", 16),                       # a date-led document serial
    group4(make_card("2023", 16)),
    "2019 2020 2021 2022 2023",
    # ordinary 公文 text
    "X政发〔2023〕12号",
    "2023年12月5日",
    "各单位应于每年1月31日前报送上一年度政府信息公开工作年度报告。",
    "共计1,234,567,890元",
]


def _found(kind: str, text: str, value: str) -> bool:
    return any(k == kind and v == value and text[s:e] == v for k, v, s, e in scan_text(text))


def test_positives_all_found_and_false_friends_never_flagged():
    missed = [(kind, text, value) for kind, text, value in POSITIVES if not _found(kind, text, value)]
    flagged = [(text, scan_text(text)) for text in FALSE_FRIENDS if scan_text(text)]
    found = len(POSITIVES) - len(missed)
    by_kind = {kind: sum(1 for k, _, _ in POSITIVES if k == kind) for kind, _, _ in POSITIVES}
    print(f"\npositives: {found}/{len(POSITIVES)} found {by_kind}; "
          f"false friends: {len(flagged)}/{len(FALSE_FRIENDS)} flagged")
    assert not missed, missed
    assert found / len(POSITIVES) == 1.0
    assert not flagged, flagged


@pytest.mark.parametrize("kind, text, value", POSITIVES)
def test_positive(kind, text, value):
    assert _found(kind, text, value), scan_text(text)


@pytest.mark.parametrize("text", FALSE_FRIENDS)
def test_false_friend(text):
    assert scan_text(text) == []


def test_generated_numbers_are_what_they_claim():
    assert ID_X.endswith("X") and ID_0.endswith("0")
    assert len({ID_A, ID_X, ID_0, ID_HK, ID_FOREIGN, ID_2000S}) == 6
    for card in (CARD16, CARD19, VISA16, MC16):
        assert luhn_digit(card[:-1]) == card[-1]


def test_offsets_point_into_the_original_text():
    text = f"　　经办人：张三，身份证号：{full_width(ID_A)}，手机：１３８－１２３４－５６７８。"
    hits = scan_text(text)
    assert [k for k, *_ in hits] == ["resident_id", "mobile"]
    for _, value, start, end in hits:
        assert text[start:end] == value
    assert hits[1][1] == "１３８－１２３４－５６７８"


def test_birth_date_is_bounded_by_today():
    born_today = make_id("110105", TODAY.strftime("%Y%m%d"), "001")
    assert [k for k, *_ in scan_text(born_today)] == ["resident_id"]
    yesterday = TODAY - dt.timedelta(days=1)
    assert scan_text(born_today, today=yesterday) == []


def test_bare_internal_mark_is_not_a_table_value():
    assert scan_text("内部", in_table=True) == []
    assert [k for k, *_ in scan_text("内部资料", in_table=True)] == ["internal"]


def test_masking():
    assert mask("resident_id", ID_A) == "110105********002X"
    assert mask("mobile", "13812345678") == "138****5678"
    assert mask("bank_card", "6222020012345678") == "6222 **** **** 5678"
    assert mask("bank_card", "6217000012345678901") == "6217 **** **** *** 8901"
    doc = ParsedDocument(blocks=(Paragraph(f"手机 +86 138 1234 5678，身份证 {full_width(ID_X)}，"
                                           f"卡号 {group4(CARD19)}"),),
                         page_count=1)
    found = {f.kind: f for f in scan_document(doc)}
    assert found["mobile"].masked == "138****5678"
    assert found["resident_id"].masked == f"{ID_X[:6]}********{ID_X[-4:]}"
    assert (found["bank_card"].masked.startswith(CARD19[:4] + " ****")
            and found["bank_card"].masked.endswith(CARD19[-4:]))
    for finding in found.values():
        digits = "".join(c for c in finding.masked if c.isdigit())
        assert len(digits) <= 10  # never the whole number
        assert finding.value not in repr(finding)  # logging a Finding never prints the number


def test_finding_to_dict_is_json():
    doc = ParsedDocument(blocks=(Paragraph("机密★1年"), Paragraph(f"身份证：{ID_A}")), page_count=1)
    dicts = [f.to_dict() for f in scan_document(doc)]
    assert json.loads(json.dumps(dicts, ensure_ascii=False)) == dicts
    assert dicts[0] == {"kind": "secrecy", "label": "密级标志", "value": "机密★1年", "masked": "机密★1年",
                        "location": "正文第 1 段", "source": "body", "start": 0, "end": 5, "blocking": True,
                        "index": 0, "row": None, "col": None}
    assert dicts[1]["blocking"] is False and dicts[1]["start"] == 4 and dicts[1]["end"] == 22


def test_summarize():
    doc = ParsedDocument(blocks=(Paragraph("机密★1年"), Paragraph(f"{ID_A} 13812345678 13912345678")),
                         page_count=1)
    findings = scan_document(doc)
    summary = summarize(findings)
    assert summary["secrecy"] == 1 and summary["resident_id"] == 1 and summary["mobile"] == 2
    assert summary["bank_card"] == 0 and summary["internal"] == 0 and summary["total"] == 4
    assert summary["blocking"] is True and summary["needs_acknowledgment"] is True
    assert "密级" in summary["message"] and "不得公开发布" in summary["message"]
    assert "身份证号码 1 处" in summary["message"] and "手机号码 2 处" in summary["message"]
    assert summarize([f.to_dict() for f in findings]) == summary  # as stored with the document
    clean = summarize([])
    assert clean["blocking"] is False and clean["needs_acknowledgment"] is False and clean["total"] == 0
    assert clean["message"] == "未发现个人信息或密级标志。"
    pii_only = summarize(f for f in findings if not f.blocking)
    assert pii_only["blocking"] is False and pii_only["needs_acknowledgment"] is True


def test_large_text_is_scanned_whole():
    # No timing assertion: a 10 MB text must simply come back with every number in it.
    para = ("　　各单位要高度重视政府信息公开工作，联系电话：0571-88888888，2023年12月5日印发，"
            "金额1,234,567.89元，X政发〔2023〕12号。不得泄露国家秘密和商业秘密。")
    lines = [para] * 40000
    for i in range(0, 40000, 1000):
        lines[i] = f"经办人手机{13800000000 + i}。"
    text = "\n".join(lines)
    hits = scan_text(text)
    assert len(hits) == 40 and {k for k, *_ in hits} == {"mobile"}
    assert scan_text("1 " * 200000 + "9" * 100000 + "-" * 1000 + "\n" * 1000) == []


# ---------------------------------------------------------------- part 2: documents


def _parse_docx(path) -> ParsedDocument:
    return WordParser().parse(path, ParseContext(media_type=DOCX, filename=path.name))


@pytest.fixture(scope="module")
def gongwen_findings(tmp_path_factory) -> list[Finding]:
    path = build_gongwen_docx(
        tmp_path_factory.mktemp("privacy") / "g.docx",
        page_header="XX县人民政府　联系人手机：13912345678",
        comment_text=f"请核对身份证号 {ID_X}",
        core_title="机密★1年 关于印发政府信息公开工作管理办法的通知",
    )
    return scan_document(_parse_docx(path))


def _one(findings, **match) -> Finding:
    hits = [f for f in findings if all(getattr(f, k) == v for k, v in match.items())]
    assert len(hits) == 1, (match, findings)
    return hits[0]


def test_docx_id_in_tracked_insertion(gongwen_findings):
    found = _one(gongwen_findings, kind="resident_id", source="insertion")
    assert found.value == ID_A and found.masked == "110105********002X"
    assert "修订" in found.location and "王五" in found.location and not found.blocking
    # Word's final view shows the insertion in the body too
    body = _one(gongwen_findings, kind="resident_id", source="body")
    assert body.location == "正文第 10 段" and body.value == ID_A


def test_docx_phone_in_tracked_deletion(gongwen_findings):
    found = _one(gongwen_findings, kind="mobile", source="deletion")
    assert found.value == "13812345678" and found.masked == "138****5678"
    assert found.location.startswith("修订（删除）") and "王五" in found.location
    assert not [f for f in gongwen_findings if f.kind == "mobile" and f.source == "body"]  # deleted text is not body


def test_docx_secrecy_mark_blocks(gongwen_findings):
    found = _one(gongwen_findings, kind="secrecy", source="body")
    assert found.value == "机密★1年" and found.blocking and found.location == "正文第 1 段"
    prop = _one(gongwen_findings, kind="secrecy", source="property")
    assert prop.value == "机密★1年" and prop.location == "文档属性 title（标题）"
    assert summarize(gongwen_findings)["blocking"] is True


def test_docx_header_and_comment_pii(gongwen_findings):
    header = _one(gongwen_findings, kind="mobile", source="header")
    assert header.value == "13912345678" and "页眉" in header.location
    comment = _one(gongwen_findings, kind="resident_id", source="comment")
    assert comment.value == ID_X and "批注" in comment.location and "李四" in comment.location


def test_docx_landline_and_other_text_not_flagged(gongwen_findings):
    # "0000-1234567" (a landline-like office number) and the rest of the 公文 give nothing else
    kinds = sorted((f.kind, f.source) for f in gongwen_findings)
    assert kinds == sorted([
        ("secrecy", "body"), ("secrecy", "property"), ("resident_id", "body"), ("resident_id", "insertion"),
        ("resident_id", "comment"), ("mobile", "deletion"), ("mobile", "header"),
    ])


def test_docx_numbers_split_across_runs_and_line_breaks(tmp_path):
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph("身份证号：")
    for n, part in enumerate((ID_X[:3], ID_X[3:9], ID_X[9:14], ID_X[14:])):
        paragraph.add_run(part).bold = bool(n % 2)  # differently formatted runs
    paragraph = document.add_paragraph("另一申请人：")
    paragraph.add_run(ID_A[:10]).add_break()  # a manual line break inside the number
    paragraph.add_run(ID_A[10:])
    paragraph = document.add_paragraph("手机：")
    paragraph.add_run("138 1234").add_break()
    paragraph.add_run("5678")
    header = document.sections[0].header.paragraphs[0]
    for part in ("联系人：", "139", "1234", "5678"):
        header.add_run(part)
    document.save(tmp_path / "runs.docx")
    findings = scan_document(_parse_docx(tmp_path / "runs.docx"))
    assert [(f.kind, f.value, f.source) for f in findings] == [
        ("resident_id", ID_X, "body"),
        ("resident_id", f"{ID_A[:10]}\n{ID_A[10:]}", "body"),
        ("mobile", "138 1234\n5678", "body"),
        ("mobile", "13912345678", "header"),
    ]
    assert [f.location for f in findings][:3] == ["正文第 1 段", "正文第 2 段", "正文第 3 段"]


def test_docx_header_secrecy_line(tmp_path):
    path = build_gongwen_docx(tmp_path / "h.docx", secret="", page_header="秘密★6个月")
    findings = scan_document(_parse_docx(path))
    found = _one(findings, kind="secrecy")
    assert found.source == "header" and found.value == "秘密★6个月" and "页眉" in found.location
    assert found.blocking


def test_docx_without_secrecy_needs_only_acknowledgment(tmp_path):
    path = build_gongwen_docx(tmp_path / "n.docx", secret="")
    summary = summarize(scan_document(_parse_docx(path)))
    assert summary["secrecy"] == 0 and summary["blocking"] is False
    assert summary["needs_acknowledgment"] is True and summary["resident_id"] == 2 and summary["mobile"] == 1


def test_pdf_annotation_and_page_locations():
    doc = ParsedDocument(
        blocks=(Paragraph("XX县人民政府关于……的通知", page=1), Paragraph("正文内容", page=2)),
        page_count=2,
        hidden=(
            HiddenText("annotation", "请联系 138 1234 5678 核实", "第 2 页批注（张三）"),
            HiddenText("watermark", "秘密★1年", "第 1 页（各页重复）"),
            HiddenText("property", "张三 13712345678", "Author"),
        ),
        properties={"Author": "张三 13712345678", "Producer": "卡号 " + CARD16},
    )
    findings = scan_document(doc)
    note = _one(findings, source="annotation")
    assert note.kind == "mobile" and note.location == "第 2 页批注（张三）" and note.value == "138 1234 5678"
    assert note.index == 0 and doc.hidden[0].text[note.start:note.end] == note.value
    mark = _one(findings, source="watermark")
    assert mark.kind == "secrecy" and mark.blocking and mark.location == "水印：第 1 页（各页重复）"
    author = _one(findings, kind="mobile", source="property")  # not twice: hidden already holds it
    assert author.location == "文档属性 Author（作者）"
    card = _one(findings, kind="bank_card")
    assert card.location == "文档属性 Producer（生成程序）" and card.index is None


def test_table_cells():
    doc = ParsedDocument(
        blocks=(
            Paragraph("附件"),
            Table(rows=(("姓名", "身份证号", "联系电话"), ("张三", ID_X, "139 1234 5678")), page=3),
            Table(rows=(("密级", "说明"), ("绝密", "最重要"), ("机密", "重要"), ("秘密", "一般"))),
            Table(rows=(("密级", "机密"), ("类别", "内部"))),
        ),
        page_count=3,
    )
    findings = scan_document(doc)
    pid = _one(findings, kind="resident_id")
    assert pid.location == "表格 1 第 2 行第 2 列（第 3 页）" and (pid.index, pid.row, pid.col) == (1, 1, 1)
    assert _one(findings, kind="mobile").location == "表格 1 第 2 行第 3 列（第 3 页）"
    # a table listing the levels is not marked; a form's 密级 field is
    secret = _one(findings, kind="secrecy")
    assert secret.location == "表格 3 第 1 行第 2 列" and secret.blocking
    assert not [f for f in findings if f.kind == "internal"]  # a bare 内部 in a cell is a value, not a mark


def test_pre_change_text_only_adds_what_is_new():
    doc = ParsedDocument(
        blocks=(Paragraph("联系电话：13812345678"),),
        page_count=1,
        hidden=(
            HiddenText("deletion", "联系电话：13812345678，身份证 " + ID_A, "修订前原文（正文）"),
            HiddenText("deletion", "1234", "修订 by 王五 2023-12-04T09:05:00Z"),
        ),
    )
    findings = scan_document(doc)
    assert [(f.kind, f.source) for f in findings] == [("mobile", "body"), ("resident_id", "deletion")]
    assert findings[1].location == "修订前原文（正文）"


def test_empty_and_odd_documents():
    assert scan_document(ParsedDocument(blocks=(), page_count=0)) == []
    doc = ParsedDocument(blocks=(Paragraph(""), Table(rows=(("",),))), page_count=1,
                         hidden=(HiddenText("comment", "", ""), HiddenText("footnote", "秘密", "")))
    found = scan_document(doc)
    assert [(f.kind, f.location) for f in found] == [("secrecy", "脚注")]
