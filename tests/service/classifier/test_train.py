"""Training: determinism, reviewer-only learning, stored tokens, calibration, thresholds,
promotion, and the shipped training data's caps and source-disjoint splits."""
from __future__ import annotations

import random
from collections import Counter, defaultdict

import numpy as np
import pytest

from classifier_helpers import FAST_CANDIDATES, small_result, subset, training_records
from service.classifier import model as M
from service.classifier import artifact as A
from service import taxonomy as T
from service.classifier import train as TR
from service.classifier import training_data as D
from service.classifier.store import ModelStore


def test_training_twice_on_the_same_data_gives_the_same_predictions():
    first = small_result()
    second = TR.train(subset(), T.load(), candidate_names=FAST_CANDIDATES, progress=lambda m: None)
    docs = TR.prepare(list(training_records())[::5], T.load())[0].docs
    assert np.array_equal(first.classifier.model_probabilities(docs)[0],
                          second.classifier.model_probabilities(docs)[0])
    assert first.metadata["thresholds"] == second.metadata["thresholds"]
    assert first.metadata["calibration"] == second.metadata["calibration"]
    assert first.metadata["training_data"]["hash"] == second.metadata["training_data"]["hash"]
    assert [p.to_dict() for p in first.classifier.predict_many(docs)] == \
           [p.to_dict() for p in second.classifier.predict_many(docs)]


def test_candidates_are_compared_by_grouped_cross_validation():
    meta = small_result().metadata
    scores = meta["candidates"]["scores"]
    assert set(scores) == set(FAST_CANDIDATES)
    assert meta["candidates"]["chosen"] == max(scores, key=lambda c: scores[c]["macro_f1"])
    assert "人事任免" not in meta["candidates"]["macro_f1_labels"]   # one source: not measurable by CV
    assert meta["calibration"]["temperature"] > 0


def test_unconfirmed_predictions_are_never_trained_on():
    records = subset({"train": 3})
    guesses = [dict(r, category="其他", label_source="model", split="train") for r in records[:5]]
    pending = [dict(r, category="其他", review_status="pending") for r in records[5:8]]
    confirmed = [dict(r, review_status="confirmed") for r in records[8:10]]
    data, refused = TR.prepare(records + guesses + pending + confirmed, T.load())
    assert refused == len(guesses) + len(pending)
    assert len(data) == len(records) + len(confirmed)
    assert D.is_confirmed({"label_source": "site"}) and D.is_confirmed({"confirmed": True})
    assert not D.is_confirmed({"label_source": "prediction"}) and not D.is_confirmed({"review_status": "rejected"})


def test_stored_tokens_are_used_without_re_segmenting(monkeypatch):
    from service.analysis.tokenizer import tokenize_document

    records = subset({"test": 1})
    for r in records:
        r["tokens"] = tokenize_document(r.get("title"), r["text"]).to_dict()

    def must_not_segment(*args, **kwargs):
        raise AssertionError("re-segmented a document that carried its tokens")

    monkeypatch.setattr(TR, "tokenize_document", must_not_segment)
    data, _ = TR.prepare(records, T.load())
    assert [d.to_dict() for d in data.docs] == [r["tokens"] for r in records]


def test_labels_outside_the_taxonomy_are_refused():
    with pytest.raises(D.DataError) as err:
        TR.prepare([{"text": "正文", "category": "财政预决算"}], T.load())
    assert "财政预决算" in err.value.message


def test_temperature_recovers_the_scale_of_overconfident_scores():
    rng = np.random.default_rng(0)
    labels = ["a", "b", "c"]
    logits = rng.normal(size=(3000, 3)) * 2
    p = M.softmax(logits, 1.0)
    y = np.array([labels[rng.choice(3, p=row)] for row in p], dtype=object)
    assert TR.fit_temperature(logits * 3, y, labels) == pytest.approx(3.0, rel=0.1)


THRESHOLD_CASE = (np.array([0.99, 0.95, 0.90, 0.85, 0.70, 0.99, 0.97, 0.60, 0.55]),
                  np.array(["甲", "甲", "甲", "甲", "甲", "乙", "乙", "乙", "丙"], dtype=object),
                  np.array(["甲", "甲", "甲", "乙", "甲", "乙", "乙", "乙", "丙"], dtype=object))


def test_thresholds_are_global_until_a_category_has_enough_predictions():
    names = ["甲", "乙", "丙"]
    conf, pred, true = THRESHOLD_CASE
    thresholds, how = TR.choose_thresholds(conf, pred, true, names, target=0.98)
    # 9 predictions are far fewer than MIN_THRESHOLD_PREDICTIONS: one threshold for all,
    # just above the confident mistake at 0.85
    assert thresholds == {"甲": 0.9, "乙": 0.9, "丙": 0.9}
    assert all(h.startswith("global") for h in how.values())
    confident = conf >= 0.9
    assert (pred[confident] == true[confident]).all() and confident.sum() == 5


