"""公文 metadata extraction following GB/T 9704-2012 (党政机关公文格式).

`extract_gongwen(paragraphs)` reads a document's body paragraphs in reading order and returns the
公文 elements it can find, each as a `FieldHit` (value, paragraph index, layout zone):

    版头 (red header)  secrecy, secrecy_period, urgency, issuer, doc_number, signer
    主体 (body)        title, doc_type, addressee, attachments
    落款 (signature)   issuer, date
    版记 (imprint)     cc, printer, print_date
    附注 (note)        disclosure: the document's own 公开属性 line, "此件公开发布" / "此件依申请公开" /
                       "此件不予公开" (``service.disclosure`` maps it)

Real inputs are untidy: web pages put metadata tables above the title, PDFs wrap a title over two
or three lines and letter-space names ("科 技 部"), excerpts have no header at all. So each field
has a small finder that looks only where GB/T 9704 puts it (the first paragraphs for the header,
the paragraphs right after the title for the addressee, a line that is only a date for the
signature) and never at numbers or dates cited inside body sentences.

Values are in analysis form (`service.analysis.normalize.analysis_form`: half-width ASCII, simplified
characters); 文号 are normalised to the 〔〕 form and dates to ISO `YYYY-MM-DD`. Pure functions,
no I/O; odd input gives `{}`, never an exception.

密级, 保密期限 and 紧急程度 are read with `service.analysis.marks`, the grammar the privacy gate blocks
publishing with, so a header line gongwen reads as a 密级 is always a blocking finding.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from service.analysis import marks
from service.analysis.normalize import analysis_form

MAX_LINE = 300        # characters of a paragraph that any pattern looks at
HEAD = 15             # non-empty paragraphs that form the header area (版头 and title)
TITLE_MAX = 120       # longest plausible title after joining wrapped lines

KINDS = ("决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示",
         "批复", "议案", "函", "纪要")  # 党政机关公文处理工作条例 第八条

_CJK = "\u3400-\u9fff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}〇○])\s+(?=[{_CJK}〇○])")
_NUMBER = (rf"(?P<prefix>[{_CJK}]{{1,12}}?)\s*[〔\[（(【﹝]\s*(?P<year>(?:19|20)\d\d)\s*"
           r"[〕\]）)】﹞]\s*(?P<num>\d{1,5})\s*号")
_NUMBER_ONLY = re.compile(rf"^[（(]?\s*{_NUMBER}\s*[）)]?$")
_NUMBER_LABELLED = re.compile(rf"(?:发文字号|文件编号|文号)\s*[:：|]?\s*\|?\s*{_NUMBER}")
_NUMBER_LEADING = re.compile(rf"^(?:[（(][{_CJK}]{{1,6}}[）)])?\s*{_NUMBER}\s*(?P<rest>\S.*)$")
_SIGNER = re.compile(rf"签发人\s*[:：]\s*(?P<names>[{_CJK}·\s]{{2,30}})$")

_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | dict.fromkeys("○零OoОΟ0", 0)
_ARABIC_DATE = r"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
_CN_DATE = (r"(?P<cy>[〇○零OoОΟ0一二三四五六七八九]{4})\s*年\s*(?P<cm>[一二三四五六七八九十]{1,3})\s*月"
            r"\s*(?P<cd>[一二三四五六七八九十]{1,3})\s*日")
_DATE = re.compile(rf"{_ARABIC_DATE}|{_CN_DATE}")
_DATE_ONLY = re.compile(rf"^(?P<org>[^，,。：:；;《》]{{0,60}}?)\s*(?:{_ARABIC_DATE}|{_CN_DATE})$")
_TIMING_NOTES = (  # 题注 of reports and resolutions: "——2024年3月5日在…会议上", "（…会议通过）"
    re.compile(rf"^(?:[—\-–－]+|[(（])\s*(?:{_ARABIC_DATE}|{_CN_DATE}).{{0,40}}(?:会议|大会)"),
    re.compile(rf"^(?:{_ARABIC_DATE}|{_CN_DATE}).{{0,40}}会议上$"),
)
_DATE_LABELLED = re.compile(r"成文日期\s*[:：|]?\s*\|?\s*(?P<rest>.{8,14})")
_ISO_DATE = re.compile(r"^(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)")
_IMPRINT = re.compile(rf"^(?P<org>[^，,。：:；;《》()（）]{{2,40}}?)\s*(?:{_ARABIC_DATE}|{_CN_DATE})\s*印\s*发$")


_ORG_END = re.compile(
    r"(?:政府|人大|政协|委员会|办公室|办公厅|办事处|管委会|委|局|厅|部|院|署|会|处|室|办|司|中心|站|所|队|社"
    r"|馆|集团|公司|大学|学院|学校|院校|党组|党委|工委|县委|市委|省委|指挥部|小组|单位|机构|部门|企业|团体|组织"
    r"|机关|银行|医院|农场|林场|兵团|代表)$")
_LABEL = re.compile(r"^(?:索引号|办理|受理|申请|咨询|监督|投诉|发布|主办|承办|发文|信息|来源|责任|所属|公开"
                    r"|生成|成文|印发|联系|生效|废止|文件|文号|名称|标题|关键|主题|分类|时间|日期|网站|地址"
                    r"|电话|传真|邮编|附件|抄送|备注|注)")
_SALUTATION = re.compile(r"^(?:各位代表|各位委员|各位来宾|同志们|朋友们)")
_ADDRESSEE = re.compile(r"^(?P<to>[^。；;：:！？!?]{2,150}?)\s*[：:]")
_GENERIC_ORG = re.compile(r"^[省市县区镇乡](?:人民)?政府(?:办公室|办公厅)?$|^[省市县区]委(?:办公室|办公厅)?$")
_RED_HEADER = re.compile(r"^(?P<org>[^，,。：:《》“”\"]{2,40}?)文件$")
_TRAILING_NOTE = re.compile(r"[（(][^（）()]{1,15}[）)]$")

_TITLE_END = re.compile(
    r"(?:决议|决定|命令|令|公报|公告|通告|意见|通知|通报|报告|请示|批复|议案|函|纪要|办法|规定|规则|细则|条例"
    r"|规划|纲要|方案|预案|计划|要点|指南|答复|说明|制度|标准|清单|目录|章程)(?:[（(][^（）()]{1,15}[）)])?$")
_TITLE_NOISE = re.compile(  # markdown heading, glued "标题", breadcrumb "政务服务丨", "(已废止)"
    r"^(?:#+\s*|(?:标题|名称)(?!\s*[:：])|[^丨|｜]{1,8}[丨|｜]\s*|[（(](?:已废止|已失效|失效|废止)[）)]\s*)")
_NOT_TITLE_START = re.compile(r"^(?:为|根据|按照|依据|近日|各|第[一二三四五六七八九十\d]+[章条节]"
                              r"|[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+(?:\.\d+)*[\s.、])")
_FUSED_TITLE = re.compile(r"^(?P<title>[^，,。：:；;]{4,40}?(?:意见|通知|办法|方案|规划|决定|规定|细则|纲要|计划))"
                          r"(?=为|根据|按照|近年来|当前)")
_WEB_YEAR = re.compile(r"[（(](?:19|20)\d\d[）)]$")  # a site's "…的通知(2022)"
_NOTE_LINE = re.compile(r"^[（(][^（）()]{1,15}[）)]$")
_TITLE_ISSUER = re.compile(r"^(?P<org>[^“”《》\"，,。、]{2,60}?)(?:关于|对[“《\"])")
_COMMAND = re.compile(r"(?:命令|(?:主席|政府|院|部|委|局|署|厅|嘉奖|动员|特赦|通缉)令(?:[（(]?第\d+号[）)]?)?)$")
_FORMULAS = (  # closing/opening formulas that name the kind when the title is missing
    (re.compile(r"(?:特此|专此)函(?:复|告|达)|函复如下"), "函"),
    (re.compile(r"特此批复|现批复如下"), "批复"),
    (re.compile(r"特此通告"), "通告"),
    (re.compile(r"特此公告"), "公告"),
    (re.compile(r"特此通报"), "通报"),
    (re.compile(r"特此报告"), "报告"),
    (re.compile(r"特此请示|妥否，请批示"), "请示"),
    (re.compile(r"特此通知|通知如下"), "通知"),
)

_ATTACHMENTS = re.compile(r"^附\s*件\s*[:：]\s*(?P<rest>.*)$")
_ITEM = re.compile(r"^(?P<n>\d{1,2})\s*[.、]\s*(?P<item>\S.*)$")
_ITEM_TAIL = re.compile(r"(?:\s*\.{3,}.*|\.(?:pdf|docx?|xlsx?|wps|ofd|zip|rar))$", re.IGNORECASE)
_CC = re.compile(r"^抄\s*送\s*[:：]\s*(?P<rest>.*)$")
_LIST_SPLIT = re.compile(r"[，,、。；;]")


@dataclass(frozen=True, slots=True)
class FieldHit:
    value: str | list[str]   # list only for attachments / cc
    index: int               # index of the paragraph (in the input sequence) where it was found
    source: str              # "版头", "主体", "落款", "版记" or "正文"

    def to_dict(self) -> dict:
        value = list(self.value) if isinstance(self.value, list) else self.value
        return {"value": value, "index": self.index, "source": self.source}


@dataclass(frozen=True, slots=True)
class _Line:
    index: int   # position in the caller's sequence
    text: str    # analysis form, runs of spaces collapsed
    key: str     # text with spaces between CJK characters removed ("科 技 部" -> "科技部")


def extract_gongwen(paragraphs: Sequence[str]) -> dict[str, FieldHit]:
    """公文 elements found in `paragraphs`, keyed by field name; only the fields found."""
    lines = _prepare(paragraphs)
    if not lines:
        return {}
    hits: dict[str, FieldHit] = {}
    title = _find_title(lines)
    title_end = title[2] if title else -1
    for name, hit in (
        *_header_marks(lines),
        ("doc_number", _doc_number(lines)),
        ("signer", _signer(lines)),
        ("title", FieldHit(title[0], lines[title[1]].index, "主体") if title else None),
        ("doc_type", _doc_type(title[0], lines[title[1]].index) if title else _kind_by_formula(lines)),
        ("addressee", _addressee(lines, title_end)),
        ("attachments", _attachments(lines, title_end)),
        *_imprint(lines),
    ):
        if hit is not None:
            hits[name] = hit
    signature = _signature(lines, title_end)
    date = signature[0] if signature else _date_from_header(lines)
    if date:
        hits["date"] = date
    disclosure = _disclosure(lines)
    if disclosure:
        hits["disclosure"] = disclosure
    issuer = _red_header_issuer(lines) or (signature[1] if signature else None)
    if issuer is None and title:
        issuer = _title_issuer(title[0], lines[title[1]].index)
    if issuer:
        hits["issuer"] = issuer
    return hits


# ---------------------------------------------------------------- preparation and small helpers

def _prepare(paragraphs) -> list[_Line]:
    if isinstance(paragraphs, str):
        paragraphs = paragraphs.splitlines()
    if not isinstance(paragraphs, Sequence):
        return []
    lines = []
    for index, paragraph in enumerate(paragraphs):
        if not isinstance(paragraph, str) or not paragraph.strip():
            continue
        text = analysis_form(paragraph[:MAX_LINE].replace("\n", " ")).strip()
        if text:
            lines.append(_Line(index, text, _CJK_GAP.sub("", text)))
    return lines


def _iso(match: re.Match) -> str | None:
    """ISO date from a match of the Arabic or Chinese-numeral date pattern, if it is a valid date."""
    groups = match.groupdict()
    if groups.get("y"):
        year, month, day = int(groups["y"]), int(groups["m"]), int(groups["d"])
    else:
        year = int("".join(str(_CN_DIGITS[c]) for c in groups["cy"]))
        month, day = _cn_number(groups["cm"]), _cn_number(groups["cd"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _cn_number(text: str) -> int:
    """一 … 三十一 to an int; 0 when it is not a number (rejected as month or day)."""
    tens, _, ones = text.partition("十")
    if "十" not in text:
        return _CN_DIGITS.get(text, 0) if len(text) == 1 else 0
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)


def _is_org(text: str) -> bool:
    text = _TRAILING_NOTE.sub("", text)
    return (2 <= len(text) <= 40 and not re.search(r"[，,。：:；;《》“”\d]", text)
            and bool(_ORG_END.search(text)))


def _org_names(text: str) -> list[str]:
    """Organisation names on one line: letter-spaced ("科 技 部"), joint ("A局 B局") or single."""
    parts = text.split()
    if len(parts) > 1 and all(_is_org(p) for p in parts) and not all(len(p) == 1 for p in parts):
        return parts
    name = _CJK_GAP.sub("", text)
    return [name] if _is_org(name) else []


def _number_value(match: re.Match) -> str:
    return f"{match['prefix']}〔{match['year']}〕{match['num']}号"


# ---------------------------------------------------------------- 版头

def _header_marks(lines: list[_Line]) -> list[tuple[str, FieldHit | None]]:
    """密级, 保密期限 and 紧急程度: standalone tokens in the first paragraphs, never inside sentences."""
    found: dict[str, FieldHit] = {}
    for line in lines[:6]:
        if not line.text.strip() or len(line.text) > 30:
            continue
        # The same grammar as the privacy gate (service.analysis.marks): they cannot disagree.
        for name, value in (marks.header_fields(line.text) or {}).items():
            found.setdefault(name, FieldHit(value, line.index, "版头"))
    return list(found.items())


def _doc_number(lines: list[_Line]) -> FieldHit | None:
    """发文字号 from the header area: a line that is only the number (maybe with 签发人), else a
    labelled web-metadata field, else a number that leads the title or addressee line."""
    head = lines[:HEAD]
    for line in head:
        if m := _NUMBER_ONLY.match(line.key.split("签发人")[0].strip()):
            return FieldHit(_number_value(m), line.index, "版头")
    for line in head:
        if m := _NUMBER_LABELLED.search(line.key):
            return FieldHit(_number_value(m), line.index, "版头")
    for line in head:
        m = _NUMBER_LEADING.match(line.key)
        if m and ("关于" in m["rest"] or _addressee_of(m["rest"])):
            return FieldHit(_number_value(m), line.index, "版头")
    return None


def _signer(lines: list[_Line]) -> FieldHit | None:
    for line in lines[:HEAD]:
        if m := _SIGNER.search(line.text):
            parts = m["names"].split()
            names = "".join(parts) if all(len(p) == 1 for p in parts) else "、".join(parts)
            return FieldHit(names, line.index, "版头")
    return None


def _red_header_issuer(lines: list[_Line]) -> FieldHit | None:
    """发文机关标志: "XX人民政府文件", or joint names on their own lines above a lone "文件"."""
    for pos, line in enumerate(lines[:10]):
        if line.key == "文件":
            names = [n for prev in lines[max(0, pos - 4):pos] for n in _org_names(prev.text)]
            if names:
                return FieldHit("、".join(names), line.index, "版头")
        elif ((m := _RED_HEADER.match(line.key)) and not _GENERIC_ORG.match(m["org"])
              and (_is_org(m["org"]) or m["org"].startswith("中共"))):
            return FieldHit(m["org"], line.index, "版头")
    return None


# ---------------------------------------------------------------- 主体

def _find_title(lines: list[_Line]) -> tuple[str, int, int] | None:
    """(title, first line position, last line position) in `lines`, or None."""
    return _about_title(lines) or _fused_title(lines) or _plain_title(lines)


def _about_title(lines: list[_Line]) -> tuple[str, int, int] | None:
    """"XX关于…的通知", wrapped over up to three lines, issuer names maybe on lines of their own."""
    for pos, line in enumerate(lines[:HEAD]):
        text = _title_piece(line.key)
        if not text or "关于" not in text:
            continue
        last = pos
        while not _complete(text) and last + 1 < len(lines) and last - pos < 2:
            piece = _title_piece(lines[last + 1].key)
            if not piece or len(text) + len(piece) > TITLE_MAX:
                break
            text, last = text + piece, last + 1
        if not _complete(text) or len(text) > TITLE_MAX or _inside_sentence(lines, pos, last):
            continue
        first = pos
        names: list[str] = []
        if text.startswith("关于"):
            while first > 0 and pos - first < 3 and (above := _org_names(lines[first - 1].text)):
                names, first = above + names, first - 1
        text = " ".join(names) + text  # joint names keep a space between them, none before 关于
        return _strip_quotes(_drop_web_year(text)), first, last
    return None


def _fused_title(lines: list[_Line]) -> tuple[str, int, int] | None:
    """Scraped text where the title runs straight into the first sentence."""
    m = _FUSED_TITLE.match(lines[0].key)
    return (m["title"], 0, 0) if m else None


def _plain_title(lines: list[_Line]) -> tuple[str, int, int] | None:
    """A title without 关于 ("XX规划", "政府工作报告") before the body starts; a PDF may wrap it
    (a full first line, a shorter second) and add an edition note line ("（2022版）")."""
    for pos, line in enumerate(lines[:8]):
        if "。" in line.key or _addressee_of(line.key):
            return None
        text = _title_piece(line.key)
        if not text or len(text) > 40 or re.search(r"[，,、]", text) or not _complete(text):
            continue
        first = pos
        while first > 0 and pos - first < 2:
            above = _title_piece(lines[first - 1].key)
            if (not above or _TITLE_END.search(above) or len(above) < max(8, len(text))
                    or re.search(r"[，,、]|\d{4}-\d", above) or _LABEL.match(above)):
                break
            text, first = above + text, first - 1
        last = pos
        if pos + 1 < len(lines) and _NOTE_LINE.match(lines[pos + 1].key):
            text, last = text + lines[pos + 1].key, pos + 1
        if len(text) >= 4 and not _inside_sentence(lines, first, last):
            return _strip_quotes(text), first, last
    return None


def _inside_sentence(lines: list[_Line], first: int, last: int) -> bool:
    """A link's text set on its own line inside a sentence ("…制定了《" / title / "》。现在…")."""
    before = lines[first - 1].key if first > 0 else ""
    after = lines[last + 1].key if last + 1 < len(lines) else ""
    return (bool(re.match(r"[》。，、；：）”]", after)) or before.endswith(("《", "“"))
            or ("，" in before and not re.search(r"[。！？；：:”」）)]$", before)))


