"""Character-level normalization shared by cleaning, metadata, tokenizing and privacy scanning.

Two forms of every text exist: the *display* form (what the document says, only whitespace
tidied) and the *analysis* form (full-width ASCII folded to half-width, traditional
characters converted to simplified) that tokenizers and classifiers read.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Full-width ASCII variants (！ to ～) and the ideographic space fold to ASCII; CJK
# punctuation such as ，。、；：「」〔〕 is kept, since 公文 conventions depend on it.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
# Punctuation that carries meaning in 公文 and must survive width folding.
for keep in "，。、；：？！（）":
    _FULLWIDTH.pop(ord(keep), None)

_SPACES = re.compile(r"[ \t\u00a0\u2002-\u200b\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200c-\u200f\u2060-\u2064\ufeff\u00ad]")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def fold_width(text: str) -> str:
    """Full-width ASCII letters, digits and most symbols to half-width."""
    return text.translate(_FULLWIDTH)


def tidy_whitespace(text: str) -> str:
    """Drop invisible characters, collapse runs of spaces, trim lines, limit blank lines."""
    text = _INVISIBLE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to simplified (OpenCC t2s)."""
    return _t2s().convert(text) if text else text


def analysis_form(text: str) -> str:
    """The form analysis reads: NFC, half-width ASCII, simplified characters, tidy whitespace."""
    text = unicodedata.normalize("NFC", text)
    return tidy_whitespace(to_simplified(fold_width(text)))


def display_form(text: str) -> str:
    """The form shown to people: the document's own characters, whitespace tidied."""
    return tidy_whitespace(unicodedata.normalize("NFC", text))