def test_thresholds_keep_the_confident_share_at_the_target_precision(monkeypatch):
    monkeypatch.setattr(TR, "MIN_THRESHOLD_PREDICTIONS", 3)
    names = ["甲", "乙", "丙"]
    conf, pred, true = THRESHOLD_CASE
    thresholds, how = TR.choose_thresholds(conf, pred, true, names, target=0.98)
    assert thresholds["甲"] == 0.9          # just above the confident mistake at 0.85
    assert thresholds["乙"] == 0.5          # no mistakes: the floor
    assert how["丙"].startswith("global")   # one prediction is too few to calibrate a class
    confident = conf >= np.array([thresholds[p] for p in pred])
    assert (pred[confident] == true[confident]).all()


def test_a_worse_model_is_not_promoted_and_versions_are_kept(tmp_path):
    store = ModelStore(tmp_path, T.load())
    result = small_result()
    first = TR.save_and_promote(store, "2026.01.01-1", result)
    assert first["promoted"] and store.active_version() == "2026.01.01-1"
    same = TR.save_and_promote(store, "2026.01.01-2", result)      # equal macro-F1: promoted
    assert same["promoted"] and same["previous_macro_f1"] == same["new_macro_f1"]
    worse = TR.TrainResult(result.classifier, dict(result.metadata),
                           {**result.reports, "test": {**result.reports["test"], "macro_f1": 0.1}}, result.test_set)
    decision = TR.save_and_promote(store, "2026.01.01-3", worse)
    assert not decision["promoted"] and "降到" in decision["message"]
    assert store.active_version() == "2026.01.01-2"
    forced = TR.save_and_promote(store, "2026.01.01-4", worse, force=True)
    assert forced["promoted"] and store.active_version() == "2026.01.01-4"
    assert store.rollback() == "2026.01.01-2"
    assert len(store.versions()) == 4
    card = (store.path("2026.01.01-1") / A.CARD_FILE).read_text(encoding="utf-8")
    assert "source-disjoint" in card and "Confusion matrix" in card and "| 应急预案 |" in card


def test_shipped_training_data_is_source_disjoint_capped_and_confirmed():
    records = training_records()
    split_of_group: dict[str, set] = defaultdict(set)
    for r in records:
        split_of_group[r["group"]].add(r["split"])
        assert D.is_confirmed(r) and r["category"] in T.load()
    assert all(len(splits) == 1 for splits in split_of_group.values())
    sources = Counter(r["source"] for r in records)
    assert sources["lawrefbook_laws"] == D.LAW_CAP
    per_issuer = Counter((r["group"], r["category"]) for r in records if r["source"] == "policies_central_shandong")
    assert max(per_issuer.values()) <= D.POLICY_ISSUER_CAP
    for split in D.SPLITS:   # every county-style class is represented in every split
        present = {r["category"] for r in records if r["split"] == split}
        assert {"工作动态", "办事指南", "应急预案", "机构职能", "其他"} <= present


def test_split_assignment_does_not_depend_on_row_order():
    records = [dict(r) for r in training_records()]
    for r in records:
        r.pop("split")
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    D.assign_splits(records)
    D.assign_splits(shuffled)
    by_id = {r["id"]: r["split"] for r in shuffled}
    assert all(by_id[r["id"]] == r["split"] for r in records)
    assert {r["id"]: r["split"] for r in records} == {r["id"]: r["split"] for r in training_records()}


def test_rule_confirmed_suggestions_get_a_lower_threshold_only_when_there_are_enough(monkeypatch):
    conf = np.array([0.55, 0.6, 0.7, 0.95, 0.97])
    correct = np.array([True, True, True, True, False])
    confirmed = np.array([True, True, True, True, False])
    threshold = np.full(5, 0.9)
    assert TR.choose_rule_threshold(conf, correct, confirmed, threshold) is None   # 4 < MIN_THRESHOLD_PREDICTIONS
    monkeypatch.setattr(TR, "MIN_THRESHOLD_PREDICTIONS", 4)
    # the three it would add (0.55, 0.6, 0.7: below 0.9) are right: down to the floor
    assert TR.choose_rule_threshold(conf, correct, confirmed, threshold) == TR.THRESHOLD_FLOOR
    # a wrong one at 0.55 among those it would add: it stops above it
    assert TR.choose_rule_threshold(conf, np.array([False, True, True, True, False]), confirmed, threshold) == 0.6
    # a confirmed suggestion above its category's threshold is already confident: it adds nothing
    assert TR.choose_rule_threshold(conf, correct, confirmed, np.full(5, 0.5)) is None
