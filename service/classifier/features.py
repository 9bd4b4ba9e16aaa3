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
the tokens are the ones ``service.analysis.tokenizer`` produced and that are stored with the document.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: How many body tokens the model reads (the head of a 公文 carries its type: 各位代表 …,
#: 1 总则 1.1 编制目的 …, 一、事项名称 …). Also bounds classification time per document.
BODY_TOKENS = 1500
HEAD_TOKENS = 60
FIELDS = ("title", "body", "meta")


def word_ngrams(tokens: Sequence[str]) -> list[str]:
    """Word unigrams and bigrams (bigrams joined with a space)."""
    tokens = list(tokens)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


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


_MULT = 0x9E3779B97F4A7C15  # Fibonacci hashing: odd, spreads consecutive codes over the table
_MASK64 = (1 << 64) - 1
#: Code-point bits in a character n-gram code (every Unicode code point is < 2**21).
_CHAR_BITS = 21
_BIGRAM_TAG = 1 << 63  # character 2-gram codes are tagged so they never equal a 3-gram's


class CodeTable:
    """An exact map from integer codes to feature columns, looked up for a whole numpy array
    at once (open addressing with linear probing, at most a quarter full).

    Codes are exact encodings of the feature (two word ids, or two or three code points),
    never hashes of it: a lookup finds a column only for the very code stored.
    """

    def __init__(self, codes, columns) -> None:
        bits = max(4, (4 * len(codes)).bit_length())
        self.size, self.shift = 1 << bits, np.uint64(64 - bits)
        keys = [0] * self.size
        cols = [-1] * self.size
        shift, last = 64 - bits, self.size - 1
        for code, column in zip(codes, columns, strict=True):
            code = int(code)
            slot = ((code * _MULT) & _MASK64) >> shift
            while cols[slot] >= 0:
                slot = (slot + 1) & last
            keys[slot], cols[slot] = code, int(column)
        self.keys = np.asarray(keys, dtype=np.uint64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.count = len(codes)

    def __len__(self) -> int:
        return self.count

    def get(self, codes: np.ndarray) -> np.ndarray:
        """The column of every code (uint64 array), -1 where the code is not in the table."""
        slot = ((codes * np.uint64(_MULT)) >> self.shift).astype(np.int64)
        cols = self.cols[slot]
        hit = self.keys[slot] == codes
        out = np.where(hit, cols, -1)
        todo = np.flatnonzero(~hit & (cols >= 0))  # the slot holds another code: probe on
        while todo.size:
            slot_t = (slot[todo] + 1) & (self.size - 1)
            slot[todo] = slot_t
            cols = self.cols[slot_t]
            hit = self.keys[slot_t] == codes[todo]
            out[todo[hit]] = cols[hit]
            todo = todo[~hit & (cols >= 0)]
        return out


def char_code(text: str) -> int:
    """The code of a character 2- or 3-gram (what ``CodeTable`` stores for it)."""
    code = 0
    for ch in text:
        code = (code << _CHAR_BITS) | ord(ch)
    return code | _BIGRAM_TAG if len(text) == 2 else code


def text_char_codes(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``char_code`` of every character 2- and 3-gram of ``text``, with its start and
    length (2-grams first, as ``char_ngrams`` lists them)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    bits = np.uint64(_CHAR_BITS)
    two = ((points[:-1] << bits) | points[1:]) | np.uint64(_BIGRAM_TAG)
    three = (((points[:-2] << bits) | points[1:-1]) << bits) | points[2:]
    starts = np.concatenate([np.arange(len(two)), np.arange(len(three))])
    sizes = np.concatenate([np.full(len(two), 2), np.full(len(three), 3)])
    return np.concatenate([two, three]), starts, sizes


class FastTfidf:
    """``vectorizer.transform`` for our TF-IDF settings, several times faster.

    No feature is built as a string. Word unigrams are looked up in the vocabulary in C
    (``map(dict.get, …)``); a word bigram is coded as (id of first word) × V + (id of second
    word) — a bigram kept by ``min_df`` implies both its words were kept, so every known
    bigram has a code; character 2- and 3-grams are coded from their code points. Codes are
    found in a ``CodeTable`` for a whole chunk of documents at once. Counting, sublinear TF,
    IDF and l2 normalization are numpy. Results equal scikit-learn's to float32 precision
    (tested); any other analyzer takes the generic path (analyzer, then vocabulary lookup).
    """

    def __init__(self, vectorizer) -> None:
        self.vectorizer = vectorizer
        vocab = vectorizer.vocabulary_
        self.get = vocab.get
        self.idf = vectorizer.idf_
        self.n_features = len(self.idf)
        analyzer = vectorizer.analyzer
        self.kind = "generic"
        if analyzer is word_ngrams:
            table = self._bigram_table(vocab)
            if table is not None:  # else a bigram has a word the vocabulary lacks: stay generic
                self.kind, self.table = "words", table
        elif analyzer in (char_ngrams, head_char_ngrams) and all(len(term) in (2, 3) for term in vocab):
            self.kind = "chars"
            self.table = CodeTable([char_code(term) for term in vocab], list(vocab.values()))
            self.head = HEAD_TOKENS if analyzer is head_char_ngrams else None

    def _bigram_table(self, vocab) -> CodeTable | None:
        self.size = len(vocab) + 1
        codes, columns = [], []
        for term, column in vocab.items():
            first, space, second = term.partition(" ")
            if space:
                a, b = vocab.get(first), vocab.get(second)
                if a is None or b is None:   # cannot happen with min_df; stay exact anyway
                    return None
                codes.append(a * self.size + b)
                columns.append(column)
        return CodeTable(codes, columns)

    def _occurrences(self, docs) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known feature occurrence in ``docs``, all documents at once.

        One pass over the documents' tokens (or characters) laid end to end — no
        per-document numpy calls: those cost more than the work for short fields — with
        n-grams never spanning two rows.
        """
        if self.kind == "chars":
            return self._char_occurrences(docs)
        from itertools import chain, repeat

        features = docs if self.kind == "words" else [self.vectorizer.analyzer(doc) for doc in docs]
        lengths = np.fromiter(map(len, features), dtype=np.int64, count=len(features))
        total = int(lengths.sum())
        ids = np.fromiter(map(self.get, chain.from_iterable(features), repeat(-1)), dtype=np.int64, count=total)
        rows = np.repeat(np.arange(len(features), dtype=np.int64), lengths)
        known = ids >= 0
        if self.kind != "words" or not len(self.table):
            return rows[known], ids[known]
        pair = known[:-1] & known[1:] & (rows[:-1] == rows[1:])
        columns = self.table.get((ids[:-1][pair] * self.size + ids[1:][pair]).astype(np.uint64))
        hit = columns >= 0
        return np.concatenate([rows[known], rows[:-1][pair][hit]]), np.concatenate([ids[known], columns[hit]])

    def _char_occurrences(self, docs) -> tuple[np.ndarray, np.ndarray]:
        texts = ["".join(doc if self.head is None else doc[:self.head]) for doc in docs]
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        bits = np.uint64(_CHAR_BITS)
        two = rows[:-1] == rows[1:]
        three = two[:-1] & two[1:]
        codes = np.concatenate([((points[:-1][two] << bits) | points[1:][two]) | np.uint64(_BIGRAM_TAG),
                                (((points[:-2][three] << bits) | points[1:-1][three]) << bits) | points[2:][three]])
        columns = self.table.get(codes)
        hit = columns >= 0
        return np.concatenate([rows[:-1][two], rows[:-2][three]])[hit], columns[hit]


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


class FastFeatures:
    """A fitted ColumnTransformer of our vectorizers, as ``FastTfidf`` per field, applied in one pass.

    Every field's feature occurrences are found first; then one count over all of them
    gives the matrix already laid out as ``scipy.sparse.hstack`` of the fields would
    (row by row, fields in order), with sublinear TF × IDF and l2 normalization per field.
    Iterating gives the (``FastTfidf``, column) pairs.
    """

    def __init__(self, fields: list[tuple[FastTfidf, int]]) -> None:
        self.fields = fields
        sizes = [vec.n_features for vec, _ in fields]
        self.offsets = np.r_[0, np.cumsum(sizes)][:-1]
        self.n_features = int(sum(sizes))
        self.idf = np.concatenate([vec.idf for vec, _ in fields])
        self.field_of = np.repeat(np.arange(len(fields)), sizes)
        self.dtype = fields[0][0].vectorizer.dtype

    def __iter__(self):
        return iter(self.fields)

    def transform(self, X: np.ndarray):
        """The features of ``X`` (rows as made by ``rows``) as a CSR matrix."""
        from scipy import sparse

        n, n_fields = X.shape[0], len(self.fields)
        found = [vec._occurrences(X[:, column]) for vec, column in self.fields]
        rows = np.concatenate([r for r, _ in found])
        keys = rows * self.n_features + np.concatenate([c + offset for (_, c), offset
                                                        in zip(found, self.offsets, strict=True)])
        if n * self.n_features < 2 ** 31:
            keys = keys.astype(np.int32)  # sorts faster
        keys, counts = np.unique(keys, return_counts=True)  # sorted: row, then column
        row, idx = np.divmod(keys, self.n_features)
        data = (np.log(counts) + 1.0) * self.idf[idx]
        part = row * n_fields + self.field_of[idx]  # each field of each row is normalized on its own
        norms = np.sqrt(np.bincount(part, weights=data * data, minlength=n * n_fields))
        data /= norms[part]  # never 0 where a row has data
        indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=n))]
        return sparse.csr_matrix((data.astype(self.dtype), idx, indptr), shape=(n, self.n_features))


def fast_transformers(column_transformer) -> FastFeatures | None:
    """Fast equivalent of a fitted ColumnTransformer of our vectorizers, or None if not ours."""
    if not fast_path_applies(column_transformer):
        return None
    fields = [(FastTfidf(vec), column) for _, vec, column in column_transformer.transformers_ if vec != "drop"]
    if len({vec.vectorizer.dtype for vec, _ in fields}) != 1:
        return None
    return FastFeatures(fields)


def transform(fast: FastFeatures, X: np.ndarray):
    """The per-field features of ``X`` (rows as made by ``rows``) with ``fast_transformers``."""
    return fast.transform(X)
