"""Tokenizer: jieba precise mode with a government-domain dictionary and stop words.

Text is brought to its analysis form (``service.analysis.normalize.analysis_form``: half-width,
traditional → simplified) before segmentation. Segmentation is jieba's precise mode with
the HMM off (faster, and closer to gold segmentation on 公文). The engine is rjieba (jieba's
Rust port, ~10× faster) when it is installed and jieba otherwise; both load the same
explicit-frequency user dictionary and give identical tokens (tests prove it).

After segmentation, whitespace and punctuation are dropped, stop words are dropped,
Latin letters are lower-cased and numbers become ``#``. Single-character tokens are kept:
县, 镇, 令, 条 … carry signal. ``DocumentTokens`` is what gets stored with a document so a
later re-classification never re-segments; besides the title and body tokens it holds the
文种, the 发文字号 and the 体裁 (what the document calls itself: 制定本行动计划 → 行动计划).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from service.analysis.normalize import analysis_form

#: Bump when the token stream for the same text would change (dictionary, filters, engine
#: options). Models record it and refuse tokens of another format.
TOKEN_FORMAT = 1
NUMBER_TOKEN = "#"
GENRE_HEAD_CHARS = 1500
ENGINES = ("rjieba", "jieba")

_KEEP = re.compile(r"[0-9a-zA-Z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NUMBER = re.compile(r"[0-9][0-9.,%]*")

# The 15 文种 of 党政机关公文 (GB/T 9704 / 党政机关公文处理工作条例), longest first.
DOC_TYPES = ("决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告",
             "请示", "批复", "议案", "纪要", "函", "令")
_TITLE_TAIL = re.compile(r"[(（【\[][^()（）【】\[\]]*[)）】\]]\s*$")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔\[（(]\s*(?:19|20)\d{2}\s*[〕\]）)]\s*第?\s*\d{1,4}\s*号")
_NOT_TITLE = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|第[一二三四五六七八九十百\d]+[章条节]"
                        r"|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、])")


def _data_path(name: str):
    return resources.files("service").joinpath("data", name)


def _read_lines(name: str) -> list[str]:
    text = _data_path(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=1)
def user_dictionary() -> tuple[tuple[str, int], ...]:
    """The shipped user dictionary as (word, frequency) pairs."""
    entries = []
    for line in _read_lines("userdict.txt"):
        word, _, freq = line.partition(" ")
        entries.append((word.strip(), int(freq.strip() or 1000)))
    return tuple(entries)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """The shipped stop words (already in analysis form)."""
    return frozenset(_read_lines("stopwords.txt"))


def available_engines() -> list[str]:
    found = []
    for name in ENGINES:
        try:
            __import__(name)
        except ImportError:
            continue
        found.append(name)
    return found


class Tokenizer:
    """One segmentation engine with the user dictionary loaded.

    ``engine`` is ``"rjieba"`` or ``"jieba"``; None picks rjieba when installed.
    """

    def __init__(self, engine: str | None = None) -> None:
        if engine is None:
            engine = available_engines()[0]
        if engine not in ENGINES:
            raise ValueError(f"unknown tokenizer engine {engine!r}; expected one of {ENGINES}")
        self.engine = engine
        self._stop = stop_words()
        # The two engines' objects share no interface: each branch binds its own to ``_cut``.
        self._impl: object
        self._cut: Callable[[str], list[str]]
        if engine == "rjieba":
            import rjieba

            fast = rjieba.Jieba()
            for word, freq in user_dictionary():
                fast.add_word(word, freq, None)
            self._impl = fast
            self._cut = lambda text: fast.cut(text, False)
        else:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            slow = jieba.Tokenizer()
            slow.initialize()
            for word, freq in user_dictionary():
                slow.add_word(word, freq)
            self._impl = slow
            self._cut = lambda text: slow.lcut(text, cut_all=False, HMM=False)

    def segment(self, text: str) -> list[str]:
        """Raw precise-mode segmentation of ``text`` as given (whitespace and punctuation kept)."""
        return self._cut(text) if text else []

    def filter(self, raw: Iterable[str]) -> list[str]:
        """Drop whitespace, punctuation and stop words; lower-case Latin; numbers → ``#``."""
        out = []
        stop = self._stop
        for token in raw:
            if not _KEEP.search(token) or token in stop:
                continue
            if token.isascii():
                token = NUMBER_TOKEN if _NUMBER.fullmatch(token) else token.lower()
            out.append(token)
        return out

    def tokens(self, text: str, analysed: bool = False) -> list[str]:
        """Analysis form (unless ``analysed``), segmentation, filtering."""
        if not analysed:
            text = analysis_form(text)
        return self.filter(self.segment(text))


@lru_cache(maxsize=2)
def get_tokenizer(engine: str | None = None) -> Tokenizer:
    """The process-wide tokenizer for ``engine`` (built once; rjieba ~0.05 s, jieba ~0.5 s)."""
    return Tokenizer(engine)


@dataclass(frozen=True, slots=True)
class DocumentTokens:
    """The tokens of one document, as stored beside it. ``doc_type`` is the 文种 if known."""

    title: tuple[str, ...]
    body: tuple[str, ...]
    doc_type: str | None = None
    doc_number: str | None = None
    genre: tuple[str, ...] = ()
    format: int = TOKEN_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "title": list(self.title), "body": list(self.body),
                "doc_type": self.doc_type, "doc_number": self.doc_number, "genre": list(self.genre)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DocumentTokens:
        return cls(title=tuple(data.get("title") or ()), body=tuple(data.get("body") or ()),
                   doc_type=data.get("doc_type"), doc_number=data.get("doc_number"),
                   genre=tuple(data.get("genre") or ()), format=int(data.get("format", TOKEN_FORMAT)))


