"""Training: candidate comparison, calibration, thresholds, evaluation, promotion.

1. Records are checked (labelled, confirmed by a person, in the taxonomy) and tokenized;
   a record carrying stored ``tokens`` is never re-segmented.
2. Linear candidates (LinearSVC, logistic regression, SGD, complement NB; all
   class-balanced where the estimator supports it) are compared by source-group
   5-fold cross-validation on the train split. Each candidate's out-of-fold scores get
   their own temperature and the taxonomy's rule hints, as in service: the best macro-F1
   of that whole system wins (the model-only figure is reported beside it).
3. The winner's temperature (fitted to its out-of-fold decision scores, log loss) is kept.
4. Thresholds: the winner's out-of-fold predictions over train + validation (grouped by
   source, rule hints applied) give the lowest probability at which the confident share
   reaches the target precision. A category predicted at least ``MIN_THRESHOLD_PREDICTIONS``
   times gets its own threshold; the others share the global one. When at least
   ``MIN_THRESHOLD_PREDICTIONS`` suggestions were confirmed by a rule hint of the
   suggested category itself, such suggestions get a lower threshold: the lowest at which
   the suggestions it adds (confirmed ones below their category's threshold) reach the
   target on their own, so the confident share as a whole stays at the target.
5. The winner trained on the train split is reported on the validation split; refitted on
   train + validation, it is evaluated once on the test split.

Everything is seeded; the same data gives the same model and the same predictions.
"""
from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from service.analysis.normalize import analysis_form
from service.analysis.tokenizer import TOKEN_FORMAT, DocumentTokens, get_tokenizer, tokenize_document
from service.classifier import artifact as A
from service.classifier import card, evaluation
from service.classifier import features as F
from service.classifier import model as M
from service.classifier import training_data as D
from service.taxonomy import Taxonomy

log = logging.getLogger(__name__)

TARGET_PRECISION = 0.98
THRESHOLD_FLOOR = 0.5        # never pre-select a category below this probability
#: A category gets its own threshold only when predicted at least this often: a 98 %
#: precision estimate needs about 200 predictions for a standard error of 1 % (0.98·0.02/n).
#: Per-category thresholds from fewer did not carry over (measured: thresholds from the
#: train split's out-of-fold predictions applied to the validation split — per category
#: from 3 predictions up: coverage 0.468 at precision 0.966; one global: 0.677 at 0.976).
MIN_THRESHOLD_PREDICTIONS = 200
#: A category with fewer training documents than this is served by its rule hints: its
#: threshold is its strongest rule's weight when that is lower than the global threshold.
MIN_CALIBRATION_DOCUMENTS = 5
CV_FOLDS = 5
PROBE_DOCS = 4


def candidates(seed: int = 0) -> dict[str, Any]:
    """The linear candidates compared by cross-validation, in tie-break order."""
    return {
        "linear_svc_c1": LinearSVC(C=1.0, class_weight="balanced", random_state=seed),
        "linear_svc_c0.3": LinearSVC(C=0.3, class_weight="balanced", random_state=seed),
        "logistic_regression_c30": LogisticRegression(C=30.0, class_weight="balanced", max_iter=3000),
        "logistic_regression_c100": LogisticRegression(C=100.0, class_weight="balanced", max_iter=3000),
        "sgd_modified_huber": SGDClassifier(loss="modified_huber", alpha=1e-4, class_weight="balanced",
                                            max_iter=50, tol=None, random_state=seed),
        "complement_nb": ComplementNB(alpha=0.1),
    }


def make_pipeline(estimator) -> Pipeline:
    return Pipeline([("features", F.make_features()), ("clf", clone(estimator))])


@dataclass
class Dataset:
    records: list[dict[str, Any]]
    docs: list[DocumentTokens]
    texts: list[tuple[str | None, str]]      # analysis-form (title, body head) for rule hints
    y: np.ndarray
    groups: np.ndarray
    splits: np.ndarray

    def subset(self, mask: np.ndarray) -> Dataset:
        idx = np.flatnonzero(mask)
        return Dataset([self.records[i] for i in idx], [self.docs[i] for i in idx], [self.texts[i] for i in idx],
                       self.y[idx], self.groups[idx], self.splits[idx])

    def __len__(self) -> int:
        return len(self.docs)


