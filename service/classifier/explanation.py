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

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from service.analysis.tokenizer import DocumentTokens
from service.classifier import features as F

#: Which tokens each feature group was built from, and the field its words are shown under.
GROUP_FIELDS = {"title_words": "title", "title_chars": "title", "body_words": "body",
                "body_head_chars": "body", "meta": "metadata"}
#: Character n-gram groups, in the order ``FeatureWords.group`` numbers them.
CHAR_GROUPS = ("title_chars", "body_head_chars")
#: How the fields are named to staff; title_chars and body_head_chars are the fields of
#: explanations stored before words were explained (feature by feature).
FIELD_LABELS_ZH = {"title": "标题", "body": "正文", "metadata": "公文要素",
                   "title_chars": "标题字", "body_head_chars": "正文开头"}

#: Metadata tokens (``service.classifier.features.meta_tokens``) as staff read them.
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
    its kind, the field its words are shown under, for a word n-gram the ids of its one or
    two words, and for each character n-gram group a table from n-gram code to column."""
    kind: np.ndarray      # _WORD, _CHAR or _META per feature
    field: np.ndarray     # index into FIELDS
    first: np.ndarray     # word id (a metadata token's own id), −1 for a character n-gram
    second: np.ndarray    # the bigram's second word id, −1 otherwise
    group: np.ndarray     # index into CHAR_GROUPS for a character n-gram, −1 otherwise
    terms: np.ndarray     # the term itself (object array): n-gram, word or metadata token
    words: tuple[str, ...]
    ids: dict[str, int]   # word → id
    tables: tuple[F.CodeTable, ...]   # per CHAR_GROUPS: features.char_code → column
    shown: np.ndarray     # per word id: worth showing (``shown``)

    @classmethod
    def of(cls, names: Sequence[str] | np.ndarray) -> FeatureWords:
        n = len(names)
        kind, field = np.full(n, _META, dtype=np.int8), np.zeros(n, dtype=np.int8)
        first, second = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        group, terms = np.full(n, -1, dtype=np.int8), np.empty(n, dtype=object)
        codes: tuple[tuple[list[int], list[int]], ...] = tuple(([], []) for _ in CHAR_GROUPS)
        ids: dict[str, int] = {}
        for i, name in enumerate(names):
            group_name, _, term = str(name).partition("__")
            terms[i] = term
            field[i] = FIELDS.index(GROUP_FIELDS.get(group_name, "metadata"))
            if group_name in CHAR_GROUPS:
                kind[i], group[i] = _CHAR, CHAR_GROUPS.index(group_name)
                codes[group[i]][0].append(F.char_code(term))
                codes[group[i]][1].append(i)
                continue
            kind[i] = _WORD if group_name in ("title_words", "body_words") else _META
            parts = term.split(" ", 1) if kind[i] == _WORD else [term]
            first[i] = ids.setdefault(parts[0], len(ids))
            if len(parts) == 2:
                second[i] = ids.setdefault(parts[1], len(ids))
        tables = tuple(F.CodeTable(c, cols) for c, cols in codes)
        shown_ids = np.fromiter(map(shown, ids), dtype=bool, count=len(ids))
        return cls(kind, field, first, second, group, terms, tuple(ids), ids, tables, shown_ids)


def _group_tokens(group: int, doc: DocumentTokens) -> Sequence[str]:
    """The tokens a character n-gram group was built from (as ``features.make_features``)."""
    return doc.title if CHAR_GROUPS[group] == "title_chars" else doc.body[:F.HEAD_TOKENS]


class _Totals:
    """Contributions summed per (document, field, word) for a set of documents at once.

    The features' contributions come flattened: ``rows`` (which document), ``columns``
    (which feature) and ``push``. Word n-grams and metadata tokens are keyed directly; the
    character n-grams of all documents are found in their tokens in one pass (n-grams never
    spanning two documents) and handed to the tokens they overlap. A word no feature names
    (a token only n-grams reach, or an n-gram not found) gets an id after the model's words.
    """

    def __init__(self, fw: FeatureWords, rows: np.ndarray, columns: np.ndarray, push: np.ndarray,
                 docs: Sequence[DocumentTokens]) -> None:
        self.fw, self.size = fw, len(fw.words)
        self.extra: dict[str, int] = {}          # words beyond the model's, → id
        push = np.asarray(push, dtype=np.float64)
        kind = fw.kind[columns]
        entry_keys = rows.astype(np.int64) * len(fw.kind) + columns
        order = np.argsort(entry_keys, kind="stable")
        parts = []                                # (document, field, word id, amount) arrays
        self._found = np.zeros(len(push), dtype=bool)   # character n-gram entries found in the tokens
        for group in range(len(CHAR_GROUPS)):
            parts.append(self._characters(group, docs, entry_keys[order], order, push))
        chars = kind == _CHAR
        absent = chars & ~self._found
        if absent.any():   # cannot happen for features made from these tokens; kept, not lost
            parts.append((rows[absent], fw.field[columns[absent]].astype(np.int64),
                          np.array([self._word_id(t) for t in fw.terms[columns[absent]]], dtype=np.int64),
                          push[absent]))
        plain = ~chars
        first, second = fw.first[columns[plain]], fw.second[columns[plain]]
        field, row, amount = fw.field[columns[plain]].astype(np.int64), rows[plain], push[plain]
        half = np.where(second >= 0, 0.5, 1.0) * amount
        pair = second >= 0
        parts += [(row, field, first, half), (row[pair], field[pair], second[pair], half[pair])]
        self.width = self.size + len(self.extra)
        keys = np.concatenate([(r.astype(np.int64) * len(FIELDS) + f) * self.width + w for r, f, w, _ in parts])
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.amounts = np.bincount(inverse, weights=np.concatenate([a for *_x, a in parts]), minlength=len(self.keys))

    def _word_id(self, word: str) -> int:
        known = self.fw.ids.get(word)
        return known if known is not None else self.extra.setdefault(word, self.size + len(self.extra))

    def _characters(self, group: int, docs, sorted_keys, order, push):
        """(document, field, word id, amount) of the tokens group ``group``'s n-grams overlap."""
        fw = self.fw
        token_lists = [_group_tokens(group, d) for d in docs]
        tokens = [t for ts in token_lists for t in ts]
        token_rows = np.repeat(np.arange(len(docs)), [len(ts) for ts in token_lists])
        owners = np.repeat(np.arange(len(tokens)), [len(t) for t in tokens])   # character → token
        text_rows = token_rows[owners]
        codes, starts, sizes = F.text_char_codes("".join(tokens))
        inside = text_rows[starts] == text_rows[np.minimum(starts + sizes - 1, len(text_rows) - 1)] \
            if len(starts) else np.zeros(0, dtype=bool)
        codes, starts, sizes = codes[inside], starts[inside], sizes[inside]
        columns = fw.tables[group].get(codes) if len(codes) else np.zeros(0, dtype=np.int64)
        known = columns >= 0
        wanted = text_rows[starts[known]].astype(np.int64) * len(fw.kind) + columns[known]
        at = np.minimum(np.searchsorted(sorted_keys, wanted), max(len(sorted_keys) - 1, 0))
        match = sorted_keys[at] == wanted if len(sorted_keys) else np.zeros(len(wanted), dtype=bool)
        entry = order[at[match]]
        start, size = starts[known][match], sizes[known][match]
        count = np.bincount(entry, minlength=len(push))
        self._found |= count > 0
        per_char = push[entry] / (count[entry] * size)
        three = size == 3
        positions = np.concatenate([start, start + 1, start[three] + 2])
        per_token = np.bincount(owners[positions], weights=np.concatenate([per_char, per_char, per_char[three]]),
                                minlength=len(tokens))
        word_ids = np.fromiter(map(fw.ids.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        for k in np.flatnonzero(word_ids < 0):   # tokens only n-grams reach
            word_ids[k] = self._word_id(tokens[k])
        field = FIELDS.index("title" if CHAR_GROUPS[group] == "title_chars" else "body")
        return token_rows, np.full(len(tokens), field, dtype=np.int64), word_ids, per_token

    def decode(self, key: int) -> tuple[int, str, str]:
        """(document, field, word) of a key."""
        row_field, word_id = divmod(int(key), self.width)
        row, field = divmod(row_field, len(FIELDS))
        word = self.fw.words[word_id] if word_id < self.size else self.extra_words()[word_id - self.size]
        return row, FIELDS[field], word

    def extra_words(self) -> list[str]:
        """The words beyond the model's, in id order."""
        if not hasattr(self, "_extra_list"):
            self._extra_list = sorted(self.extra, key=self.extra.__getitem__)
        return self._extra_list


def word_contributions(feature_words: FeatureWords, idx: np.ndarray, push: np.ndarray,
                       doc: DocumentTokens) -> dict[tuple[str, str], float]:
    """``{(field, word): contribution}`` from the contributions ``push`` of the features
    ``idx`` (columns of the feature union that ``feature_words`` describes) of one document."""
    totals = _Totals(feature_words, np.zeros(len(idx), dtype=np.int64), np.asarray(idx), push, [doc])
    return {totals.decode(k)[1:]: float(a) for k, a in zip(totals.keys, totals.amounts, strict=True)}


def top_words_many(feature_words: FeatureWords, rows: np.ndarray, columns: np.ndarray, push: np.ndarray,
                   docs: Sequence[DocumentTokens], n: int) -> list[list[dict[str, Any]]]:
    """For each of ``docs``, the ``n`` words that pushed hardest toward its category
    (positive contributions only) as ``{"term", "field", "weight"}``, strongest first (ties
    in a fixed order: field, then the model's word order). ``rows``/``columns``/``push``:
    each document's feature contributions."""
    totals = _Totals(feature_words, np.asarray(rows), np.asarray(columns), push, docs)
    keys, amounts = totals.keys, totals.amounts
    doc_of, word_of = keys // (totals.width * len(FIELDS)), keys % totals.width
    field_of = (keys // totals.width) % len(FIELDS)
    extra_shown = np.fromiter(map(shown, totals.extra_words()), dtype=bool, count=len(totals.extra))
    valid = (amounts > 0) & np.concatenate([feature_words.shown, extra_shown])[word_of]
    placeholder = feature_words.ids.get(F.META_PLACEHOLDER, -1)     # in every document's metadata
    valid &= ~((field_of == FIELDS.index("metadata")) & (word_of == placeholder))
    order = np.lexsort((keys, -amounts, doc_of))
    order = order[valid[order]]
    first_of_doc = np.searchsorted(doc_of[order], np.arange(len(docs)))
    rank = np.arange(len(order)) - first_of_doc[doc_of[order]]
    out: list[list[dict[str, Any]]] = [[] for _ in docs]
    for k in order[rank < n].tolist():
        d, field, word = totals.decode(keys[k])
        out[d].append({"term": word, "field": field, "weight": round(float(amounts[k]), 4)})
    return out


def top_words(feature_words: FeatureWords, idx: np.ndarray, push: np.ndarray, doc: DocumentTokens,
              n: int) -> list[dict[str, Any]]:
    """``top_words_many`` for one document."""
    return top_words_many(feature_words, np.zeros(len(idx), dtype=np.int64), idx, push, [doc], n)[0]


def shown(word: str) -> bool:
    """A word worth showing: it has a letter or digit (not punctuation alone)."""
    return any(ch.isalnum() for ch in word)
