"""Classifier benchmark: tokenizer engines, classification throughput and latency, model size.

    .venv/bin/python bench/bench_classifier.py        # writes bench/results/classifier.md

Data: the 481 real documents of models/training/documents.jsonl (titles + bodies as stored,
≤ 6,000 characters each), already in analysis form for the tokenizer figures.

- Tokenization: jieba vs rjieba (the engine gongkai uses when installed), both with the
  government user dictionary, precise mode, HMM off, plus gongkai's filtering; MB of UTF-8
  per second, one process, and whether the two engines gave identical tokens.
- Classification of already-tokenized documents (stored ``DocumentTokens``): docs/s in one
  process and in two worker processes (each loads the model once), with and without the
  explanation.
- The scope check (is there enough Chinese text to judge?) side by side: the same batch with
  it on and off in one run, and its cost per document alone.
- The explanation alone, side by side on the same rows: words (what gongkai shows,
  ``service.classifier.explanation``) and the features one by one (how it was shown before).
- Single-document latency: pre-tokenized, and from raw text (tokenize + classify + explain).
- Model load time (fresh interpreter: imports + load) and the artifact's size.
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.classifier import model as M
from service.classifier import artifact as A
from service.classifier import store as modelstore
from service import taxonomy as T  # noqa: E402
from service.classifier.artifact import MODEL_FILE  # noqa: E402
from service.analysis.normalize import analysis_form  # noqa: E402
from service.analysis.tokenizer import Tokenizer, available_engines, tokenize_document  # noqa: E402
from service.classifier.training_data import read_jsonl  # noqa: E402

TRAINING = ROOT / "models" / "training" / "documents.jsonl"
REPEAT_DOCS = 5          # the 481 documents, repeated, for steady throughput figures


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def tokenizer_figures(texts: list[str]) -> list[tuple[str, str, str]]:
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    rows, outputs = [], {}
    for engine in ("jieba", "rjieba"):
        if engine not in available_engines():
            continue
        tokenizer = Tokenizer(engine)
        outputs[engine] = [tokenizer.tokens(t, analysed=True) for t in texts]
        seconds = best_of(lambda tokenizer=tokenizer: [tokenizer.tokens(t, analysed=True) for t in texts],
                          2 if engine == "jieba" else 5)
        rows.append((f"tokenize {megabytes:.1f} MB, {engine} + dictionary + filters", f"{megabytes / seconds:,.1f}",
                     "MB/s"))
    if len(outputs) == 2:
        same = sum(a == b for a, b in zip(outputs["jieba"], outputs["rjieba"], strict=True))
        rows.append(("documents with identical jieba / rjieba tokens", f"{same} / {len(texts)}", "docs"))
    return rows


_worker_model = None
_shared_docs: list = []   # set before the pool forks: workers read documents, as from a store


def _worker_init() -> None:
    global _worker_model
    _worker_model = modelstore.active_classifier()


def _worker_classify(args) -> int:
    start, end, explain = args
    return len(_worker_model.predict_many(_shared_docs[start:end], explain=explain))


def explanation_figures(classifier, docs) -> tuple[str, str, str]:
    """Side by side in this run, on the same feature rows: the explanation as words
    (``service.classifier.explanation``, what gongkai shows) and the features one by one, largest
    contribution first (how it was shown before; the top-n of the same products)."""
    features = classifier.features(classifier.rows(docs)).tocsr()
    categories = [classifier.labels[0]] * len(docs)
    weights = classifier.relative_weights()
    classifier.feature_words()   # built once per model, not part of a document's cost

    def pushes():
        for i in range(len(docs)):
            span = slice(features.indptr[i], features.indptr[i + 1])
            idx = features.indices[span]
            yield i, idx, features.data[span] * weights[classifier.labels.index(categories[i]), idx]

    rows = list(range(len(docs)))
    together = best_of(lambda: classifier.explain_many(features, rows, categories, docs), repeats=5)
    one_at_a_time = best_of(lambda: [classifier.explain(features, i, categories[i], docs[i]) for i in rows], repeats=5)
    names = classifier.feature_names()
    one_by_one = best_of(lambda: [names[idx[np.argsort(-push, kind="stable")[:M.EXPLAIN_TERMS]]]
                                  for _, idx, push in pushes()], repeats=5)
    return ("explanation alone per document, best of 5: words, documents together (as served) / words, one "
            "document at a time / features one by one (before)",
            f"{together / len(docs) * 1e3:.2f} / {one_at_a_time / len(docs) * 1e3:.2f} / "
            f"{one_by_one / len(docs) * 1e3:.2f}", "ms")


def classify_figures(classifier, docs, records) -> list[tuple[str, str, str]]:
    rows = []
    many = docs * REPEAT_DOCS
    for explain in (False, True):
        seconds = best_of(lambda explain=explain: classifier.predict_many(many, explain=explain))
        label = "with explanation" if explain else "without explanation"
        rows.append((f"classify pre-tokenized, 1 process, batch, {label}", f"{len(many) / seconds:,.0f}", "docs/s"))
    # Side by side in this run: the same batch with the scope check (service.classifier.model.out_of_scope)
    # switched off, and the check alone per document.
    checked = best_of(lambda: classifier.predict_many(many, explain=False), repeats=5)
    real_check, M.out_of_scope = M.out_of_scope, lambda doc: None
    try:
        unchecked = best_of(lambda: classifier.predict_many(many, explain=False), repeats=5)
    finally:
        M.out_of_scope = real_check
    rows.append(("classify pre-tokenized, 1 process, batch, without explanation, best of 5: scope check on / off",
                 f"{len(many) / checked:,.0f} / {len(many) / unchecked:,.0f}", "docs/s"))
    alone = best_of(lambda: [M.out_of_scope(doc) for doc in many], repeats=5)
    rows.append(("scope check alone (Chinese characters vs Latin letters), per document",
                 f"{alone / len(many) * 1e6:.0f}", "µs"))
    rows.append(explanation_figures(classifier, docs))
    _shared_docs[:] = many
    chunks = [(i, min(i + 200, len(many))) for i in range(0, len(many), 200)]
    with get_context("fork").Pool(2, initializer=_worker_init) as pool:
        pool.map(_worker_classify, [(0, 200, False)] * 2)          # warm both workers
        for explain in (False, True):
            start = time.perf_counter()
            done = sum(pool.map(_worker_classify, [(a, b, explain) for a, b in chunks]))
            seconds = time.perf_counter() - start
            label = "with explanation" if explain else "without explanation"
            rows.append((f"classify pre-tokenized, 2 processes, {label}", f"{done / seconds:,.0f}", "docs/s"))

    single = []
    for doc in docs[:300]:
        start = time.perf_counter()
        classifier.predict_document(doc)
        single.append(time.perf_counter() - start)
    rows.append(("latency, one pre-tokenized document (incl. explanation), median",
                 f"{statistics.median(single) * 1000:.2f}", "ms"))
    from_text = []
    for r in records[:300]:
        start = time.perf_counter()
        classifier.predict_text(r.get("title"), r["text"])
        from_text.append(time.perf_counter() - start)
    from_text.sort()
    rows.append(("latency, one document from text (normalize + tokenize + classify + explain), median",
                 f"{statistics.median(from_text) * 1000:.2f}", "ms"))
    rows.append(("latency, one document from text, p95", f"{from_text[int(len(from_text) * 0.95)] * 1000:.2f}", "ms"))
    return rows


def _spin(_) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - start


def core_scaling() -> tuple[str, str, str]:
    """How much two processes of pure Python get done vs one, on this machine right now."""
    one = min(_spin(0) for _ in range(2))
    with get_context("fork").Pool(2) as pool:
        two = max(pool.map(_spin, [0, 1]))
    return ("machine check: pure-Python work, 2 processes vs 1 (2.0 = two free cores)", f"{2 * one / two:.2f}", "×")


def load_figures(directory: Path) -> list[tuple[str, str, str]]:
    code = ("import time; t=time.perf_counter(); from service.classifier.store import active_classifier; "
            "active_classifier(); print(time.perf_counter()-t)")
    cold = min(float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                    check=True).stdout.strip()) for _ in range(3))

    warm = best_of(lambda: A.load(directory, T.load()))
    size = (directory / MODEL_FILE).stat().st_size
    return [("model load, fresh interpreter (imports + load + probe check)", f"{cold:.2f}", "s"),
            ("model load, warm process", f"{warm * 1000:.0f}", "ms"),
            (f"model size ({MODEL_FILE})", f"{size / 1e6:.2f}", "MB")]


def main() -> None:
    records = read_jsonl(TRAINING)
    texts = [analysis_form((r.get("title") or "") + "\n" + r["text"]) for r in records]
    classifier = modelstore.active_classifier()
    docs = [tokenize_document(r.get("title"), r["text"]) for r in records]
    directory = ROOT / "models" / classifier.name

    rows = [core_scaling()]
    rows += tokenizer_figures(texts)
    rows += classify_figures(classifier, docs, records)
    rows += load_figures(directory)
    for row in rows:
        print(f"{row[0]:<90} {row[1]:>10} {row[2]}")

    mean_tokens = statistics.mean(min(len(d.body), 1500) for d in docs)
    lines = [
        "## Classifier", "",
        f"`.venv/bin/python bench/bench_classifier.py` — {date.today().isoformat()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, model `{classifier.name}`. Data: the {len(records)} documents of "
        f"`models/training/documents.jsonl` (mean {mean_tokens:.0f} body tokens read per document; "
        f"throughput repeats them ×{REPEAT_DOCS}).", "",
        "| case | result | unit |", "|---|---:|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", "Targets: ≥ 2,000 docs/s for already-tokenized text on 2 cores; the model loads once per process "
              "(≈ 1 s or less). rjieba holds the GIL: parallelize with processes, not threads. The two-process "
              "rows depend on how free the second core is (first row); on a shared machine they vary by ±40 % "
              "between runs, the one-process rows by ±15 %. Explanations (words since 2026-12-06, ≈ 0.2 ms a "
              "document explained with others, as predict_many does) are computed only for documents a person "
              "reads: each upload once, and in reclassification the changed suggestions."]
    out = ROOT / "bench" / "results" / "classifier.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"→ {out}")


if __name__ == "__main__":
    main()
