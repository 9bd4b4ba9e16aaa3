"""The privacy and secrecy gate: personal data and 密级 marks in everything a parser found.

Pure functions: no I/O, no database. ``scan_document`` reads body paragraphs, every table
cell, every ``HiddenText`` (headers, footers, comments, tracked insertions and deletions,
text boxes, notes, properties, PDF annotations, form fields, alt text, hidden runs,
watermarks) and the document properties the parser did not already copy into ``hidden``.

What is found (``Finding.kind``):

- ``resident_id``: 18-character resident ID numbers (GB 11643-1999): 17 digits and a
  check character (0-9 or X) matching the ISO 7064 MOD 11-2 checksum; the first two
  digits a real province-level code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65; 71 Taiwan,
  81 Hong Kong, 82 Macao, 83 Taiwan residents' residence permits); digits 7-14 a real
  calendar date between 1900-01-01 and today. Numbers beginning with 9 are the 2023
  foreigners' permanent residence ID (9, a province code, a nationality code, then the
  same birth date, sequence and check character) and are accepted too. The old 15-digit
  numbers are not looked for.
- ``mobile``: mainland mobile numbers 1[3-9]XXXXXXXXX, optionally with +86 / 86 / 0086,
  grouped 11, 3-4-4, 3-8 or 7-4. Landlines are never reported: office numbers are public
  in every 公文.
- ``bank_card``: 16-19 digits passing the Luhn check with a plausible issuer prefix
  (3 JCB/Amex, 4 Visa, 5 Mastercard, 6 UnionPay/Discover, 9 domestic, 2221-2720
  Mastercard), ungrouped, grouped in fours, or 6 + rest (as UnionPay 19-digit cards are
  printed); a grouped card is a whole run of groups (a row of 4-digit figures that goes
  on is not a card). An 18-digit number shaped like an ID number (province and birth date
  valid, check character wrong) is never called a card.
- ``secrecy`` (blocking): 密级 marks 绝密/机密/秘密 used as a marking, found by the grammar
  ``service.analysis.gongwen`` reads its 版头 fields with (``service.analysis.marks``: see there for every
  rule). The text is folded first (full-width forms, spaces, traditional characters, a ★
  lost in extraction as a private-use glyph or U+FFFD), then a marking is: a short line of
  nothing but header tokens (份号, "机密★1年", "「机密」", "密级：机密", "保密期限：10年",
  紧急程度); a level with a star anywhere ("本件属机密★3年"), or with a stand-in star and a
  period ("本文件为机密*1年请妥善保管", "绝密·长期"), or directly with a period ("机密 1年"),
  the star or period maybe in brackets ("机密（★1年）"); "密级：机密" anywhere; a sentence
  stating the document's own level ("此件为秘密级"). Quoted in a sentence ("标注“机密★1年”"),
  listed ("密级：秘密、机密"), or part of prose (商业秘密, 秘密投票, 机密性, 国家秘密, 保守秘密,
  秘密地, 泄露机密, "秘密文件应当……") it is not. Bare level words naming two or more levels
  (line by line in one text, or in the cells of one table) are a list of the levels, not a
  marking. A single table cell "机密" (a 发文稿纸's 密级 field) is a marking.
  tests/data/secrecy_marks.jsonl measures the grammar (recall on markings, false positives
  on prose from real documents).
- ``internal`` (not blocking): 内部 markings. They are not a 密级 under the Law on
  Guarding State Secrets, but show the document was not written to be published, so like
  PII they need the reviewer's acknowledgment: a line that is only "内部资料 注意保存",
  "内部文件", "（内部资料）", "内部", or "工作秘密" (the marking of the 2024 law's
  工作秘密), and "内部资料…注意保存" anywhere. A bare "内部" in a table cell is a value
  (内部/外部), not a marking. Same grammar (``service.analysis.marks``).

Numbers are matched on a width-folded copy of the text (full-width digits, Ｘ, full-width
spaces and hyphens, zero-width characters fold to ASCII one character for one, so offsets
stay those of the original) and may contain separators office documents introduce: one to
three spaces, a hyphen, or one line break (a paragraph's runs are already joined by the
parser). A number is always whole groups of digits: never part of a longer digit run,
never part of a decimal (13812345678.5) or a thousands-grouped amount. A phone or card
number directly touching an ASCII letter or "_" (an order code, a file name) is not
reported; an ID number is (its checksum and birth date make it unambiguous).

Masking: ``Finding.masked`` is what the UI shows by default and the only form that may be
logged: ID 110105********002X (first 6, last 4), mobile 138****5678 (first 3, last 4, the
country code dropped), card 6222 **** **** 1234 (first 4, last 4, grouped), secrecy and
internal marks as found. ``Finding.value`` (the text as found, for the reviewer who opens
it) is left out of ``repr``.

Everything is linear: every regex is compiled once, separators are atomic and
repetitions bounded; numbers are found as regex shapes over runs of digits and checked in
Python only where the shape fits; the marks' line rule only reads short lines.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from service.analysis import marks
from service.analysis.normalize import fold_width
from service.parsers import HiddenText, Paragraph, ParsedDocument, Table

RESIDENT_ID = "resident_id"
MOBILE = "mobile"
BANK_CARD = "bank_card"
SECRECY = "secrecy"
INTERNAL = "internal"
#: Every kind, in the order a reviewer should look at them.
KINDS = (SECRECY, RESIDENT_ID, MOBILE, BANK_CARD, INTERNAL)
BLOCKING_KINDS = frozenset({SECRECY})

KIND_LABELS = {
    SECRECY: "密级标志",
    RESIDENT_ID: "身份证号码",
    MOBILE: "手机号码",
    BANK_CARD: "银行卡号",
    INTERNAL: "内部资料标志",
}

#: How each kind of hidden text is named in a location.
SOURCE_LABELS = {
    "body": "正文",
    "table": "表格",
    "header": "页眉",
    "footer": "页脚",
    "comment": "批注",
    "insertion": "修订（插入）",
    "deletion": "修订（删除）",
    "textbox": "文本框",
    "footnote": "脚注",
    "property": "文档属性",
    "annotation": "批注",
    "form_field": "表单域",
    "alt_text": "图片说明",
    "hidden_run": "隐藏文字",
    "watermark": "水印",
    "attachment": "附件",
}

_PROPERTY_LABELS = {
    "title": "标题", "subject": "主题", "author": "作者", "last_modified_by": "最后修改者",
    "lastmodifiedby": "最后修改者", "keywords": "关键词", "comments": "备注", "category": "类别",
    "company": "单位", "manager": "主管", "creator": "创建程序", "producer": "生成程序",
}


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data or one secrecy mark, with where it was found.

    ``start``/``end`` are offsets into the text of the block, table cell or hidden text
    (``index`` is the block index in ``doc.blocks`` for body/table, the index in
    ``doc.hidden`` for hidden text, None for a property read from ``doc.properties``;
    ``row``/``col`` are the 0-based table cell). ``value`` is the full text as found:
    show ``masked`` by default and never log ``value``.
    """

    kind: str
    value: str = field(repr=False)
    masked: str
    location: str
    source: str
    start: int
    end: int
    blocking: bool
    index: int | None = None
    row: int | None = None
    col: int | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "label": self.label, "value": self.value, "masked": self.masked,
            "location": self.location, "source": self.source, "start": self.start, "end": self.end,
            "blocking": self.blocking, "index": self.index, "row": self.row, "col": self.col,
        }


