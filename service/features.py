"""Feature extraction for the classifier, over pre-tokenized documents.

A document enters the model as one row of an object array with three cells: the title
tokens, the head of the body tokens (``BODY_TOKENS``) and the metadata tokens
(``体裁:预案``, ``文号``, ``文号:规`` …). Each field has its own TF-IDF vectorizer:

- ``title_words``: word 1–2-grams of the title (关于/印发/应急预案/通知 carry much of the signal);
- ``title_chars``: character 2–3-grams of the title, robust to segmentation differences;
- ``body_words``: word 1–2-grams of the body head;
- ``body_head_chars``: character 2–3-grams of the first ``HEAD_TOKENS`` body tokens;
- ``meta``: 公文 metadata tokens (体裁, 发文字号 markers; 文种 optional).

The analyzers below are module-level functions so ``skops`` persists them by reference
(they are listed among the artifact's trusted types). Texts never get re-segmented here:
the tokens are the ones ``service.text`` produced and that are stored with the document.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

#: How many body tokens the model reads (the head of a 公文 carries its type: 各位代表 …,
#: 1 总则 1.1 编制目的 …, 一、事项名称 …). Also bounds classification time per document.
BODY_TOKENS = 1500
HEAD_TOKENS = 60
FIELDS = ("title", "body", "meta")


def word_ngrams(tokens: Sequence[str]) -> list[str]:
    """Word unigrams and bigrams (bigrams joined with a space)."""
    tokens = list(tokens)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_ngrams(tokens: Sequence[str]) -> list[str]:
    """Character 2- and 3-grams of the tokens joined without separators."""
    text = "".join(tokens)
    return [text[i:i + n] for n in (2, 3) for i in range(len(text) - n + 1)]


def head_char_ngrams(tokens: Sequence[str]) -> list[str]:
    """Character 2- and 3-grams of the first ``HEAD_TOKENS`` body tokens (the 公文 header:
    发文字号, 主送机关, "各位代表", "1 总则" …)."""
    return char_ngrams(list(tokens)[:HEAD_TOKENS])


def identity(tokens: Sequence[str]) -> list[str]:
    """The tokens as they are (metadata tokens are already features)."""
    return list(tokens)


#: Metadata kinds a model may use; a model stores the ones it was trained with. 文种 is
#: available but off by default: the title words already carry it and, measured by grouped
#: cross-validation, adding it did not help.
META_KINDS = ("genre", "doc_number", "doc_type")
DEFAULT_META = ("genre", "doc_number")
META_PLACEHOLDER = "元"   # present in every document, so the metadata field is never empty


def meta_tokens(doc_type: str | None, doc_number: str | None, genre: Sequence[str] = (),
                kinds: Sequence[str] = DEFAULT_META) -> list[str]:
    """Metadata as tokens: 体裁 (what the document calls itself), the 发文字号's presence and
    its 规/任 markers, and optionally the 文种. Never empty (the vectorizer needs a token)."""
    out = [META_PLACEHOLDER]
    if "genre" in kinds:
        out.extend(genre)
    if "doc_type" in kinds:
        out.append(f"文种:{doc_type}" if doc_type else "文种:无")
    if "doc_number" in kinds and doc_number:
        out.append("文号")
        organ = doc_number.split("〔")[0].split("[")[0]
        if "规" in organ:
            out.append("文号:规")   # registered 行政规范性文件 (五政办规〔2024〕1号)
        if "任" in organ:
            out.append("文号:任")   # appointment numbering (长政干任〔2025〕5号)
    return out


def rows(title_tokens: Sequence[Sequence[str]], body_tokens: Sequence[Sequence[str]],
         metas: Sequence[Sequence[str]]) -> np.ndarray:
    """The model's input: an (n, 3) object array of token lists."""
    n = len(title_tokens)
    out = np.empty((n, len(FIELDS)), dtype=object)
    for i in range(n):
        out[i, 0] = list(title_tokens[i])
        out[i, 1] = list(body_tokens[i][:BODY_TOKENS])
        out[i, 2] = list(metas[i])
    return out



def _vectorizer(analyzer, min_df: int = 1):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=analyzer, lowercase=False, sublinear_tf=True,
                           min_df=min_df, dtype=np.float32)


def make_features():
    """The (unfitted) per-field vectorizers, joined into one sparse matrix."""
    from sklearn.compose import ColumnTransformer

    return ColumnTransformer([
        ("title_words", _vectorizer(word_ngrams), 0),
        ("title_chars", _vectorizer(char_ngrams), 0),
        ("body_words", _vectorizer(word_ngrams, min_df=2), 1),
        ("body_head_chars", _vectorizer(head_char_ngrams, min_df=2), 1),
        ("meta", _vectorizer(identity), 2),
    ], sparse_threshold=1.0)


#: How each field's features are named in explanations.
FIELD_NAMES = {"title_words": "title", "title_chars": "title_chars", "body_words": "body",
               "body_head_chars": "body_head_chars", "meta": "metadata"}


