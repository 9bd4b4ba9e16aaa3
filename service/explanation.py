"""Explanations: the words of a document that pushed it toward a category.

The model reads word 1–2-grams and character 2–3-grams of each field. Listed feature by
feature, an explanation is hard to read: a character n-gram such as 作报 (from 工作报告) or
定任 (from 决定任命) is no word at all, and one word fills several places (人工, 人工智, 工智,
工智能, 智能 are all 人工智能). So each feature's contribution — its weight for the category,
relative to the average category, times its value in the document — is handed to the
document's own words:

- a word unigram to that word; a word bigram half to each of its two words;
- a character n-gram to the words its occurrences overlap, in proportion to the characters
  overlapped, split equally over its occurrences (the feature counts them together);
- a metadata token (文号, 文号:任, 体裁 …) stays as it is.

Words are ranked per field (title, body, metadata) by what they received in all. What the
model used is thereby redistributed, not changed: the contributions of a field's features
and of its words have the same sum.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Sequence

import numpy as np

from service import features as F
from service.text import DocumentTokens

#: Which tokens each feature group was built from, and the field its words are shown under.
GROUP_FIELDS = {"title_words": "title", "title_chars": "title", "body_words": "body",
                "body_head_chars": "body", "meta": "metadata"}
#: Character n-gram groups, in the order ``FeatureWords.group`` numbers them.
CHAR_GROUPS = ("title_chars", "body_head_chars")
#: How the fields are named to staff; title_chars and body_head_chars are the fields of
#: explanations stored before words were explained (feature by feature).
FIELD_LABELS_ZH = {"title": "标题", "body": "正文", "metadata": "公文要素",
                   "title_chars": "标题字", "body_head_chars": "正文开头"}

#: Metadata tokens (``service.features.meta_tokens``) as staff read them.
_META_LABELS = {"文号": "有发文字号", "文号:规": "发文字号含“规”（规范性文件编号）",
                "文号:任": "发文字号含“任”（任免文号）", "文种:无": "未识别文种"}
_META_PREFIXES = (("体裁题:", "标题自称“{}”"), ("体裁文:", "正文自称“本{}”"), ("体裁:", "体裁属“{}”类"),
                  ("文种:", "文种为“{}”"))


def term_label(term: str, field: str) -> str:
    """How an explanation term is shown: a word as it is, a metadata token in words."""
    if field != "metadata":
        return term
    if term in _META_LABELS:
        return _META_LABELS[term]
    for prefix, label in _META_PREFIXES:
        if term.startswith(prefix):
            return label.format(term[len(prefix):])
    return term


FIELDS = ("title", "body", "metadata")
_WORD, _CHAR, _META = 0, 1, 2


@dataclass(frozen=True)
class FeatureWords:
    """What every feature of a fitted feature union is made of (built once per model):
    its group kind, the field its words are shown under and, for a word n-gram, the ids
    of its one or two words."""
    kind: np.ndarray      # _WORD, _CHAR or _META per feature
    field: np.ndarray     # index into FIELDS
    first: np.ndarray     # word id (or the term's own id for metadata), −1 for a character n-gram
    second: np.ndarray    # the bigram's second word id, −1 otherwise
    group: np.ndarray     # index into CHAR_GROUPS for a character n-gram, −1 otherwise
    char_codes: np.ndarray  # a character n-gram's features.char_code, 0 otherwise
    terms: np.ndarray     # the term itself (object array): n-gram, word or metadata token
    words: tuple[str, ...]
    ids: dict[str, int]   # word → id

    @classmethod
    def of(cls, names: Sequence[str]) -> "FeatureWords":
        n = len(names)
        kind, field = np.full(n, _META, dtype=np.int8), np.zeros(n, dtype=np.int8)
        first, second, group = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int8)
        terms = np.empty(n, dtype=object)
        char_codes = np.zeros(n, dtype=np.uint64)
        ids: dict[str, int] = {}
        for i, name in enumerate(names):
            group_name, _, term = str(name).partition("__")
            terms[i] = term
            field[i] = FIELDS.index(GROUP_FIELDS.get(group_name, "metadata"))
            if group_name in CHAR_GROUPS:
                kind[i], group[i], char_codes[i] = _CHAR, CHAR_GROUPS.index(group_name), F.char_code(term)
                continue
            kind[i] = _WORD if group_name in ("title_words", "body_words") else _META
            parts = term.split(" ", 1) if kind[i] == _WORD else [term]
            first[i] = ids.setdefault(parts[0], len(ids))
            if len(parts) == 2:
                second[i] = ids.setdefault(parts[1], len(ids))
        return cls(kind, field, first, second, group, char_codes, terms, tuple(ids), ids)


def _spread_ngrams(codes: np.ndarray, amounts: np.ndarray, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each character n-gram's amount handed to the tokens its occurrences overlap, by
    characters overlapped and split over its occurrences. ``codes`` are the n-grams'
    ``features.char_code``; returns the amount per token position, and which n-grams do
    not occur in the tokens."""
    text = "".join(tokens)   # as the character n-gram analyzer joins them
    owners = np.repeat(np.arange(len(tokens)), [len(t) for t in tokens])
    found, starts, sizes = F.text_char_codes(text)
    order = np.argsort(codes, kind="stable")
    where = np.minimum(np.searchsorted(codes[order], found), len(codes) - 1)
    hit = codes[order][where] == found
    gram, start, size = order[where[hit]], starts[hit], sizes[hit]
    count = np.bincount(gram, minlength=len(codes))
    per_char = amounts[gram] / (count[gram] * size)
    positions = np.concatenate([start, start + 1, start[size == 3] + 2])
    weights = np.concatenate([per_char, per_char, per_char[size == 3]])
    per_token = np.bincount(owners[positions], weights=weights, minlength=len(tokens))
    return per_token, count == 0