def _complete(title: str) -> bool:
    """A title ends in a kind or genre word and leaves no 《 or （ open (else it wraps on)."""
    return (bool(_TITLE_END.search(title)) and title.count("《") == title.count("》")
            and title.count("（") + title.count("(") == title.count("）") + title.count(")"))


def _title_piece(key: str) -> str | None:
    """The line with web/markdown noise and a leading 文号 removed, if it can be (part of) a title."""
    text = _TITLE_NOISE.sub("", key).strip()
    if m := _NUMBER_LEADING.match(text):
        text = m["rest"].strip()
    if (not text or len(text) > TITLE_MAX or re.search(r"[。：:；;！？!?|]", text)
            or _NOT_TITLE_START.match(text) or _NUMBER_ONLY.match(text) or _DATE_ONLY.match(text)):
        return None
    return text


def _drop_web_year(title: str) -> str:
    """Sites append the year to a title ("…的通知(2022)"); a 公文 title ends with its kind."""
    shorter = _WEB_YEAR.sub("", title)
    return shorter if shorter != title and shorter.endswith(KINDS) else title


def _strip_quotes(text: str) -> str:
    text = text.strip()
    for left, right in ("“”", '""', "《》", "「」"):
        if len(text) > 2 and text[0] == left and text[-1] == right:
            text = text[1:-1].strip()
    return text