class FastTfidf:
    """``vectorizer.transform`` for our TF-IDF settings, several times faster.

    Unigram lookups run in C (``map(dict.get, …)``); word bigrams are never built as strings:
    each is coded as (id of first word) × V + (id of second word) and found by binary search
    in the sorted codes of the vocabulary's bigrams (a bigram kept by ``min_df`` implies both
    its words were kept, so every known bigram has a code). Counting, sublinear TF, IDF and
    l2 normalization are numpy. Results equal scikit-learn's to float32 precision (tested).
    """

    def __init__(self, vectorizer) -> None:
        self.vectorizer = vectorizer
        self.word_bigrams = vectorizer.analyzer is word_ngrams
        vocab = vectorizer.vocabulary_
        self.get = vocab.get
        self.idf = vectorizer.idf_
        self.n_features = len(self.idf)
        if self.word_bigrams:
            self.size = len(vocab) + 1
            codes, columns = [], []
            for term, column in vocab.items():
                first, space, second = term.partition(" ")
                if space:
                    a, b = vocab.get(first), vocab.get(second)
                    if a is None or b is None:   # cannot happen with min_df; stay exact anyway
                        self.word_bigrams = False
                        break
                    codes.append(a * self.size + b)
                    columns.append(column)
            order = np.argsort(codes)
            self.codes = np.asarray(codes, dtype=np.int64)[order]
            self.columns = np.asarray(columns, dtype=np.int64)[order]

    def _occurrences(self, docs) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known feature occurrence in ``docs``, all documents at once.

        One lookup pass over the documents' tokens laid end to end (no per-document numpy
        calls: those cost more than the work for short fields); bigrams never span two rows.
        """
        from itertools import chain, repeat

        features = docs if self.word_bigrams else [self.vectorizer.analyzer(doc) for doc in docs]
        lengths = np.fromiter(map(len, features), dtype=np.int64, count=len(features))
        total = int(lengths.sum())
        ids = np.fromiter(map(self.get, chain.from_iterable(features), repeat(-1)), dtype=np.int64, count=total)
        rows = np.repeat(np.arange(len(features), dtype=np.int64), lengths)
        known = ids >= 0
        if not self.word_bigrams or not len(self.codes):
            return rows[known], ids[known]
        pair = known[:-1] & known[1:] & (rows[:-1] == rows[1:])
        codes = ids[:-1][pair] * self.size + ids[1:][pair]
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        hit = self.codes[at] == codes
        return (np.concatenate([rows[known], rows[:-1][pair][hit]]),
                np.concatenate([ids[known], self.columns[at[hit]]]))

    def parts(self, docs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR arrays (indptr, column ids, l2-normalized sublinear tf-idf values) of ``docs``."""
        n = len(docs)
        rows, columns = self._occurrences(docs)
        keys, counts = np.unique(rows * self.n_features + columns, return_counts=True)  # sorted: row, then column
        row, idx = np.divmod(keys, self.n_features)
        data = (np.log(counts) + 1.0) * self.idf[idx]
        lengths = np.bincount(row, minlength=n)
        norms = np.sqrt(np.bincount(row, weights=data * data, minlength=n))
        norms[norms == 0] = 1.0
        data /= norms[row]
        return np.r_[0, np.cumsum(lengths)], idx, data.astype(self.vectorizer.dtype)

    def transform(self, docs):
        from scipy import sparse

        indptr, idx, data = self.parts(docs)
        return sparse.csr_matrix((data, idx, indptr), shape=(len(docs), self.n_features))


def fast_path_applies(column_transformer) -> bool:
    if column_transformer.transformer_weights or column_transformer.remainder != "drop":
        return False
    for _, vec, _ in column_transformer.transformers_:
        if vec == "drop":
            continue
        if not (callable(getattr(vec, "analyzer", None)) and vec.sublinear_tf and vec.use_idf
                and vec.norm == "l2" and not vec.binary and vec.smooth_idf is not None):
            return False
    return True


def fast_transformers(column_transformer) -> list[tuple["FastTfidf", int]] | None:
    """Fast equivalents of a fitted ColumnTransformer's vectorizers, or None if not ours."""
    if not fast_path_applies(column_transformer):
        return None
    return [(FastTfidf(vec), column) for _, vec, column in column_transformer.transformers_ if vec != "drop"]


def transform(fast: list[tuple["FastTfidf", int]], X: np.ndarray):
    """The per-field features of ``X`` (rows as made by ``rows``) with ``fast_transformers``:
    the fields side by side, as ``scipy.sparse.hstack`` would lay them out, built in one step."""
    from scipy import sparse

    n = X.shape[0]
    rows, cols, vals, offset = [], [], [], 0
    for vec, column in fast:
        indptr, idx, data = vec.parts(X[:, column])
        rows.append(np.repeat(np.arange(n), np.diff(indptr)))
        cols.append(idx + offset)
        vals.append(data)
        offset += vec.n_features
    row = np.concatenate(rows)
    order = np.argsort(row, kind="stable")  # row by row, fields in order within a row
    indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=n))]
    return sparse.csr_matrix((np.concatenate(vals)[order], np.concatenate(cols)[order], indptr),
                             shape=(n, offset))