def word_contributions(feature_words: FeatureWords, idx: np.ndarray, push: np.ndarray,
                       doc: DocumentTokens) -> dict[tuple[str, str], float]:
    """``{(field, word): contribution}`` from the contributions ``push`` of the features
    ``idx`` (columns of the feature union that ``feature_words`` describes) of one document."""
    keys, amounts, named = _contributions(feature_words, idx, push, doc)
    return {named(int(k)): float(a) for k, a in zip(keys, amounts)}


def _contributions(fw: FeatureWords, idx: np.ndarray, push: np.ndarray, doc: DocumentTokens):
    """Contributions per (field, word) as integer keys and amounts, and the key → (field,
    word) decoder. Word n-grams and metadata tokens are summed vectorized; character n-grams
    go through ``_spread_ngrams`` over the document's own tokens."""
    push = np.asarray(push, dtype=np.float64)
    size = len(fw.words)
    kind = fw.kind[idx]
    plain = kind != _CHAR
    first, second, field = fw.first[idx[plain]], fw.second[idx[plain]], fw.field[idx[plain]].astype(np.int64)
    amount = push[plain] * np.where(second >= 0, 0.5, 1.0)
    pair = second >= 0
    key_parts = [field * size + first, field[pair] * size + second[pair]]
    amount_parts = [amount, amount[pair]]
    unknown: dict[tuple[str, str], int] = {}     # words of the document that are no feature's word
    for group, (field_name, tokens) in enumerate((("title", doc.title), ("body", doc.body[:F.HEAD_TOKENS]))):
        chosen = (kind == _CHAR) & (fw.group[idx] == group)
        if not chosen.any():
            continue
        columns = idx[chosen]
        per_token, absent = _spread_ngrams(fw.char_codes[columns], push[chosen], tokens)
        base = FIELDS.index(field_name) * size
        ids = np.fromiter(map(fw.ids.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        known = ids >= 0
        key_parts.append(base + ids[known])
        amount_parts.append(per_token[known])
        strays = [*zip((t for t, k in zip(tokens, known) if not k), per_token[~known].tolist()),
                  *zip(fw.terms[columns[absent]].tolist(), push[chosen][absent].tolist())]
        if strays:   # words no feature names, and n-grams not found among the tokens
            key_parts.append(np.array([unknown.setdefault((field_name, word), len(FIELDS) * size + len(unknown))
                                       for word, _ in strays], dtype=np.int64))
            amount_parts.append(np.array([amount for _, amount in strays], dtype=np.float64))
    keys, inverse = np.unique(np.concatenate(key_parts), return_inverse=True)
    amounts = np.bincount(inverse, weights=np.concatenate(amount_parts), minlength=len(keys))
    by_key = {k: name for name, k in unknown.items()}

    def named(key: int) -> tuple[str, str]:
        if key >= len(FIELDS) * size:
            return by_key[key]
        return FIELDS[key // size], fw.words[key % size]

    return keys, amounts, named


def top_words(feature_words: FeatureWords, idx: np.ndarray, push: np.ndarray, doc: DocumentTokens,
              n: int) -> list[dict[str, Any]]:
    """The ``n`` words that pushed hardest toward the category (positive contributions only),
    as ``{"term", "field", "weight"}``, strongest first (ties: field, then word)."""
    keys, amounts, named = _contributions(feature_words, idx, push, doc)
    out: list[tuple[float, str, str]] = []
    for k in np.argsort(-amounts, kind="stable"):
        amount = float(amounts[k])
        if amount <= 0 or (len(out) >= n and amount < out[-1][0]):
            break
        field, word = named(int(keys[k]))
        if word != F.META_PLACEHOLDER and readable(word):
            out.append((amount, field, word))
    out.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [{"term": word, "field": field, "weight": round(amount, 4)} for amount, field, word in out[:n]]


def readable(word: str) -> bool:
    """A word worth showing: it has a letter or digit (not punctuation alone)."""
    return any(ch.isalnum() for ch in word)
