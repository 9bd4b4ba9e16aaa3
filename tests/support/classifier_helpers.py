"""Shared helpers for the classifier tests: real training records and a small trained model.

Training on a per-category subset of the shipped training data takes a few seconds; the
model is trained once per test process and never written into the repository's models/.
"""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from service import taxonomy as T
from service.classifier import train as TR
from service.config import PROJECT_ROOT
from service.classifier.training_data import read_jsonl

TRAINING = PROJECT_ROOT / "models" / "training" / "documents.jsonl"
PER_SPLIT = {"train": 12, "validation": 4, "test": 4}
FAST_CANDIDATES = ("linear_svc_c1", "logistic_regression_c30")


@lru_cache(maxsize=1)
def training_records() -> tuple[dict, ...]:
    return tuple(read_jsonl(TRAINING))


def subset(per_split: dict[str, int] = PER_SPLIT) -> list[dict]:
    """The first N records of each (split, category), in file order: deterministic."""
    taken: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for r in training_records():
        key = (r["split"], r["category"])
        if taken[key] < per_split.get(r["split"], 0):
            taken[key] += 1
            out.append(dict(r))
    return out


@lru_cache(maxsize=1)
def small_result() -> TR.TrainResult:
    return TR.train(subset(), T.load(), candidate_names=FAST_CANDIDATES, progress=lambda message: None)
