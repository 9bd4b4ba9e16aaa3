"""The disclosure classifier: prediction, confidence, abstention, explanation.

A model is a scikit-learn pipeline (per-field TF-IDF → linear classifier, see
``service.classifier.features``) plus a temperature T that turns its decision scores into calibrated
probabilities (softmax(scores / T), fitted on source-disjoint out-of-fold scores) and one
probability threshold per category, chosen on out-of-fold predictions (and, once the data
holds enough such suggestions, a lower one when a rule hint of the suggested category
itself fired). Below its threshold a document ``needs_attention``: no category is
pre-selected, the top three candidates are still listed. Taxonomy rule hints
(``service.taxonomy``) are mixed into the probabilities openly and reported in the
explanation.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.analysis.normalize import analysis_form
from service.analysis.tokenizer import TOKEN_FORMAT, DocumentTokens, get_tokenizer, tokenize_document
from service.classifier import features as F
from service.classifier.explanation import FeatureWords, top_words_many
from service.errors import GongkaiError
from service.taxonomy import RuleHit, Taxonomy

log = logging.getLogger(__name__)

TOP_K = 3
EXPLAIN_TERMS = 8
#: Threshold for a category the validation split could not calibrate (no examples).
DEFAULT_THRESHOLD = 0.8
#: What the model can judge: a document with fewer Chinese characters than this (title and
#: first ``SCOPE_TOKENS`` body tokens), or whose letters there are less than this share Chinese, is outside
#: what it was trained on: every document of the corpus has at least 111 Chinese characters
#: and a share of at least 0.64 in its tokens (tested on the shipped training data). Its
#: probabilities say nothing then (an English page scored 0.77 for 政策法规 on Latin letter
#: pairs), so nothing is pre-selected, the explanation says why and lists no terms. Rule
#: hints still rank the candidates.
MIN_CHINESE_CHARS = 10
MIN_CHINESE_SHARE = 0.25
MIN_LATIN_LETTERS = 10      # "mostly foreign" needs some foreign text, not two stray letters
SCOPE_TOKENS = 300
#: Rule hints read the title and this many characters of the body's analysis form: in training,
#: evaluation, intake, ``gongkai classify`` and reclassification alike.
HINT_CHARS = 400



class ModelError(GongkaiError):
    code = "model_error"
    message_zh = "分类模型出错：{what}"
    message_en = "Classifier model error: {what}"


class ModelNotFound(ModelError):
    code = "model_not_found"
    message_zh = ("找不到分类模型（{where}）。请先运行 gongkai train 训练模型，"
                  "或用 gongkai models activate 启用一个版本。")
    message_en = "No classifier model found ({where})."


class ModelIncompatible(ModelError):
    code = "model_incompatible"
    message_zh = "分类模型与当前程序不兼容：{what}。请用 gongkai train 重新训练。"
    message_en = "The classifier model is incompatible: {what}."


class ModelUntrusted(ModelIncompatible):
    code = "model_untrusted"
    message_zh = "分类模型文件含有不受信任的类型（{what}），已拒绝加载。"
    message_en = "The model file contains untrusted types ({what}); refused."


class TaxonomyMismatch(ModelError):
    code = "taxonomy_mismatch"
    message_zh = ("分类模型是按分类体系“{trained}”训练的，与当前配置的分类体系“{configured}”不一致，不能使用。"
                  "请用当前分类体系重新训练。")
    message_en = "The model was trained on taxonomy {trained}, the configured one is {configured}."


@dataclass
class Prediction:
    """One document's classification. ``category`` is None when ``needs_attention``."""

    category: str | None
    top_category: str
    confidence: float
    needs_attention: bool
    candidates: list[dict[str, Any]]
    explanation: dict[str, Any]
    model: str
    threshold: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "confidence": round(self.confidence, 4),
                "candidates": self.candidates, "needs_attention": self.needs_attention,
                "model": self.model, "explanation": self.explanation}


def chinese_letters(doc: DocumentTokens) -> tuple[int, int]:
    """(Chinese characters, Latin letters) in the title and the first ``SCOPE_TOKENS`` body
    tokens. Counted on code points with numpy: a regular expression took twice as long."""
    text = "".join(doc.title) + "".join(doc.body[:SCOPE_TOKENS])
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    # CJK Unified Ideographs and Extension A (unsigned wrap-around makes each range one test)
    chinese = ((points - np.uint32(0x4E00)) < np.uint32(0x5200)) | ((points - np.uint32(0x3400)) < np.uint32(0x19C0))
    latin = ((points | np.uint32(0x20)) - np.uint32(0x61)) < np.uint32(26)
    return int(np.count_nonzero(chinese)), int(np.count_nonzero(latin))