def _doc_type(title: str, index: int) -> FieldHit | None:
    """文种 from the end of the title: "…实施意见" is 意见, "关于印发《…办法》的通知" is 通知."""
    text = _TRAILING_NOTE.sub("", title).strip()
    if _COMMAND.search(text):
        return FieldHit("命令", index, "主体")
    for kind in KINDS:
        if text.endswith(kind):
            return FieldHit(kind, index, "主体")
    return None


def _kind_by_formula(lines: list[_Line]) -> FieldHit | None:
    """Without a title: a formula such as "专此函复" or "现将有关事项通知如下" names the kind."""
    candidates = lines[:3] + lines[-8:]
    for pattern, kind in _FORMULAS:
        for line in candidates:
            if pattern.search(line.key):
                return FieldHit(kind, line.index, "主体")
    return None


def _title_issuer(title: str, index: int) -> FieldHit | None:
    """发文机关 from the title's "XX关于…" prefix; joint names separated by spaces become A、B."""
    m = _TITLE_ISSUER.match(title)
    if not m or re.search(r"转发|印发|批转|\d", m["org"]):
        return None
    return FieldHit("、".join(m["org"].split()), index, "主体")


def _addressee_of(text: str) -> str | None:
    if lead := _NUMBER_LEADING.match(text):  # "仁府办发〔2017〕27号 各镇乡人民政府,…:"
        text = lead["rest"]
    m = _ADDRESSEE.match(text)
    if not m:
        return None
    to = m["to"].strip()
    if (len(to) <= 8 and _LABEL.match(to)) or _SALUTATION.match(to) or _DATE.search(to):
        return None
    return to if to.startswith("各") or _is_org_list(to) else None


