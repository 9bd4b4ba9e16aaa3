"""Cleaning a parsed document: running headers/footers, page numbers, watermarks,
whitespace, and a judgement on whether the text layer can be trusted.

Pure functions of a ParsedDocument. What is removed from the body is not thrown away: it
moves to hidden text (a privacy scan still reads it).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import replace

from service.analysis.normalize import display_form
from service.parsers import HiddenText, Paragraph, ParsedDocument, ParseWarning, Table, warning

#: How many lines at the top and at the bottom of a page count as its header/footer zone.
EDGE_LINES = 3
#: Longest line that may be treated as a running header/footer or watermark.
MAX_FURNITURE_CHARS = 160

_DIGITS = re.compile(r"\d+")
_CN_NUMERAL = re.compile(r"[〇一二三四五六七八九十百零]+")
_NON_KEY = re.compile(r"[\s\-—–_·•|/\\]+")
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－一_\s]*\d{1,4}[-—–－一_\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|page\s*\d{1,4}(?:\s*of\s*\d{1,4})?|共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页)$",
    re.IGNORECASE,
)
_INLINE_PAGE_MARK = re.compile(r"第\s*\d{1,4}\s*页")


def line_key(text: str) -> str:
    """A comparison key: width-folded, digits normalized, spaces and rules dropped.

    "第 1 页" and "第 2 页" share a key; so do "— 3 —" and "— 4 —".
    """
    text = unicodedata.normalize("NFKC", text)
    text = _DIGITS.sub("#", text)
    return _NON_KEY.sub("", text).lower()


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(unicodedata.normalize("NFKC", text).strip()))


# ---------------------------------------------------------------------------
# Running headers, footers, page numbers, watermarks (paged documents)
# ---------------------------------------------------------------------------


def _pages(blocks: tuple) -> dict[int, list[int]]:
    by_page: dict[int, list[int]] = defaultdict(list)
    for i, block in enumerate(blocks):
        if isinstance(block, Paragraph) and block.page is not None:
            by_page[block.page].append(i)
    return by_page


def exact_key(text: str) -> str:
    """Like ``line_key`` but digits kept: for lines that must repeat word for word."""
    return _NON_KEY.sub("", unicodedata.normalize("NFKC", text)).lower()


def _counts_pages(occurrences: list[tuple[int, str]]) -> bool:
    """True if some number in the line moves with the page number (a page counter)."""
    offsets: set[int] | None = None
    for page, text in occurrences:
        found = {int(d) - page for d in _DIGITS.findall(unicodedata.normalize("NFKC", text))[:6] if len(d) < 6}
        offsets = found if offsets is None else offsets & found
        if not offsets:
            return False
    return bool(offsets)


def find_running_lines(blocks: tuple) -> dict[int, str]:
    """Indices of paragraphs that are page furniture, with the kind of furniture.

    - a line in the top/bottom ``EDGE_LINES`` of a page that repeats on at least half of
      the pages (and on two or more) → header / footer. It must repeat word for word, or
      differ only in a number that counts pages ("第 3 页", "— 4 —", "共 9 页 第 5 页");
    - a page-number-only line in the edge zone → footer, even on a one-page document;
    - a line anywhere that repeats word for word on at least 60% of the pages (and on
      three or more) → watermark.
    """
    by_page = _pages(blocks)
    if not by_page:
        return {}
    pages_with_text = len(by_page)
    edge_seen: dict[str, dict[int, str]] = defaultdict(dict)  # digit-normalized key -> page -> text
    exact_edge_pages: dict[str, set[int]] = defaultdict(set)
    exact_any_pages: dict[str, set[int]] = defaultdict(set)
    zone: dict[int, str] = {}
    keys: dict[int, str] = {}  # block index -> exact key, for the lines short enough to be furniture
    for page, indices in by_page.items():
        for pos, i in enumerate(indices):
            text = blocks[i].text
            key = exact_key(text) if len(text) <= MAX_FURNITURE_CHARS else ""
            if not key:
                continue
            keys[i] = key
            exact_any_pages[key].add(page)
            if pos < EDGE_LINES or pos >= len(indices) - EDGE_LINES:
                zone[i] = "header" if pos < EDGE_LINES else "footer"
                edge_seen[line_key(text)].setdefault(page, text)
                exact_edge_pages[key].add(page)

    edge_needed = max(2, math.ceil(0.5 * pages_with_text))
    anywhere_needed = max(3, math.ceil(0.6 * pages_with_text))
    page_counters = {key for key, seen in edge_seen.items()
                     if len(seen) >= edge_needed and _counts_pages(sorted(seen.items()))}
    removed: dict[int, str] = {}
    for i, key in keys.items():
        text = blocks[i].text
        if i in zone and (len(exact_edge_pages[key]) >= edge_needed or is_page_number(text)
                          or line_key(text) in page_counters):
            removed[i] = zone[i]
        elif len(exact_any_pages[key]) >= anywhere_needed:
            removed[i] = "watermark"
    return removed


def inline_running_pattern(text: str) -> re.Pattern[str] | None:
    """A running header flattened into the text, e.g. "…年报 WORD 版 …】 第 3 页", as a pattern.

    Looks at every "第 N 页" mark; if three or more are preceded by the same text (at least
    ten characters), that text plus the mark is the pattern. None if there is no such text.
    """
    marks = list(_INLINE_PAGE_MARK.finditer(text))
    if len(marks) < 3:
        return None
    windows = [text[max(0, m.start() - MAX_FURNITURE_CHARS): m.start()] for m in marks]
    suffix = windows[0]
    for window in windows[1:]:
        n = 0
        while n < min(len(suffix), len(window)) and suffix[-1 - n] == window[-1 - n]:
            n += 1
        suffix = suffix[len(suffix) - n:]
    suffix = suffix.lstrip()
    if len(suffix.strip()) < 10:
        return None
    return re.compile(re.escape(suffix) + r"\s*" + _INLINE_PAGE_MARK.pattern)


# ---------------------------------------------------------------------------
# Text-layer quality
# ---------------------------------------------------------------------------

_CID = re.compile(r"\(cid:\d+\)")


def _plausible(ch: str) -> bool:
    cp = ord(ch)
    if ch.isspace() or 0x20 <= cp < 0x7F:
        return True
    if 0x4E00 <= cp <= 0x9FFF:
        return True  # CJK ideographs (Extension A and beyond are rare enough to be suspicious)
    if 0x3000 <= cp <= 0x30FF or 0xFF00 <= cp <= 0xFFEF or 0x2000 <= cp <= 0x206F:
        return True  # CJK punctuation, kana, full-width forms, general punctuation
    if 0x2460 <= cp <= 0x24FF or 0x2160 <= cp <= 0x217F or 0x25A0 <= cp <= 0x25FF or 0x2605 <= cp <= 0x2606:
        return True  # ①, Ⅰ, ■ □ ○ ●, ★ ☆
    if 0xE000 <= cp <= 0xF8FF or 0xFFF0 <= cp <= 0xFFFF or 0x3400 <= cp <= 0x4DBF:
        return False  # private use (unmapped glyphs), replacement/non-characters, rare CJK Ext. A
    category = unicodedata.category(ch)
    return category[0] in "LN" or category in ("Pd", "Ps", "Pe", "Po", "Sm", "Sc")


#: Runs of characters ``_plausible`` accepts without a lookup (the common case), removed before counting.
_PLAUSIBLE_RUN = re.compile("[\x20-\x7e\u4e00-\u9fff\u3000-\u30ff\uff00-\uffef\u2000-\u206f"
                            "\u2460-\u24ff\u2160-\u217f\u25a0-\u25ff\u2605\u2606]+")


# OCR-style confusions inside numbers: "20I5", "Z0l5", "2016-lo-28".
_CONFUSED_NUMBER = re.compile(r"(?=(?:[^\d]*\d){2})(?=[\d-]*[IlOoZ])[\dIlOoZ][\dIlOoZ-]{2,}")
_WORD = re.compile(r"[A-Za-z]{3,}|[\u4e00-\u9fff]{2,}")


def text_quality_warnings(text: str) -> list[ParseWarning]:
    """``no_text_layer`` when there is no text; ``garbled_text_layer`` when it is implausible:
    (cid:N) placeholders, private-use or replacement characters, symbol noise, or numbers
    full of letter/digit confusions with almost no words around them."""
    visible = "".join(text.split())
    if not visible:
        return [warning("no_text_layer")]
    cids = len(_CID.findall(text))
    sample = _CID.sub("", visible)[:200_000]
    bad = sum(1 for ch in _PLAUSIBLE_RUN.sub("", sample) if not _plausible(ch))
    # "(cid:123)" is about 9 characters; a few in a long document are a font quirk, not a garbled layer.
    cid_share = cids * 9 / len(visible)
    if (cids >= 3 and cid_share > 0.02) or (sample and bad / len(sample) > 0.08):
        return [warning("garbled_text_layer")]
    tokens = text.split()
    confused = sum(1 for t in tokens if _CONFUSED_NUMBER.fullmatch(t.strip("()[]:;,.")))
    words = sum(1 for t in tokens if _WORD.search(t))
    if confused >= 5 and confused / max(1, len(tokens)) > 0.03 and words / max(1, len(tokens)) < 0.2:
        return [warning("garbled_text_layer")]
    return []


# ---------------------------------------------------------------------------
# Reflow: PDF lines back into paragraphs, for reading and analysis
# ---------------------------------------------------------------------------

_PARAGRAPH_END = tuple("。！？；：!?;:」』”）)")
_PARAGRAPH_START = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[\.．、]|第[一二三四五六七八九十百\d]+[章节条]|附件)")
_CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def _full_line_length(paragraphs: list[Paragraph]) -> int:
    lengths = sorted(len(p.text) for p in paragraphs if p.page is not None)
    return lengths[int(len(lengths) * 0.9)] if lengths else 0


def reflow(paragraphs: list[Paragraph]) -> list[str]:
    """Join visual lines (PDF) that continue a paragraph; keep real paragraph breaks.

    A line continues the previous one when the previous line is full (at least 80% of the
    usual full line length), does not end a sentence, and the new line does not start an
    enumeration (一、 （一） 1. 第X条 附件). Lines of CJK text join without a space (a
    number broken across lines stays one number); Latin lines join with one.
    Paragraphs without a page (Word, text) are real paragraphs and are never joined.
    """
    full = _full_line_length(paragraphs)
    out: list[str] = []
    can_continue = False
    for p in paragraphs:
        text = p.text
        if out and can_continue and p.page is not None and not _PARAGRAPH_START.match(text):
            prev = out[-1]
            joiner = "" if _CJK.search(prev[-12:] + text[:12]) else " "
            out[-1] = prev + joiner + text
        else:
            out.append(text)
        can_continue = (p.page is not None and full > 0 and len(text) >= 0.8 * full
                        and not text.endswith(_PARAGRAPH_END))
    return out


# ---------------------------------------------------------------------------
# The cleaning step
# ---------------------------------------------------------------------------


def clean(doc: ParsedDocument) -> ParsedDocument:
    """Remove page furniture from the body (keeping it as hidden text), tidy text, judge quality."""
    blocks = doc.blocks
    hidden = list(doc.hidden)
    removed = find_running_lines(blocks) if doc.page_count >= 1 else {}
    seen_furniture: Counter[str] = Counter()
    kept: list = []
    for i, block in enumerate(blocks):
        kind = removed.get(i)
        if kind:
            assert isinstance(block, Paragraph)  # find_running_lines only picks paragraphs
            key = line_key(block.text)
            if not seen_furniture[key]:
                hidden.append(HiddenText(kind=kind, text=block.text, where=f"第 {block.page} 页（各页重复）"))
            seen_furniture[key] += 1
            continue
        kept.append(block)

    inline = inline_running_pattern("\n".join(b.text for b in kept if isinstance(b, Paragraph)))
    inline_found: list[str] = []
    cleaned: list = []
    for block in kept:
        if isinstance(block, Paragraph):
            text = block.text
            if inline is not None:
                inline_found.extend(inline.findall(text))
                text = inline.sub(" ", text)
            text = display_form(text)
            if text:
                cleaned.append(replace(block, text=text))
        else:
            rows = tuple(tuple(display_form(c) for c in row) for row in block.rows)
            if any(any(c for c in row) for row in rows):
                cleaned.append(Table(rows=rows, page=block.page))

    if inline_found:
        hidden.append(HiddenText(kind="header", text=inline_found[0].strip(),
                                 where=f"正文中重复 {len(inline_found)} 次的页眉"))
    # no_text_layer is judged here from what is left; a parser's garbled_text_layer stands
    # (it may know from the file's structure that the text is glyph codes: OFD's embedded
    # fonts), unless nothing is left to be garbled.
    body = ParsedDocument(blocks=tuple(cleaned), page_count=doc.page_count).body_text()
    quality = [replace(w, pages=tuple(range(1, doc.page_count + 1))) if w.code == "no_text_layer" and doc.page_count
               else w for w in text_quality_warnings(body)]
    dropped = ("no_text_layer", "garbled_text_layer") if not "".join(body.split()) else ("no_text_layer",)
    warnings = [w for w in doc.warnings if w.code not in dropped]
    warnings.extend(quality)
    pages_with_text = {b.page for b in cleaned if b.page is not None}
    if pages_with_text and doc.page_count > 1:
        empty = [n for n in range(1, doc.page_count + 1) if n not in pages_with_text]
        if empty and len(empty) < doc.page_count:
            shown = "、".join(str(n) for n in empty[:20]) + ("…" if len(empty) > 20 else "")
            warnings.append(warning("partial_text_layer", pages=empty, page_list=f"第 {shown} 页"))
    return replace(doc, blocks=tuple(cleaned), hidden=tuple(hidden), warnings=tuple(dict.fromkeys(warnings)))