def out_of_scope(doc: DocumentTokens) -> dict[str, Any] | None:
    """Why the model cannot judge ``doc`` (code and a message for the clerk), or None."""
    chinese, latin = chinese_letters(doc)
    if latin >= MIN_LATIN_LETTERS and chinese < MIN_CHINESE_SHARE * (chinese + latin):
        return {"code": "mostly_not_chinese",
                "message": f"文档以外文为主（汉字 {chinese} 个，外文字母 {latin} 个），"
                           "模型只学习过中文公文，请人工选择"}
    if chinese < MIN_CHINESE_CHARS:
        return {"code": "too_little_chinese",
                "message": f"文档中可读的汉字太少（{chinese} 个），模型无法据此判断分类，请人工选择"
                           "（扫描件请上传带文字层的版本）"}
    return None


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = np.asarray(scores, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def decision_scores(estimator, X, linear: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Scores the temperature is applied to: decision_function, or log-probabilities (NB).
    ``linear``: the estimator's ``linear_weights``, when the caller keeps them."""
    linear = linear if linear is not None else linear_weights(estimator)
    if linear is not None:
        return np.asarray(X @ linear[0] + linear[1], dtype=np.float64)
    if hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(X), dtype=np.float64)
    return np.asarray(estimator.predict_log_proba(X), dtype=np.float64)


def linear_weights(estimator) -> tuple[np.ndarray, np.ndarray] | None:
    """(coefficients transposed, intercepts) of a fitted multi-class linear classifier, whose
    decision function is exactly ``X @ coef_.T + intercept_`` — computed without
    scikit-learn's per-call input validation (~0.1 ms, most of one document's scoring time).
    None for any other estimator."""
    from sklearn.linear_model._base import LinearClassifierMixin

    coef = getattr(estimator, "coef_", None)
    if not isinstance(estimator, LinearClassifierMixin) or coef is None or coef.ndim != 2 or coef.shape[0] < 3:
        return None
    return np.ascontiguousarray(coef.T), np.asarray(estimator.intercept_)


def rule_weights(hits: Sequence[RuleHit]) -> dict[str, float]:
    """One weight per hinted category, order-independent.

    Rules of one category reinforce each other: w = 1 − Π(1 − wᵢ). When rules of several
    categories fire, they share the strongest category's weight in proportion to their own,
    so conflicting hints cancel out toward the model instead of the last one winning."""
    per_category: dict[str, float] = {}
    for hit in hits:
        per_category[hit.category] = 1.0 - (1.0 - per_category.get(hit.category, 0.0)) * (1.0 - hit.weight)
    total = sum(per_category.values())
    strongest = max(per_category.values(), default=0.0)
    return {c: w * strongest / total for c, w in per_category.items()} if total else {}


def apply_rules(probs: np.ndarray, hits: Sequence[RuleHit], names: Sequence[str]) -> np.ndarray:
    """Mix fired rule hints into a probability vector: p ← (1 − W)·p + Σ w_c·onehot(c),
    with the weights of ``rule_weights`` (W = their sum)."""
    weights = rule_weights(hits)
    out = probs * (1.0 - sum(weights.values()))
    for category, weight in weights.items():
        out[names.index(category)] += weight
    return out


def rule_confirmed(hits: Sequence[RuleHit], category: str) -> bool:
    """Whether one of ``category``'s own rule hints fired (not merely another category's)."""
    return any(h.category == category for h in hits)


def hint_text(doc: DocumentTokens, title: str | None, analysis_text: str) -> tuple[str, str]:
    """What rule hints read of a document: its title (analysis form) and the head of its body."""
    return (analysis_form(title) if title else "".join(doc.title)), analysis_text[:HINT_CHARS]


def with_hints(probs: np.ndarray, taxonomy: Taxonomy, title: str | None, body: str,
               doc_number: str | None) -> tuple[np.ndarray, list[RuleHit]]:
    """One document's probabilities (over ``taxonomy.names``) with the rule hints its
    title, body head and 文号 fire mixed in, and those hints."""
    hits = taxonomy.match_rules(title, body, doc_number)
    return (apply_rules(probs, hits, taxonomy.names) if hits else probs), hits


@dataclass
class Classifier:
    pipeline: Any
    labels: list[str]                      # the estimator's classes, in its order
    temperature: float
    thresholds: dict[str, float]
    taxonomy: Taxonomy
    #: A lower threshold for a category when one of its own rule hints fired (``rule_confirmed``).
    rule_thresholds: dict[str, float] = field(default_factory=dict)
    meta_kinds: tuple[str, ...] = F.DEFAULT_META
    name: str = "unsaved"
    metadata: dict[str, Any] = field(default_factory=dict)
    _feature_names: np.ndarray | None = field(default=None, repr=False)
    _relative: np.ndarray | None = field(default=None, repr=False)
    _feature_words: FeatureWords | None = field(default=None, repr=False)
    _fast: Any = field(default=None, repr=False)
    _linear: Any = field(default=None, repr=False)

    # -- inputs ---------------------------------------------------------------------------
    def rows(self, docs: Sequence[DocumentTokens]) -> np.ndarray:
        for doc in docs:
            if doc.format != TOKEN_FORMAT:
                raise ModelIncompatible(what=f"词元格式 {doc.format} ≠ {TOKEN_FORMAT}，请重新分词")
        return F.rows([d.title for d in docs], [d.body for d in docs],
                      [F.meta_tokens(d.doc_type, d.doc_number, d.genre, self.meta_kinds) for d in docs])

    def features(self, X: np.ndarray):
        """The sparse feature matrix of model input rows (fast path when it applies)."""
        if self._fast is None:
            self._fast = F.fast_transformers(self.pipeline[0]) or False
        return F.transform(self._fast, X) if self._fast else self.pipeline[:-1].transform(X)

    # -- probabilities --------------------------------------------------------------------
    def model_probabilities(self, docs: Sequence[DocumentTokens]) -> tuple[np.ndarray, Any]:
        """Calibrated probabilities over the taxonomy's categories (before rules), and X."""
        features = self.features(self.rows(docs))
        if self._linear is None:
            self._linear = linear_weights(self.pipeline[-1]) or False
        scores = decision_scores(self.pipeline[-1], features, self._linear or None)
        probs = softmax(scores, self.temperature)
        names = self.taxonomy.names
        full = np.zeros((len(docs), len(names)))
        for j, label in enumerate(self.labels):
            full[:, names.index(label)] = probs[:, j]
        return full, features

    # -- prediction -----------------------------------------------------------------------
    def predict_many(self, docs: Sequence[DocumentTokens], texts: Sequence[tuple[str | None, str]] | None = None,
                     explain: bool | Callable[[int, Prediction], bool] = True) -> list[Prediction]:
        """Classify pre-tokenized documents. ``texts`` (analysis-form title, body) lets rule
        hints read the original text; without it they read the joined tokens. ``explain``
        may be a predicate ``(index, prediction) → bool``: only the documents it accepts get
        the terms behind their suggestion, from the features already computed."""
        if not docs:
            return []
        probs, features = self.model_probabilities(docs)
        names = self.taxonomy.names
        out, to_explain = [], []
        for i, doc in enumerate(docs):
            title, body = texts[i] if texts else ("".join(doc.title), "".join(doc.body[:200]))
            p, hits = with_hints(probs[i], self.taxonomy, title, body, doc.doc_number)
            order = np.argsort(-p, kind="stable")
            best = names[order[0]]
            threshold = self.thresholds.get(best, DEFAULT_THRESHOLD)
            if best in self.rule_thresholds and rule_confirmed(hits, best):
                threshold = min(threshold, self.rule_thresholds[best])
            scope = out_of_scope(doc)
            confident = bool(p[order[0]] >= threshold) and scope is None
            explanation: dict[str, Any] = {"rules": [h.to_dict() for h in hits]}
            if scope is not None:
                explanation["abstained"] = scope
            prediction = Prediction(
                category=best if confident else None, top_category=best, confidence=float(p[order[0]]),
                needs_attention=not confident, threshold=threshold,
                candidates=[{"category": names[j], "probability": round(float(p[j]), 4)} for j in order[:TOP_K]],
                explanation=explanation, model=self.name)
            if scope is None and (explain is True or (callable(explain) and explain(i, prediction))):
                to_explain.append(i)
            out.append(prediction)
        if to_explain:   # all at once: explaining one document at a time costs several times more
            terms = self.explain_many(features, to_explain, [out[i].top_category for i in to_explain],
                                      [docs[i] for i in to_explain])
            for i, found in zip(to_explain, terms, strict=True):
                out[i].explanation["terms"] = found
        return out

    def predict_document(self, doc: DocumentTokens, explain: bool = True) -> Prediction:
        return self.predict_many([doc], explain=explain)[0]

    def predict_extracted(self, doc: DocumentTokens, title: str | None, analysis_text: str,
                          explain: bool = True) -> Prediction:
        """Classify a document whose text is at hand: rule hints read its title and body head."""
        return self.predict_many([doc], [hint_text(doc, title, analysis_text)], explain=explain)[0]

    def predict_tokens(self, title_tokens: Sequence[str], body_tokens: Sequence[str], doc_type: str | None = None,
                       doc_number: str | None = None, genre: Sequence[str] = (), explain: bool = True) -> Prediction:
        """Classify already-tokenized text (tokens as ``service.analysis.tokenizer`` stores them)."""
        doc = DocumentTokens(tuple(title_tokens), tuple(body_tokens), doc_type, doc_number, tuple(genre))
        return self.predict_many([doc], explain=explain)[0]

    def predict_texts(self, items: Sequence[tuple[str | None, str]], doc_types: Sequence[str | None] | None = None,
                      explain: bool = True) -> list[Prediction]:
        """Tokenize (title, body) pairs and classify them."""
        tokenizer = get_tokenizer()
        docs, texts = [], []
        for i, (title, body) in enumerate(items):
            title_a = analysis_form(title) if title else None
            body_a = analysis_form(body or "")
            doc = tokenize_document(title_a, body_a, doc_type=doc_types[i] if doc_types else None,
                                    tokenizer=tokenizer, analysed=True)
            docs.append(doc)
            texts.append((title_a or "".join(doc.title), body_a))
        return self.predict_many(docs, texts, explain=explain)

    def predict_text(self, title: str | None, body: str, doc_type: str | None = None,
                     explain: bool = True) -> Prediction:
        return self.predict_texts([(title, body)], [doc_type], explain=explain)[0]

    # -- explanation ----------------------------------------------------------------------
    def feature_names(self) -> np.ndarray:
        if self._feature_names is None:
            self._feature_names = self.pipeline[:-1].get_feature_names_out()
        return self._feature_names

    def feature_words(self) -> FeatureWords:
        """What each feature is made of, for explanations (computed once)."""
        if self._feature_words is None:
            self._feature_words = FeatureWords.of(self.feature_names())
        return self._feature_words

    def relative_weights(self) -> np.ndarray:
        """Per-category feature weights minus their mean over categories (computed once)."""
        if self._relative is None:
            est = self.pipeline[-1]
            weights = np.asarray(est.coef_ if hasattr(est, "coef_") else est.feature_log_prob_, dtype=np.float64)
            self._relative = weights - weights.mean(axis=0, keepdims=True)
        return self._relative

    def explain(self, features, i: int, category: str, doc: DocumentTokens,
                n: int = EXPLAIN_TERMS) -> list[dict[str, Any]]:
        """The words of ``doc`` (row ``i`` of ``features``) that pushed it toward ``category``."""
        return self.explain_many(features, [i], [category], [doc], n)[0]

    def explain_many(self, features, rows: Sequence[int], categories: Sequence[str], docs: Sequence[DocumentTokens],
                     n: int = EXPLAIN_TERMS) -> list[list[dict[str, Any]]]:
        """For each of ``rows`` of ``features`` (the documents ``docs``), the words that pushed
        it toward its category: each feature's weight × value, relative to the average
        category, handed to the document's words (``service.classifier.explanation``)."""
        known = [k for k, c in enumerate(categories) if c in self.labels]
        result: list[list[dict[str, Any]]] = [[] for _ in rows]
        if not known:
            return result
        sub = features.tocsr()[[rows[k] for k in known]]
        entry_rows = np.repeat(np.arange(len(known)), np.diff(sub.indptr))
        label_of = np.array([self.labels.index(categories[k]) for k in known])
        push = sub.data * self.relative_weights()[label_of[entry_rows], sub.indices]
        found = top_words_many(self.feature_words(), entry_rows, sub.indices, push, [docs[k] for k in known], n)
        for k, terms in zip(known, found, strict=True):
            result[k] = terms
        return result