def _is_org_list(text: str) -> bool:
    return bool(_ORG_END.search(_TRAILING_NOTE.sub("", text))) and "《" not in text


def _addressee(lines: list[_Line], title_end: int) -> FieldHit | None:
    """主送机关: the line after the title (and 文号) ending in "：", or the document's first line;
    failing that, a list of bodies that lost its colon, right above the first body sentence."""
    start = title_end + 1 if title_end >= 0 else 0
    window = lines[start:start + 6] if title_end >= 0 else lines[:3]
    for line in window:
        if to := _addressee_of(line.key):
            return FieldHit(to, line.index, "主体")
        if "。" in line.key:
            break
    for pos, line in enumerate(window[:-1] if title_end >= 0 else []):
        if "。" in line.key:
            break
        text = line.key
        if ("。" in window[pos + 1].key and len(text) <= 150 and not re.search(r"[:：；;《]", text)
                and "各" in text and re.search(r"[、，,]", text) and _is_org_list(text)):
            return FieldHit(text, line.index, "主体")
    return None


def _attachments(lines: list[_Line], title_end: int) -> FieldHit | None:
    """附件说明: "附件：1．A" then "2．B" …, or a single "附件：A"."""
    for pos in range(title_end + 1, len(lines)):
        m = _ATTACHMENTS.match(lines[pos].key)
        if not m:
            continue
        rest, items, expected = m["rest"].strip(), [], 1
        following = lines[pos + 1:pos + 30]
        if (not rest and following and not _ITEM.match(following[0].key)
                and not _org_names(following[0].text)):
            rest, following = following[0].key, following[1:]   # "附件：" then the title below
        if rest and not _ITEM.match(rest):
            items.append(rest)
        else:
            for text in ([rest] if rest else []) + [f.key for f in following]:
                item = _ITEM.match(text)
                if not item or int(item["n"]) != expected:
                    break
                items.append(item["item"])
                expected += 1
        items = [_ITEM_TAIL.sub("", i).strip(" ；;。") for i in items]
        items = [i for i in items if i]
        return FieldHit(items, lines[pos].index, "主体") if items else None
    return None