# ---------------------------------------------------------------------------
# Folding: one character for one, so offsets into the folded text are offsets into the original
# ---------------------------------------------------------------------------

_EXTRA_FOLD = {cp: 0x20 for cp in (0x00A0, *range(0x2002, 0x200E), 0x202F, 0x205F, 0x2060, 0xFEFF, 0x00AD, 0x0D)}
_EXTRA_FOLD.update({cp: 0x2D for cp in (0x2010, 0x2011, 0x2012, 0x2013, 0x2212, 0xFE63)})  # hyphens -> "-"
_EXTRA_FOLD.update({0x2028: 0x0A, 0x2029: 0x0A})
# Runs of characters folding changes (the CJK punctuation fold_width keeps is left out, so
# ordinary Chinese text costs one regex scan, not a per-character translation).
_FOLDABLE = re.compile(
    "[" + "".join(re.escape(c) for c in map(chr, range(0xFF01, 0xFF5F)) if fold_width(c) != c)
    + "\u3000" + "".join(map(chr, _EXTRA_FOLD)) + "]+")


def _fold_run(match: re.Match) -> str:
    return fold_width(match.group()).translate(_EXTRA_FOLD)


def _fold(text: str) -> str:
    folded = _FOLDABLE.sub(_fold_run, text)
    if len(folded) != len(text):  # fold_width is 1:1 today; never let offsets drift if it changes
        raise AssertionError("width folding must keep the text length")
    return folded


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

