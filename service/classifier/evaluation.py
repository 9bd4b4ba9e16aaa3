"""Evaluation figures for a classifier on labelled documents.

The prediction scored is the top category (``top_category``), whether or not the model
abstained; the confident share is scored separately: its coverage (the fraction of
documents not marked ``needs_attention``) and its precision (how many of those are right).
Macro-F1 averages over the categories that occur in the evaluated data (a category with
no documents cannot be measured; it is listed with support 0).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """ECE of the top-category probability, equal-width bins."""
    conf, ok = np.asarray(confidence, float), np.asarray(correct, float)
    if not len(conf):
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - ok[mask].mean())
    return float(ece)


def scores(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over present classes, per-class P/R/F1/support, confusion matrix."""
    y_true, y_pred = list(y_true), list(y_pred)
    support, predicted = Counter(y_true), Counter(y_pred)
    hits = Counter(t for t, p in zip(y_true, y_pred, strict=True) if t == p)
    per_class = {}
    for label in labels:
        precision = _ratio(hits[label], predicted[label])
        recall = _ratio(hits[label], support[label])
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": support[label], "predicted": predicted[label]}
    present = [label for label in labels if support[label]]
    used = [label for label in labels if support[label] or predicted[label]]
    index = {label: i for i, label in enumerate(used)}
    matrix = [[0] * len(used) for _ in used]
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    return {
        "n": len(y_true),
        "accuracy": round(_ratio(sum(hits.values()), len(y_true)), 4),
        "macro_f1": round(float(np.mean([per_class[label]["f1"] for label in present])) if present else 0.0, 4),
        "macro_f1_labels": present,
        "per_class": per_class,
        "confusion": {"labels": used, "matrix": matrix},
    }


BOOTSTRAP_RESAMPLES = 2000
INTERVAL_LEVEL = 0.95


def intervals(y_true: Sequence[str], y_pred: Sequence[str], confident: Sequence[bool],
              groups: Sequence[str] | None = None, *, resamples: int = BOOTSTRAP_RESAMPLES,
              level: float = INTERVAL_LEVEL, seed: int = 0) -> dict[str, Any]:
    """Percentile bootstrap intervals for macro-F1 and the confident share's precision and coverage.

    With ``groups`` whole groups (sources) are resampled, since documents of one source
    are alike and resampling them one by one would understate the uncertainty; without,
    documents are. Macro-F1 in a resample averages over the categories present in it, as
    ``scores`` does. Seeded: the same input gives the same interval.

    Every figure is a function of counts, so a resample is the units' counts weighted by
    how often each unit was drawn: a group's counts are summed once, and a resample of
    documents is one weighted ``bincount`` over the documents' (true, predicted,
    confident) cells — the cost no longer grows with the documents per resample.
    """
    y_true, y_pred = list(y_true), list(y_pred)
    n = len(y_true)
    if not n:
        return {}
    codes = {label: i for i, label in enumerate(sorted(set(y_true) | set(y_pred)))}
    k = len(codes)
    true = np.array([codes[t] for t in y_true])
    pred = np.array([codes[p] for p in y_pred])
    conf = np.asarray(confident, dtype=bool)
    # a document's cell: (true, predicted, confident); the figures need only cell counts
    cell = (true * k + pred) * 2 + conf
    n_cells = k * k * 2
    if groups is not None:
        index: dict[Any, int] = {}
        unit = np.array([index.setdefault(g, len(index)) for g in groups])
        n_units = len(index)
        per_unit = np.zeros((n_units, n_cells))
        np.add.at(per_unit, (unit, cell), 1)
    else:
        n_units = n
    cells = np.arange(n_cells)
    cell_true, cell_pred, cell_conf = cells // 2 // k, cells // 2 % k, cells % 2 == 1
    cell_right = cell_true == cell_pred
    rng = np.random.default_rng(seed)
    f1s, precisions, coverages = [], [], []
    counts: np.ndarray  # integer counts per cell, or float sums over units when grouped
    for _ in range(resamples):
        drawn = rng.integers(0, n_units, n_units)
        if groups is None:
            counts = np.bincount(cell[drawn], minlength=n_cells)
        else:
            counts = np.bincount(drawn, minlength=n_units) @ per_unit
        support = np.bincount(cell_true, counts, minlength=k)
        predicted = np.bincount(cell_pred, counts, minlength=k)
        hits = np.bincount(cell_true[cell_right], counts[cell_right], minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(support + predicted > 0, 2 * hits / (support + predicted), 0.0)
        f1s.append(float(f1[support > 0].mean()))
        total, confident_n = counts.sum(), counts[cell_conf].sum()
        coverages.append(float(confident_n / total))
        if confident_n:
            precisions.append(float(counts[cell_conf & cell_right].sum() / confident_n))
    tail = (1 - level) / 2 * 100

    def span(values: list[float]) -> list[float] | None:
        return [round(float(v), 3) for v in np.percentile(values, [tail, 100 - tail])] if values else None

    return {"method": "bootstrap over source groups" if groups is not None else "bootstrap over documents",
            "units": n_units, "resamples": resamples, "level": level,
            "macro_f1": span(f1s), "confident_precision": span(precisions), "confident_coverage": span(coverages)}


def evaluate(y_true: Sequence[str], predictions: Sequence[Any], labels: Sequence[str],
             groups: Sequence[str] | None = None) -> dict[str, Any]:
    """Full figures for ``predictions`` (``service.classifier.model.Prediction``) against ``y_true``,
    with bootstrap intervals (over ``groups`` when given, see ``intervals``)."""
    y_pred = [p.top_category for p in predictions]
    out = scores(y_true, y_pred, labels)
    confident = [i for i, p in enumerate(predictions) if not p.needs_attention]
    right = [y_true[i] == y_pred[i] for i in confident]
    out["confident"] = {
        "n": len(confident),
        "coverage": round(_ratio(len(confident), len(predictions)), 4),
        "precision": round(_ratio(sum(right), len(confident)), 4),
        "errors": len(confident) - sum(right),
    }
    correct = [t == p for t, p in zip(y_true, y_pred, strict=True)]
    out["calibration"] = {"ece": round(expected_calibration_error([p.confidence for p in predictions], correct), 4),
                          "mean_confidence": round(float(np.mean([p.confidence for p in predictions]))
                                                   if predictions else 0.0, 4)}
    out["rules_fired"] = sum(1 for p in predictions if p.explanation.get("rules"))
    out["intervals"] = intervals(y_true, y_pred, [not p.needs_attention for p in predictions],
                                 None if groups is None else list(groups))
    return out


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _display_width(text))
    return space + text if right else text + space


