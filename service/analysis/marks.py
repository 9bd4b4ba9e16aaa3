"""The one grammar of 密级, 保密期限, 紧急程度, 份号 and 内部 marks.

Pure functions, no I/O. Both readers of these marks use it, so they cannot disagree:
``service.analysis.privacy`` (a 密级 mark blocks publishing, a 内部 mark needs acknowledgment) and
``service.analysis.gongwen`` (the 版头 fields secrecy, secrecy_period and urgency).

Every text is first folded one character for one (offsets into the folded text are offsets
into the original): NFKC where it gives one character (full-width letters, digits, colons
and brackets, compatibility ideographs, ㊙), every space-like character to " ", traditional
characters to simplified (OpenCC t2s, per character where a phrase conversion would change
the length: 機密 -> 机密, 密級 -> 密级), and characters that stand for a ★ lost in PDF or OCR
extraction (private-use code points U+E000-U+F8FF, U+FFFD) to U+FFFD.

The grammar (after folding):

- level: 绝密 / 机密 / 秘密 (one space or line break may split the two characters), maybe
  followed by 级;
- star: ★ and its look-alikes (strong: enough on their own), or a stand-in for a lost star
  (weak: * ※ · • ・ U+FFFD; only with a period after it);
- period: N年 / N个月 / N月 with N in Arabic or Chinese numerals (or 半年), 长期, 启用前,
  考试结束前, 考试开始前, 公布前, 解密前, 至YYYY年M月D日;
- a mark: level, then optionally a star and/or a period, either maybe inside brackets
  「」【】（）〔〕[]《》 (``机密（★1年）``), maybe after a label ``密级：``.

Where a mark is found (``find``):

1. a line of at most ``MAX_LINE`` characters that is nothing but header tokens (份号, marks,
   ``保密期限：…``, 紧急程度, 内部 marks), each maybe bracketed (``「机密」``, ``【特急】``);
2. a level with a star anywhere (``本件属机密★3年``), or a level with a stand-in star and a
   period (``本文件为机密*1年请妥善保管``), unless the level is part of a compound that is
   not a marking (商业秘密★, 工作秘密) or the mark is quoted inside a sentence
   (``标注“机密★1年”字样``);
3. a level directly followed by a period (``机密 1年``, ``机密1年``) where the level starts
   the text or follows punctuation, a space or 为/属/系/是;
4. ``密级：机密`` anywhere, unless the levels are being listed (``密级：秘密、机密``);
5. a short sentence stating the document's own level: ``此件为秘密级``, ``本文件属机密``.

Lists of levels are not markings: levels listed together (``绝密★、机密★、秘密★``,
``密级：秘密、机密``), a header line naming two levels, and marks with neither a star nor a
label naming two or more levels in one text (``绝密\\n机密\\n秘密``, ``绝密 30年\\n机密 20年``),
are dropped. Prose is never a
mark: 商业秘密, 秘密投票, 国家秘密, 保守秘密, 秘密地, 泄露机密, 机密性, 绝密档案.
工作秘密 alone on a line is the 内部 mark of the 2024 law's 工作秘密 (``internal``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from service.analysis.normalize import to_simplified

SECRECY = "secrecy"
INTERNAL = "internal"
MAX_LINE = 60
LOST_STAR = "\ufffd"

# ---------------------------------------------------------------------------
# Folding, one character for one
# ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp <= 0xDFFF or 0xE000 <= cp <= 0xF8FF:
            continue
        c = chr(cp)
        n = unicodedata.normalize("NFKC", c)
        if len(n) == 1 and n != c:
            table[cp] = n
    for cp in (0x09, 0x0D, 0x00A0, 0x00AD, *range(0x2000, 0x200E), 0x202F, 0x205F, 0x2060, 0x3000, 0xFEFF):
        table[cp] = " "
    table[0x2028] = table[0x2029] = "\n"
    for cp in range(0xE000, 0xF900):
        table[cp] = LOST_STAR
    return table


def fold(text: str) -> str:
    """Width, compatibility, spaces, lost stars and traditional characters folded, 1:1."""
    folded = text.translate(_fold_table())
    simplified = to_simplified(folded)
    if len(simplified) != len(folded):  # a phrase conversion changed the length: go by character
        simplified = "".join(s if len(s := to_simplified(c)) == 1 else c for c in folded)
    return simplified


# ---------------------------------------------------------------------------
# The grammar
# ---------------------------------------------------------------------------

# Spaces between the parts of a mark: a few, never an unbounded run (keeps every regex linear).
_SP = "[ ]{0,6}"
_LEVEL = r"[绝机秘](?:[ ]{1,2}|\n)?密"
_STRONG = "★☆⭐⭑✩✪✫✬✭✮✯✰✱✲✳✴✵✶✷✸✹✺✻✼✽"
_WEAK = r"*※·•・‧∙⋅⋆✦✧" + LOST_STAR
_NUM = r"(?:[0-9]{1,3}|[〇零一二三四五六七八九十两壹贰叁肆伍陆柒捌玖拾]{1,4}|半)"
_PERIOD = (rf"(?:{_NUM}[ ]?(?:年|个月|月)|长期|启用前|考试结束前|考试开始前|公布前|解密前"
           r"|至[0-9]{4}年(?:[0-9]{1,2}月(?:[0-9]{1,2}日)?)?)")
_OPEN = r"[(\[【〔〖「『〈《]"
_CLOSE = r"[)\]】〕〗」』〉》]"
# What may follow a level: a star (strong alone; weak only with a period), or a period alone.
_TAIL = (rf"(?:{_SP}(?:{_OPEN}{_SP})?(?:[{_STRONG}]{_SP}(?:{_PERIOD})?|[{_WEAK}]{_SP}{_PERIOD}"
         rf"|{_PERIOD})(?:{_SP}{_CLOSE})?)")
_STAR_TAIL = (rf"(?:(?:{_CLOSE})?{_SP}(?:\n{_SP})?(?:{_OPEN}{_SP})?"
              rf"(?:[{_STRONG}]{_SP}(?:{_PERIOD})?|[{_WEAK}]{_SP}{_PERIOD})"
              rf"(?:{_SP}{_CLOSE})?)")
_LABEL = rf"密[ ]?级{_SP}[:：]{_SP}"
_LINE_LABEL = rf"密[ ]?级{_SP}(?:[:：]{_SP}|[ ]{{1,6}})?"
# 保密期限 labelled, or a star and a period on a line of their own (the level above it).
_TERM = (rf"(?:(?P<termlabel>保密期限){_SP}[:：]?{_SP}(?:{_OPEN}{_SP})?|[{_STRONG}]{_SP}|[{_WEAK}]{_SP}(?={_PERIOD}))"
         rf"(?P<term>{_PERIOD})(?:{_SP}{_CLOSE})?")
_URGENCY = rf"(?:紧急程度{_SP}[:：]?{_SP})?(?P<urgency>特急|加急|特提|平急|急件)"
_COPY = rf"(?:(?:份号{_SP}[:：]?{_SP}|No\.?[ ]?)?(?<![0-9])[0-9]{{1,6}}(?![0-9]))"
_INTERNAL = (r"(?:内部(?:资料性出版物|资料|文件|材料|刊物|参考|参阅|使用|传阅|明电|发行)?|工作秘密)"
             r"(?:[ ,，、]*(?:注意保存|注意保管|妥善保管|注意保密|请勿外传|不得外传|严禁外传|用后收回"
             r"|阅后收回|请勿翻印|不得翻印))?")
_LINE_MARK = (rf"(?:{_LINE_LABEL})?(?P<level>{_LEVEL})级?"
              rf"(?(open)(?:(?P<lclose>{_CLOSE})(?={_SP}[{_STRONG}{_WEAK}]))?)"
              rf"(?:{_SP}(?:{_OPEN}{_SP})?(?:[{_STRONG}{_WEAK}]{_SP}(?P<period>{_PERIOD})?|(?P<period2>{_PERIOD}))"
              rf"(?:{_SP}{_CLOSE})?)?")
# One header token at a time, maybe in brackets; alternatives start with distinct text.
_HEADER_TOKEN = re.compile(
    rf"(?P<open>{_OPEN}{_SP})?(?:(?P<mark>{_LINE_MARK})|(?P<termtok>{_TERM})|(?P<urg>{_URGENCY})"
    rf"|(?P<internal>{_INTERNAL})|(?P<copy>{_COPY}))(?(open)(?(lclose)|{_SP}{_CLOSE}))")
_HEADER_SEP = re.compile(r"[ ,，、;；\n]*")
_LINE = re.compile(rf"[^\n]{{1,{MAX_LINE}}}(?=\n|$)|[^\n]+")

# Compounds whose level word is not a marking (商业秘密★ is the name of a thing).
_COMPOUND_BEFORE = ("商业", "工作", "国家", "军事", "技术", "经营", "个人", "通信", "通讯", "公司", "企业",
                    "收养", "动员", "党的", "保守", "泄露", "泄漏", "窃取", "刺探")
_QUOTES = frozenset("“‘\"'『《〈「")
_STAR_CORE = re.compile(rf"(?P<level>{_LEVEL})级?(?={_STAR_TAIL})")
_PERIOD_CORE = re.compile(rf"(?P<level>{_LEVEL})(?={_SP}(?:{_OPEN}{_SP})?{_PERIOD})")
_LABELLED_CORE = re.compile(rf"{_LABEL}(?:{_OPEN}{_SP})?(?P<level>{_LEVEL})")
_LABEL_BEFORE = re.compile(rf"{_LABEL}(?:{_OPEN}{_SP})?$")
_TAIL_AFTER = re.compile(rf"级?{_TAIL}")
_STAR_TAIL_AFTER = re.compile(rf"级?{_STAR_TAIL}")
_PERIOD_TAIL_AFTER = re.compile(rf"{_SP}(?:{_OPEN}{_SP})?{_PERIOD}(?:{_SP}{_CLOSE})?")
_LIST_OF_LEVELS = re.compile(rf"级?{_SP}[、/|或和及与]{_SP}{_LEVEL}")
_OWN_LEVEL = re.compile(
    rf"(?:本文件|本文|本件|此件|该件|此文件|本通知|本材料|本资料|本报告|本表|本页|本册){_SP}(?:的密级)?{_SP}"
    rf"(?:为|属于|属|系|定为|列为|是|密级为){_SP}(?:{_OPEN}{_SP})?(?P<level>{_LEVEL})级?(?:{_SP}{_CLOSE})?"
    rf"(?:文件|材料|资料)?(?={_SP}(?:$|[,，。;；!！、)）\n]|请|注意|不得|严禁|妥善|阅后|用后))")
_PERIOD_OK_BEFORE = frozenset("为属系是")
_STARRED_OR_LABELLED = re.compile(rf"[{_STRONG}{_WEAK}]|密[ ]?级{_SP}[:：]")
# Levels listed one after another ("绝密★、机密★、秘密★"; "机密、秘密★"): the format, not a marking.
_LISTED_AFTER = re.compile(rf"{_SP}[、/|或和及与]{_SP}{_LEVEL}")
_LISTED_BEFORE = re.compile(rf"{_LEVEL}级?[^\n]{{0,8}}?[、/|或和及与]{_SP}$")
BARE_LEVELS = frozenset({"绝密", "机密", "秘密"})
_INTERNAL_ANYWHERE = re.compile(r"内部资料[ ,，、]*注意保存")


def _is_cjk(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff"


def _level_word(text: str) -> str:
    return re.sub(r"[ \n]", "", text)


@dataclass(frozen=True, slots=True)
class HeaderToken:
    """One token of a header line: its kind and where it is, with the field it gives."""

    kind: str  # "secrecy", "term" (保密期限：…), "star_term" (★1年 alone), "urgency", "internal", "copy"
    start: int
    end: int
    level: str | None = None
    period: str | None = None
    urgency: str | None = None


_OUTER = re.compile(rf"{_SP}{_OPEN}(?P<inner>.*){_CLOSE}{_SP}")


def parse_header_line(folded: str, start: int = 0, end: int | None = None) -> list[HeaderToken] | None:
    """The tokens of ``folded[start:end]`` if it is nothing but header tokens, else None.

    The whole line may be in brackets too: "（机密 特急）".
    """
    end = len(folded) if end is None else end
    tokens = _header_tokens(folded, start, end)
    if tokens is None and (outer := _OUTER.fullmatch(folded, start, end)):
        tokens = _header_tokens(folded, outer.start("inner"), outer.end("inner"))
    return tokens


def _after_separators(folded: str, pos: int, end: int) -> int:
    """Where the run of header separators at ``pos`` ends (``pos`` itself if there is none)."""
    m = _HEADER_SEP.match(folded, pos, end)
    assert m is not None  # the pattern matches the empty string, so it always matches
    return m.end()


def _header_tokens(folded: str, start: int, end: int) -> list[HeaderToken] | None:
    pos = _after_separators(folded, start, end)
    tokens: list[HeaderToken] = []
    while pos < end:
        m = _HEADER_TOKEN.match(folded, pos, end)
        if not m or m.end() == pos:
            return None
        group = next(g for g in ("mark", "termtok", "urg", "internal", "copy") if m[g] is not None)
        s, e = m.span(group)
        if m["mark"]:
            period = m["period"] or m["period2"]
            tokens.append(HeaderToken(SECRECY, s, e, level=_level_word(m["level"]),
                                      period=period.replace(" ", "") if period else None))
        elif m["termtok"]:  # "保密期限：1年" is a 密级 mark; "★1年" alone only completes one
            tokens.append(HeaderToken("term" if m["termlabel"] else "star_term", s, e,
                                      period=m["term"].replace(" ", "")))
        elif m["urg"]:
            tokens.append(HeaderToken("urgency", s, e, urgency=m["urgency"]))
        elif m["internal"]:
            tokens.append(HeaderToken(INTERNAL, s, e))
        else:
            tokens.append(HeaderToken("copy", s, e))
        e = m.end()
        nxt = _after_separators(folded, e, end)
        if nxt == e and nxt < end and (folded[e - 1].isdigit() or _is_cjk(folded[e - 1])) \
                and (folded[nxt].isdigit() or _is_cjk(folded[nxt])) and not m["mark"]:
            return None  # tokens must be separated unless a mark's star or bracket ends it
        pos = nxt
    return tokens or None


def header_fields(text: str) -> dict[str, str] | None:
    """secrecy, secrecy_period and urgency of a line that is nothing but header tokens.

    None when the line is anything else; {} when it holds only a 份号 or a 内部 mark.
    """
    folded = fold(text)
    tokens = parse_header_line(folded)
    if tokens is None:
        return None
    levels = {t.level for t in tokens if t.kind == SECRECY}
    if len(levels) > 1:
        return None
    fields: dict[str, str] = {}
    for t in tokens:
        if t.kind == SECRECY:
            assert t.level is not None  # _header_tokens gives every secrecy token its level
            fields["secrecy"] = t.level
            if t.period:
                fields["secrecy_period"] = t.period
        elif t.kind in ("term", "star_term"):
            assert t.period is not None  # ... and every term token its period
            fields["secrecy_period"] = t.period
        elif t.kind == "urgency":
            assert t.urgency is not None  # ... and every urgency token its urgency
            fields["urgency"] = t.urgency
    return fields


def _compound(folded: str, start: int) -> bool:
    return folded[max(0, start - 2):start] in _COMPOUND_BEFORE


def _quoted_in_sentence(folded: str, start: int) -> bool:
    """The mark begins with a quote that is itself inside running text: 标注“机密★1年”."""
    if not start or folded[start - 1] not in _QUOTES:
        return False
    before = folded[:start - 1].rstrip(" ")
    return bool(before) and before[-1] not in "\n"


_EXAMPLE_BEFORE = re.compile(r"(?:如|例如|比如|例|示例|样式|标注|标明|标为|标示|格式为|形式为|写明|注明)[:：,，]?$")


def _example(folded: str, start: int) -> bool:
    """The mark is an example of the format in a sentence: 标注密级和保密期限，如机密★10年."""
    before = folded[max(0, start - 8):start].rstrip(" (（“‘\"'「『")
    return bool(_EXAMPLE_BEFORE.search(before))


def _listed(folded: str, start: int, end: int) -> bool:
    """The mark is one of several levels listed together."""
    return bool(_LISTED_AFTER.match(folded, end) or _LISTED_BEFORE.search(folded, max(0, start - 14), start))


def _with_label(folded: str, start: int) -> int:
    label = _LABEL_BEFORE.search(folded, max(0, start - 14), start)
    return label.start() if label else start


def find(text: str, *, in_table: bool = False, folded: str | None = None) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every 密级 (``secrecy``) and 内部 (``internal``) mark in ``text``.

    Offsets are into ``text``. ``in_table`` says the text is one table cell: a bare "内部"
    there is a value (内部/外部), not a mark. ``folded`` is ``fold(text)`` if already known.
    """
    if not text or ("密" not in text and "内" not in text and "內" not in text):
        return []  # every 密级 and 内部 mark holds one of these (no fold makes either)
    folded = fold(text) if folded is None else folded
    spans: list[tuple[str, int, int]] = []
    # Marks with neither a star nor a 密级 label, by level: if one text has two levels of them
    # ("绝密\n机密\n秘密", "绝密 30年\n机密 20年"), they list the levels and are dropped.
    starless: dict[tuple[str, int, int], str] = {}
    for line in _LINE.finditer(folded):
        s, e = line.span()
        if e - s > MAX_LINE:
            continue
        tokens = parse_header_line(folded, s, e)
        if not tokens:
            continue
        secret = [t for t in tokens if t.kind in (SECRECY, "term")]
        if len({t.level for t in secret if t.level}) > 1:
            continue  # "秘密、机密、绝密": the levels listed, not a marking
        if secret:
            span = (SECRECY, secret[0].start, secret[-1].end)
            spans.append(span)
            levels = [t.level for t in secret if t.level]
            if levels and not _STARRED_OR_LABELLED.search(folded, span[1], span[2]):
                starless[span] = levels[0]
            continue
        for t in tokens:
            if t.kind == INTERNAL and not (in_table and folded[t.start:t.end] == "内部"):
                spans.append((INTERNAL, t.start, t.end))
    for m in _STAR_CORE.finditer(folded):
        start = _with_label(folded, m.start())
        if _compound(folded, m.start()) or _quoted_in_sentence(folded, start) or _example(folded, start):
            continue
        tail = _STAR_TAIL_AFTER.match(folded, m.end())
        end = tail.end() if tail else m.end()
        if _listed(folded, start, end):
            continue
        spans.append((SECRECY, start, end))
    for m in _PERIOD_CORE.finditer(folded):
        start = _with_label(folded, m.start())
        if start == m.start():
            before = folded[start - 1] if start else "\n"
            if _is_cjk(before) and before not in _PERIOD_OK_BEFORE:
                continue
            if _compound(folded, start) or _quoted_in_sentence(folded, start) or _example(folded, start):
                continue
        tail = _PERIOD_TAIL_AFTER.match(folded, m.end())
        end = tail.end() if tail else m.end()
        if _listed(folded, start, end):
            continue
        spans.append((SECRECY, start, end))
        if start == m.start():
            starless[(SECRECY, start, end)] = _level_word(m["level"])
    for m in _LABELLED_CORE.finditer(folded):
        if _LIST_OF_LEVELS.match(folded, m.end()):
            continue  # "密级：秘密、机密": the levels listed, not one marked
        tail = _TAIL_AFTER.match(folded, m.end())
        spans.append((SECRECY, m.start(), tail.end() if tail else m.end()))
    for m in _OWN_LEVEL.finditer(folded):
        if _LIST_OF_LEVELS.match(folded, m.end("level")):
            continue
        tail = _TAIL_AFTER.match(folded, m.end("level"))
        spans.append((SECRECY, m.start("level"), max(m.end(), tail.end() if tail else 0)))
    spans.extend((INTERNAL, *m.span()) for m in _INTERNAL_ANYWHERE.finditer(folded))
    if len(set(starless.values())) > 1:
        spans = [span for span in spans if span not in starless]
    return _merge(spans)


def _merge(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Overlapping spans become one; secrecy wins over an internal mark it overlaps."""
    merged: list[list] = []
    for kind, start, end in sorted(spans, key=lambda s: (s[1], -s[2])):
        if merged and start < merged[-1][2]:
            last = merged[-1]
            last[2] = max(last[2], end)
            if kind == SECRECY:
                last[0] = SECRECY
        else:
            merged.append([kind, start, end])
    return [(k, s, e) for k, s, e in merged]


def bare_level(text: str) -> str | None:
    """The level if ``text`` is nothing but a level word (maybe bracketed, maybe with 级)."""
    word = re.sub(r"[ \n()\[\]【】〔〕「」『』〈〉《》]", "", fold(text)).removesuffix("级")
    return word if word in BARE_LEVELS else None


def is_marking(text: str) -> bool:
    """True if ``text`` carries a 密级 mark (what the labelled set measures)."""
    return any(kind == SECRECY for kind, _, _ in find(text))