# Between two digits: one to three spaces, a hyphen (maybe spaced), or one line break
# (maybe indented). Zero-width characters and full-width spaces have been folded to spaces.
# Atomic: once a separator matched, the regex engine never tries it another way (the
# branches are ordered so that the first to match is the only one that can be followed by
# a digit), which keeps the shapes below fast on long runs of numbers.
_SEP = r"(?>[ \t]{0,4}\n[ \t]{0,4}|[ ]?-[ ]?|[ ]{1,3})"
_S = f"{_SEP}?+"
# A region: a digit, then digits and separator characters, ending in a digit or X, at least
# 11 characters long (shorter ones cannot hold a number we look for and are skipped by the
# regex engine). Chains inside it: digit groups joined by valid separators.
_REGION = re.compile(r"[0-9][0-9 \t\n-]{9,}[0-9Xx]")
_CHAIN = re.compile(rf"[0-9]++(?:{_SEP}[0-9]++)*+[Xx]?")
_GROUP = re.compile(r"[0-9]+[Xx]?")


def _shape(*classes: str) -> str:
    return _S.join(classes)


# Candidate shapes, found by the regex engine at the start of a digit group; Python then
# checks the checksum, the calendar, the grouping. Lookahead captures let candidates overlap.
_ID_SHAPE = re.compile(
    r"(?<![0-9])(?=(" + _shape(
        "[1-9]", *["[0-9]"] * 5,                                   # region
        f"(?:1{_S}9|2{_S}0)", "[0-9]", "[0-9]",                    # year 19xx / 20xx
        f"(?:0{_S}[1-9]|1{_S}[0-2])",                              # month
        f"(?:0{_S}[1-9]|[12]{_S}[0-9]|3{_S}[01])",                 # day
        *["[0-9]"] * 3, "[0-9Xx]") + r")(?![0-9]))")
_PHONE_SHAPE = re.compile(
    rf"(?<![0-9])(?=((?:(?:0{_S}0{_S})?8{_S}6{_S})?" + _shape("1", "[3-9]", *["[0-9]"] * 9) + r")(?![0-9]))")
_CARD_GROUP = re.compile(r"(?<![0-9])(?:[2-69][0-9]{15,18})(?![0-9Xx])")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LETTER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_DIGITS = frozenset("0123456789")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
#: Province-level codes of GB/T 2260, plus 71 (Taiwan), 81/82 (Hong Kong, Macao) and 83
#: (Taiwan residents' residence permits).
PROVINCE_CODES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
     *range(61, 66), 71, 81, 82, 83])