def format_table(report: dict[str, Any]) -> str:
    """The per-class table and headline figures as plain text (CLI output)."""
    lines = [f"文档数 {report['n']}  准确率 {report['accuracy']:.3f}  宏平均F1 {report['macro_f1']:.3f}"]
    if "confident" in report:
        c = report["confident"]
        lines.append(f"高置信部分：覆盖率 {c['coverage']:.3f}（{c['n']} 篇）  "
                     f"精确率 {c['precision']:.3f}（错 {c['errors']} 篇）")
    iv = report.get("intervals") or {}
    if iv.get("macro_f1"):
        unit = "按来源分组" if "group" in iv["method"] else "按文档"
        span = lambda key: "–" if not iv.get(key) else f"{iv[key][0]:.3f}–{iv[key][1]:.3f}"  # noqa: E731
        lines.append(f"{iv['level']:.0%} 区间（自助法{unit}重抽样 {iv['resamples']} 次）：宏平均F1 {span('macro_f1')}  "
                     f"高置信精确率 {span('confident_precision')}  覆盖率 {span('confident_coverage')}")
    width = max([_display_width(label) for label in report["per_class"]] + [4]) + 2
    lines.append(_pad("分类", width) + "".join(_pad(h, 9, right=True) for h in ("精确率", "召回率", "F1", "篇数")))
    for label, m in report["per_class"].items():
        lines.append(_pad(label, width) + f"{m['precision']:>9.3f}{m['recall']:>9.3f}{m['f1']:>9.3f}{m['support']:>9}")
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    lines.append("混淆矩阵（行=实际，列=预测）：" + " | ".join(f"{i}={label}" for i, label in enumerate(labels)))
    for i, row in enumerate(matrix):
        lines.append(f"{i:>3} " + " ".join(f"{v:>4}" for v in row))
    return "\n".join(lines)