def prepare(records: Sequence[dict[str, Any]], taxonomy: Taxonomy) -> tuple[Dataset, int]:
    """Validated, confirmed, tokenized records; also how many unconfirmed ones were refused."""
    tokenizer = get_tokenizer()
    kept = [r for r in D.labelled_records(records, taxonomy.names) if D.is_confirmed(r)]
    refused = len(records) - len(kept)
    docs: list[DocumentTokens] = []
    texts: list[tuple[str | None, str]] = []
    for r in kept:
        title = analysis_form(r["title"]) if r.get("title") else None
        body = analysis_form(r["text"])
        stored = r.get("tokens")
        if stored and stored.get("format") == TOKEN_FORMAT:
            doc = DocumentTokens.from_dict(stored)
        else:
            doc = tokenize_document(title, body, doc_type=r.get("doc_type"), doc_number=r.get("doc_number"),
                                    tokenizer=tokenizer, analysed=True)
        docs.append(doc)
        texts.append(M.hint_text(doc, title, body))
    return Dataset(kept, docs, texts, np.array([r["category"] for r in kept], dtype=object),
                   np.array([D.source_group(r) for r in kept], dtype=object),
                   np.array([r.get("split") or "train" for r in kept], dtype=object)), refused


def _rows(data: Dataset, meta_kinds=F.DEFAULT_META) -> np.ndarray:
    return F.rows([d.title for d in data.docs], [d.body for d in data.docs],
                  [F.meta_tokens(d.doc_type, d.doc_number, d.genre, meta_kinds) for d in data.docs])


def group_folds(y: np.ndarray, groups: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    n_groups = len(set(groups))
    folds = StratifiedGroupKFold(n_splits=min(CV_FOLDS, n_groups), shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "least populated class has only N members"
        return list(folds.split(np.zeros(len(y)), y, groups))


def out_of_fold(estimator, X: np.ndarray, y: np.ndarray, folds, labels: list[str],
                fitted: Callable[[], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions and decision scores (−inf for a class a fold never saw).

    ``fitted``, when given, is called after each fold's fit."""
    pred = np.empty(len(y), dtype=object)
    scores = np.full((len(y), len(labels)), -np.inf)
    for train_idx, test_idx in folds:
        pipe = make_pipeline(estimator).fit(X[train_idx], y[train_idx])
        s = M.decision_scores(pipe[-1], pipe[:-1].transform(X[test_idx]))
        cols = [labels.index(c) for c in pipe[-1].classes_]
        scores[np.ix_(test_idx, cols)] = s
        pred[test_idx] = pipe[-1].classes_[np.argmax(s, axis=1)]
        if fitted is not None:
            fitted()
    return pred, scores


def fit_temperature(scores: np.ndarray, y: np.ndarray, labels: list[str]) -> float:
    """The T minimizing the log loss of softmax(scores / T) (rows whose class was seen)."""
    idx = np.array([labels.index(c) for c in y])
    usable = np.isfinite(scores[np.arange(len(y)), idx])
    s, idx = scores[usable], idx[usable]

    def nll(log_t: float) -> float:
        p = M.softmax(np.where(np.isfinite(s), s, -1e9), float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(idx)), idx], 1e-12, None))))

    result = minimize_scalar(nll, bounds=(-6.0, 4.0), method="bounded", options={"xatol": 1e-6})
    return round(float(np.exp(result.x)), 6)