def tokenize_document(title: str | None, body: str, *, doc_type: str | None = None,
                      doc_number: str | None = None, tokenizer: Tokenizer | None = None,
                      analysed: bool = False) -> DocumentTokens:
    """Tokens of a document's title and body, plus its 文种, 发文字号 and 体裁.

    A missing title is guessed from the body's first line (``guess_title``). A missing
    文种 is read from the title's last word, a missing 发文字号 from the body's head; the
    体裁 (what the document calls itself) from the title's 《…》 and the body's 制定本….
    """
    tokenizer = tokenizer or get_tokenizer()
    body = (body or "") if analysed else analysis_form(body or "")
    title = analysis_form(title) if title else title   # idempotent; titles are short
    if not title:
        title = guess_title(body)
    return DocumentTokens(
        title=tuple(tokenizer.tokens(title or "", analysed=True)),
        body=tuple(tokenizer.tokens(body, analysed=True)),
        doc_type=doc_type or doc_type_from_title(title),
        doc_number=doc_number or find_doc_number(body[:600]),
        genre=genre_of(title, body[:GENRE_HEAD_CHARS]),
    )


def guess_title(text: str) -> str | None:
    """The first line of ``text`` if it looks like a title, else None.

    A title line is 4–80 characters, has Chinese, is no table row, enumeration item,
    salutation (ends with ：) or sentence (ends with 。).
    """
    for line in (text or "").splitlines():
        line = line.strip().lstrip("#").strip()
        if not line:
            continue
        if (4 <= len(line) <= 80 and re.search(r"[\u4e00-\u9fff]", line) and "|" not in line
                and not line.endswith((":", "：", "。", ";", "；", ",", "，"))
                and not _NOT_TITLE.match(line)):
            return line
        return None
    return None


def _strip_tail(title: str | None) -> str:
    """A title without up to two trailing (…) notes: 行动计划(2024-2025年) → 行动计划."""
    title = (title or "").strip()
    for _ in range(2):
        stripped = _TITLE_TAIL.sub("", title).strip()
        if not stripped or stripped == title:
            break
        title = stripped
    return title


def doc_type_from_title(title: str | None) -> str | None:
    """The 公文 文种 a title ends with (关于…的通知 → 通知), ignoring a trailing (…) note."""
    title = _strip_tail(title)
    if not title:
        return None
    for doc_type in DOC_TYPES:
        if title.endswith(doc_type):
            return doc_type
    return None


def find_doc_number(text: str) -> str | None:
    """The first 发文字号 (e.g. 长政干任〔2025〕5号) in ``text``, spaces removed."""
    match = _DOC_NUMBER.search(text or "")
    return re.sub(r"\s+", "", match.group(0)) if match else None


# What a document calls itself (体裁): 印发《…应急预案》 in a title, the title's last word, or
# "制定本行动计划" in the body. Longest names first; each maps to a coarse genre as well.
GENRES = (
    ("总体应急预案", "预案"), ("专项应急预案", "预案"), ("应急预案", "预案"), ("预案", "预案"),
    ("远景目标纲要", "规划"), ("规划纲要", "规划"), ("发展规划", "规划"), ("专项规划", "规划"),
    ("纲要", "规划"), ("规划", "规划"),
    ("行动计划", "计划"), ("工作计划", "计划"), ("年度计划", "计划"), ("计划", "计划"),
    ("行动方案", "方案"), ("实施方案", "方案"), ("工作方案", "方案"), ("方案", "方案"),
    ("工作要点", "要点"), ("要点", "要点"),
    ("实施细则", "细则"), ("细则", "细则"), ("管理办法", "办法"), ("实施办法", "办法"),
    ("暂行办法", "办法"), ("办法", "办法"), ("规定", "规定"), ("条例", "条例"), ("规则", "规则"),
    ("实施意见", "意见"), ("指导意见", "意见"), ("意见", "意见"),
    ("政策措施", "措施"), ("若干措施", "措施"), ("措施", "措施"),
    ("信息公开指南", "公开指南"), ("办事指南", "指南"), ("服务指南", "指南"), ("指南", "指南"),
    ("目录", "目录"), ("清单", "清单"), ("政府工作报告", "报告"), ("工作报告", "报告"), ("报告", "报告"),
)
_GENRE_ALT = "|".join(name for name, _ in GENRES)
_GENRE_COARSE = dict(GENRES)
_TITLE_GENRE = re.compile(rf"(?:印发|转发|发布|公布|颁布)《[^《》]*?({_GENRE_ALT})(?:[(（][^()（）]*[)）])?》")
_TITLE_END_GENRE = re.compile(rf"({_GENRE_ALT})$")
_SELF_GENRE = re.compile(rf"(?:制定|制订|编制|修订|印发|出台)了?本({_GENRE_ALT})")


def genre_of(title: str | None, body_head: str | None) -> tuple[str, ...]:
    """体裁 tokens: what the title's 《…》 or last word and the body's 制定本… call the document."""
    found = []
    title = _strip_tail(title or "")
    match = _TITLE_GENRE.search(title) or _TITLE_END_GENRE.search(title)
    if match:
        found += [f"体裁题:{match.group(1)}", f"体裁:{_GENRE_COARSE[match.group(1)]}"]
    match = _SELF_GENRE.search(body_head or "")
    if match:
        found += [f"体裁文:{match.group(1)}", f"体裁:{_GENRE_COARSE[match.group(1)]}"]
    return tuple(found)