# ---------------------------------------------------------------- 附注: the 公开属性 line

_DISCLOSURE = re.compile(r"^[(（]\s*(?P<note>此件\s*(?:公开发布|主动公开|依申请公开|不予公开|不公开))\s*[)）]$")


def _disclosure(lines: list[_Line]) -> FieldHit | None:
    """The note a document prints on its own line, usually under the date: （此件公开发布）."""
    for line in reversed(lines):
        if m := _DISCLOSURE.match(line.key):
            return FieldHit(m["note"].replace(" ", ""), line.index, "附注")
    return None


# ---------------------------------------------------------------- 落款 and dates

def _signature(lines: list[_Line], title_end: int) -> tuple[FieldHit, FieldHit | None] | None:
    """(成文日期, 发文机关 above it) from the signature: a line that is only a date, after the title."""
    dated = []
    for pos in range(title_end + 1, len(lines)):
        m = _DATE_ONLY.match(lines[pos].key)
        if not m or (m["org"] and not _org_names(m["org"])):
            continue
        iso = _iso(m)
        if iso:
            dated.append((pos, m, iso))
    if not dated:
        return None
    if title_end < 0:  # no title: prefer a date under a signature, else the last standalone date
        signed = [d for d in dated if d[1]["org"] or (d[0] > 0 and _org_names(lines[d[0] - 1].text))]
        dated = signed or dated[-1:]
    pos, match, iso = dated[0]
    date = FieldHit(iso, lines[pos].index, "落款")
    if match["org"].strip():
        return date, FieldHit("、".join(_org_names(match["org"].strip())), lines[pos].index, "落款")
    first = pos  # climb over the name lines just above the date (joint signatures stack them)
    while first - 1 > title_end and pos - first < 3 and _org_names(lines[first - 1].text):
        first -= 1
    names = [name for q in range(first, pos) for name in _org_names(lines[q].text)]
    return date, (FieldHit("、".join(names), lines[first].index, "落款") if names else None)