def _lowest_threshold(confidence: np.ndarray, correct: np.ndarray, mask: np.ndarray, target: float) -> float:
    """The lowest probability (≥ the floor) at which the predictions in ``mask`` at or above
    it reach ``target`` precision."""
    for t in sorted({THRESHOLD_FLOOR, *confidence[mask & (confidence >= THRESHOLD_FLOOR)]}):
        chosen = mask & (confidence >= t)
        if not chosen.any() or correct[chosen].mean() >= target:
            return round(float(t), 4)
    return round(min(1.0, float(confidence[mask].max()) + 1e-4), 4)


def choose_rule_threshold(confidence: np.ndarray, correct: np.ndarray, confirmed: np.ndarray,
                          threshold: np.ndarray, target: float = TARGET_PRECISION) -> float | None:
    """A lower threshold for suggestions that a rule hint of the suggested category itself
    fired for (``confirmed``): the lowest probability at which the suggestions it adds —
    confirmed ones below their category's ``threshold`` — reach ``target`` precision on
    their own. The confident share then stays at the target: it gains only a set that
    meets it. None (no such threshold) when fewer than ``MIN_THRESHOLD_PREDICTIONS``
    suggestions were confirmed: too few to trust rule-confirmed suggestions as a kind."""
    if confirmed.sum() < MIN_THRESHOLD_PREDICTIONS:
        return None
    below = confirmed & (confidence < threshold)
    return _lowest_threshold(confidence, correct, below, target) if below.any() else None


def choose_thresholds(confidence: np.ndarray, predicted: np.ndarray, true: np.ndarray, names: Sequence[str],
                      target: float = TARGET_PRECISION) -> tuple[dict[str, float], dict[str, str]]:
    """Per-category thresholds: the lowest probability (≥ the floor) at which the category's
    confident predictions reach ``target`` precision. A category predicted fewer than
    ``MIN_THRESHOLD_PREDICTIONS`` times gets the global threshold (the same rule over all
    predictions)."""
    correct = predicted == true

    def lowest(mask: np.ndarray) -> float:
        return _lowest_threshold(confidence, correct, mask, target)

    everything = np.ones(len(true), dtype=bool)
    global_t = lowest(everything) if len(true) else M.DEFAULT_THRESHOLD
    thresholds, how = {}, {}
    for name in names:
        mask = predicted == name
        if mask.sum() >= MIN_THRESHOLD_PREDICTIONS:
            thresholds[name], how[name] = lowest(mask), f"validation ({int(mask.sum())} predictions)"
        else:
            thresholds[name], how[name] = global_t, f"global ({int(mask.sum())} predictions)"
    return thresholds, how