_PHONE_GROUPINGS = ((11,), (3, 4, 4), (3, 8), (7, 4))


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = ord(c) - 48
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _id_shaped(number: str, today: dt.date) -> bool:
    """Province code and birth date valid (the check digit is not looked at)."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    province = number[1:3] if number[0] == "9" else number[:2]
    if int(province) not in PROVINCE_CODES:
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return born.year >= 1900 and born <= today


def is_valid_resident_id(number: str, today: dt.date | None = None) -> bool:
    """True for an 18-character ID number with a valid province, birth date and check digit."""
    number = _fold(number).upper()
    if len(number) != 18 or number[17] not in "0123456789X":
        return False
    return _id_shaped(number, today or dt.date.today()) and id_check_digit(number[:17]) == number[17]


def _card_issuer(digits: str) -> bool:
    first = digits[0]
    return first in "34569" or (first == "2" and 2221 <= int(digits[:4]) <= 2720)


def _card_grouping(lens: tuple[int, ...]) -> bool:
    if len(lens) == 1:
        return True
    if all(n == 4 for n in lens[:-1]) and 1 <= lens[-1] <= 4:
        return True
    return len(lens) == 2 and lens[0] == 6


def _phone_grouping(lens: tuple[int, ...]) -> bool:
    return lens in _PHONE_GROUPINGS


def _groups(folded: str, start: int, end: int) -> tuple[str, tuple[int, ...], tuple[bool, ...]]:
    """(digits, group lengths, line break after each group but the last) of a candidate."""
    spans = [m.span() for m in _GROUP.finditer(folded, start, end)]
    digits = "".join(folded[s:e] for s, e in spans)
    breaks = tuple("\n" in folded[spans[k][1]:spans[k + 1][0]] for k in range(len(spans) - 1))
    return digits, tuple(e - s for s, e in spans), breaks


def _grouping_ok(lens: tuple[int, ...], breaks: tuple[bool, ...], check) -> bool:
    """``check`` on the groups as written, or with groups a line break split joined again."""
    if check(lens):
        return True
    if not any(breaks):
        return False
    merged = [lens[0]]
    for n, brk in zip(lens[1:], breaks, strict=True):
        if brk:
            merged[-1] += n
        else:
            merged.append(n)
    return check(tuple(merged))


def _phone_national(digits: str, lens: tuple[int, ...], breaks: tuple[bool, ...]) -> str | None:
    """The 11-digit national number if ``digits`` is a mainland mobile, else None."""
    prefix = 0
    if len(digits) == 13 and digits.startswith("86"):
        prefix = 2
    elif len(digits) == 15 and digits.startswith("0086"):
        prefix = 4
    elif len(digits) != 11:
        return None
    national = digits[prefix:]
    if not _MOBILE.fullmatch(national):
        return None
    if prefix:
        if lens[0] == prefix:
            lens, breaks = lens[1:], breaks[1:]
        elif lens[0] > prefix:
            lens = (lens[0] - prefix, *lens[1:])
        else:
            return None
    return national if _grouping_ok(lens, breaks, _phone_grouping) else None


def _edges(folded: str, start: int, end: int, first_len: int, last_len: int) -> tuple[bool, bool]:
    """(part of a decimal or thousands-grouped amount, touches an ASCII letter or "_")."""
    before = folded[start - 1] if start >= 1 else ""
    before2 = folded[start - 2] if start >= 2 else ""
    after = folded[end] if end < len(folded) else ""
    after2 = folded[end + 1] if end + 1 < len(folded) else ""
    amount = False
    if before2 in _DIGITS and (before == "." or (before == "," and first_len == 3)):
        amount = True  # the decimals of 12.138…, or the 234 of 1,234
    elif after2 in _DIGITS and after == ".":
        amount = True
    elif after2 in _DIGITS and after == "," and last_len <= 3:
        run = end + 1
        while run < len(folded) and run - end <= 4 and folded[run] in _DIGITS:
            run += 1
        amount = run - end - 1 == 3  # …234,567
    return amount, before in _LETTER or after in _LETTER


def _check(folded: str, start: int, end: int, kinds: tuple[str, ...], today: dt.date, found: list) -> None:
    """Append (digit count, start, end, kind, canonical) if folded[start:end] is one of ``kinds``."""
    lens: tuple[int, ...]
    breaks: tuple[bool, ...]
    if start + 1 == end or folded[start:end].isdigit():
        digits, lens, breaks = folded[start:end], (end - start,), ()
    else:
        digits, lens, breaks = _groups(folded, start, end)
    amount, letter = _edges(folded, start, end, lens[0], lens[-1])
    if amount:
        return
    for kind in kinds:
        if kind == RESIDENT_ID:
            upper = digits.upper()
            if _id_shaped(upper, today) and id_check_digit(upper[:17]) == upper[17]:
                found.append((18, start, end, RESIDENT_ID, upper))
                return
        elif letter or not digits[-1].isdigit():
            return
        elif kind == BANK_CARD:
            if (16 <= len(digits) <= 19 and _card_issuer(digits) and luhn_valid(digits)
                    and _grouping_ok(lens, breaks, _card_grouping)
                    and not (len(digits) == 18 and _id_shaped(digits, today))):
                found.append((len(digits), start, end, BANK_CARD, digits))
                return
        elif kind == MOBILE:
            national = _phone_national(digits, lens, breaks)
            if national is not None:
                if len(digits) > 11 and start >= 1 and folded[start - 1] == "+":
                    start -= 1  # "+86 138 1234 5678": the plus belongs to the number
                found.append((len(digits), start, end, MOBILE, national))
                return


_ID_OR_CARD = (RESIDENT_ID, BANK_CARD)
_CARD_ONLY = (BANK_CARD,)
_MOBILE_ONLY = (MOBILE,)


def _number_candidates(folded: str, s: int, e: int, ndigits: int, today: dt.date) -> list:
    """(digit count, start, end, kind, canonical) of every valid number in one chain."""
    found: list = []
    if ndigits == e - s:  # one group, no separators: the common case
        if ndigits == 18:
            _check(folded, s, e, _ID_OR_CARD, today, found)
        elif 16 <= ndigits <= 19:
            _check(folded, s, e, _CARD_ONLY, today, found)
        elif ndigits in (11, 13, 15):
            _check(folded, s, e, _MOBILE_ONLY, today, found)
        return found
    if ndigits >= 18:
        for m in _ID_SHAPE.finditer(folded, s, e):
            _check(folded, m.start(1), m.end(1), _ID_OR_CARD, today, found)
    for m in _PHONE_SHAPE.finditer(folded, s, e):
        _check(folded, m.start(1), m.end(1), _MOBILE_ONLY, today, found)
    if ndigits < 16:
        return found
    for m in _CARD_GROUP.finditer(folded, s, e):
        _check(folded, m.start(), m.end(), _CARD_ONLY, today, found)
    # A card printed in groups is a whole run of groups on one line, or the whole chain.
    pieces, pos = [], s
    while pos < e:
        nl = folded.find("\n", pos, e)
        stop = e if nl < 0 else nl
        pieces.append((pos, stop))
        pos = stop + 1
    if len(pieces) > 1:
        pieces.append((s, e))
    for ps, pe in pieces:
        text = folded[ps:pe]
        stripped = text.strip(" \t")
        if not 16 <= len(stripped) <= 76 or stripped.isdigit() or not stripped[0].isdigit():
            continue
        ps += len(text) - len(text.lstrip(" \t"))
        pe = ps + len(stripped)
        if stripped[-1].isdigit():
            _check(folded, ps, pe, _CARD_ONLY, today, found)
    return found


def _chains(folded: str):
    """(start, end, digit count) of every chain that may hold a number."""
    for region in _REGION.finditer(folded):
        rs, re_ = region.span()
        text = region.group()
        # one group, no separators (the common case), else every chain in the region
        chains = [(rs, re_)] if text[:-1].isdigit() else [m.span() for m in _CHAIN.finditer(folded, rs, re_)]
        for s, e in chains:
            if folded[e - 1] in "Xx" and e < len(folded) and folded[e].isascii() and folded[e].isalnum():
                e -= 1  # "…002Xa": the X is part of a word, not a check digit
            text = folded[s:e]
            ndigits = len(text) - text.count(" ") - text.count("-") - text.count("\n") - text.count("\t")
            if ndigits >= 11:
                yield s, e, ndigits


def _scan_numbers(folded: str, today: dt.date) -> list[tuple[str, str, int, int]]:
    hits: list[tuple[str, str, int, int]] = []
    for s, e, ndigits in _chains(folded):
        candidates = _number_candidates(folded, s, e, ndigits, today)
        if not candidates:
            continue
        # Longest first (an ID or a card over a phone inside it), then leftmost; no overlaps.
        candidates.sort(key=lambda c: (-c[0], c[1]))
        taken: list[tuple[int, int]] = []
        for _, start, end, kind, canonical in candidates:
            if all(end <= ts or start >= te for ts, te in taken):
                taken.append((start, end))
                hits.append((kind, canonical, start, end))
    return hits


# ---------------------------------------------------------------------------
# 密级 and 内部 marks
# ---------------------------------------------------------------------------

# The grammar of 密级, 保密期限, 紧急程度 and 内部 marks is shared with service.analysis.gongwen:
# service.analysis.marks finds them (marks.find, in ``_scan`` below).


# ---------------------------------------------------------------------------
# Public scanning
# ---------------------------------------------------------------------------


def _scan(text: str, today: dt.date | None, in_table: bool) -> list[tuple[str, str, str, int, int]]:
    """(kind, canonical, value, start, end) sorted by position."""
    if not text:
        return []
    folded = _fold(text)
    today = today or dt.date.today()
    found = [(kind, canonical, text[s:e], s, e) for kind, canonical, s, e in _scan_numbers(folded, today)]
    for kind, s, e in marks.find(text, in_table=in_table):
        value = text[s:e]
        found.append((kind, " ".join(value.split()), value, s, e))
    found.sort(key=lambda f: (f[3], f[4]))
    return found


def scan_text(text: str, *, today: dt.date | None = None,
              in_table: bool = False) -> list[tuple[str, str, int, int]]:
    """Findings in one string as (kind, value as found, start, end), in text order.

    ``today`` bounds birth dates (default: the current date); ``in_table`` says the text
    is one table cell (a bare "内部" is then not a marking).
    """
    return [(kind, value, s, e) for kind, _, value, s, e in _scan(text, today, in_table)]


def mask(kind: str, canonical: str) -> str:
    """What the UI shows by default; never the whole number."""
    if kind == RESIDENT_ID:
        return f"{canonical[:6]}{'*' * 8}{canonical[-4:]}"
    if kind == MOBILE:
        return f"{canonical[:3]}****{canonical[-4:]}"
    if kind == BANK_CARD:
        hidden = len(canonical) - 8
        stars = " ".join("*" * min(4, hidden - k) for k in range(0, hidden, 4))
        return f"{canonical[:4]} {stars} {canonical[-4:]}"
    return canonical


def _hidden_location(hidden: HiddenText) -> str:
    where = hidden.where.strip()
    kind = hidden.kind
    label = SOURCE_LABELS.get(kind, kind)
    if kind == "property":
        zh = _PROPERTY_LABELS.get(where.lower().replace(" ", ""))
        return f"文档属性 {where}（{zh}）" if zh else f"文档属性 {where}".rstrip()
    if kind in ("insertion", "deletion") and where.startswith("修订") and not where.startswith("修订前"):
        return label + where[2:]
    if not where:
        return label
    if label in where or label[:2] in where:
        return where
    return f"{label}：{where}"


def _findings(text: str, *, location: str, source: str, today: dt.date, index: int | None,
              row: int | None = None, col: int | None = None) -> list[Finding]:
    return [
        Finding(kind=kind, value=value, masked=mask(kind, canonical), location=location, source=source,
                start=s, end=e, blocking=kind in BLOCKING_KINDS, index=index, row=row, col=col)
        for kind, canonical, value, s, e in _scan(text, today, source == "table")
    ]


def _without_level_column(found: list[Finding]) -> list[Finding]:
    """Drop bare level words from a table whose cells name two or more levels.

    A table with cells "绝密", "机密", "秘密" lists the levels (a 定密 guide, a register of
    documents); one cell "机密" (a 发文稿纸 form's 密级 field) is a marking and is kept.
    """
    bare = [f for f in found if f.kind == SECRECY and marks.bare_level(f.value)]
    if len({marks.bare_level(f.value) for f in bare}) < 2:
        return found
    return [f for f in found if f not in bare]


def _canonical(finding: Finding) -> tuple[str, str]:
    if finding.kind in (RESIDENT_ID, BANK_CARD):
        return finding.kind, "".join(c for c in _fold(finding.value) if c.isalnum()).upper()
    if finding.kind == MOBILE:
        return finding.kind, "".join(c for c in _fold(finding.value) if c.isdigit())[-11:]
    return finding.kind, " ".join(finding.value.split())


def scan_document(doc: ParsedDocument, *, today: dt.date | None = None) -> list[Finding]:
    """Every finding in the body, table cells, hidden text and properties, in that order.

    A paragraph's pre-change text (the Word parser's "修订前原文") is there to catch a
    number that is whole nowhere else; its findings that repeat one found elsewhere are
    dropped.
    """
    today = today or dt.date.today()
    findings: list[Finding] = []
    paragraph_no = table_no = 0
    for index, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph):
            paragraph_no += 1
            location = f"正文第 {paragraph_no} 段" + (f"（第 {block.page} 页）" if block.page else "")
            findings += _findings(block.text, location=location, source="body", today=today, index=index)
        elif isinstance(block, Table):
            table_no += 1
            page = f"（第 {block.page} 页）" if block.page else ""
            in_table: list[Finding] = []
            for r, cells in enumerate(block.rows):
                for c, cell in enumerate(cells):
                    if cell:
                        in_table += _findings(cell, location=f"表格 {table_no} 第 {r + 1} 行第 {c + 1} 列{page}",
                                              source="table", today=today, index=index, row=r, col=c)
            findings += _without_level_column(in_table)
    before_changes: list[Finding] = []
    for index, hidden in enumerate(doc.hidden):
        found = _findings(hidden.text, location=_hidden_location(hidden), source=hidden.kind,
                          today=today, index=index)
        if hidden.kind == "deletion" and hidden.where.startswith("修订前原文"):
            before_changes += found
        else:
            findings += found
    in_hidden = {(h.where, h.text) for h in doc.hidden if h.kind == "property"}
    for key, value in doc.properties.items():
        if isinstance(value, str) and value and (key, value) not in in_hidden:
            findings += _findings(value, location=_hidden_location(HiddenText("property", value, key)),
                                  source="property", today=today, index=None)
    known = {_canonical(f) for f in findings}
    for finding in before_changes:
        if _canonical(finding) not in known:
            known.add(_canonical(finding))
            findings.append(finding)
    return findings


def _field(finding: Finding | Mapping[str, Any], name: str) -> Any:
    return getattr(finding, name) if isinstance(finding, Finding) else finding.get(name)


def summarize(findings: Iterable[Finding | Mapping[str, Any]]) -> dict[str, Any]:
    """Counts by kind, whether publishing is blocked (密级) and whether PII needs acknowledgment.

    Accepts ``Finding`` objects or their ``to_dict()`` form (as stored with a document), so
    the server can re-check a stored scan before publishing.
    """
    counts = dict.fromkeys(KINDS, 0)
    blocking = needs_ack = False
    marks: list[str] = []
    total = 0
    for finding in findings:
        total += 1
        kind = _field(finding, "kind")
        counts[kind] = counts.get(kind, 0) + 1
        if _field(finding, "blocking") or kind in BLOCKING_KINDS:
            blocking = True
            mark = _field(finding, "masked")
            if mark and mark not in marks:
                marks.append(mark)
        else:
            needs_ack = True
    parts = []
    if blocking:
        shown = "、".join(f"“{m}”" for m in marks[:3])
        parts.append(f"发现密级标志 {counts[SECRECY]} 处（{shown}），涉密文件不得公开发布。")
    pii = [f"{KIND_LABELS[k]} {counts[k]} 处" for k in (RESIDENT_ID, MOBILE, BANK_CARD, INTERNAL) if counts[k]]
    if pii:
        parts.append(f"发现{'、'.join(pii)}，发布前须逐项核对处理，并由审核人确认（确认将记入审计日志）。")
    return {
        **counts, "total": total, "blocking": blocking, "needs_acknowledgment": needs_ack,
        "message": "".join(parts) or "未发现个人信息或密级标志。",
    }