def _date_from_header(lines: list[_Line]) -> FieldHit | None:
    """Without a signature: the 题注 of a report or resolution, else a labelled 成文日期."""
    for line in lines[:10]:
        for pattern in _TIMING_NOTES:
            if (m := pattern.match(line.key)) and (iso := _iso(m)):
                return FieldHit(iso, line.index, "主体")
    for line in lines[:HEAD]:
        if m := _DATE_LABELLED.search(line.key):
            found = _DATE.search(m["rest"]) or _ISO_DATE.match(m["rest"].strip())
            if found and (iso := _iso(found)):
                return FieldHit(iso, line.index, "正文")
    return None


# ---------------------------------------------------------------- 版记

def _imprint(lines: list[_Line]) -> list[tuple[str, FieldHit | None]]:
    """抄送 list and the 印发机关 / 印发日期 line; 抄送 may wrap onto the lines above 印发."""
    hits: list[tuple[str, FieldHit | None]] = []
    printed = None
    for pos in range(len(lines) - 1, -1, -1):
        m = _IMPRINT.match(lines[pos].key)
        if m and _org_names(m["org"]) and (iso := _iso(m)):
            printed = pos
            hits += [("printer", FieldHit(_org_names(m["org"])[0], lines[pos].index, "版记")),
                     ("print_date", FieldHit(iso, lines[pos].index, "版记"))]
            break
    for pos, line in enumerate(lines):
        m = _CC.match(line.key)
        if not m:
            continue
        text = m["rest"]
        if printed is not None and pos < printed <= pos + 3:
            text += "，" + "，".join(lines[q].key for q in range(pos + 1, printed))
        bodies = [b.strip() for b in _LIST_SPLIT.split(text) if b.strip()]
        if bodies:
            hits.append(("cc", FieldHit(bodies, line.index, "版记")))
        break
    return hits
