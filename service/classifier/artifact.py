"""Model artifacts: saving and loading a ``Classifier`` with skops, and checking what is loaded.

An artifact is a directory ``models/<taxonomy>/<version>/`` with ``model.skops`` (skops,
explicit trusted types, never raw pickle), ``metadata.json`` and ``card.md``. Loading
checks the format version, the taxonomy fingerprint, the token format, the library
versions and, last, that the model reproduces the probabilities it recorded at training
time for a few probe documents.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from service.analysis.tokenizer import TOKEN_FORMAT, DocumentTokens
from service.classifier import features as F
from service.classifier.model import (
    Classifier,
    ModelIncompatible,
    ModelNotFound,
    ModelUntrusted,
    TaxonomyMismatch,
)
from service.taxonomy import Taxonomy

log = logging.getLogger(__name__)

ARTIFACT_FORMAT = 1
MODEL_FILE, METADATA_FILE, CARD_FILE = "model.skops", "metadata.json", "card.md"

# Every type model.skops may name (checked on the whole schema, not only what skops itself
# distrusts). Anything else makes saving and loading fail (model_untrusted).
TRUSTED_TYPES = [
    *(f"{module}.{name}" for module in ("service.classifier.features", "service.features")   # see service/features.py
      for name in ("char_ngrams", "head_char_ngrams", "identity", "word_ngrams")),
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._stochastic_gradient.SGDClassifier",
    "sklearn.linear_model._sgd_fast.ModifiedHuber",
    "sklearn.naive_bayes.ComplementNB",
    "builtins.slice", "numpy.float32", "numpy.float64", "numpy.int64",
]


#: Plain containers and arrays skops always encodes without executing code.
BASIC_TYPES = {"builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int",
               "builtins.float", "builtins.bool", "builtins.NoneType", "numpy.ndarray"}


def artifact_types(path: Path) -> set[str]:
    """Every type named anywhere in a skops file (not only the ones skops distrusts)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def check_trusted(types: Iterable[str]) -> None:
    unknown = sorted(set(types) - set(TRUSTED_TYPES) - BASIC_TYPES)
    if unknown:
        raise ModelUntrusted(what=", ".join(unknown))


def _vectorizers(pipeline) -> dict[str, Any]:
    return {name: t for name, t in pipeline[0].named_transformers_.items() if hasattr(t, "vocabulary_")}