def with_rule_hints(scores: np.ndarray, temperature: float, labels: list[str], data: Dataset,
                    taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top categories, their probabilities and whether a rule hint of the top category fired
    (``M.rule_confirmed``) for out-of-fold ``scores``, once calibrated and mixed with the
    rule hints, exactly as ``Classifier.predict_many`` would."""
    probs = M.softmax(np.where(np.isfinite(scores), scores, -1e9), temperature)
    names = taxonomy.names
    full = np.zeros((len(probs), len(names)))
    for j, label in enumerate(labels):
        full[:, names.index(label)] = probs[:, j]
    top, confidence = np.empty(len(probs), dtype=object), np.zeros(len(probs))
    confirmed = np.zeros(len(probs), dtype=bool)
    for i, (doc, (title, body)) in enumerate(zip(data.docs, data.texts, strict=True)):
        p, hits = M.with_hints(full[i], taxonomy, title, body, doc.doc_number)
        top[i], confidence[i] = names[int(np.argmax(p))], float(p.max())
        confirmed[i] = M.rule_confirmed(hits, top[i])
    return top, confidence, confirmed


def _stratum(confident: np.ndarray, correct: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """Out-of-fold figures of one group of predictions at the thresholds served, for the card."""
    chosen = mask & confident
    return {"predictions": int(mask.sum()), "confident": int(chosen.sum()),
            "precision": round(float(correct[chosen].mean()), 4) if chosen.any() else None}


@dataclass
class TrainResult:
    classifier: M.Classifier
    metadata: dict[str, Any]
    reports: dict[str, Any] = field(default_factory=dict)
    test_set: Dataset | None = None


def _classifier(pipeline, taxonomy, temperature, thresholds, name="unsaved", rule_thresholds=None) -> M.Classifier:
    return M.Classifier(pipeline=pipeline, labels=[str(c) for c in pipeline[-1].classes_], temperature=temperature,
                        thresholds=thresholds, taxonomy=taxonomy, name=name,
                        rule_thresholds=dict(rule_thresholds or {}))


def train(records: Sequence[dict[str, Any]], taxonomy: Taxonomy, *, seed: int = 0,
          candidate_names: Sequence[str] | None = None, target_precision: float = TARGET_PRECISION,
          progress: Callable[[str], None] = log.info,
          step: Callable[[int, int], None] | None = None) -> TrainResult:
    """Train, calibrate, threshold and evaluate a classifier (see the module docstring).

    ``progress`` receives messages; ``step``, when given, receives ``(fits done, fits in
    all)`` after each model fit: every cross-validation fold of every candidate, then the
    fit on the train split and the final fit on train + validation."""
    started = time.perf_counter()
    data, refused = prepare(records, taxonomy)
    if refused:
        progress(f"refused {refused} records whose label no person confirmed")
    train_set, val_set, test_set = (data.subset(data.splits == s) for s in D.SPLITS)
    if len(set(train_set.y)) < 2:
        raise D.DataError(what="训练集至少需要两个分类")
    names = taxonomy.names
    X_train = _rows(train_set)
    labels = sorted(set(train_set.y))
    folds = group_folds(train_set.y, train_set.groups, seed)
    measurable = sorted(c for c in labels if len(set(train_set.groups[train_set.y == c])) >= 2)
    pool = candidates(seed)
    compared, oof = {}, {}
    chosen_names = list(candidate_names or pool)
    fit_y = data.y[np.isin(data.splits, ["train", "validation"])]
    fit_folds = group_folds(fit_y, data.groups[np.isin(data.splits, ["train", "validation"])], seed)
    fits = {"done": 0, "total": len(chosen_names) * len(folds) + len(fit_folds) + 1 + bool(len(val_set))}

    def fitted() -> None:
        fits["done"] += 1
        if step is not None:
            step(fits["done"], fits["total"])

    temperatures = {}
    for cname in chosen_names:
        t0 = time.perf_counter()
        pred, scores = out_of_fold(pool[cname], X_train, train_set.y, folds, labels, fitted)
        model_only = evaluation.scores(list(train_set.y), list(pred), measurable)
        temperatures[cname] = fit_temperature(scores, train_set.y, labels)
        hinted, _, _ = with_rule_hints(scores, temperatures[cname], labels, train_set, taxonomy)
        report = evaluation.scores(list(train_set.y), list(hinted), measurable)
        compared[cname] = {"macro_f1": report["macro_f1"], "accuracy": report["accuracy"],
                           "model_only_macro_f1": model_only["macro_f1"],
                           "seconds": round(time.perf_counter() - t0, 2)}
        oof[cname] = (pred, scores, report)
        progress(f"candidate {cname}: grouped-CV macro-F1 {report['macro_f1']:.3f} "
                 f"(model alone {model_only['macro_f1']:.3f})")
    best = max(compared, key=lambda c: (compared[c]["macro_f1"], -list(compared).index(c)))
    temperature = temperatures[best]
    progress(f"chose {best}; temperature {temperature}")

    # Thresholds come from out-of-fold predictions over train + validation, grouped by source:
    # the validation split alone (tens of documents) cannot tell a 98 % precision from 100 %.
    fit_set = data.subset(np.isin(data.splits, ["train", "validation"]))
    X_fit, fit_labels = _rows(fit_set), sorted(set(fit_set.y))
    _, fit_scores = out_of_fold(pool[best], X_fit, fit_set.y, fit_folds, fit_labels, fitted)
    top, conf, confirmed = with_rule_hints(fit_scores, temperature, fit_labels, fit_set, taxonomy)
    thresholds, how = choose_thresholds(conf, top, fit_set.y, names, target_precision)
    threshold_source = "out-of-fold predictions on train + validation"
    for category in taxonomy.categories:   # a rule-hinted class the data is too thin to calibrate
        if (category.rules and how[category.name].startswith("global")
                and np.sum(fit_set.y == category.name) < MIN_CALIBRATION_DOCUMENTS):
            strongest = max(r.weight for r in category.rules)
            if strongest < thresholds[category.name]:
                thresholds[category.name], how[category.name] = strongest, "strongest rule hint weight"
    # A suggestion that a rule hint of its own category fired for is right far more often
    # than one from the model alone; with enough of them it gets a lower threshold. Only
    # for categories the data shows: a thin, rule-served class keeps its threshold above.
    calibrated = [c for c in names if np.sum(fit_set.y == c) >= MIN_CALIBRATION_DOCUMENTS]
    confirmed &= np.isin(top, calibrated)
    correct = top == fit_set.y
    threshold_of_top = np.array([thresholds[c] for c in top])
    rule_threshold = choose_rule_threshold(conf, correct, confirmed, threshold_of_top, target_precision)
    rule_thresholds = {} if rule_threshold is None else {c: min(rule_threshold, thresholds[c]) for c in calibrated}
    served = np.minimum(threshold_of_top, [rule_thresholds.get(c, 1.0) if k else 1.0
                                           for c, k in zip(top, confirmed, strict=True)])
    reports = {}
    if len(val_set):
        first = _classifier(make_pipeline(pool[best]).fit(X_train, train_set.y), taxonomy, temperature, thresholds,
                            rule_thresholds=rule_thresholds)
        fitted()
        reports["validation"] = evaluation.evaluate(list(val_set.y), first.predict_many(val_set.docs, val_set.texts,
                                                                                        explain=False),
                                                    names, groups=list(val_set.groups))

    final = _classifier(make_pipeline(pool[best]).fit(X_fit, fit_set.y), taxonomy, temperature, thresholds,
                        rule_thresholds=rule_thresholds)
    fitted()
    if len(test_set):
        test_preds = final.predict_many(test_set.docs, test_set.texts, explain=False)
        reports["test"] = evaluation.evaluate(list(test_set.y), test_preds, names, groups=list(test_set.groups))
        reports["test"]["misclassified"] = [
            {"title": (r.get("title") or t[0] or "（无标题）" + r["text"][:30].replace("\n", " "))[:60],
             "group": g, "category": y, "predicted": p.top_category,
             "probability": round(p.confidence, 3), "needs_attention": p.needs_attention}
            for r, t, g, y, p in zip(test_set.records, test_set.texts, test_set.groups, test_set.y, test_preds,
                                     strict=True)
            if p.top_category != y]
        progress(f"test: macro-F1 {reports['test']['macro_f1']:.3f}, confident coverage "
                 f"{reports['test']['confident']['coverage']:.3f} "
                 f"precision {reports['test']['confident']['precision']:.3f}")
    reports["cross_validation"] = {**oof[best][2], "candidate": best}
    used = [r for r in data.records]
    metadata = {
        "format_version": A.ARTIFACT_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "taxonomy": {"id": taxonomy.id, "fingerprint": taxonomy.fingerprint, "name": taxonomy.name},
        "token_format": TOKEN_FORMAT,
        "tokenizer": {"engine": get_tokenizer().engine, "mode": "precise, HMM off", "body_tokens": F.BODY_TOKENS},
        "libraries": A.library_versions(),
        "seed": seed,
        "labels": [str(c) for c in final.labels],
        "features": {"fields": ["title word 1-2-grams", "title char 2-3-grams", "body word 1-2-grams",
                                "body head char 2-3-grams",
                                "metadata tokens"], "meta": list(F.DEFAULT_META)},
        "training_data": {"hash": D.data_hash(used), "records": len(used), "refused_unconfirmed": refused,
                          "counts": D.split_counts(used),
                          "groups": {s: len(set(data.groups[data.splits == s])) for s in D.SPLITS}},
        "candidates": {"cv": f"StratifiedGroupKFold({len(folds)}) by source group on the train split",
                       "macro_f1_labels": measurable, "scores": compared, "chosen": best},
        "calibration": {"method": "temperature scaling on out-of-fold decision scores", "temperature": temperature},
        "thresholds": thresholds,
        "rule_hints": [{"id": r.id, "category": r.category, "field": r.field, "weight": r.weight}
                       for r in taxonomy.rules],
        "rule_thresholds": rule_thresholds,
        "threshold_source": {"from": threshold_source, "target_precision": target_precision,
                             "floor": THRESHOLD_FLOOR, "per_category": how,
                             "rule_confirmed": _stratum(conf >= served, correct, confirmed),
                             "model_only": _stratum(conf >= served, correct, ~confirmed),
                             "together": _stratum(conf >= served, correct, np.ones(len(conf), dtype=bool))},
        "evaluation": {k: v for k, v in reports.items() if k != "cross_validation"},
        "cross_validation": reports["cross_validation"],
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    probe_idx = np.linspace(0, len(data) - 1, num=min(PROBE_DOCS, len(data))).astype(int)
    probe_docs = [data.docs[i] for i in probe_idx]
    probe_docs = [DocumentTokens(d.title, d.body[:200], d.doc_type, d.doc_number, d.genre) for d in probe_docs]
    metadata["probes"] = A.probes(final, probe_docs)
    final.metadata = metadata
    return TrainResult(final, metadata, reports, test_set if len(test_set) else None)


def save_and_promote(store, version: str, result: TrainResult, *, promote: bool = True,
                     force: bool = False) -> dict[str, Any]:
    """Write the new version and activate it unless its test macro-F1 is below the active
    model's on the same test split (``force`` activates anyway). Versions are kept."""

    directory = store.path(version)
    if directory.exists():
        raise M.ModelError(what=f"版本 {version} 已存在")
    result.metadata["version"] = version
    A.save(result.classifier, directory, result.metadata, card.render(result.metadata, version))
    new_f1 = result.reports.get("test", {}).get("macro_f1")
    active = store.active_version()
    decision: dict[str, Any] = {"promoted": False, "previous": active, "previous_macro_f1": None,
                                "new_macro_f1": new_f1}
    if not promote:
        decision["message"] = "新版本未启用（--no-promote）。"
    elif active is None:
        decision.update(promoted=True, message="新版本已启用（此前没有启用的模型）。")
    else:
        try:
            previous = A.load(store.path(active), store.taxonomy)
        except M.ModelError as exc:
            previous = None
            decision.update(promoted=True, message=f"新版本已启用（原版本 {active} 无法使用：{exc.code}）。")
        if previous is not None:
            old_f1 = None
            if result.test_set is not None:
                test = result.test_set
                old = evaluation.evaluate(list(test.y), previous.predict_many(test.docs, test.texts, explain=False),
                                          store.taxonomy.names)
                old_f1 = decision["previous_macro_f1"] = old["macro_f1"]
            if force:
                decision.update(promoted=True, message="新版本已按 --force 启用。")
            elif new_f1 is None or old_f1 is None:
                decision["message"] = ("没有测试集，无法与当前版本比较，新版本未启用"
                                       "（可用 --force 或 gongkai models activate）。")
            elif new_f1 >= old_f1:
                decision.update(promoted=True, message=f"新版本已启用：测试集宏平均F1 {old_f1:.3f} → {new_f1:.3f}。")
            else:
                decision["message"] = f"新版本未启用：测试集宏平均F1 会从 {old_f1:.3f} 降到 {new_f1:.3f}。"
    if decision["promoted"]:
        store.activate(version, reason=decision["message"])
    result.metadata["promotion"] = decision
    (directory / A.METADATA_FILE).write_text(json.dumps(result.metadata, ensure_ascii=False, indent=2) + "\n",
                                             encoding="utf-8")
    return decision