def dump_pipeline(pipeline: Any, path: Path) -> None:
    """Persist with skops. Vocabularies go in as sorted term arrays (compact .npy files)
    instead of skops' per-entry JSON encoding of a dict, which was ~25× larger."""
    import zipfile

    import skops.io as sio

    vectorizers = _vectorizers(pipeline)
    saved = {name: v.vocabulary_ for name, v in vectorizers.items()}
    terms = {name: np.array(sorted(vocab, key=vocab.__getitem__)) for name, vocab in saved.items()}
    try:
        for v in vectorizers.values():
            v.vocabulary_ = {}
        sio.dump({"format": ARTIFACT_FORMAT, "pipeline": pipeline, "vocabularies": terms}, path,
                 compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    finally:
        for name, v in vectorizers.items():
            v.vocabulary_ = saved[name]
    check_trusted(artifact_types(path))


def load_pipeline(path: Path) -> Any:
    import skops.io as sio

    try:
        types = artifact_types(path)
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - any unreadable archive is incompatible
        raise ModelIncompatible(str(exc), what=f"{path.name} 无法读取") from exc
    check_trusted(types)
    try:
        stored = sio.load(path, trusted=sorted(set(untrusted) & set(TRUSTED_TYPES)))
    except Exception as exc:  # noqa: BLE001
        raise ModelIncompatible(str(exc), what=f"{path.name} 无法加载") from exc
    if not isinstance(stored, dict) or stored.get("format") != ARTIFACT_FORMAT:
        raise ModelIncompatible(what=f"{path.name} 的内部格式不是第 {ARTIFACT_FORMAT} 版")
    try:
        pipeline = stored["pipeline"]
        for name, v in _vectorizers(pipeline).items():
            v.vocabulary_ = {str(term): i for i, term in enumerate(stored["vocabularies"][name])}
    except Exception as exc:  # noqa: BLE001
        raise ModelIncompatible(str(exc), what=f"{path.name} 无法加载") from exc
    return pipeline


def library_versions() -> dict[str, str]:
    import platform
    from importlib import metadata as md

    versions = {"python": platform.python_version()}
    for package in ("scikit-learn", "numpy", "scipy", "skops", "jieba", "rjieba", "OpenCC"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def save(classifier: Classifier, directory: Path, metadata: dict[str, Any], card: str) -> Path:
    """Write ``model.skops``, ``metadata.json`` and ``card.md`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    dump_pipeline(classifier.pipeline, directory / MODEL_FILE)
    (directory / METADATA_FILE).write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (directory / CARD_FILE).write_text(card, encoding="utf-8")
    return directory


def read_metadata(directory: Path) -> dict[str, Any]:
    path = directory / METADATA_FILE
    if not path.is_file() or not (directory / MODEL_FILE).is_file():
        raise ModelNotFound(where=str(directory))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelIncompatible(str(exc), what="metadata.json 不是有效的 JSON") from exc


def load(directory: Path, taxonomy: Taxonomy, name: str | None = None) -> Classifier:
    """Load and verify the artifact in ``directory`` for ``taxonomy``."""
    directory = Path(directory)
    meta = read_metadata(directory)
    if meta.get("format_version") != ARTIFACT_FORMAT:
        raise ModelIncompatible(what=f"模型格式版本 {meta.get('format_version')} ≠ {ARTIFACT_FORMAT}")
    trained = meta.get("taxonomy", {})
    if trained.get("fingerprint") != taxonomy.fingerprint:
        raise TaxonomyMismatch(trained=f"{trained.get('id')} ({str(trained.get('fingerprint'))[:12]})",
                               configured=f"{taxonomy.id} ({taxonomy.fingerprint[:12]})")
    if meta.get("token_format") != TOKEN_FORMAT:
        raise ModelIncompatible(what=f"词元格式 {meta.get('token_format')} ≠ {TOKEN_FORMAT}")
    built, now = meta.get("libraries", {}).get("scikit-learn", "?"), library_versions()["scikit-learn"]
    if built.split(".")[0] != now.split(".")[0]:
        raise ModelIncompatible(what=f"scikit-learn {built} 训练，当前为 {now}")
    if _major_minor(built) != _major_minor(now):
        log.warning("model %s was built with scikit-learn %s, running %s", directory, built, now)
    classifier = Classifier(
        pipeline=load_pipeline(directory / MODEL_FILE), labels=list(meta["labels"]),
        temperature=float(meta["calibration"]["temperature"]), thresholds=dict(meta["thresholds"]),
        rule_thresholds=dict(meta.get("rule_thresholds") or {}),
        taxonomy=taxonomy, meta_kinds=tuple(meta.get("features", {}).get("meta", F.DEFAULT_META)),
        name=name or f"{taxonomy.id}/{directory.name}", metadata=meta)
    verify_probes(classifier, meta.get("probes", []))
    return classifier


def probes(classifier: Classifier, docs: Sequence[DocumentTokens]) -> list[dict[str, Any]]:
    """Probe documents and the probabilities the model gives them, for ``verify_probes``."""
    probs, _ = classifier.model_probabilities(docs)
    return [{"tokens": d.to_dict(), "probabilities": [round(float(p), 8) for p in row]}
            for d, row in zip(docs, probs, strict=True)]


def verify_probes(classifier: Classifier, recorded: Sequence[dict[str, Any]]) -> None:
    if not recorded:
        return
    docs = [DocumentTokens.from_dict(p["tokens"]) for p in recorded]
    try:
        probs, _ = classifier.model_probabilities(docs)
    except Exception as exc:  # noqa: BLE001 - a model that cannot predict is incompatible
        raise ModelIncompatible(str(exc), what="模型无法在当前环境下预测") from exc
    expected = np.array([p["probabilities"] for p in recorded])
    if probs.shape != expected.shape or not np.allclose(probs, expected, atol=1e-5):
        worst = float(np.max(np.abs(probs - expected))) if probs.shape == expected.shape else math.inf
        raise ModelIncompatible(what=f"模型在当前环境下的输出与训练时不一致（最大偏差 {worst:.2g}）")
